// The path operations written out in src/core/paths.ts give what node:path's
// POSIX functions give: on the cases where they differ from a naive split
// (repeated, leading and trailing slashes, dots) and on random paths.
import { posix } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { basename, dirname, isAbsolute } from "../src/core/paths.ts";

const OPERATIONS = [
  ["basename", basename, (path: string) => posix.basename(path)],
  ["dirname", dirname, (path: string) => posix.dirname(path)],
  ["isAbsolute", isAbsolute, (path: string) => posix.isAbsolute(path)],
] as const;

function agree(path: string): void {
  for (const [name, ours, node] of OPERATIONS) assert.is(ours(path), node(path), `${name}(${JSON.stringify(path)})`);
}

test("the edges: empty, the root, repeated and trailing slashes, dots", () => {
  const edges = ["", "/", "//", "///", "a", "a/", "/a", "//a", "///a", "a//", "/a/b", "//a/b", "a/b/", "/a//b//", "b//é", ".", "..", "/.", "/..", "//a//", "/tmp/bk-ssm-secrets-agents-x/default.sock", "/tmp/bk-ssm-secrets-agents-x/default.sock/"];
  for (const path of edges) agree(path);
  // As the socket check reads them.
  assert.is(basename(dirname("/tmp/bk-ssm-secrets-agents-Ab12/slug.sock")), "bk-ssm-secrets-agents-Ab12");
});

test("random paths of slashes, dots and letters", () => {
  const pieces = ["/", "/", "/", "a", "b", ".", "..", "é", " ", "\\"];
  let seed = 20261202;
  const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
  for (let i = 0; i < 50_000; i++) {
    let path = "";
    for (let k = random(10); k > 0; k--) path += pieces[random(pieces.length)];
    agree(path);
  }
});

test.run();
