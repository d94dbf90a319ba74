// The environment phase: read the job's slugs and global deploy keys from
// SSM, decide what the job gets, register every value with the agent's
// redactor, write its secret files, start its ssh-agents, and print it all as
// shell code for the hook to eval. All or nothing: any failure or denial
// prints no variable at all and leaves no file or agent behind.
//
// The requests to SSM go out as soon as the slugs are known: this module
// holds only what that takes. The phase's checks and warnings, its group
// header, and loading the code that decides and applies what the job gets
// (environment-apply.ts), then run while SSM answers instead of before it is
// asked (BENCHMARKS.md, section 7).
import { withDeadline, type PhaseContext } from "../job/context.ts";
import { undoChangesOnInterrupt } from "../core/interrupt.ts";
import { basePathHoldsAny, readGlobalKeys, readSlugs } from "../job/read.ts";
import { jobSlugs, type Slug } from "../job/slug.ts";
import { createSsmStore } from "../ssm/client.ts";

export async function run(context: PhaseContext): Promise<string> {
  const { env, config, log } = context;
  // Before the first request: a signal from then on gets its one line (see interrupt.ts).
  undoChangesOnInterrupt(log);
  // First, so that every line this phase logs, from any route to SSM, is in
  // its group; the header itself is written once the requests are out.
  log.group("Loading secrets from SSM");
  const repository = env.BUILDKITE_REPO ?? "";
  let slugs: Slug[];
  try {
    slugs = jobSlugs({ defaultKey: config.defaultKey, repository, pipeline: env.BUILDKITE_PIPELINE_SLUG });
  } catch (error) {
    // A job that fails on its pipeline slug still hears what else is wrong with its settings.
    (await import("./environment-apply.ts")).warnAboutSettings(context);
    log.flush();
    throw error;
  }

  const started = performance.now();
  const answers = withDeadline(config.timeoutMs, async (signal) => {
    const store = await createSsmStore({ signal, timeoutMs: config.timeoutMs, log, env });
    // The module that plans is the one loading below, once the requests are out.
    const planning = readSlugs(store, config, slugs, log).then(async (reads) => (await import("./environment-apply.ts")).planReads(store, reads, context));
    const [planned, globalKeys] = await Promise.all([planning, readGlobalKeys(store, config.globalSshKeys, log)]);
    // Only a job that got nothing pays for one more request, to tell a wrong base path from empty slugs.
    const received = planned.reads.some((read) => read.parameters.length > 0) || globalKeys.found.length > 0;
    const basePathEmpty = !received && !(await basePathHoldsAny(store, config.basePath, log));
    return { ...planned, globalKeys, received, basePathEmpty };
  });
  // Awaited below, once the checks are done; until then a failure must not count as unhandled.
  answers.catch(() => {});
  // The requests are signed and sent on the way through the event loop: one turn, and they are out.
  await new Promise((resolve) => setImmediate(resolve));
  const applying = import("./environment-apply.ts");
  log.flush();

  // Checked while SSM answers, and logged before anything it answered.
  const { applyAnswers, warnAboutSettings } = await applying;
  const recordPath = warnAboutSettings(context);
  if (repository && !slugs.some((slug) => slug.kind === "repository")) {
    // The URL itself is not logged: it may carry a token.
    log.warn("BUILDKITE_REPO is not a repository URL this hook understands, so no repository slug is read");
  }
  log.debug(`base path ${config.basePath || "/"}; slugs: ${slugs.map((slug) => `${slug.name} (${slug.kind})`).join(", ")}`);

  return applyAnswers(context, { slugs, recordPath, started, ...(await answers) });
}
