// Slugs: the second level of the SSM tree. A job reads the default slug
// (`global`), the slug of its repository and the slug of its pipeline, in that
// order, later ones overriding earlier ones.
import { everyCharacter, hasWhitespace, isAsciiDigit, isAsciiLetter, onlyLettersDigitsAnd } from "../core/chars.ts";
import { isSlugName } from "./config.ts";
import { JobError } from "./context.ts";

export type SlugKind = "default" | "repository" | "pipeline";

export interface Slug {
  kind: SlugKind;
  name: string;
}

// The URL forms below are read without regular expressions: the environment
// phase computes its slugs before its first request (see core/chars.ts).

const LINE_TERMINATORS = ["\n", "\r", "\u2028", "\u2029"];

interface RepositoryAddress {
  host: string;
  port?: string;
  path: string;
}

/**
 * `scheme://[user@]host[:port][/path]`. The user part runs to the last `@`
 * before the first `/`; the port, when there is a `:`, is digits or nothing.
 * For URLs without whitespace (repositorySlug checks first).
 */
function withScheme(url: string): RepositoryAddress | undefined {
  const separator = url.indexOf("://");
  if (separator < 1 || !isAsciiLetter(url.charCodeAt(0)) || !onlyLettersDigitsAnd(url.slice(0, separator), "+.-")) return undefined;
  const rest = url.slice(separator + 3);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const hostAndPort = authority.slice(authority.lastIndexOf("@") + 1);
  const colon = hostAndPort.indexOf(":");
  const host = colon < 0 ? hostAndPort : hostAndPort.slice(0, colon);
  const port = colon < 0 ? undefined : hostAndPort.slice(colon + 1);
  if (port !== undefined && !everyCharacter(port, isAsciiDigit)) return undefined;
  return { host, port, path: slash < 0 ? "" : rest.slice(slash) };
}

/**
 * scp-like syntax (`[user@]host:path`), which git treats as ssh when there is
 * no `://` and the colon comes before any slash. The user part is greedy, as
 * in the original hook: it runs to the last `@` before the host, so an
 * unencoded `@` in a password never ends up in the slug.
 */
function scpLike(url: string): RepositoryAddress | undefined {
  let colon = 0;
  while (colon < url.length && url[colon] !== ":" && url[colon] !== "/") colon++;
  if (url[colon] !== ":") return undefined;
  const host = url.slice(url.lastIndexOf("@", colon) + 1, colon);
  const path = url.slice(colon + 1);
  // A path spanning lines is no address: the hooks never read one as ssh.
  return host && !LINE_TERMINATORS.some((terminator) => path.includes(terminator)) ? { host, path } : undefined;
}

/** A Buildkite pipeline slug, as Buildkite's docs give its format: a letter or digit, then letters, digits and `-`; at most 100. */
export function isPipelineSlug(name: string): boolean {
  const first = name.charCodeAt(0);
  return name.length >= 1 && name.length <= 100 && (isAsciiLetter(first) || isAsciiDigit(first)) && onlyLettersDigitsAnd(name, "-", 1);
}

/** Strip leading and trailing `/`. */
function trimSlashes(path: string): string {
  let start = 0;
  let end = path.length;
  while (start < end && path[start] === "/") start++;
  while (end > start && path[end - 1] === "/") end--;
  return path.slice(start, end);
}

/**
 * The repository slug, compatible with the original hook: host, `-port` when a
 * port is given, `_`, then the path with every `/` and `~` turned into `_`.
 * The scheme and user are dropped. Returns undefined for a URL it cannot read.
 */
export function repositorySlug(repo: string): string | undefined {
  const url = repo.trim();
  if (url === "" || hasWhitespace(url)) return undefined;
  const address = url.includes("://") ? withScheme(url) : scpLike(url);
  if (!address?.host) return undefined;
  // Trailing slashes do not name another repository: `org/repo/` is `org/repo`.
  const path = trimSlashes(address.path);
  if (path === "") return undefined;
  const slug = `${address.host}${address.port ? `-${address.port}` : ""}_${path.replaceAll("/", "_").replaceAll("~", "_")}`;
  // SSM names hold nothing else, so no parameter could live under any other slug.
  return isSlugName(slug) ? slug : undefined;
}

/** True when git would reach this repository over SSH (and so needs a deploy key). */
export function isSshRepository(repo: string): boolean {
  const url = repo.trim();
  // The scheme read without a regular expression: pre-checkout of an HTTPS repository then compiles none (the first costs ~0.5 ms).
  const scheme = url.indexOf("://");
  if (scheme >= 0) return SSH_SCHEMES.has(url.slice(0, scheme).toLowerCase());
  return scpLike(url) !== undefined;
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
  if (input.pipeline && !isPipelineSlug(input.pipeline)) {
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
