import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createLogger } from "../src/core/log.ts";
import type { FileAssignment } from "../src/job/plan.ts";
import { resolveJobSettings } from "../src/job/config.ts";
import type { Logger } from "../src/core/log.ts";
import { FILES_DIR_VARIABLE } from "../src/secrets/kinds.ts";
import { removeJobSecretFiles, secretFilesBase, secretFilesDirectory, writeSecretFiles } from "../src/secrets/secretfiles.ts";
import { EMPTY_RECORD } from "../src/job/record.ts";

/** pre-exit's step on its own. */
const removeSecretFiles = (env: Record<string, string | undefined>, log: Logger) =>
  removeJobSecretFiles({ env, log, config: resolveJobSettings({}) }, EMPTY_RECORD);

const slug = { kind: "pipeline" as const, name: "app" };
const file = (name: string, content: string): FileAssignment => ({ name, content, path: `/b/app/file/${name}`, slug });

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ verbose: true, color: false, write: (text) => lines.push(text) }) };
}

/** Evaluate the statements the way the hook does and return the resulting variables. */
function evaluate(statements: string, env: Record<string, string> = {}): Record<string, string> {
  const result = Bun.spawnSync(["bash", "-c", `${statements}\nenv -0`], { env });
  return Object.fromEntries(result.stdout.toString().split("\0").filter(Boolean).map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
}

test("files go into a new 0700 directory as 0600 files, byte for byte, and their variables point at them", () => {
  const base = mkdtempSync(join(tmpdir(), "bk-files-"));
  try {
    const contents = { KUBECONFIG: "apiVersion: v1\nkind: Config\n", NPMRC: "//registry/:_authToken=abc 'quoted' $HOME `x`\\n ü\n\n", CERT: "no trailing newline" };
    const written = writeSecretFiles(Object.entries(contents).map(([name, content]) => file(name, content)), secretFilesDirectory(base, "0190abcd-1234-5678-9abc-def012345678"));
    assert.ok(written.dir?.startsWith(join(base, "bk-ssm-secrets-0190abcd-1234-5678-9abc-def012345678-")));
    assert.is(statSync(written.dir!).mode & 0o777, 0o700);
    const env = evaluate(written.statements);
    assert.is(env[FILES_DIR_VARIABLE], written.dir);
    for (const [name, content] of Object.entries(contents)) {
      assert.is(env[name], join(written.dir!, name));
      assert.is(readFileSync(env[name]!, "utf8"), content);
      assert.is(statSync(env[name]!).mode & 0o777, 0o600);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("no files: no directory, no statements", () => {
  const base = mkdtempSync(join(tmpdir(), "bk-files-"));
  const written = writeSecretFiles([], secretFilesDirectory(base));
  assert.equal([written.dir, written.statements, readdirSync(base)], [undefined, "", []]);
  rmSync(base, { recursive: true });
});

test("a write that fails leaves nothing behind and names the directory, not the content", () => {
  const base = mkdtempSync(join(tmpdir(), "bk-files-"));
  try {
    // Two files of one name: the second cannot be created (O_EXCL).
    assert.throws(() => writeSecretFiles([file("A", "first-content"), file("A", "second-content")], secretFilesDirectory(base)), (e: Error) => e.name === "JobError" && e.message.includes(base) && !e.message.includes("content"));
    assert.equal(readdirSync(base), []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("the base: the configured directory, else TMPDIR, else /tmp; never inside the checkout", () => {
  assert.is(secretFilesBase({ TMPDIR: "/var/tmp" }, { filesDir: "/dev/shm/bk" }), "/dev/shm/bk");
  assert.is(secretFilesBase({ TMPDIR: "/var/tmp/" }, { filesDir: "" }), "/var/tmp");
  assert.is(secretFilesBase({}, { filesDir: "" }), "/tmp");
  const checkout = { BUILDKITE_BUILD_CHECKOUT_PATH: "/builds/agent/org/app" };
  assert.is(secretFilesBase({ ...checkout, TMPDIR: "/builds/agent/org/app-tmp" }, { filesDir: "" }), "/builds/agent/org/app-tmp");
  for (const [env, filesDir, variable] of [
    [{ ...checkout, TMPDIR: "/builds/agent/org/app/tmp" }, "", "TMPDIR"],
    [checkout, "/builds/agent/org/app", "AWS_PARAMSTORE_SECRETS_FILES_DIR"],
    // Names that begin with dots are in the checkout all the same.
    [{ ...checkout, TMPDIR: "/builds/agent/org/app/..tmp" }, "", "TMPDIR"],
    [checkout, "/builds/agent/org/app/...", "AWS_PARAMSTORE_SECRETS_FILES_DIR"],
    [checkout, "/builds/agent/org/app/x/../..hidden", "AWS_PARAMSTORE_SECRETS_FILES_DIR"],
  ] as const) {
    assert.throws(() => secretFilesBase(env, { filesDir }), (e: Error) => e.name === "JobError" && e.message.includes(variable) && e.message.includes("outside /builds/agent/org/app"));
  }
});

test("removal: the directory goes, variables pointing into it are unset, others stay", async () => {
  const base = mkdtempSync(join(tmpdir(), "bk-files-"));
  try {
    const written = writeSecretFiles([file("KUBECONFIG", "k"), file("NPMRC", "n")], secretFilesDirectory(base));
    const env = { ...evaluate(written.statements), UNRELATED: "/etc/hosts", PATH: "/usr/bin:/bin" };
    const { log } = capture();
    const statements = await removeSecretFiles(env, log);
    assert.not.ok(existsSync(written.dir!));
    const after = evaluate(statements, env);
    assert.equal([after.KUBECONFIG, after.NPMRC, after[FILES_DIR_VARIABLE], after.UNRELATED], [undefined, undefined, undefined, "/etc/hosts"]);
    const again = (await removeSecretFiles(env, log)).trim().split("\n").sort();
    assert.equal(again, [`unset ${FILES_DIR_VARIABLE}`, "unset KUBECONFIG", "unset NPMRC"], "a second run is harmless");
    assert.is(await removeSecretFiles({}, log), "", "nothing written, nothing to do");
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test("removal refuses what the hook did not make, with a warning", async () => {
  const base = mkdtempSync(join(tmpdir(), "bk-files-"));
  try {
    const precious = join(base, "precious");
    mkdirSync(precious);
    const link = join(base, "bk-ssm-secrets-link");
    symlinkSync(precious, link);
    for (const dir of [precious, link, "relative/bk-ssm-secrets-x"]) {
      const { lines, log } = capture();
      assert.is(await removeSecretFiles({ [FILES_DIR_VARIABLE]: dir, X: `${dir}/x` }, log), `unset ${FILES_DIR_VARIABLE}\n`);
      assert.match(lines.join(""), /warning: not removing/);
    }
    assert.ok(existsSync(precious) && existsSync(link));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test.run();
