// `bk-ssm-secrets git-credential <operation>`: git's credential helper. Git
// runs it with the operation last and the request on stdin. On `get` it reads
// the job's git-credentials parameters from SSM at that moment (nothing is
// cached on disk) and answers with the matching entry, or with nothing so git
// tries its next helper. `store` and `erase` have nothing to do: the tokens
// live in SSM. Its stdout goes to git, its stderr to the job's log.
//
// It answers only for the parameters the environment phase granted this job
// (its record), whatever the command line asks for, and reads SSM with the
// AWS settings the environment phase used, not the job's variables as they
// are by now.
import { withDeadline, type PhaseContext } from "../job/context.ts";
import { jobRecordPath } from "../job/record.ts";
import { readJobRecord } from "../job/state.ts";
import { credentialResponse, findCredential, parseCredentialRequest, parseGitCredentials, type GitCredential } from "../secrets/gitcredentials.ts";
import { restoreAwsSettings } from "../ssm/settings.ts";
import { createSsmStore } from "../ssm/client.ts";

export async function run({ env, config, log }: PhaseContext, operation: string, requested: string[]): Promise<string> {
  // Read the request even when ignoring it: git writes it before reading an answer.
  const request = parseCredentialRequest(await Bun.stdin.text());
  if (operation !== "get" || requested.length === 0) return "";
  if (request.protocol !== "https" && request.protocol !== "http") return "";

  const path = jobRecordPath(env.BUILDKITE_JOB_ID);
  const grant = path ? readJobRecord(path)?.grant : undefined;
  if (!grant) {
    log.warn("git-credential: the environment hook granted this job no git credentials (no job record): answering nothing");
    return "";
  }
  const parameters = requested.filter((name) => grant.parameters.includes(name));
  for (const name of requested.filter((name) => !parameters.includes(name))) log.warn(`git-credential: ${name} was not granted to this job by the environment hook: not read`);
  if (parameters.length === 0) return "";
  const aws = restoreAwsSettings(grant.aws, env);
  if ("problem" in aws) {
    log.warn(`git-credential: ${aws.problem}: answering nothing`);
    return "";
  }
  // The SDK reads process.env itself: it must see the environment phase's settings only.
  for (const name of Object.keys(process.env)) if (!(name in aws.env)) delete process.env[name];
  Object.assign(process.env, aws.env);

  const { found, missing } = await withDeadline(config.timeoutMs, async (signal) => {
    const store = await createSsmStore({ signal, timeoutMs: config.timeoutMs, log, env: aws.env });
    return store.readNames(parameters);
  });
  for (const name of missing) log.debug(`${name} no longer exists`);
  // Keep the order the environment phase gave: the latest slug first.
  const values = new Map(found.map((parameter) => [parameter.name, parameter.value]));
  const credentials: GitCredential[] = parameters.flatMap((name) => parseGitCredentials(name, values.get(name) ?? "").credentials);

  const where = `${request.protocol}://${request.host ?? ""}${request.path ? `/${request.path}` : ""}`;
  const credential = findCredential(credentials, request);
  if (!credential) {
    log.debug(`git-credential: no credential for ${where}`);
    return "";
  }
  log.debug(`git-credential: answering ${where} from line ${credential.line} of ${credential.parameter}`);
  return credentialResponse(credential);
}
