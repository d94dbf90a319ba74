// A job that gets nothing at all from SSM is, on a working agent, almost
// always a mistake: a base path that names an empty part of the tree, or
// slugs that do not exist. Without this it would end with "Loaded 0
// variables" and look healthy. Pure: the caller says what was read and, only
// when nothing was, whether the base path is known to hold nothing at all.
import { closest, editDistance } from "../core/closest.ts";
import { SETTINGS, type Config, type Defaults } from "./config.ts";
import type { SlugRead } from "./plan.ts";

/** Where the base path came from, in words. */
function basePathOrigin(config: Pick<Config, "sources">, defaults: Pick<Defaults, "path">): string {
  switch (config.sources.basePath) {
    case "environment":
      return "set in the environment";
    case "defaults file":
      return `set in ${defaults.path}`;
    default:
      return "the built-in default";
  }
}

/**
 * The warning for a job that received nothing, or undefined when it received
 * something. Names the setting and the paths, never a value; and, when the
 * caller listed the slugs that exist (doctor does), the ones like the job's.
 */
export function nothingFoundWarning(
  reads: Array<Pick<SlugRead, "slug" | "path">>,
  received: boolean,
  basePathEmpty: boolean,
  config: Pick<Config, "basePath" | "sources">,
  defaults: Pick<Defaults, "path">,
  existingSlugs: string[] = [],
): string | undefined {
  if (received) return undefined;
  const variable = SETTINGS.basePath.variable;
  const base = config.basePath || "/";
  const setting = `${variable}=${base} (${basePathOrigin(config, defaults)})`;
  if (basePathEmpty) {
    return `nothing exists under ${base} in SSM, so no job here gets anything: check ${setting}; it must name the root of the tree, such as /vendors/buildkite`;
  }
  const slugs = reads.map((read) => `${read.slug.name} (${read.slug.kind})`).join(", ");
  const near = reads.flatMap(({ slug }) => {
    const candidate = closest(slug.name, existingSlugs);
    return candidate !== undefined && editDistance(slug.name, candidate) <= Math.max(2, slug.name.length / 3) ? [`${candidate} for ${slug.name}`] : [];
  });
  const nearest = near.length ? `; slugs that exist with a similar name: ${near.join(", ")}` : "";
  return `no parameters under any of this job's slugs below ${base}: ${slugs}; the job gets no secrets: check the pipeline slug and repository, or ${setting}${nearest}`;
}
