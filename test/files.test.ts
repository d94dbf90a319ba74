// The file operations every phase needs without node:fs, and the writes that
// need it: a small file read by mapping it, as readFileSync would have read
// it; whether a job may have a record; stdout written whole and once when it
// fills.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadNodeFs } from "../src/core/files.ts";
import { mayHaveJobRecord } from "../src/job/record.ts";
import { readResult, type SmallFileRead } from "./support/read-small-file.ts";
import { payload } from "./support/stdout-writer.ts";

const dir = mkdtempSync(join(tmpdir(), "bk-files-"));

// readSmallFile maps a file in a process that has not loaded node:fs, and
// reads it with node:fs in one that has: each check runs both ways, the first
// in a fresh process, the second here, where node:fs is loaded.
await loadNodeFs();
const READER = join(import.meta.dir, "support", "read-small-file.ts");

async function readInFreshProcess(path: string): Promise<SmallFileRead> {
  const reader = Bun.spawn([process.execPath, READER, path], { stdout: "pipe", stderr: "pipe" });
  const read = JSON.parse(await new Response(reader.stdout).text()) as SmallFileRead;
  assert.is(await reader.exited, 0, await new Response(reader.stderr).text());
  return read;
}

async function readBothWays(path: string): Promise<SmallFileRead[]> {
  return [await readInFreshProcess(path), readResult(path)];
}

test("a small file reads as readFileSync reads it: text, a byte-order mark, invalid UTF-8, an empty file, /proc", async () => {
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
    for (const read of await readBothWays(path)) assert.equal(read, { text: readFileSync(path, "utf8") }, name);
  }
  for (const read of await readBothWays("/proc/version")) assert.equal(read, { text: readFileSync("/proc/version", "utf8") });
});

test("a FIFO is read as a stream: the text of a writer that was waiting for a reader", async () => {
  const fifo = join(dir, "fifo");
  assert.is(Bun.spawnSync(["mkfifo", fifo]).exitCode, 0);
  for (let round = 0; round < 2; round++) {
    const writer = Bun.spawn(["sh", "-c", `printf 'export A=1\\n' > ${fifo}`]);
    // Until the writer waits in open() for a reader (the kernel's wait_for_partner), as a writer started
    // first would; where the kernel hides wchan ("0"), a pause instead.
    for (let waited = 0; ; waited += 5) {
      const wchan = readFileSync(`/proc/${writer.pid}/wchan`, "utf8");
      if (wchan === "wait_for_partner" || (wchan === "0" && waited >= 300)) break;
      assert.ok(waited < 5000, `the writer never waited for a reader (wchan ${wchan})`);
      await Bun.sleep(5);
    }
    const read = round === 0 ? await readInFreshProcess(fifo) : readResult(fifo);
    assert.equal(read, { text: "export A=1\n" }, round === 0 ? "mapped" : "node:fs");
    assert.is(await writer.exited, 0);
  }
});

test("a small file that is not there is undefined; one that cannot be read says why", async () => {
  symlinkSync(join(dir, "nowhere"), join(dir, "dangling"));
  mkdirSync(join(dir, "a-directory"));
  for (const read of await readBothWays(join(dir, "missing"))) assert.equal(read, { missing: true });
  for (const read of await readBothWays(join(dir, "dangling"))) assert.equal(read, { missing: true });
  for (const read of await readBothWays(join(dir, "a-directory"))) assert.equal(read, { code: "EISDIR" });
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

// writeAll to a stdout that fills: the child makes its stdout (the socket
// Bun.spawn gives it) non-blocking, and the parent reads it slowly, so that
// writes come back short and with EAGAIN. Bun.write sent a 2.6 KB payload
// again from its start there; every byte must arrive once, in order. A writer
// that used Bun.write for everything fails this every time, and so does one
// that loses the EAGAIN retry; one that used it only for payloads up to 4 KiB
// failed it in 4 of 13 runs (the room left when the small write comes depends
// on the reader's timing).
const WRITER = join(import.meta.dir, "support", "stdout-writer.ts");

// One payload alone, and a small one after a filler that leaves the socket full.
for (const sizes of [[300_000], [400_000, 2_600], [1, 4_095, 4_097]]) {
  test(`stdout gets all of payloads of ${sizes.join(" then ")} characters, once, when it fills`, async () => {
    const proc = Bun.spawn([process.execPath, WRITER, ...sizes.map(String)], { stdout: "pipe", stderr: "pipe" });
    await Bun.sleep(200); // the child fills the socket and waits
    const chunks: Uint8Array[] = [];
    const reader = proc.stdout.getReader();
    for (;;) {
      await Bun.sleep(1);
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    assert.is(await proc.exited, 0, await new Response(proc.stderr).text());
    const text = new TextDecoder().decode(Buffer.concat(chunks));
    const expected = sizes.map(payload).join("");
    assert.is(text.length, expected.length);
    assert.ok(text === expected);
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
