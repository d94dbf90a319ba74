// The hook commands print shell code holding secret values for a hook to
// eval; typed at a terminal they must print none of it. Run through the
// compiled binary under a real pseudo-terminal (util-linux `script`).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CANARY, startJobFixture } from "./support/fixture.ts";
import { assertNoSecretIn, runBinary, type Env } from "./support/job.ts";

const HOOK_COMMANDS = ["environment", "pre-checkout", "post-checkout", "post-command", "pre-exit", "git-credential get"];

/** Run the binary with `args` with its stdout (and stdin and stderr) on a pseudo-terminal. */
async function onTerminal(args: string, env: Env): Promise<{ output: string; status: number }> {
  const proc = Bun.spawn(["script", "-qec", `"$BK_SSM_SECRETS_BIN" ${args}`, "/dev/null"], { env: { ...env, SHELL: "/bin/sh" }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [output, , status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  assertNoSecretIn(output, "the terminal");
  return { output, status };
}

test("each hook command typed at a terminal prints one line saying what it is for, and no value", async () => {
  const fixture = await startJobFixture();
  try {
    const env = fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app" });
    // The same job through a pipe, as a hook runs it, does print the secret as shell code.
    const piped = await runBinary(["environment"], env);
    assert.is(piped.status, 0, piped.stderr);
    assert.ok(piped.stdout.includes(CANARY), "the eval payload carries the value");

    for (const command of HOOK_COMMANDS) {
      fixture.server.resetCalls();
      const { output, status } = await onTerminal(command, env);
      assert.is(status, 2, `${command}: ${output}`);
      const name = command.split(" ")[0];
      assert.is(output.replaceAll("\r", ""), `bk-ssm-secrets ${name} is for the agent's hooks and prints nothing to a terminal: to see what a job would get, without values, run bk-ssm-secrets doctor\n`);
      assert.is(fixture.server.callCount(), 0, `${command} read nothing`);
    }
  } finally {
    await fixture.close();
  }
});

test("--help lists the operator's commands first and the hook commands after them", async () => {
  const help = await runBinary(["--help"], { PATH: process.env.PATH! });
  const commands = help.stdout.split("\n").filter((line) => /^ {2}\S/.test(line) && !line.includes("$ ")).map((line) => line.trim().split(" ")[0]!);
  const lastOperator = Math.max(...["install", "doctor", "ls", "put", "rm", "slug", "version"].map((name) => commands.indexOf(name)));
  const firstHook = Math.min(...HOOK_COMMANDS.map((command) => commands.indexOf(command.split(" ")[0]!)));
  assert.ok(commands.indexOf("doctor") >= 0 && firstHook >= 0, help.stdout);
  assert.ok(lastOperator < firstHook, help.stdout);
});

test.run();
