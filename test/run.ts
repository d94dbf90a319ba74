// Runs every test file in its own Bun process (so servers, agents and
// environment changes cannot leak between files), two at a time to match the
// machine, and ends with the plain `N passed, N failed` line CI reads.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dir, "..");
const filter = process.argv.slice(2);

function findTests(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === "support" ? [] : findTests(path);
    return entry.endsWith(".test.ts") ? [path] : [];
  });
}

const files = findTests(join(root, "test"))
  .filter((f) => filter.length === 0 || filter.some((word) => f.includes(word)))
  .sort();

const FILE_TIMEOUT_MS = 300_000;

interface FileResult { file: string; passed: number; failed: number; output: string; seconds: number }

async function runFile(file: string): Promise<FileResult> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, file], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
  });
  // A file that hangs (a server or agent left running) must not hang the suite.
  const timer = setTimeout(() => proc.kill("SIGKILL"), FILE_TIMEOUT_MS);
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  clearTimeout(timer);
  const output = out + err + (proc.signalCode === "SIGKILL" ? `\nkilled after ${FILE_TIMEOUT_MS / 1000} s\n` : "");
  const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? 0);
  // A file that crashed before uvu's summary, or that exited non-zero, counts as one failure.
  const failed = total - passed + (code !== 0 && total === passed ? 1 : 0) + (total === 0 ? 1 : 0);
  return { file, passed, failed, output, seconds: (performance.now() - started) / 1000 };
}

const queue = [...files];
const results: FileResult[] = [];
const workers = Array.from({ length: Number(process.env.TEST_JOBS ?? 2) }, async () => {
  for (let file = queue.shift(); file; file = queue.shift()) {
    const result = await runFile(file);
    results.push(result);
    const name = relative(root, file);
    const status = result.failed ? "FAIL" : "ok  ";
    console.log(`${status} ${name}  (${result.passed} passed, ${result.failed} failed, ${result.seconds.toFixed(1)}s)`);
    if (result.failed) console.log(result.output.replace(/^/gm, "    | "));
  }
});
await Promise.all(workers);

const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && files.length > 0 ? 0 : 1);
