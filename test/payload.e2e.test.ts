// A hook's payload arrives whole or is not evaluated: the binary ends it with
// a comment line counting the bytes before it (hookPayload in
// src/core/shell.ts), and the hooks evaluate nothing that fails that count
// (hooks/lib/run-phase.bash). A payload of up to PIPE_BUF bytes is written
// in one native write, whole to the hook's pipe; this check is what keeps any
// other stdout from running a payload cut short or with a part repeated.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { byteCountLine, exportStatement, hookPayload } from "../src/core/shell.ts";
import { baseJobEnv, runBinary, runHook } from "./support/job.ts";

const decoder = new TextDecoder();
const bytes = (text: string) => new TextEncoder().encode(text).length;

test("hookPayload counts the bytes before its last line; an empty script stays empty", () => {
  for (const script of ["export A='1'\n", "export É_FREE='é ü 中文 🎉'\nexport B=''\n", "export A='no newline at the end'"]) {
    const payload = decoder.decode(hookPayload(script));
    const body = script.endsWith("\n") ? script : `${script}\n`;
    assert.is(payload, `${body}${byteCountLine(bytes(body))}\n`);
  }
  assert.is(hookPayload("").length, 0);
});

test("pre-checkout's payload, written at once without node:fs, ends with the count of the bytes before it", async () => {
  const socket = "/tmp/agent é 中文.sock";
  const run = await runBinary(["pre-checkout"], baseJobEnv({ SSH_AUTH_SOCK: socket, SSH_AGENT_PID: "4242", BUILDKITE_REPO: "https://github.com/acme/app.git" }));
  assert.is(run.status, 0, run.stderr);
  const lines = run.stdout.split("\n");
  assert.is(lines.pop(), "", "the payload ends with a newline");
  const last = lines.pop()!;
  const body = `${lines.join("\n")}\n`;
  assert.is(last, byteCountLine(bytes(body)));
  assert.ok(body.includes(exportStatement("ORIG_SSH_AUTH_SOCK", socket)), body);
});

// A stand-in for the binary that prints `payload` as given, so that the hook
// meets each way a payload can arrive damaged.
function fakeBinary(dir: string, name: string, payload: string): string {
  const data = join(dir, `${name}.out`);
  writeFileSync(data, payload);
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nexec cat '${data}'\n`);
  chmodSync(path, 0o755);
  return path;
}

const VALUE = "secret-é-中文-'quoted'-$(touch /tmp/never)-value";
const script = `${exportStatement("PAYLOAD_A", VALUE)}${exportStatement("PAYLOAD_B", "second-value")}`;
const whole = decoder.decode(hookPayload(script));
const count = byteCountLine(bytes(script));

const damaged: Array<[string, string]> = [
  ["no count line", script],
  ["cut inside a quoted value", whole.slice(0, script.indexOf("中文"))],
  ["cut after the first line, count line kept", `${exportStatement("PAYLOAD_A", VALUE)}${count}\n`],
  ["a part written twice", `${script.slice(0, 30)}${script}${count}\n`],
  ["a count one byte off", `${script}${byteCountLine(bytes(script) + 1)}\n`],
  ["a line after the count", `${whole}export PAYLOAD_C='x'\n`],
  ["the count as characters, not bytes", `${script}${byteCountLine(script.length)}\n`],
];

for (const lang of ["C.UTF-8", "C"]) {
  test(`the hook evaluates a whole payload (LANG=${lang})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "bk-payload-"));
    try {
      const run = await runHook("environment", baseJobEnv({ LANG: lang, AWS_SSM_SECRETS_PLUGIN_ENABLED: "1", BK_SSM_SECRETS_BIN: fakeBinary(dir, "whole", whole) }));
      assert.is(run.status, 0, run.stderr);
      assert.is(run.env.PAYLOAD_A, VALUE);
      assert.is(run.env.PAYLOAD_B, "second-value");
      assert.is(run.stderr, "");
      // Nothing printed is nothing to evaluate, and no failure.
      const empty = await runHook("environment", baseJobEnv({ LANG: lang, AWS_SSM_SECRETS_PLUGIN_ENABLED: "1", BK_SSM_SECRETS_BIN: fakeBinary(dir, "empty", "") }));
      assert.is(empty.status, 0, empty.stderr);
      assert.is(empty.env.PAYLOAD_A, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`the hook evaluates none of a damaged payload, and fails the job with one line (LANG=${lang})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "bk-payload-"));
    try {
      for (const [index, [how, payload]] of damaged.entries()) {
        const run = await runHook("environment", baseJobEnv({ LANG: lang, AWS_SSM_SECRETS_PLUGIN_ENABLED: "1", BK_SSM_SECRETS_BIN: fakeBinary(dir, `damaged-${index}`, payload) }));
        assert.is(run.status, 1, `${how}: ${run.stderr}`);
        assert.is(run.env.PAYLOAD_A, undefined, how);
        assert.is(run.env.PAYLOAD_C, undefined, how);
        const lines = run.stderr.trimEnd().split("\n");
        assert.equal(lines.slice(0, 1), ["^^^ +++"], how);
        assert.is(lines.length, 2, `${how}: ${run.stderr}`);
        assert.match(lines[1]!, /^:no_entry: bk-ssm-secrets: what `.*damaged-\d+ environment` printed did not arrive whole/, how);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
