// Registering every value the job receives with the Buildkite agent's log
// redactor, so a build that prints one shows [REDACTED]. Through the agent's
// Job API when the job has it (a Unix socket and a bearer token), otherwise
// through `buildkite-agent redactor add` (agent 3.67+) with the values on
// stdin, never in argv. Neither available: one warning, and the job goes on
// as it would have with the original hook, which never redacted. An agent
// that has a redactor but refuses the values fails the phase instead: the
// secrets are not handed out unprotected.
import type { Env } from "../core/env.ts";
import { JobError, withDeadline } from "../job/context.ts";
import type { Logger } from "../core/log.ts";

/** The agent ignores shorter values of its own redacted variables: they would blank out common words in the log. */
export const MIN_REDACTED_LENGTH = 6;
const REDACTOR_AGENT_VERSION = "3.67";
/** Values per `buildkite-agent redactor add` process. */
const CLI_BATCH_SIZE = 100;
/** Job API requests in flight at once. */
const JOB_API_CONCURRENCY = 8;
const REDACTIONS_ROUTE = "/api/current-job/v0/redactions";

export interface Needles {
  /** Distinct strings to register. */
  needles: string[];
  /** Values left out because they are shorter than MIN_REDACTED_LENGTH. */
  tooShort: number;
}

/**
 * What to register for a set of values. Each value trimmed; for a value of
 * several lines also each line of at least MIN_REDACTED_LENGTH characters:
 * older agents match a needle byte for byte, so a key printed through a
 * terminal (which turns `\n` into `\r\n`), by an unquoted `echo` (spaces) or
 * one line at a time would escape the whole-value needle. Empty values are
 * skipped; every string appears once.
 */
export function redactionNeedles(values: Iterable<string>): Needles {
  const needles = new Set<string>();
  let tooShort = 0;
  for (const value of values) {
    const whole = value.trim();
    if (whole === "") continue;
    if (whole.length < MIN_REDACTED_LENGTH) {
      tooShort++;
      continue;
    }
    needles.add(whole);
    if (!whole.includes("\n")) continue;
    for (const line of whole.split("\n")) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_REDACTED_LENGTH) needles.add(trimmed);
    }
  }
  return { needles: [...needles], tooShort };
}

export type RedactorRoute = { kind: "job-api"; socket: string; token: string } | { kind: "cli"; agent: string } | { kind: "none" };

/** Which way the job's agent takes redactions: the Job API first, then the `buildkite-agent` on the job's PATH. */
export function redactorRoute(env: Env): RedactorRoute {
  const socket = env.BUILDKITE_AGENT_JOB_API_SOCKET;
  const token = env.BUILDKITE_AGENT_JOB_API_TOKEN;
  if (socket && token) return { kind: "job-api", socket, token };
  const agent = Bun.which("buildkite-agent", { PATH: env.PATH ?? "" });
  return agent ? { kind: "cli", agent } : { kind: "none" };
}

async function postRedaction(route: { socket: string; token: string }, needle: string, signal: AbortSignal): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`http://buildkite-agent${REDACTIONS_ROUTE}`, {
      unix: route.socket,
      method: "POST",
      headers: { Authorization: `Bearer ${route.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ redact: needle }),
      signal,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).name;
    throw new JobError(`cannot reach the agent's Job API at ${route.socket} (${code}) to register the job's secrets for redaction: nothing was exported; retry the job, or check BUILDKITE_AGENT_JOB_API_SOCKET`);
  }
  // The body is not read into any message: an error could quote the request.
  await response.arrayBuffer();
  if (!response.ok) {
    const hint = response.status === 401 ? "the agent refused BUILDKITE_AGENT_JOB_API_TOKEN" : "retry the job";
    throw new JobError(`the agent's Job API answered HTTP ${response.status} when registering the job's secrets for redaction: nothing was exported; ${hint}`);
  }
}

async function run(argv: string[], env: Env, stdin?: string): Promise<{ status: number; stdout: string }> {
  const proc = Bun.spawn(argv, { env, stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "ignore" });
  const [stdout, status] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { status, stdout };
}

function olderThan(version: string, minimum: string): boolean {
  const [a = 0, b = 0] = version.split(".").map(Number);
  const [x = 0, y = 0] = minimum.split(".").map(Number);
  return a < x || (a === x && b < y);
}

/** Register through the CLI in batches; `ok: false` with its version when the agent is too old to have a redactor. */
async function addWithCli(agent: string, needles: string[], env: Env): Promise<{ ok: true } | { ok: false; version: string }> {
  for (let start = 0; start < needles.length; start += CLI_BATCH_SIZE) {
    // `--format json` takes an object and registers each value; the keys only need to be distinct.
    const batch = Object.fromEntries(needles.slice(start, start + CLI_BATCH_SIZE).map((needle, index) => [`value${start + index}`, needle]));
    const added = await run([agent, "redactor", "add", "--format", "json"], env, JSON.stringify(batch));
    if (added.status === 0) continue;
    const version = /(\d+\.\d+\.\d+)/.exec((await run([agent, "--version"], env)).stdout)?.[1];
    if (version && olderThan(version, REDACTOR_AGENT_VERSION)) return { ok: false, version };
    throw new JobError(`${agent} redactor add failed (exit status ${added.status}) registering the job's secrets for redaction: nothing was exported; retry the job, or check the agent`);
  }
  return { ok: true };
}

export interface RedactionOptions {
  env: Env;
  log: Logger;
  timeoutMs: number;
}

/** Register `values` with the job's agent before the phase hands them out. Throws JobError when the agent has a redactor that refuses them. */
export async function registerRedactions(values: Iterable<string>, { env, log, timeoutMs }: RedactionOptions): Promise<void> {
  const { needles, tooShort } = redactionNeedles(values);
  if (tooShort > 0) log.info(`${tooShort} value${tooShort === 1 ? " is" : "s are"} shorter than ${MIN_REDACTED_LENGTH} characters and not registered for redaction, like the agent's own short secrets`);
  if (needles.length === 0) return;
  const route = redactorRoute(env);
  const unredacted = `the values loaded from SSM will not be redacted from this job's log`;
  switch (route.kind) {
    case "job-api":
      await withDeadline(timeoutMs, async (signal) => {
        const queue = [...needles];
        const worker = async () => {
          for (let needle = queue.shift(); needle !== undefined; needle = queue.shift()) await postRedaction(route, needle, signal);
        };
        await Promise.all(Array.from({ length: JOB_API_CONCURRENCY }, worker));
      });
      log.debug(`registered ${needles.length} strings for redaction through the Job API`);
      return;
    case "cli": {
      const added = await addWithCli(route.agent, needles, env);
      if (!added.ok) log.warn(`${unredacted}: buildkite-agent ${added.version} has no redactor; agent ${REDACTOR_AGENT_VERSION} or later redacts them`);
      else log.debug(`registered ${needles.length} strings for redaction with ${route.agent} redactor add`);
      return;
    }
    case "none":
      log.warn(`${unredacted}: the agent's Job API (BUILDKITE_AGENT_JOB_API_SOCKET) is not available and buildkite-agent is not on PATH; agent ${REDACTOR_AGENT_VERSION} or later redacts them`);
  }
}
