// What the hook commands say off a Linux agent (an operator's Mac runs the
// darwin build): refused with one line; the operator commands run anywhere.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AGENT_COMMANDS, platformRefusal } from "../src/core/platform.ts";

test("every agent command is refused on macOS with a line naming it and what to use instead", () => {
  for (const command of AGENT_COMMANDS) {
    assert.is(platformRefusal(command, "darwin"), `${command} is for Buildkite agents on Linux, not darwin: on a workstation use the operator commands (doctor, ls, put, rm, history, rollback)`);
  }
  assert.equal(AGENT_COMMANDS.slice().sort(), ["environment", "git-credential", "install", "post-checkout", "post-command", "pre-checkout", "pre-exit"]);
});

test("on Linux every command runs, and on macOS the operator commands run", () => {
  for (const command of [...AGENT_COMMANDS, "doctor", "ls", "put"]) assert.is(platformRefusal(command, "linux"), undefined);
  for (const command of ["doctor", "ls", "put", "rm", "history", "rollback", "label", "version", "slug", ""]) assert.is(platformRefusal(command, "darwin"), undefined);
});

test.run();
