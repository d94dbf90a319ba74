// The environment phase while and once SSM answers (environment.ts asks):
// warn about the job's settings; then decide which deploy keys go into which
// agent and how git gets its credentials, record where the job's files and
// agents will be, register every value with the redactor, write the files,
// start the agents, list what the job got, and return it all as shell code.
// Loaded while SSM answers.
import { exportAgents, socketPath } from "../ssh/agents.ts";
import { JobError, type PhaseContext } from "../job/context.ts";
import { gitCredentialSetup, selfCommand } from "../secrets/gitcredentials.ts";
import { planJobKeys } from "../ssh/keys.ts";
import type { GlobalKeys } from "../job/read.ts";
import { receivedLines } from "../secrets/received.ts";
import { registerRedactions } from "../secrets/redact.ts";
import { secretFilesBase, secretFilesDirectory, writeSecretFiles } from "../secrets/secretfiles.ts";
import { planWithReferences, type PlannedJob } from "../secrets/secretsmanager.ts";
import { jobIdentity } from "../job/acl.ts";
import type { SlugRead } from "../job/plan.ts";
import type { SecretStore } from "../ssm/store.ts";
import { exportStatement } from "../core/shell.ts";
import type { Slug } from "../job/slug.ts";
import { slugPath } from "../job/config.ts";
import { agentDirectory, startAgents } from "../ssh/sshagent.ts";
import { addToJobRecord } from "../job/state.ts";
import { captureAwsSettings } from "../ssm/settings.ts";
import { jobRecordPath } from "../job/record.ts";
import { unknownVariables } from "../job/variables.ts";
import { nothingFoundWarning } from "../job/nothing-found.ts";

/** What SSM answered for the job, and what environment.ts knew before it asked. */
export interface Answers extends PlannedJob {
  slugs: Slug[];
  globalKeys: GlobalKeys;
  /** Whether SSM answered with anything at all, and, when it did not, whether the base path holds nothing either. */
  received: boolean;
  basePathEmpty: boolean;
  /** The job's record, or undefined without a usable BUILDKITE_JOB_ID. */
  recordPath?: string;
  /** When the reads began, for the "Loaded …" line. */
  started: number;
}

/** What the job gets from its slugs' parameters, with the Secrets Manager references among them read and put in place. */
export function planReads(store: SecretStore, reads: SlugRead[], { env, config, log }: PhaseContext): Promise<PlannedJob> {
  return planWithReferences(store, reads, jobIdentity(env), log, config.allowedNames);
}

/** One warning for each of the job's settings that is ignored, missing or unknown; returns the job record's path, if it has one. */
export function warnAboutSettings({ env, config, defaults, log }: PhaseContext): string | undefined {
  for (const refused of config.refused) log.warn(`${refused.variable} in the job's environment is ignored: ${refused.reason}`);
  const recordPath = jobRecordPath(env.BUILDKITE_JOB_ID);
  if (!recordPath) log.warn("BUILDKITE_JOB_ID is missing or not a job id: pre-exit can clean up only from the job's variables, and git's credential helper answers nothing");
  for (const unknown of unknownVariables(env, defaults)) log.warn(unknown.message);
  return recordPath;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

export async function applyAnswers({ env, config, defaults, log }: PhaseContext, answers: Answers): Promise<string> {
  const { slugs, reads, plan, referenceProblem, globalKeys, recordPath } = answers;
  const nothingFound = nothingFoundWarning(reads, answers.received, answers.basePathEmpty, config, defaults);
  if (nothingFound) log.warn(nothingFound);
  for (const warning of [...plan.misnamedAccessLists, ...plan.warnings]) log.warn(warning);
  for (const name of plan.ignored) log.debug(`ignoring ${name}: not a variable, file, key, credential or access list`);
  for (const access of plan.access) log.debug(`access to ${access.path}: ${access.decision.allowed ? "allowed" : "denied"} (${access.decision.reason})`);
  if (plan.denial) throw new JobError(plan.denial);
  if (referenceProblem) throw new JobError(referenceProblem);
  const repository = env.BUILDKITE_REPO ?? "";
  const keys = planJobKeys(config, slugs, repository, plan.sshKeys, globalKeys);
  for (const warning of keys.warnings) log.warn(warning);
  if (keys.problem) throw new JobError(keys.problem);
  const git = gitCredentialSetup(plan.gitCredentials, env.GIT_CONFIG_PARAMETERS, selfCommand(env, process.execPath, Bun.main, process.cwd()));
  for (const warning of git.warnings) log.warn(warning);

  // Where the job's files and agents will be, checked and recorded before
  // anything is made, so that pre-exit finds them even if this process is
  // killed; and what git's credential helper may read, and how.
  const filesDirectory = plan.files.length ? secretFilesDirectory(secretFilesBase(env, config), env.BUILDKITE_JOB_ID) : undefined;
  const agentsDirectory = keys.agents.length ? agentDirectory(env) : undefined;
  if (recordPath && (filesDirectory || agentsDirectory || git.parameters.length)) {
    addToJobRecord(recordPath, {
      filesDirectories: filesDirectory ? [filesDirectory] : [],
      agentDirectories: agentsDirectory ? [agentsDirectory] : [],
      sockets: agentsDirectory ? keys.agents.map((agent) => socketPath(agentsDirectory, agent.role)) : [],
      ...(git.parameters.length ? { grant: { parameters: git.parameters, aws: captureAwsSettings(env) } } : {}),
    });
  }

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
  const files = writeSecretFiles(plan.files, filesDirectory);
  const agents = await startAgents(keys.agents, agentsDirectory ?? "", env, log).catch((error: unknown) => {
    files.remove();
    throw error;
  });

  // What the job got, by name and slug, in the group: an operator answers "where did this come from?" without a setting.
  const keySlug = (path: string) => slugs.find((slug) => path === `${slugPath(config, slug.name)}/ssh/key`)?.name;
  const received = keys.agents.flatMap((agent) => agent.keys.map((key) => ({ path: key.path, slug: keySlug(key.path), agent: `${agent.role} agent` })));
  // One write for the whole listing: a job can receive hundreds of values.
  const listing = receivedLines(plan, git.credentials, received);
  if (listing.length) log.info(listing.join("\n"));
  // The lines above name each item; this one counts them (the hosts of git credentials are in their lines).
  const keyCount = keys.agents.reduce((n, agent) => n + agent.keys.length, 0);
  const counts = [
    plural(plan.env.length, "variable"),
    ...(git.credentials.length ? [plural(git.credentials.length, "git credential")] : []),
    ...(keyCount ? [plural(keyCount, "deploy key")] : []),
  ];
  const loaded = counts.length > 1 ? `${counts.slice(0, -1).join(", ")} and ${counts.at(-1)}` : counts[0];
  log.info(`Loaded ${loaded} from ${plural(reads.length, "slug")} in ${(performance.now() - answers.started).toFixed(0)} ms`);
  if (files.dir) log.info(`Wrote ${plural(plan.files.length, "secret file")} to ${files.dir}`);
  // The listing is always there; AWS_PARAMSTORE_SECRETS_DUMP_ENV opens the group so it shows without a click.
  if (config.dumpEnv) log.expand();
  return plan.env.map((assignment) => exportStatement(assignment.name, assignment.value)).join("") + files.statements + git.statements + exportAgents(agents);
}
