// Reading a job's slugs (one recursive walk per slug) and the deploy keys
// every job gets; the environment phase runs them all at once.
import { slugPath, type Config } from "./config.ts";
import type { Logger } from "../core/log.ts";
import type { SlugRead } from "./plan.ts";
import type { Slug } from "./slug.ts";
import type { Parameter, SecretStore } from "../ssm/store.ts";

export async function readSlugs(store: SecretStore, config: Config, slugs: Slug[], log: Logger): Promise<SlugRead[]> {
  return Promise.all(
    slugs.map(async (slug) => {
      const path = slugPath(config, slug.name);
      const started = performance.now();
      const parameters = await store.readTree(path);
      log.debug(`read ${path} (${slug.kind} slug): ${parameters.length} parameters in ${(performance.now() - started).toFixed(0)} ms`);
      return { slug, path, parameters };
    }),
  );
}

/** The deploy keys every job gets, as asked for and as found. */
export interface GlobalKeys {
  names: string[];
  found: Parameter[];
  missing: string[];
}

/** The deploy keys every job gets (AWS_PARAMSTORE_SECRETS_GLOBAL_SSH): GetParameters, ten names a call. */
export async function readGlobalKeys(store: SecretStore, names: string[], log: Logger): Promise<GlobalKeys> {
  if (names.length === 0) return { names, found: [], missing: [] };
  const started = performance.now();
  const { found, missing } = await store.readNames(names);
  log.debug(`read ${found.length} of ${names.length} global deploy keys in ${(performance.now() - started).toFixed(0)} ms`);
  return { names, found, missing };
}

/**
 * Whether anything lives under the base path. A failed check (the agent's
 * policy may cover only `<BASE_PATH>/*`) counts as "yes": the warning it
 * would refine is given either way.
 */
export async function basePathHoldsAny(store: SecretStore, basePath: string, log: Logger): Promise<boolean> {
  try {
    return await store.holdsAny(basePath);
  } catch (error) {
    log.debug(`could not check whether ${basePath || "/"} holds anything: ${(error as Error).message}`);
    return true;
  }
}
