// The path operations written out in src/core/paths.ts give what node:path's
// POSIX functions give: on the cases where they differ from a naive split
// (repeated, leading and trailing slashes, dots) and on random paths.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as pathJoin, posix } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { basename, dirname, isAbsolute, join, normalize, relative, resolve } from "../src/core/paths.ts";

const OPERATIONS = [
  ["basename", basename, (path: string) => posix.basename(path)],
  ["dirname", dirname, (path: string) => posix.dirname(path)],
  ["isAbsolute", isAbsolute, (path: string) => posix.isAbsolute(path)],
  ["normalize", normalize, (path: string) => posix.normalize(path)],
  ["resolve", (path: string) => resolve(path), (path: string) => posix.resolve(path)],
] as const;

/** The operations of two paths, each given both ways round. */
const PAIRS = [
  ["join", join, (a: string, b: string) => posix.join(a, b)],
  ["resolve", resolve, (a: string, b: string) => posix.resolve(a, b)],
  ["relative", relative, (a: string, b: string) => posix.relative(a, b)],
] as const;

function agree(path: string, other = "a/../b"): void {
  for (const [name, ours, node] of OPERATIONS) assert.is(ours(path), node(path), `${name}(${JSON.stringify(path)})`);
  for (const [name, ours, node] of PAIRS) {
    assert.is(ours(path, other), node(path, other), `${name}(${JSON.stringify(path)}, ${JSON.stringify(other)})`);
    assert.is(ours(other, path), node(other, path), `${name}(${JSON.stringify(other)}, ${JSON.stringify(path)})`);
  }
}

test("the edges: empty, the root, repeated and trailing slashes, dots", () => {
  const edges = ["", "/", "//", "///", "a", "a/", "/a", "//a", "///a", "a//", "/a/b", "//a/b", "a/b/", "/a//b//", "b//é", ".", "..", "/.", "/..", "//a//", "/tmp/bk-ssm-secrets-agents-x/default.sock", "/tmp/bk-ssm-secrets-agents-x/default.sock/"];
  for (const path of edges) for (const other of edges) agree(path, other);
  // More than two parts, and the working directory's own path among them.
  assert.is(join("/tmp", "", "x", "..", "y/"), posix.join("/tmp", "", "x", "..", "y/"));
  assert.is(resolve("a", "", "/b", "c/..", "d"), posix.resolve("a", "", "/b", "c/..", "d"));
  assert.is(relative(process.cwd(), "x/y"), "x/y");
  // The same path twice needs no working directory, even one that is gone.
  const cwd = process.cwd();
  const gone = mkdtempSync(pathJoin(tmpdir(), "paths-gone-"));
  try {
    process.chdir(gone);
    rmSync(gone, { recursive: true });
    assert.is(relative("a", "a"), posix.relative("a", "a"));
  } finally {
    process.chdir(cwd);
  }
  // As the socket check reads them.
  assert.is(basename(dirname("/tmp/bk-ssm-secrets-agents-Ab12/slug.sock")), "bk-ssm-secrets-agents-Ab12");
});

test("random paths of slashes, dots and letters", () => {
  const pieces = ["/", "/", "/", "a", "b", ".", "..", "...", "..a", "é", " ", "\\"];
  let seed = 20261202;
  const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
  const randomPath = () => {
    let path = "";
    for (let k = random(10); k > 0; k--) path += pieces[random(pieces.length)];
    return path;
  };
  for (let i = 0; i < 50_000; i++) agree(randomPath(), randomPath());
  // Three or four parts, from the root and from a directory whose name needs quoting.
  const cwd = process.cwd();
  const quoted = mkdtempSync(pathJoin(tmpdir(), "paths é x "));
  try {
    for (const directory of ["/", quoted]) {
      process.chdir(directory);
      for (let i = 0; i < 10_000; i++) {
        const parts = Array.from({ length: 3 + random(2) }, randomPath);
        assert.is(join(...parts), posix.join(...parts), `join ${JSON.stringify(parts)} in ${directory}`);
        assert.is(resolve(...parts), posix.resolve(...parts), `resolve ${JSON.stringify(parts)} in ${directory}`);
        agree(parts[0]!, parts[1]!);
      }
    }
  } finally {
    process.chdir(cwd);
    rmSync(quoted, { recursive: true, force: true });
  }
});

test.run();
