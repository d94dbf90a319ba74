// The POSIX path operations the hook phases need, written out: node:path
// costs a phase about 1.3 ms to load (a compiled probe that joins two names
// with it: 1.07 × hello), and environment would load it before its first
// request. Each gives what node:path's POSIX function of the same name gives
// (test/paths.test.ts checks them against it on random paths, from more than
// one working directory); strings with lone UTF-16 surrogates, which no path
// a phase builds holds, are kept as they are where Bun's node:path replaces
// them.

const SLASH = 47;

export function isAbsolute(path: string): boolean {
  return path.charCodeAt(0) === SLASH;
}

/** The last segment of `path`, trailing slashes ignored; "" for "/" or "". */
export function basename(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === SLASH) end--;
  return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
}

/** `path` up to the slash before its last segment (trailing slashes ignored): "." when there is none, "/" at the root. */
export function dirname(path: string): string {
  if (path.length === 0) return ".";
  let end = path.length - 1;
  while (end >= 1 && path.charCodeAt(end) === SLASH) end--;
  while (end >= 1 && path.charCodeAt(end) !== SLASH) end--;
  if (end < 1) return isAbsolute(path) ? "/" : ".";
  // node:path keeps a path's two leading slashes, which POSIX leaves to the system.
  return isAbsolute(path) && end === 1 ? "//" : path.slice(0, end);
}

/**
 * The segments of `path` with "." and empty ones dropped and each ".." taking
 * the one before it away; a ".." with nothing before it is kept only when the
 * path may go above where it starts (a relative path), as node:path does.
 */
function normalSegments(path: string, aboveStartAllowed: boolean): string {
  const kept: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") kept.push(segment);
    else if (kept.length > 0 && kept.at(-1) !== "..") kept.pop();
    else if (aboveStartAllowed) kept.push("..");
  }
  return kept.join("/");
}

/** `path` without "." and ".." segments or repeated slashes; a trailing slash is kept. */
export function normalize(path: string): string {
  if (path.length === 0) return ".";
  const absolute = isAbsolute(path);
  const trailingSlash = path.charCodeAt(path.length - 1) === SLASH;
  const normal = normalSegments(path, !absolute);
  if (normal === "") return absolute ? "/" : trailingSlash ? "./" : ".";
  return (absolute ? "/" : "") + normal + (trailingSlash ? "/" : "");
}

/** The non-empty `paths` joined with slashes, normalised. */
export function join(...paths: string[]): string {
  const joined = paths.filter((path) => path.length > 0).join("/");
  return joined === "" ? "." : normalize(joined);
}

/** The absolute path `paths` lead to, read from the right, from the working directory when none of them is absolute. */
export function resolve(...paths: string[]): string {
  let resolved = "";
  let absolute = false;
  for (let i = paths.length - 1; i >= -1 && !absolute; i--) {
    const path = i >= 0 ? paths[i]! : process.cwd();
    if (path.length === 0) continue;
    resolved = `${path}/${resolved}`;
    absolute = isAbsolute(path);
  }
  const normal = normalSegments(resolved, !absolute);
  return absolute ? `/${normal}` : normal || ".";
}

/** The path from `from` to `to`, both resolved first: "" when they are the same. */
export function relative(from: string, to: string): string {
  // As node:path: equal strings need no working directory (one may be gone).
  if (from === to) return "";
  const start = resolve(from);
  const end = resolve(to);
  if (start === end) return "";
  const startSegments = start === "/" ? [] : start.slice(1).split("/");
  const endSegments = end === "/" ? [] : end.slice(1).split("/");
  let common = 0;
  while (common < startSegments.length && common < endSegments.length && startSegments[common] === endSegments[common]) common++;
  return [...startSegments.slice(common).map(() => ".."), ...endSegments.slice(common)].join("/");
}
