// The environment phase: read the job's slugs and global deploy keys from
// SSM, decide what the job gets, register every value with the agent's
// redactor, write its secret files, start its ssh-agents, and print it all as
// shell code for the hook to eval. All or nothing: any failure or denial
// prints no variable at all and leaves no file or agent behind.
import { jobIdentity } from "../job/acl.ts";
import { exportAgents } from "../ssh/agents.ts";
import { JobError, withDeadline, type PhaseContext } from "../job/context.ts";
import { gitCredentialSetup, selfCommand } from "../secrets/gitcredentials.ts";
import { undoChangesOnInterrupt } from "../core/interrupt.ts";
import { planJobKeys } from "../ssh/keys.ts";
import { planJob } from "../job/plan.ts";
import { readGlobalKeys, readSlugs } from "../job/read.ts";
import { receivedLines } from "../secrets/received.ts";
import { registerRedactions } from "../secrets/redact.ts";
import { secretFilesBase, writeSecretFiles } from "../secrets/secretfiles.ts";
import { exportStatement } from "../core/shell.ts";
import { jobSlugs } from "../job/slug.ts";
import { slugPath } from "../job/config.ts";
import { createSsmStore } from "../ssm/client.ts";
import { startAgents } from "../ssh/sshagent.ts";

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

export async function run({ env, config, log }: PhaseContext): Promise<string> {
  undoChangesOnInterrupt(log);
  log.group("Loading secrets from SSM");
  const repository = env.BUILDKITE_REPO ?? "";
  const slugs = jobSlugs({ defaultKey: config.defaultKey, repository, pipeline: env.BUILDKITE_PIPELINE_SLUG });
  if (repository && !slugs.some((slug) => slug.kind === "repository")) {
    // The URL itself is not logged: it may carry a token.
    log.warn("BUILDKITE_REPO is not a repository URL this hook understands, so no repository slug is read");
  }
  log.debug(`base path ${config.basePath || "/"}; slugs: ${slugs.map((slug) => `${slug.name} (${slug.kind})`).join(", ")}`);

  const started = performance.now();
  const [reads, globalKeys] = await withDeadline(config.timeoutMs, async (signal) => {
    const store = await createSsmStore({ signal, timeoutMs: config.timeoutMs, log, env });
    return Promise.all([readSlugs(store, config, slugs, log), readGlobalKeys(store, config.globalSshKeys, log)]);
  });
  const plan = planJob(reads, jobIdentity(env));
  for (const warning of plan.warnings) log.warn(warning);
  for (const name of plan.ignored) log.debug(`ignoring ${name}: not a variable, file, key, credential or access list`);
  for (const access of plan.access) log.debug(`access to ${access.path}: ${access.decision.allowed ? "allowed" : "denied"} (${access.decision.reason})`);
  if (plan.denial) throw new JobError(plan.denial);
  const keys = planJobKeys(config, slugs, repository, plan.sshKeys, globalKeys);
  for (const warning of keys.warnings) log.warn(warning);
  if (keys.problem) throw new JobError(keys.problem);
  const git = gitCredentialSetup(plan.gitCredentials, env.GIT_CONFIG_PARAMETERS, selfCommand(env, process.execPath, Bun.main, process.cwd()));
  for (const warning of git.warnings) log.warn(warning);

  // Side effects, in the order that leaves nothing behind on failure:
  // registering with the redactor needs no undoing, files are removed if the
  // agents fail, and startAgents stops whatever it started when a key fails.
  await registerRedactions(
    [
      ...plan.env.map((assignment) => assignment.value),
      ...plan.files.map((file) => file.content),
      ...git.credentials.map((credential) => credential.password),
      ...keys.agents.flatMap((agent) => agent.keys.map((key) => key.value)),
    ],
    { env, log, timeoutMs: config.timeoutMs },
  );
  const files = writeSecretFiles(plan.files, secretFilesBase(env, config), env.BUILDKITE_JOB_ID);
  const agents = await startAgents(keys.agents, env, log).catch((error: unknown) => {
    files.remove();
    throw error;
  });

  // What the job got, by name and slug, in the group: an operator answers "where did this come from?" without a setting.
  const keySlug = (path: string) => slugs.find((slug) => path === `${slugPath(config, slug.name)}/ssh/key`)?.name;
  const received = keys.agents.flatMap((agent) => agent.keys.map((key) => ({ path: key.path, slug: keySlug(key.path), agent: `${agent.role} agent` })));
  for (const line of receivedLines(plan, git.credentials, received)) log.info(line);
  const keyCount = keys.agents.reduce((n, agent) => n + agent.keys.length, 0);
  const keySummary = keyCount ? ` and ${plural(keyCount, "deploy key")}` : "";
  log.info(`Loaded ${plural(plan.env.length, "variable")}${keySummary} from ${plural(reads.length, "slug")} in ${(performance.now() - started).toFixed(0)} ms`);
  if (files.dir) log.info(`Wrote ${plural(plan.files.length, "secret file")} to ${files.dir}`);
  if (git.credentials.length) log.info(`git credentials from SSM for ${[...new Set(git.credentials.map((c) => `${c.protocol}://${c.host}`))].join(", ")}`);
  // The listing is always there; AWS_PARAMSTORE_SECRETS_DUMP_ENV opens the group so it shows without a click.
  if (config.dumpEnv) log.expand();
  return plan.env.map((assignment) => exportStatement(assignment.name, assignment.value)).join("") + files.statements + git.statements + exportAgents(agents);
}
