// `bk-ssm-secrets git-credential <operation>`: git's credential helper. Git
// runs it with the operation last and the request on stdin. On `get` it reads
// the job's git-credentials parameters from SSM at that moment (nothing is
// cached on disk) and answers with the matching entry, or with nothing so git
// tries its next helper. `store` and `erase` have nothing to do: the tokens
// live in SSM. Its stdout goes to git, its stderr to the job's log.
import { withDeadline, type PhaseContext } from "../job/context.ts";
import { credentialResponse, findCredential, parseCredentialRequest, parseGitCredentials, type GitCredential } from "../secrets/gitcredentials.ts";
import { createSsmStore } from "../ssm/client.ts";

export async function run({ env, config, log }: PhaseContext, operation: string, parameters: string[]): Promise<string> {
  // Read the request even when ignoring it: git writes it before reading an answer.
  const request = parseCredentialRequest(await Bun.stdin.text());
  if (operation !== "get" || parameters.length === 0) return "";
  if (request.protocol !== "https" && request.protocol !== "http") return "";

  const { found, missing } = await withDeadline(config.timeoutMs, async (signal) => {
    const store = await createSsmStore({ signal, timeoutMs: config.timeoutMs, log, env });
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
