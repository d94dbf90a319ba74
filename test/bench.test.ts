// A short run of `make bench` (--smoke): every section runs against the real
// endpoint and compiled binaries, and the figures come out as a table.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./support/job.ts";

test("the benchmark's smoke run measures every section", async () => {
  const dir = mkdtempSync("/tmp/bk-bench-");
  try {
    const out = join(dir, "BENCHMARKS.md");
    const proc = Bun.spawn([process.execPath, join(ROOT, "test/bench/bench.ts"), "--smoke", "--out", out], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    assert.is(code, 0, stderr + stdout);
    const report = readFileSync(out, "utf8");
    for (const heading of ["## 1. Per phase", "Where `environment`'s time goes", "## 2. `environment` under injected latency", "## 3. Side by side", "## 4. Fleet"]) {
      assert.ok(report.includes(heading), heading);
    }
    assert.match(report, /\| `environment` \| \d+\.\d ms \|/);
    assert.match(report, /\| bare Bun executable \(floor\) \| \d+\.\d ms \|/);
    // Ours reads each slug of ten parameters in one page: 3 calls a job.
    assert.match(report, /\| 0 ms \| 10 \| [^|]+ \| [^|]+ \| 3 \|/);
    for (const phase of ["pre-checkout", "post-checkout", "post-command", "pre-exit", "git-credential get"]) assert.match(report, new RegExp(`\\| \`${phase}\`[^|]* \\| \\d+\\.\\d ms \\|`), phase);
    assert.match(report, /## 5\. Targets/);
    assert.match(report, /\| 10 \| bk-ssm-secrets \| 10\/10 \(100%\) \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
