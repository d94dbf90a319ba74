// A hook's payload arrives whole or is not evaluated: the binary frames it
// with a random nonce and ends it with a count of the bytes before its last
// line (hookPayload in src/core/shell.ts), and the hooks evaluate nothing
// that fails the check (hooks/lib/run-phase.bash). A payload of up to
// PIPE_BUF bytes is written natively, whole to the hook's pipe; this check is
// what keeps any other stdout from running a payload cut short or with a
// part repeated.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportStatement, hookPayload, payloadFirstLine, payloadLastLine } from "../src/core/shell.ts";
import { utf8Length } from "../src/core/chars.ts";
import { Random } from "./support/random.ts";
import { baseJobEnv, compiledBinary, runBinary, runHook } from "./support/job.ts";
import { BASE, startJobFixture } from "./support/fixture.ts";

const bytes = (text: string) => new TextEncoder().encode(text).length;

/** Run `work` in a new scratch directory, removed afterwards. */
async function inScratchDirectory(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bk-payload-"));
  try {
    await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("hookPayload frames the script with a nonce and counts the bytes before its last line; an empty script stays empty", () => {
  for (const script of ["export A='1'\n", "export É_FREE='é ü 中文 🎉'\nexport B=''\n", "export A='no newline at the end'"]) {
    const payload = hookPayload(script, "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0");
    const body = `${payloadFirstLine("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")}\n${script.endsWith("\n") ? script : `${script}\n`}`;
    assert.is(payload, `${body}${payloadLastLine("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", bytes(body))}\n`);
  }
  assert.is(hookPayload("").length, 0);
  // A nonce that is a UUID, new for each payload.
  const nonces = new Set(Array.from({ length: 100 }, () => /^# bk-ssm-secrets payload ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\n/.exec(hookPayload("export A='1'\n"))?.[1]));
  assert.is(nonces.size, 100);
  assert.not.ok(nonces.has(undefined));
});

test("utf8Length counts what TextEncoder writes: 20,000 random strings, lone surrogates and pairs included", () => {
  const random = new Random();
  // Code units of each UTF-8 length, surrogate pairs, and halves of pairs alone or swapped.
  const unit = () => {
    const roll = random.int(6);
    if (roll === 0) return String.fromCharCode(random.int(0x80));
    if (roll === 1) return String.fromCharCode(0x80 + random.int(0x800 - 0x80));
    if (roll === 2) return String.fromCharCode(0x800 + random.int(0xd800 - 0x800));
    if (roll === 3) return String.fromCodePoint(0x10000 + random.int(0x100000));
    if (roll === 4) return String.fromCharCode(0xd800 + random.int(0x800));
    return String.fromCharCode(0xe000 + random.int(0x2000));
  };
  for (let i = 0; i < 20_000; i++) {
    const text = Array.from({ length: random.int(12) }, unit).join("");
    assert.is(utf8Length(text), new TextEncoder().encode(text).length, `seed ${random.seed}: ${JSON.stringify(text)}`);
  }
});

test("pre-checkout's payload, written at once without node:fs, ends with the count of the bytes before it", async () => {
  const socket = "/tmp/agent é 中文.sock";
  const run = await runBinary(["pre-checkout"], baseJobEnv({ SSH_AUTH_SOCK: socket, SSH_AGENT_PID: "4242", BUILDKITE_REPO: "https://github.com/acme/app.git" }));
  assert.is(run.status, 0, run.stderr);
  const lines = run.stdout.split("\n");
  assert.is(lines.pop(), "", "the payload ends with a newline");
  const last = lines.pop()!;
  const body = `${lines.join("\n")}\n`;
  const nonce = /^# bk-ssm-secrets payload ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(lines[0]!)?.[1] ?? "";
  assert.is(last, payloadLastLine(nonce, bytes(body)));
  assert.ok(body.includes(exportStatement("ORIG_SSH_AUTH_SOCK", socket)), body);
});

test("a phase that prints nothing writes nothing: a file its stdout is appended to keeps what it held", async () => {
  await inScratchDirectory(async (dir) => {
    const log = join(dir, "stdout.log");
    writeFileSync(log, "line one\nline two\n");
    for (const phase of ["post-checkout", "post-command", "pre-exit"]) {
      const proc = Bun.spawn(["sh", "-c", `exec "$0" ${phase} >> "$1"`, compiledBinary(), log], { env: baseJobEnv({ BUILDKITE_JOB_ID: "0190c5a4-6a0f-4f33-9e0e-1c2d3e4f5a6b" }), stderr: "pipe" });
      const [stderr, status] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      assert.is(status, 0, `${phase}: ${stderr}`);
      assert.is(readFileSync(log, "utf8"), "line one\nline two\n", phase);
    }
  });
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
const NONCE = "5e1f0a9b-3c7d-4e46-9a2b-7c8d9e0f1a2b";
const first = `${payloadFirstLine(NONCE)}\n`;
const script = `${exportStatement("PAYLOAD_A", VALUE)}${exportStatement("PAYLOAD_B", "second-value")}`;
const whole = hookPayload(script, NONCE);
const count = payloadLastLine(NONCE, bytes(first + script));
// A payload cut just after a line of a value that copies the last line, with
// the count of the bytes before it right: only the nonce, which no value
// knows, tells it from the end.
const cutAfterForgedLine = (nonce: string) => {
  const before = `${first}export PAYLOAD_A='x\n`;
  return `${before}${payloadLastLine(nonce, bytes(before))}\n`;
};

const damaged: Array<[string, string]> = [
  ["no count line", `${first}${script}`],
  ["no first line", `${script}${payloadLastLine(NONCE, bytes(script))}\n`],
  ["cut inside a quoted value", whole.slice(0, whole.indexOf("中文"))],
  ["cut after the first export, count line kept", `${first}${exportStatement("PAYLOAD_A", VALUE)}${count}\n`],
  ["a part written twice", `${first}${script.slice(0, 30)}${script}${count}\n`],
  ["a count one byte off", `${first}${script}${payloadLastLine(NONCE, bytes(first + script) + 1)}\n`],
  ["a line after the count", `${whole}export PAYLOAD_C='x'\n`],
  ["the count as characters, not bytes", `${first}${script}${payloadLastLine(NONCE, (first + script).length)}\n`],
  ["another nonce at the end", `${first}${script}${payloadLastLine("00000000-0000-4000-8000-000000000000", bytes(first + script))}\n`],
  ["cut after a value's line that copies the last line, with a guessed nonce", cutAfterForgedLine("00000000-0000-4000-8000-000000000000")],
];

for (const lang of ["C.UTF-8", "C"]) {
  test(`the hook evaluates a whole payload (LANG=${lang})`, async () => {
    await inScratchDirectory(async (dir) => {
      const run = await runHook("environment", baseJobEnv({ LANG: lang, AWS_SSM_SECRETS_PLUGIN_ENABLED: "1", BK_SSM_SECRETS_BIN: fakeBinary(dir, "whole", whole) }));
      assert.is(run.status, 0, run.stderr);
      assert.is(run.env.PAYLOAD_A, VALUE);
      assert.is(run.env.PAYLOAD_B, "second-value");
      assert.is(run.stderr, "");
      // Nothing printed is nothing to evaluate, and no failure.
      const empty = await runHook("environment", baseJobEnv({ LANG: lang, AWS_SSM_SECRETS_PLUGIN_ENABLED: "1", BK_SSM_SECRETS_BIN: fakeBinary(dir, "empty", "") }));
      assert.is(empty.status, 0, empty.stderr);
      assert.is(empty.env.PAYLOAD_A, undefined);
    });
  });

  test(`the hook evaluates none of a damaged payload, and fails the job with one line (LANG=${lang})`, async () => {
    await inScratchDirectory(async (dir) => {
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
    });
  });
}

test("the check leaves nothing set in the agent's shell: no variable, not BASH_REMATCH, not the locale", async () => {
  await inScratchDirectory(async (dir) => {
    const payloadFile = join(dir, "payload");
    writeFileSync(payloadFile, whole);
    const script = [
      `source '${join(import.meta.dir, "..", "hooks", "lib", "run-phase.bash")}'`,
      '[[ "agent" =~ (ag)ent ]]',
      'before="" after="" payload=""',
      'before="$(compgen -v | sort; declare -p BASH_REMATCH; echo "LC_ALL=${LC_ALL-unset}")"',
      `payload="$(cat '${payloadFile}')"`,
      'bk_ssm_secrets_whole "$payload" || exit 3',
      'after="$(compgen -v | sort; declare -p BASH_REMATCH; echo "LC_ALL=${LC_ALL-unset}")"',
      '[[ "$before" == "$after" ]] || { diff <(echo "$before") <(echo "$after"); exit 4; }',
    ].join("\n");
    const proc = Bun.spawn(["bash", "--noprofile", "--norc", "-c", script], { env: baseJobEnv({ LANG: "C.UTF-8" }), stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    assert.is(status, 0, stdout + stderr);
  });
});

test("a value with a NUL byte, which no variable can hold, is not exported: one warning naming its parameter, and the rest of the job goes on", async () => {
  const fixture = await startJobFixture({ [`${BASE}/app/env/WITH_NUL`]: "before\u0000after-value", [`${BASE}/app/env/PLAIN`]: "plain-value-123" });
  try {
    const run = await runHook("environment", fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app" }));
    assert.is(run.status, 0, run.stderr);
    assert.is(run.env.PLAIN, "plain-value-123");
    assert.is(run.env.WITH_NUL, undefined);
    const warnings = run.stderr.split("\n").filter((line) => line.includes("NUL byte"));
    assert.equal(warnings, [`:warning: ${BASE}/app/env/WITH_NUL holds a NUL byte, which no environment variable can hold: WITH_NUL is not exported (a secret file, <slug>/file/<NAME>, keeps every byte)`]);
    assert.not.ok(run.stderr.includes("did not arrive whole"), run.stderr);
  } finally {
    await fixture.close();
  }
});

test.run();
