// The pre-checkout phase: remember the job's current ssh-agent, and switch to
// the slug agent when its keys can reach the repository, so the checkout
// uses the repository's own deploy key rather than a global one.
import { decideSwitch, saveCurrentAgent, switchTo } from "../ssh/agents.ts";
import type { HookContext } from "../job/context.ts";
import { isSshRepository } from "../job/slug.ts";
import { loadNodeFs, nodeFs } from "../core/files.ts";

export async function run({ env, config, log }: HookContext): Promise<string> {
  const repository = env.BUILDKITE_REPO ?? "";
  const saved = saveCurrentAgent(env);
  const decision = decideSwitch(env, () => isSshRepository(repository));
  if ("keep" in decision) {
    log.debug(`checkout keeps the current ssh-agent: ${decision.keep}`);
    return saved;
  }
  // node:fs loads only here: most jobs have no slug agent (see ../core/files.ts).
  await loadNodeFs();
  if (!nodeFs().existsSync(decision.probe.socket)) {
    log.warn(`the slug's ssh-agent is gone (no socket at ${decision.probe.socket}): the checkout uses the default agent`);
    return saved;
  }
  const started = performance.now();
  // The probe's module loads only for the jobs that probe: an SSH repository with a slug agent.
  const { probeRepository } = await import("../ssh/git.ts");
  const probe = await probeRepository(repository, env, decision.probe, config.timeoutMs);
  log.debug(`probed the repository with the slug's ssh-agent in ${(performance.now() - started).toFixed(0)} ms`);
  if (!probe.ok) {
    log.warn(`the slug's deploy key cannot reach the repository (${probe.reason}): the checkout uses the default agent`);
    return saved;
  }
  log.info("Checking out with the slug's deploy key");
  return saved + switchTo(decision.probe);
}
