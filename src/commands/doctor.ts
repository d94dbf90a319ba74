// `bk-ssm-secrets doctor`: a dry run of a job as the agent would see it, with
// the same configuration, slugs, reads and access decisions as the
// environment phase, and a check of this machine. It reports names and
// reasons, never a value, and exits 0 only when the job would succeed.
import { existsSync } from "node:fs";
import { jobIdentity, type JobIdentity } from "../job/acl.ts";
import type { Env } from "../core/env.ts";
import { resolve } from "node:path";
import { DEFAULTS_FILE_VARIABLE, defaultsFilePath, oldDefaultsFilePath, slugPath, type Config } from "../job/config.ts";
import { withDeadline, type PhaseContext } from "../job/context.ts";
import { gatherMachineFacts } from "./doctor/machine.ts";
import { buildReport, renderReport, type JobFact, type JobFacts, type SlugOutcome } from "./doctor/report.ts";
import { jobCredentials } from "../secrets/gitcredentials.ts";
import { planJobKeys, type KeyInput } from "../ssh/keys.ts";
import { inJob, type Logger } from "../core/log.ts";
import { renderJson, stdoutColor } from "./output.ts";
import { planJob, withoutNulValues, type SlugRead } from "../job/plan.ts";
import { nothingFoundWarning } from "../job/nothing-found.ts";
import { basePathHoldsAny, readGlobalKeys } from "../job/read.ts";
import { unknownVariables } from "../job/variables.ts";
import { planWithReferences } from "../secrets/secretsmanager.ts";
import { jobSlugs, type Slug } from "../job/slug.ts";
import { StoreError, type ParameterAdmin, type SecretStore } from "../ssm/store.ts";
import { createParameterAdmin } from "../ssm/admin.ts";
import type { CommandResult } from "./operator.ts";

export interface DoctorFlags {
  pipeline?: string;
  repo?: string;
  /** Colon-separated, as BUILDKITE_BUILD_CREATOR_TEAMS. */
  teams?: string;
  source?: string;
  json?: boolean;
  /** Workstation mode: check AWS access and the job, not the agent's hooks and programs. */
  short?: boolean;
  /** Check the agent's hooks and programs even off an agent. */
  full?: boolean;
}

/**
 * Whether doctor runs in workstation mode: asked for, or not on an agent. An
 * agent is a Buildkite job, a machine whose environment names its hooks or
 * agent, one whose agent hooks `install` set up (they record their defaults
 * file), or one with the defaults file doctor read or the Python hook's.
 */
export function workstation(env: Env, flags: Pick<DoctorFlags, "short" | "full">, defaultsFile: string, hooksInstalled: boolean): boolean {
  if (flags.short || flags.full) return Boolean(flags.short);
  const agent = inJob(env) || Boolean(env.BUILDKITE_HOOKS_PATH || env.BUILDKITE_AGENT_NAME) || hooksInstalled || [defaultsFile, oldDefaultsFilePath(env)].some((path) => existsSync(path));
  return !agent;
}

/**
 * When the agent's hooks record another defaults file than the one doctor
 * chose (BK_SSM_SECRETS_DEFAULTS_FILE, else the default location): that one,
 * and whether the variable chose. The record is reported, never followed (see
 * install/installed.ts).
 */
function otherThanHooks(env: Env, recorded: string | undefined): { otherThanHooks?: { hooksRead: string; byVariable: boolean } } {
  if (!recorded || resolve(recorded) === resolve(defaultsFilePath(env))) return {};
  return { otherThanHooks: { hooksRead: recorded, byVariable: Boolean(env[DEFAULTS_FILE_VARIABLE]) } };
}

/** The job doctor imagines: the environment's Buildkite variables, each flag overriding its own. Pure. */
export function imagineJob(env: Env, flags: DoctorFlags): { env: Env; facts: JobFacts } {
  const job: Env = { ...env };
  const fact = <T>(value: T, flag: string | undefined, flagName: string, variable: string): JobFact<T> => ({
    value,
    from: flag !== undefined ? flagName : env[variable] ? variable : `${variable} not set`,
  });
  if (flags.pipeline !== undefined) job.BUILDKITE_PIPELINE_SLUG = flags.pipeline;
  if (flags.repo !== undefined) job.BUILDKITE_REPO = flags.repo;
  if (flags.source !== undefined) job.BUILDKITE_SOURCE = flags.source;
  if (flags.teams !== undefined) {
    // --teams stands for every team the build carries, the unblocker's included.
    job.BUILDKITE_BUILD_CREATOR_TEAMS = flags.teams;
    delete job.BUILDKITE_UNBLOCKER_TEAMS;
  }
  const identity = jobIdentity(job);
  const teamsFrom = flags.teams !== undefined ? "--teams" : "BUILDKITE_BUILD_CREATOR_TEAMS and BUILDKITE_UNBLOCKER_TEAMS";
  return {
    env: job,
    facts: {
      pipeline: fact(identity.pipeline, flags.pipeline, "--pipeline", "BUILDKITE_PIPELINE_SLUG"),
      repository: fact(job.BUILDKITE_REPO ?? "", flags.repo, "--repo", "BUILDKITE_REPO"),
      teams: { value: identity.teams, from: teamsFrom },
      source: fact(identity.source, flags.source, "--source", "BUILDKITE_SOURCE"),
    },
  };
}

