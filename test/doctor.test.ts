// doctor's choice between an agent's full check and a workstation's short one.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { workstation } from "../src/commands/doctor.ts";

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

test.run();
