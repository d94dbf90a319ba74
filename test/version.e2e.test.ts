// `version` and `--version` on both compiled binaries: this machine's
// directly, the other architecture's under qemu (see binaryCommand); and
// what the binary does when its stdout cannot be written.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AGENT_TARGETS, VERSION } from "../build.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, baseJobEnv, binaryCommand, compiledBinary, runBinary } from "./support/job.ts";

const commits = new Set<string>();

for (const target of AGENT_TARGETS) {
  test(`${target}: \`version\` prints the version, the commit built and the target`, async () => {
    const run = await runBinary(["version"], baseJobEnv(), undefined, binaryCommand(target));
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stderr, "");
    const [, version, commit = "", built] = /^bk-ssm-secrets (\S+)\ncommit: ([0-9a-f]{12})\ntarget: (\S+)\n$/.exec(run.stdout) ?? [];
    assert.is(version, VERSION, run.stdout);
    assert.is(built, target);
    // Built from this branch's history: the commit is HEAD or one of its ancestors.
    const ancestor = Bun.spawnSync(["git", "merge-base", "--is-ancestor", commit, "HEAD"], { cwd: ROOT });
    assert.is(ancestor.exitCode, 0, `commit ${commit} is not in this branch's history`);
    commits.add(commit);
  });

  test(`${target}: \`--version\` and \`-v\` print the bare version`, async () => {
    for (const flag of ["--version", "-v"]) {
      const run = await runBinary([flag], baseJobEnv(), undefined, binaryCommand(target));
      assert.is(run.status, 0, run.stderr);
      assert.is(run.stdout, `${VERSION}\n`);
    }
  });
}

test("a stdout that cannot be written fails with one line, status 1: no usage error, no stack", async () => {
  const defaults = join(mkdtempSync(join(tmpdir(), "bk-version-")), "defaults.env");
  writeFileSync(defaults, "export AWS_PARAMSTORE_SECRETS_SECRETS_PATH=/vendors/buildkite\n");
  for (const args of [["--version"], ["version"], ["slug", "git@github.com:acme/app.git"], ["pre-checkout", "--defaults-file", defaults]]) {
    const proc = Bun.spawn([compiledBinary(), ...args], { env: baseJobEnv(), stdin: "ignore", stdout: Bun.file("/dev/full"), stderr: "pipe" });
    const [stderr, status] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    assert.is(status, 1, `${args[0]}: ${stderr}`);
    const lines = stderr.split("\n").filter((line) => line !== "" && !line.startsWith("~~~") && !line.startsWith("^^^") && !line.startsWith("[bk-ssm-secrets]"));
    assert.equal(lines.length, 1, `${args[0]}: ${stderr}`);
    assert.match(lines[0]!, /cannot write to stdout: ENOSPC/);
  }
});

test("both binaries come from the same commit", () => {
  assert.is(commits.size, 1, [...commits].join(", "));
});

test.run();
