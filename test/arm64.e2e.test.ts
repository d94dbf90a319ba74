// The arm64 binary is exercised, not just built: run under qemu-aarch64
// (Debian's qemu-user, with the arm64 glibc from libc6-arm64-cross), it
// loads a job's secrets from the SSM test endpoint through the real hook,
// and prints exactly what the x64 binary prints.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaryPath } from "../build.ts";
import { BASE, CANARY, CANARY_VARIABLE, startJobFixture } from "./support/fixture.ts";
import { QEMU_ARM64, binaryCommand, envChanges, runBinary, runHook } from "./support/job.ts";

const EM_AARCH64 = 183;

test("dist/bk-ssm-secrets-linux-arm64 is an AArch64 executable", () => {
  const header = readFileSync(binaryPath("linux-arm64")).subarray(0, 20);
  assert.is(header.subarray(0, 4).toString("latin1"), "\x7fELF");
  assert.is(header.readUInt16LE(18), EM_AARCH64);
});

test("under qemu, the environment hook gives the job exactly its secrets, as the x64 binary does", async () => {
  const fixture = await startJobFixture({
    [`${BASE}/global/env/SHARED`]: "from-global",
    [`${BASE}/github.com_acme_app.git/env/access-token`]: "tok$en'with\"quotes`and`\\back",
    [`${BASE}/app/env/SHARED`]: "from-pipeline",
    [`${BASE}/app/env/MULTI`]: "line one\nline two\n",
    [`${BASE}/app/env/LIST`]: { value: "a,b , c", type: "StringList" },
  });
  const scratch = mkdtempSync(join(tmpdir(), "bk-arm64-"));
  try {
    // The hook runs one executable: a wrapper that starts the arm64 binary under qemu.
    const wrapper = join(scratch, "bk-ssm-secrets");
    writeFileSync(wrapper, `#!/bin/sh\nexec ${[...QEMU_ARM64, binaryPath("linux-arm64")].join(" ")} "$@"\n`, { mode: 0o755 });
    const env = fixture.jobEnv({ BUILDKITE_REPO: "git@github.com:acme/app.git", BUILDKITE_PIPELINE_SLUG: "app", BK_SSM_SECRETS_BIN: wrapper });

    const hooked = await runHook("environment", env);
    assert.is(hooked.status, 0, hooked.stderr);
    assert.equal(envChanges(env, hooked.env), {
      [CANARY_VARIABLE]: CANARY,
      SHARED: "from-pipeline",
      ACCESS_TOKEN: "tok$en'with\"quotes`and`\\back",
      MULTI: "line one\nline two\n",
      LIST: "a,b , c",
    });
    assert.is(fixture.server.callCount("GetParametersByPath"), 3);

    const arm64 = await runBinary(["environment"], env, undefined, binaryCommand("linux-arm64"));
    const x64 = await runBinary(["environment"], env, undefined, binaryCommand("linux-x64"));
    assert.is(arm64.status, 0, arm64.stderr);
    // The same payload, but for the random nonce that frames each (src/core/shell.ts).
    const withoutNonce = (payload: string) => payload.replaceAll(/^(# bk-ssm-secrets payload )[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gm, "$1NONCE");
    assert.is(withoutNonce(arm64.stdout), withoutNonce(x64.stdout));
    assert.is(withoutNonce(arm64.stdout).split("NONCE").length, 3, arm64.stdout);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await fixture.close();
  }
});

test.run();
