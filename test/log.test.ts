// The logger writes picocolors' bytes without loading picocolors, and tells
// a terminal from a pipe or /dev/null without touching process.stderr.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { closeSync, openSync } from "node:fs";
import { createColors } from "picocolors";
import { createLogger, printableLines } from "../src/core/log.ts";
import { isTerminal } from "../src/core/stdio.ts";

function lines(color: boolean, job: boolean, log: (logger: ReturnType<typeof createLogger>) => void): string {
  let text = "";
  log(createLogger({ verbose: true, color, job, write: (chunk) => (text += chunk) }));
  return text;
}

const MESSAGES = ["plain", "nested \x1b[1mbold\x1b[22m and \x1b[33myellow\x1b[39m inside", "\x1b[31mred\x1b[39m\x1b[22m at both ends\x1b[2m"];

for (const color of [true, false]) {
  test(`colour ${color ? "on" : "off"}: the same bytes as picocolors, in a job's log and on a terminal`, () => {
    const c = createColors(color);
    for (const message of MESSAGES) {
      assert.is(lines(color, true, (log) => (log.group(message), log.flush())), `~~~ ${c.bold(message)}\n`);
      assert.is(lines(color, false, (log) => (log.group(message), log.flush())), `${c.bold(message)}\n`);
      assert.is(lines(color, true, (log) => log.debug(message)), `${c.dim(`[bk-ssm-secrets] ${message}`)}\n`);
      assert.is(lines(color, true, (log) => log.warn(message)), `^^^ +++\n:warning: ${c.yellow(message)}\n`);
      assert.is(lines(color, false, (log) => log.warn(message)), `${c.yellow("warning:")} ${message}\n`);
      assert.is(lines(color, true, (log) => log.error(message)), `^^^ +++\n:no_entry: ${c.red(`bk-ssm-secrets: ${message}`)}\n`);
      assert.is(lines(color, false, (log) => log.error(message)), `${c.red("error:")} ${message}\n`);
    }
  });
}

test("a group's header waits for its first line, or flush, and leaves in one write with it", () => {
  const writes: string[] = [];
  const log = createLogger({ verbose: false, color: false, job: true, write: (chunk) => writes.push(chunk) });
  log.group("one");
  log.debug("not verbose: no line, so no header either");
  assert.equal(writes, []);
  log.info("first");
  log.info("second");
  assert.equal(writes, ["~~~ one\nfirst\n", "second\n"]);
  // A warning's expansion, an error, and flush each take the header along.
  for (const [write, expected] of [
    [() => log.warn("careful"), ["~~~ two\n^^^ +++\n", ":warning: careful\n"]],
    [() => log.error("failed"), ["~~~ two\n^^^ +++\n:no_entry: bk-ssm-secrets: failed\n"]],
    [() => log.flush(), ["~~~ two\n"]],
  ] as const) {
    writes.length = 0;
    log.group("two");
    write();
    log.flush();
    assert.equal(writes, expected);
  }
});

test("a failure's lines stay lines, and what is in them is shown as text: a path from a file others write cannot move the cursor", () => {
  const message = "cannot read /hooks/x\x1b[1A\x1b[2K\u202e: not a file\nsecond line";
  assert.is(printableLines(message), "cannot read /hooks/x\\u{1b}[1A\\u{1b}[2K\\u{202e}: not a file\nsecond line");
});

test("a pseudo-terminal is a terminal; /dev/null, a file and a closed descriptor are not", () => {
  const pty = openSync("/dev/ptmx", "r+");
  const devNull = openSync("/dev/null", "r");
  const file = openSync(import.meta.path, "r");
  try {
    assert.ok(isTerminal(pty));
    assert.not.ok(isTerminal(devNull));
    assert.not.ok(isTerminal(file));
  } finally {
    for (const fd of [pty, devNull, file]) closeSync(fd);
  }
  assert.not.ok(isTerminal(file), "closed");
});

test.run();
