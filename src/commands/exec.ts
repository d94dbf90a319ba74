// `bk-ssm-secrets exec [--pipeline SLUG] [--repo URL] [--teams T1:T2] [--source S] -- COMMAND...`:
// run a command on a workstation with exactly the variables and secret files
// a job of that pipeline and repository would get: the same slugs, plan,
// access lists (judged for the job described), Secrets Manager references
// and secret files as the environment phase. The secrets reach COMMAND
// through its environment only, never its argv; the files are removed when it
// ends, also when exec is interrupted. Its exit status is COMMAND's, or
// 128+N when a signal N ended it. Inside a Buildkite job it refuses: a job
// gets its secrets from the hooks.
import { constants } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { jobIdentity } from "../job/acl.ts";
import type { Env } from "../core/env.ts";
import { UsageError } from "../core/errors.ts";
import { JobError, withDeadline, type PhaseContext } from "../job/context.ts";
import { readSlugs } from "../job/read.ts";
import { jobSlugs } from "../job/slug.ts";
import { FILES_DIR_VARIABLE } from "../secrets/kinds.ts";
import { secretFilesBase, secretFilesDirectory, writeSecretFiles } from "../secrets/secretfiles.ts";
import { planWithReferences } from "../secrets/secretsmanager.ts";
import { createSsmStore } from "../ssm/client.ts";
import { imagineJob, type DoctorFlags } from "./doctor.ts";
import type { CommandResult } from "./operator.ts";

export type ExecFlags = Omit<DoctorFlags, "json">;

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Why exec may not run here, or undefined when it may. */
export function refusal(env: Env): string | undefined {
  if (env.BUILDKITE !== "true" && !env.BUILDKITE_JOB_ID) return undefined;
  return "exec is for reproducing a job on a workstation and does not run inside a Buildkite job (BUILDKITE=true or BUILDKITE_JOB_ID is set): the job already gets its secrets from the hooks";
}

/** The exit status a shell would report for a child that exited or was killed. */
export function exitStatus(exitCode: number | null, signalCode: string | number | null): number {
  if (exitCode !== null) return exitCode;
  const number = typeof signalCode === "number" ? signalCode : signalCode ? (constants.signals as Record<string, number>)[signalCode] : undefined;
  return 128 + (number ?? 0);
}

export async function run({ env, config, log }: PhaseContext, command: string[], flags: ExecFlags): Promise<CommandResult> {
  const refused = refusal(env);
  if (refused) throw new UsageError(refused);
  if (command.length === 0) throw new UsageError("exec runs the command after --, as in `bk-ssm-secrets exec --pipeline app -- make deploy`");

  const job = imagineJob(env, flags);
  const slugs = jobSlugs({ defaultKey: config.defaultKey, repository: job.env.BUILDKITE_REPO, pipeline: job.env.BUILDKITE_PIPELINE_SLUG });
  const { plan, referenceProblem } = await withDeadline(config.timeoutMs, async (signal) => {
    const store = await createSsmStore({ signal, timeoutMs: config.timeoutMs, log, env });
    return planWithReferences(store, await readSlugs(store, config, slugs, log), jobIdentity(job.env), log);
  });
  for (const warning of plan.warnings) log.warn(warning);
  if (plan.denial) throw new JobError(plan.denial);
  if (referenceProblem) throw new JobError(referenceProblem);
  for (const assignment of [...plan.env, ...plan.files]) log.debug(`${assignment.name} from ${assignment.path}`);

  // From here on a signal must not end exec before the files are gone: it is
  // passed on to COMMAND, and exec ends when COMMAND does, after the clean-up.
  // (Nothing is awaited between writing the files and starting COMMAND, so a
  // signal is only ever handled once COMMAND runs, or after it failed to start.)
  let child: Subprocess | undefined;
  for (const signal of SIGNALS) process.on(signal, () => child?.kill(signal));

  const files = writeSecretFiles(plan.files, secretFilesDirectory(secretFilesBase(env, config)));
  try {
    const childEnv: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) if (value !== undefined) childEnv[name] = value;
    for (const assignment of plan.env) childEnv[assignment.name] = assignment.value;
    if (files.dir) {
      for (const file of plan.files) childEnv[file.name] = join(files.dir, file.name);
      childEnv[FILES_DIR_VARIABLE] = files.dir;
    }
    const pipeline = job.facts.pipeline.value ? ` of pipeline ${job.facts.pipeline.value}` : "";
    const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
    log.info(`Running ${command[0]} with the ${count(plan.env.length, "variable")} and ${count(plan.files.length, "secret file")} a job${pipeline} gets from slugs ${slugs.map((slug) => slug.name).join(", ")}`);
    try {
      child = Bun.spawn(command, { env: childEnv, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
    } catch (error) {
      log.error(`cannot run ${command[0]}: ${(error as Error).message}`);
      return { output: "", status: 127 };
    }
    await child.exited;
    return { output: "", status: exitStatus(child.exitCode, child.signalCode) };
  } finally {
    files.remove();
  }
}
