// doctor's choice between an agent's full check and a workstation's short
// one, and how it reads what the agent's installed hooks record.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { workstation } from "../src/commands/doctor.ts";
import { installedPaths, readIfPresent } from "../src/install/installed.ts";

test("an agent is a job, an agent's environment, installed hooks or a defaults file; anything else is a workstation unless told", () => {
  const dir = mkdtempSync(join(tmpdir(), "bk-doctor-mode-"));
  try {
    const absent = join(dir, "absent.env");
    const present = join(dir, "defaults.env");
    writeFileSync(present, "");
    // Neither the defaults file doctor read nor the Python hook's exists.
    const env = { BK_SSM_SECRETS_OLD_DEFAULTS_FILE: absent };
    assert.ok(workstation(env, {}, absent, false));
    assert.not.ok(workstation(env, {}, absent, true), "hooks install set up, their defaults file elsewhere and missing");
    assert.not.ok(workstation(env, {}, present, false));
    assert.not.ok(workstation({ ...env, BUILDKITE_AGENT_NAME: "agent-1" }, {}, absent, false));
    assert.not.ok(workstation({ ...env, BUILDKITE_HOOKS_PATH: dir }, {}, absent, false));
    assert.ok(workstation(env, { short: true }, present, true));
    assert.not.ok(workstation(env, { full: true }, absent, false));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("installed hooks are read back from regular files only: a FIFO in a hook's place is passed over, not waited on", () => {
  const dir = mkdtempSync(join(tmpdir(), "bk-doctor-installed-"));
  try {
    const [hooks, scripts] = [join(dir, "hooks"), join(dir, "lib")];
    mkdirSync(join(scripts, "lib"), { recursive: true });
    mkdirSync(hooks);
    const block = (name: string) => `#!/bin/bash\n# >>> bk-ssm-secrets >>>\nsource '${join(scripts, name)}' || return\n# <<< bk-ssm-secrets <<<\n`;
    writeFileSync(join(scripts, "lib", "run-phase.bash"), "  local bin='/opt/bin/bk-ssm-secrets' defaults_file='/opt/etc/defaults.env'\n");
    assert.equal(installedPaths(hooks), {}, "no hook has a block");
    // The first hook a FIFO (bash's mkfifo: node:fs has none), the next one installed.
    const fifo = Bun.spawnSync(["mkfifo", join(hooks, "environment")]);
    assert.is(fifo.exitCode, 0);
    writeFileSync(join(hooks, "pre-checkout"), block("pre-checkout"));
    assert.equal(installedPaths(hooks), { binary: "/opt/bin/bk-ssm-secrets", defaultsFile: "/opt/etc/defaults.env" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("hook files are read only as regular files up to 1 MiB: not a directory, not a /proc file whose size says 0, not a larger file", () => {
  const dir = mkdtempSync(join(tmpdir(), "bk-doctor-read-"));
  try {
    writeFileSync(join(dir, "hook"), "#!/bin/bash\n");
    assert.is(readIfPresent(join(dir, "hook")), "#!/bin/bash\n");
    writeFileSync(join(dir, "big"), new Uint8Array(1024 * 1024 + 1));
    assert.is(readIfPresent(join(dir, "big")), undefined);
    writeFileSync(join(dir, "limit"), new Uint8Array(1024 * 1024));
    assert.is(readIfPresent(join(dir, "limit"))?.length, 1024 * 1024);
    assert.is(readIfPresent(dir), undefined);
    // /proc/self/pagemap reports a size of 0 and reads on for gigabytes: refused once past the limit.
    symlinkSync("/proc/self/pagemap", join(dir, "pagemap"));
    assert.is(readIfPresent(join(dir, "pagemap")), undefined);
    assert.is(readIfPresent(join(dir, "absent")), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
