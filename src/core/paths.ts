// The POSIX path operations the phases after environment need, written out:
// node:path costs a phase about 1.3 ms to load (a compiled probe that joins
// two names with it: 1.07 × hello). Each gives what node:path's POSIX
// function of the same name gives, on every input (test/paths.test.ts checks
// them against it on random paths).

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
