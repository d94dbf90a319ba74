// Which slug an operator command works on: `--pipeline SLUG`, `--repo URL`
// or `--global`, exactly one, turned into the slug and its SSM path by the
// same rules a job uses.
import { slugPath, type Config } from "./config.ts";
import { UsageError } from "../core/errors.ts";
import { isPipelineSlug, repositorySlug, type Slug } from "./slug.ts";

/** The flags that pick a slug. */
export interface TargetFlags {
  pipeline?: string;
  repo?: string;
  global?: boolean;
}

export interface Target {
  slug: Slug;
  /** `<BASE_PATH>/<slug>` */
  path: string;
}

const TARGET_USAGE = "--pipeline SLUG, --repo URL or --global";

export function resolveTarget(flags: TargetFlags, config: Pick<Config, "basePath" | "defaultKey">): Target {
  const given = [flags.pipeline !== undefined, flags.repo !== undefined, Boolean(flags.global)].filter(Boolean).length;
  if (given !== 1) throw new UsageError(`say which slug: exactly one of ${TARGET_USAGE}`);
  const slug = targetSlug(flags, config.defaultKey);
  return { slug, path: slugPath(config, slug.name) };
}

function targetSlug(flags: TargetFlags, defaultKey: string): Slug {
  if (flags.global) return { kind: "default", name: defaultKey };
  if (flags.repo !== undefined) {
    const name = repositorySlug(flags.repo);
    // The URL is not repeated: it may carry a token.
    if (!name) throw new UsageError("--repo is not a repository URL git understands: use one such as https://host/org/repo.git or git@host:org/repo.git");
    return { kind: "repository", name };
  }
  const name = flags.pipeline ?? "";
  if (!isPipelineSlug(name)) throw new UsageError(`--pipeline ${JSON.stringify(name)} is not a pipeline slug: use the slug from the pipeline's URL (letters, digits and -)`);
  return { kind: "pipeline", name };
}
