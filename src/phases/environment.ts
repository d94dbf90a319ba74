// The environment phase: read the job's slugs and global deploy keys from
// SSM, decide what the job gets, start its ssh-agents, and print it all as
// shell code for the hook to eval. All or nothing: any failure or denial
// prints no variable at all and leaves no agent running.
import { jobIdentity } from "../acl.ts";
import { exportAgents } from "../agents.ts";
import { slugPath } from "../config.ts";
import { JobError, withDeadline, type PhaseContext } from "../context.ts";
import { planKeys } from "../keys.ts";
import { planJob } from "../plan.ts";
import { readGlobalKeys, readSlugs } from "../read.ts";
import { exportStatement } from "../shell.ts";
import { jobSlugs, type SlugKind } from "../slug.ts";
import { createSsmStore } from "../ssm.ts";
import { startAgents } from "../sshagent.ts";

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
  const [reads, globalKeys] = await withDeadline(config.timeoutMs, async (signal) => {
    const store = await createSsmStore({ signal, timeoutMs: config.timeoutMs, log, env });
    return Promise.all([readSlugs(store, config, slugs, log), readGlobalKeys(store, config.globalSshKeys, log)]);
  });
  const plan = planJob(reads, jobIdentity(env));
  for (const warning of plan.warnings) log.warn(warning);
  for (const name of plan.ignored) log.debug(`ignoring ${name}: not a variable or an access list`);
  for (const access of plan.access) log.debug(`access to ${access.path}: ${access.decision.allowed ? "allowed" : "denied"} (${access.decision.reason})`);
  if (plan.denial) throw new JobError(plan.denial);
  const pathOf = (kind: SlugKind) => slugs.filter((slug) => slug.kind === kind).map((slug) => slugPath(config, slug.name))[0];
  const keys = planKeys({
    slugKeys: plan.sshKeys,
    global: globalKeys,
    repository,
    repositorySlugPath: pathOf("repository"),
    pipelineSlugPath: pathOf("pipeline"),
    skipMissingKeyWarning: config.skipSshKeyNotFoundWarning,
  });
  for (const warning of keys.warnings) log.warn(warning);
  if (keys.problem) throw new JobError(keys.problem);
  const agents = await startAgents(keys.agents, env, log);

  for (const assignment of plan.env) {
    const overrides = assignment.overrides ? `, overriding ${assignment.overrides.name}` : "";
    log.debug(`${assignment.name} from ${assignment.path}${overrides}`);
  }
  const count = plan.env.length;
  const keyCount = keys.agents.reduce((n, agent) => n + agent.keys.length, 0);
  const keySummary = keyCount ? ` and ${keyCount} deploy key${keyCount === 1 ? "" : "s"}` : "";
  log.info(`Loaded ${count} variable${count === 1 ? "" : "s"}${keySummary} from ${reads.length} slug${reads.length === 1 ? "" : "s"} in ${(performance.now() - started).toFixed(0)} ms`);
  return plan.env.map((assignment) => exportStatement(assignment.name, assignment.value)).join("") + exportAgents(agents);
}
