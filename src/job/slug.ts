// Slugs: the second level of the SSM tree. A job reads the default slug
// (`global`), the slug of its repository and the slug of its pipeline, in that
// order, later ones overriding earlier ones.
import { SLUG_NAME } from "./config.ts";
import { JobError } from "./context.ts";

export type SlugKind = "default" | "repository" | "pipeline";

export interface Slug {
  kind: SlugKind;
  name: string;
}

// scp-like syntax (`[user@]host:path`), which git treats as ssh when there is
// no `://` and the colon comes before any slash. The user part is greedy, as
// in the original hook: it runs to the last `@` before the host, so an
// unencoded `@` in a password never ends up in the slug.
const SCP_LIKE = /^(?:[^/:]*@)?([^@:/]+):(.*)$/;
const WITH_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^/]*@)?([^/:@]*)(?::(\d*))?(\/.*)?$/;

/** A Buildkite pipeline slug, as Buildkite's docs give its format: a letter or digit, then letters, digits and `-`; at most 100. */
export const PIPELINE_SLUG = /^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/;

/**
 * The repository slug, compatible with the original hook: host, `-port` when a
 * port is given, `_`, then the path with every `/` and `~` turned into `_`.
 * The scheme and user are dropped. Returns undefined for a URL it cannot read.
 */
export function repositorySlug(repo: string): string | undefined {
  const url = repo.trim();
  if (url === "" || /\s/.test(url)) return undefined;
  let host: string | undefined;
  let port: string | undefined;
  let path: string | undefined;
  const withScheme = WITH_SCHEME.exec(url);
  if (withScheme) {
    [, host, port, path] = withScheme;
  } else if (!url.includes("://")) {
    [, host, path] = SCP_LIKE.exec(url) ?? [];
  }
  if (!host) return undefined;
  // Trailing slashes do not name another repository: `org/repo/` is `org/repo`.
  const trimmedPath = (path ?? "").replace(/^\/+/, "").replace(/\/+$/, "");
  if (trimmedPath === "") return undefined;
  const slug = `${host}${port ? `-${port}` : ""}_${trimmedPath.replace(/[/~]/g, "_")}`;
  // SSM names hold nothing else, so no parameter could live under any other slug.
  return SLUG_NAME.test(slug) ? slug : undefined;
}

/** True when git would reach this repository over SSH (and so needs a deploy key). */
export function isSshRepository(repo: string): boolean {
  const url = repo.trim();
  // The scheme read without a regular expression: pre-checkout of an HTTPS repository then compiles none (the first costs ~0.5 ms).
  const scheme = url.indexOf("://");
  if (scheme >= 0) return SSH_SCHEMES.has(url.slice(0, scheme).toLowerCase());
  return SCP_LIKE.test(url);
}

const SSH_SCHEMES = new Set(["ssh", "git+ssh", "ssh+git"]);

export interface JobSlugInput {
  defaultKey: string;
  repository?: string;
  pipeline?: string;
}

/**
 * The slugs a job reads, in precedence order (later overrides earlier), each
 * once. A pipeline slug Buildkite could not have made (`deployer/`, `../x`)
 * fails the job: it would read, and judge access to, some other slug.
 */
export function jobSlugs(input: JobSlugInput): Slug[] {
  if (input.pipeline && !PIPELINE_SLUG.test(input.pipeline)) {
    throw new JobError(`BUILDKITE_PIPELINE_SLUG=${JSON.stringify(input.pipeline)} is not a Buildkite pipeline slug (letters, digits and -, starting with a letter or digit): no secrets are read for it`);
  }
  const candidates: Array<Slug | undefined> = [
    { kind: "default", name: input.defaultKey },
    input.repository ? slugOrUndefined("repository", repositorySlug(input.repository)) : undefined,
    input.pipeline ? { kind: "pipeline", name: input.pipeline } : undefined,
  ];
  const seen = new Set<string>();
  return candidates.filter((slug): slug is Slug => {
    if (!slug || seen.has(slug.name)) return false;
    seen.add(slug.name);
    return true;
  });
}

function slugOrUndefined(kind: SlugKind, name: string | undefined): Slug | undefined {
  return name ? { kind, name } : undefined;
}
