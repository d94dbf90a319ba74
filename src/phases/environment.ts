// The environment phase: read the job's slugs from SSM, decide what the job
// gets, and print it as shell code for the hook to eval. All or nothing: any
// failure or denial prints no variable at all.
import { jobIdentity } from "../acl.ts";
import { JobError, withDeadline, type PhaseContext } from "../context.ts";
import { gitCredentialSetup, selfCommand } from "../gitcredentials.ts";
import { planJob } from "../plan.ts";
import { readSlugs } from "../read.ts";
import { receivedLines } from "../received.ts";
import { registerRedactions } from "../redact.ts";
import { secretFilesBase, writeSecretFiles } from "../secretfiles.ts";
import { exportStatement } from "../shell.ts";
import { jobSlugs } from "../slug.ts";
import { createSsmStore } from "../ssm.ts";

export async function run({ env, config, log }: PhaseContext): Promise<string> {
  log.group("Loading secrets from SSM");
  const repository = env.BUILDKITE_REPO ?? "";
  const slugs = jobSlugs({ defaultKey: config.defaultKey, repository, pipeline: env.BUILDKITE_PIPELINE_SLUG });
  if (repository && !slugs.some((slug) => slug.kind === "repository")) {
    // The URL itself is not logged: it may carry a token.
    log.warn("BUILDKITE_REPO is not a repository URL this hook understands, so no repository slug is read");
  }
  log.debug(`base path ${config.basePath || "/"}; slugs: ${slugs.map((slug) => `${slug.name} (${slug.kind})`).join(", ")}`);

  const started = performance.now();
  const reads = await withDeadline(config.timeoutMs, async (signal) => {
    const store = await createSsmStore({ signal, timeoutMs: config.timeoutMs, log, env });
    return readSlugs(store, config, slugs, log);
  });
  const plan = planJob(reads, jobIdentity(env));
  for (const warning of plan.warnings) log.warn(warning);
  for (const name of plan.ignored) log.debug(`ignoring ${name}: not a variable or an access list`);
  for (const access of plan.access) log.debug(`access to ${access.path}: ${access.decision.allowed ? "allowed" : "denied"} (${access.decision.reason})`);
  if (plan.denial) throw new JobError(plan.denial);

  for (const assignment of [...plan.env, ...plan.files]) {
    const overrides = assignment.overrides ? `, overriding ${assignment.overrides.name}` : "";
    log.debug(`${assignment.name} from ${assignment.path}${overrides}`);
  }
  const count = plan.env.length;
  log.info(`Loaded ${count} variable${count === 1 ? "" : "s"} from ${reads.length} slug${reads.length === 1 ? "" : "s"} in ${(performance.now() - started).toFixed(0)} ms`);

  const git = gitCredentialSetup(plan.gitCredentials, env.GIT_CONFIG_PARAMETERS, selfCommand(env, process.execPath, Bun.main, process.cwd()));
  for (const warning of git.warnings) log.warn(warning);
  const files = writeSecretFiles(plan.files, secretFilesBase(env, config), env.BUILDKITE_JOB_ID);
  try {
    const received = [...plan.env.map((a) => a.value), ...plan.files.map((f) => f.content), ...git.credentials.map((c) => c.password)];
    await registerRedactions(received, { env, log, timeoutMs: config.timeoutMs });
  } catch (error) {
    files.remove();
    throw error;
  }
  if (files.dir) log.info(`Wrote ${plan.files.length} secret file${plan.files.length === 1 ? "" : "s"} to ${files.dir}`);
  if (git.credentials.length) log.info(`git credentials from SSM for ${[...new Set(git.credentials.map((c) => `${c.protocol}://${c.host}`))].join(", ")}`);
  if (config.dumpEnv) {
    log.group("What this job received from SSM (AWS_PARAMSTORE_SECRETS_DUMP_ENV; names only)");
    for (const line of receivedLines(plan, git.credentials)) log.info(line);
  }
  return plan.env.map((assignment) => exportStatement(assignment.name, assignment.value)).join("") + files.statements + git.statements;
}
