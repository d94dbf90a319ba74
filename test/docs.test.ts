// The operator docs hold together: every code fence is closed, every relative
// link (and the heading it names) exists, and no example puts a secret on a
// command line.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./support/job.ts";
import { fences, headingAnchors, linkTargets } from "./support/markdown.ts";

/** README.md, the other top-level Markdown files it links to, and docs/*.md. */
const DOCS = [
  ...readdirSync(ROOT).filter((name) => name.endsWith(".md")),
  ...readdirSync(join(ROOT, "docs")).filter((name) => name.endsWith(".md")).map((name) => join("docs", name)),
].sort();

const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

test("the docs are README.md and a docs/ folder, and the README stays a front page", () => {
  assert.ok(DOCS.includes("README.md"));
  assert.ok(DOCS.filter((file) => file.startsWith("docs/")).length >= 5, DOCS.join(" "));
  const lines = read("README.md").split("\n").length;
  assert.ok(lines <= 320, `README.md has ${lines} lines: move reference material into docs/`);
});

for (const file of DOCS) {
  test(`${file}: every code fence is closed`, () => {
    const found = fences(read(file));
    const open = found.filter((fence) => !fence.closed).map((fence) => `line ${fence.line}`);
    assert.equal(open, [], `${file} has a code fence that is never closed`);
  });

  test(`${file}: every relative link points to a file that exists, and to a heading it has`, () => {
    const broken: string[] = [];
    let checked = 0;
    for (const target of linkTargets(read(file))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path = "", anchor] = target.split("#");
      const destination = path ? resolve(dirname(join(ROOT, file)), decodeURIComponent(path)) : join(ROOT, file);
      checked++;
      if (!destination.startsWith(ROOT) || !existsSync(destination)) {
        broken.push(`${target} (no such file)`);
        continue;
      }
      if (anchor && statSync(destination).isFile() && destination.endsWith(".md") && !headingAnchors(readFileSync(destination, "utf8")).has(anchor)) {
        broken.push(`${target} (${relative(ROOT, destination)} has no heading #${anchor})`);
      }
    }
    assert.equal(broken, [], `${file} links to what is not there`);
    if (file === "README.md") assert.ok(checked >= 10, `the README links to the docs (${checked} relative links found)`);
  });

  test(`${file}: no example passes a value on a command line`, () => {
    // `aws ssm put-parameter --value "$(cat key)"` puts the secret in argv, where
    // ps and the shell history keep it; the docs use `bk-ssm-secrets put ... < file`.
    const offending = fences(read(file))
      .flatMap((fence) => fence.code.split("\n").map((line, index) => ({ line, at: fence.line + 1 + index })))
      .filter(({ line }) => /--value\b|put-parameter|--secret-string|echo\s+["']?\$\w*(TOKEN|SECRET|KEY|PASSWORD)/i.test(line))
      .map(({ line, at }) => `line ${at}: ${line.trim()}`);
    assert.equal(offending, []);
  });
}

test("the link check itself catches a missing file, a missing heading and an unclosed fence", () => {
  // Guards the checks above against passing vacuously.
  const sample = "# Top\n\nSee [a](docs/nope.md), [b](#top), [c](#nowhere), `[d](ignored.md)`.\n\n```sh\necho [e](x.md)\n";
  assert.equal(linkTargets(sample), ["docs/nope.md", "#top", "#nowhere"]);
  assert.ok(headingAnchors(sample).has("top"));
  assert.not.ok(headingAnchors(sample).has("nowhere"));
  assert.equal(fences(sample).map((fence) => fence.closed), [false]);
  assert.equal([...headingAnchors("## What `bk-ssm-secrets install` does\n## 1. Where it lives\n## A\n## A\n")], ["what-bk-ssm-secrets-install-does", "1-where-it-lives", "a", "a-1"]);
});

test.run();
