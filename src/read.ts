// Reading a job's slugs: one recursive walk per slug, all slugs at once.
import { slugPath, type Config } from "./config.ts";
import type { Logger } from "./log.ts";
import type { SlugRead } from "./plan.ts";
import type { Slug } from "./slug.ts";
import type { SecretStore } from "./store.ts";

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
