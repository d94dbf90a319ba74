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
    for (const heading of ["## 1. Against the floor, interleaved", "## 2. Per phase", "Where `environment`'s time goes", "## 3. `environment` under injected latency", "## 4. Side by side", "## 5. Fleet"]) {
      assert.ok(report.includes(heading), heading);
    }
    assert.match(report, /\| `environment` \| \d+\.\d ms \|/);
    assert.match(report, /\| bare Bun executable \(`hello`\) \| \d+\.\d ms \|/);
    // The floor and every variant of environment, each with its ratio to the floor.
    for (const row of ["\\*\\*floor\\*\\*", "\\*\\*`environment`\\*\\*, env credentials", "`environment`, IMDSv2 credentials", "`environment` over HTTPS", "`environment`, 20 values redacted through the Job API"]) {
      assert.match(report, new RegExp(`\\| ${row}[^|]* \\| \\d+\\.\\d ms \\| [^|]+ \\| \\d+\\.\\d\\d× \\| \\d+\\.\\d\\d× \\|`), row);
    }
    assert.match(report, /over HTTPS 3 requests over [123] connections/);
    assert.match(report, /The Job API rows register 20 values/);
    // Ours reads each slug of ten parameters in one page: 3 calls a job.
    assert.match(report, /\| 0 ms \| 10 \| [^|]+ \| [^|]+ \| 3 \|/);
    for (const phase of ["pre-checkout", "post-checkout", "post-command", "pre-exit", "git-credential get"]) assert.match(report, new RegExp(`\\| \`${phase}\`[^|]* \\| \\d+\\.\\d ms \\|`), phase);
    assert.match(report, /## 6\. Targets/);
    assert.match(report, /\| 10 \| bk-ssm-secrets \| 10\/10 \(100%\) \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