/** Read every slug, keeping each failure (explained) instead of stopping at the first: doctor reports them all. */
async function readEachSlug(store: SecretStore, config: Config, slugs: Slug[]): Promise<Array<SlugOutcome & Partial<SlugRead>>> {
  return Promise.all(
    slugs.map(async (slug) => {
      const path = slugPath(config, slug.name);
      try {
        return { slug, path, parameters: await store.readTree(path) };
      } catch (error) {
        if (error instanceof StoreError) return { slug, path, error: error.message, code: error.code };
        throw error;
      }
    }),
  );
}

/** The global deploy keys, or why they could not be read: doctor reports it instead of stopping. */
async function readGlobalKeysOrError(store: SecretStore, names: string[], log: Logger): Promise<{ keys: KeyInput["global"]; error?: string; code?: string }> {
  try {
    return { keys: await readGlobalKeys(store, names, log) };
  } catch (error) {
    if (error instanceof StoreError) return { keys: { names, found: [], missing: [] }, error: error.message, code: error.code };
    throw error;
  }
}

/** The slugs under the base path, to name the ones like a job's; none when they cannot be listed. */
async function existingSlugs(store: ParameterAdmin, basePath: string): Promise<string[]> {
  try {
    const names = (await store.listTree(basePath || "/")).map((parameter) => parameter.name.slice(basePath.length + 1).split("/")[0]!);
    return [...new Set(names)];
  } catch (error) {
    if (error instanceof StoreError) return [];
    throw error;
  }
}

/** The plan of the slugs that were read, its Secrets Manager references resolved (or why they cannot be) as the environment phase would. */
async function planOutcomes(store: SecretStore, outcomes: Array<SlugOutcome & Partial<SlugRead>>, job: JobIdentity, log: Logger, allowedNames: ReadonlySet<string>) {
  const reads = outcomes.filter((outcome): outcome is SlugRead & SlugOutcome => outcome.parameters !== undefined);
  try {
    return { outcomes, ...(await planWithReferences(store, reads, job, log, allowedNames)) };
  } catch (error) {
    if (error instanceof StoreError) return { outcomes, plan: withoutNulValues(planJob(reads, job, allowedNames)), referenceProblem: error.message };
    throw error;
  }
}

export async function run({ env, config, defaults, log }: PhaseContext, flags: DoctorFlags): Promise<CommandResult> {
  const job = imagineJob(env, flags);
  const slugs = jobSlugs({ defaultKey: config.defaultKey, repository: job.env.BUILDKITE_REPO, pipeline: job.env.BUILDKITE_PIPELINE_SLUG });
  const [{ outcomes, plan, referenceProblem }, global, machine, nothingFound] = await withDeadline(config.timeoutMs, async (signal) => {
    const options = { signal, timeoutMs: config.timeoutMs, log };
    const store = await createParameterAdmin({ ...options, env });
    const planning = readEachSlug(store, config, slugs).then((outcomes) => planOutcomes(store, outcomes, jobIdentity(job.env), log, config.allowedNames));
    const [planned, global, machine] = await Promise.all([planning, readGlobalKeysOrError(store, config.globalSshKeys, log), gatherMachineFacts(env, options)]);
    // As the environment phase: a job that got nothing is a problem, and which one depends on the base path.
    const received = planned.outcomes.some((outcome) => outcome.error !== undefined || (outcome.parameters?.length ?? 0) > 0) || global.keys.found.length > 0 || global.error !== undefined;
    const basePathEmpty = !received && !(await basePathHoldsAny(store, config.basePath, log));
    const existing = received || basePathEmpty ? [] : await existingSlugs(store, config.basePath);
    return [planned, global, machine, nothingFoundWarning(planned.outcomes, received, basePathEmpty, config, defaults, existing)] as const;
  });
  const report = buildReport({
    config,
    defaultsFile: {
      path: defaults.path,
      present: defaults.present,
      old: defaults.path === oldDefaultsFilePath(env),
      ...otherThanHooks(env, machine.recordedDefaultsFile),
    },
    unknownVariables: unknownVariables(env, defaults),
    ...(nothingFound !== undefined ? { nothingFound } : {}),
    job: job.facts,
    outcomes: outcomes.map(({ slug, path, error, code }) => ({ slug, path, ...(error !== undefined ? { error, code } : {}) })),
    plan,
    ...(referenceProblem !== undefined ? { referenceProblem } : {}),
    // The same decisions as the environment phase: which agent each key goes into, and its warnings.
    keys: planJobKeys(config, slugs, job.env.BUILDKITE_REPO ?? "", plan.sshKeys, global.keys),
    ...(global.error !== undefined ? { globalKeysError: global.error, globalKeysCode: global.code } : {}),
    credentials: jobCredentials(plan.gitCredentials),
    machine,
    short: workstation(env, flags, defaults.path, machine.hooks.some((hook) => hook.state === "installed" || hook.state === "broken")),
  });
  return { output: flags.json ? renderJson(report) : renderReport(report, { color: stdoutColor(env) }), status: report.ok ? 0 : 1 };
}
