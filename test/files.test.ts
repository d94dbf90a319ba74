// The file operations every phase needs without node:fs: a small file read by
// mapping it, as readFileSync would have read it; stdout written whole, one
// native write up to PIPE_BUF and node:fs's writeSync beyond, through a pipe
// whose reader is slower than the writer.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readSmallFile } from "../src/core/files.ts";
import { mayHaveJobRecord } from "../src/job/record.ts";

const dir = mkdtempSync(join(tmpdir(), "bk-files-"));

test("a small file reads as readFileSync reads it: text, a byte-order mark, invalid UTF-8, an empty file, /proc", () => {
  const cases: Record<string, Uint8Array | string> = {
    text: "export AWS_PARAMSTORE_SECRETS_SECRETS_PATH=/vendors/buildkite\n",
    bom: "\uFEFFexport A=1\n",
    invalid: new Uint8Array([0x41, 0xff, 0xfe, 0xc3, 0x28, 0x0a]),
    multibyte: "é€😀\n".repeat(3000),
    empty: "",
  };
  for (const [name, content] of Object.entries(cases)) {
    const path = join(dir, name);
    writeFileSync(path, content);
    assert.is(readSmallFile(path), readFileSync(path, "utf8"), name);
  }
  assert.is(readSmallFile("/proc/version"), readFileSync("/proc/version", "utf8"));
});

test("a small file that is not there is undefined; one that cannot be read says why", () => {
  assert.is(readSmallFile(join(dir, "missing")), undefined);
  symlinkSync(join(dir, "nowhere"), join(dir, "dangling"));
  assert.is(readSmallFile(join(dir, "dangling")), undefined);
  mkdirSync(join(dir, "a-directory"));
  assert.throws(() => readSmallFile(join(dir, "a-directory")), (error: NodeJS.ErrnoException) => error.code === "EISDIR");
});

test("a job may have a record only when a non-empty file is there", () => {
  const records = join(dir, "records");
  mkdirSync(records);
  const path = join(records, "job.json");
  assert.not.ok(mayHaveJobRecord(path), "none");
  writeFileSync(path, "");
  assert.not.ok(mayHaveJobRecord(path), "empty");
  writeFileSync(path, '{"sockets":[]}');
  assert.ok(mayHaveJobRecord(path), "a record");
  symlinkSync(join(records, "nowhere"), join(records, "dangling.json"));
  assert.not.ok(mayHaveJobRecord(join(records, "dangling.json")), "dangling");
});

// Around PIPE_BUF (4096 bytes), with multi-byte characters across it, and far past a pipe's capacity.
const SIZES = [0, 1, 4095, 4096, 4097, 70_000, 300_000];
const child = join(dir, "write.ts");
writeFileSync(
  child,
  `import { writeOutput } from ${JSON.stringify(join(import.meta.dir, "..", "src", "core", "stdio.ts"))};
const size = Number(process.argv[2]);
let text = "";
for (let i = 0; text.length < size; i++) text += i % 7 === 0 ? "é" : String.fromCharCode(97 + (i % 26));
await writeOutput(text.slice(0, size));
process.exit(0);
`,
);

function expected(size: number): string {
  let text = "";
  for (let i = 0; text.length < size; i++) text += i % 7 === 0 ? "é" : String.fromCharCode(97 + (i % 26));
  return text.slice(0, size);
}

for (const size of SIZES) {
  test(`stdout gets all of a ${size}-character payload, once, through a pipe read slowly`, async () => {
    const proc = Bun.spawn([process.execPath, child, String(size)], { stdout: "pipe", stderr: "pipe" });
    const chunks: Uint8Array[] = [];
    const reader = proc.stdout.getReader();
    for (;;) {
      await Bun.sleep(2);
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    assert.is(await proc.exited, 0, await new Response(proc.stderr).text());
    const text = new TextDecoder().decode(Buffer.concat(chunks));
    assert.is(text.length, size);
    assert.ok(text === expected(size));
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
