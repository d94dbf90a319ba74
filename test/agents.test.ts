// The job's agents across the phases, as pure decisions: the shell code each
// phase prints is evaluated by bash here to see the environment it leaves.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  namesAnyAgent,
  agentDirectoryParent,
  decideSwitch,
  exportAgents,
  isJobAgentSocket,
  planAgentCleanup,
  restoreAfter,
  saveCurrentAgent,
  switchTo,
} from "../src/ssh/agents.ts";

type Env = Record<string, string>;

/** Evaluate `script` in bash starting from `env`, as a hook would, and return the variables that matter here. */
function evaluate(env: Env, script: string): Env {
  const result = Bun.spawnSync(["bash", "--noprofile", "--norc", "-c", `eval "$1"; env -0`, "bash", script], { env });
  if (!result.success) throw new Error(result.stderr.toString());
  return Object.fromEntries(
    result.stdout
      .toString()
      .split("\0")
      .filter((entry) => /^(SSH_|ORIG_SSH_|AWS_PARAMSTORE_SECRETS_A)/.test(entry))
      .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
  );
}

const dir = "/tmp/bk-ssm-secrets-agents-AbC123";
const slug = { socket: `${dir}/slug.sock`, pid: 200 };
const defaultAgent = { socket: `${dir}/default.sock`, pid: 100 };
const afterEnvironment: Env = evaluate(
  {},
  exportAgents([
    { role: "slug", ...slug },
    { role: "default", ...defaultAgent },
  ]),
);

test("environment exports the agents under the original hook's names", () => {
  assert.equal(afterEnvironment, {
    SSH_AUTH_SOCK: defaultAgent.socket,
    SSH_AGENT_PID: "100",
    AWS_PARAMSTORE_SECRETS_AUTH_SOCK: slug.socket,
    AWS_PARAMSTORE_SECRETS_AGENT_PID: "200",
  });
});

test("pre-checkout saves the current agent, an absent one included", () => {
  assert.equal(evaluate(afterEnvironment, saveCurrentAgent(afterEnvironment)), {
    ...afterEnvironment,
    ORIG_SSH_AUTH_SOCK: defaultAgent.socket,
    ORIG_SSH_AGENT_PID: "100",
  });
  assert.equal(evaluate({}, saveCurrentAgent({})), { ORIG_SSH_AUTH_SOCK: "", ORIG_SSH_AGENT_PID: "" });
});

test("pre-checkout probes the slug agent only for an SSH repository, and says why not otherwise", () => {
  assert.equal(decideSwitch(afterEnvironment, () => true), { probe: slug });
  assert.match((decideSwitch(afterEnvironment, () => false) as { keep: string }).keep, /not an SSH URL/);
  // Without a slug agent the repository's URL is not even read.
  const unread = (): boolean => {
    throw new Error("the URL was read");
  };
  assert.match((decideSwitch({ SSH_AUTH_SOCK: defaultAgent.socket }, unread) as { keep: string }).keep, /no deploy key/);
});

test("switch, then restore after the checkout, or after the command with run-during-command; restoring twice changes nothing", () => {
  const saved = evaluate(afterEnvironment, saveCurrentAgent(afterEnvironment));
  const switched = evaluate(saved, switchTo(slug));
  assert.is(switched.SSH_AUTH_SOCK, slug.socket);
  assert.is(switched.SSH_AGENT_PID, "200");

  assert.is(restoreAfter("post-command", switched, false), "");
  const restored = evaluate(switched, restoreAfter("post-checkout", switched, false));
  assert.equal(restored, afterEnvironment);
  assert.is(restoreAfter("post-checkout", restored, false), "");

  assert.is(restoreAfter("post-checkout", switched, true), "");
  assert.equal(evaluate(switched, restoreAfter("post-command", switched, true)), afterEnvironment);
});

test("restoring to a job that had no agent unsets the variables", () => {
  const onlySlug = { AWS_PARAMSTORE_SECRETS_AUTH_SOCK: slug.socket, AWS_PARAMSTORE_SECRETS_AGENT_PID: "200" };
  const switched = evaluate(onlySlug, saveCurrentAgent(onlySlug) + switchTo(slug));
  assert.equal(evaluate(switched, restoreAfter("post-checkout", switched, false)), onlySlug);
});

test("no restore when pre-checkout did not switch", () => {
  const saved = evaluate(afterEnvironment, saveCurrentAgent(afterEnvironment));
  assert.is(restoreAfter("post-checkout", saved, false), "");
});

test("pre-exit stops the job's agents only, by socket, and forgets them", () => {
  const hostAgent = { SSH_AUTH_SOCK: "/tmp/ssh-XXXXabcd/agent.42", SSH_AGENT_PID: "42" };
  const switched = evaluate(afterEnvironment, saveCurrentAgent(afterEnvironment) + switchTo(slug));
  const cleanup = planAgentCleanup(switched);
  assert.equal(cleanup.agents, [slug, defaultAgent]);
  assert.equal(cleanup.directories, [dir]);
  assert.equal(evaluate(switched, cleanup.script), {});

  // The host's agent is not the job's: pre-exit neither stops nor forgets it,
  // and goes back to it when the job had switched away.
  assert.equal(planAgentCleanup(hostAgent), { agents: [], directories: [], script: "" });
  const fromHost = evaluate({ ...hostAgent, AWS_PARAMSTORE_SECRETS_AUTH_SOCK: slug.socket, AWS_PARAMSTORE_SECRETS_AGENT_PID: "200" }, "");
  const switchedFromHost = evaluate(fromHost, saveCurrentAgent(fromHost) + switchTo(slug));
  const back = planAgentCleanup(switchedFromHost);
  assert.equal(back.agents, [slug]);
  assert.equal(evaluate(switchedFromHost, back.script), hostAgent);
});

test("pre-exit after a half-failed job: a variable missing, a pid that is not a number", () => {
  const cleanup = planAgentCleanup({ AWS_PARAMSTORE_SECRETS_AUTH_SOCK: slug.socket, AWS_PARAMSTORE_SECRETS_AGENT_PID: "12; rm -rf /" });
  assert.equal(cleanup.agents, [{ socket: slug.socket, pid: undefined }]);
  assert.equal(planAgentCleanup({}), { agents: [], directories: [], script: "" });
});

test("namesAnyAgent is true exactly when planAgentCleanup finds something, for every mix of variables and record", () => {
  const job = "/tmp/bk-ssm-secrets-agents-Ab12Cd/slug.sock";
  const values = [undefined, "", job, "/home/u/.ssh/agent.sock", "123"];
  const names = ["SSH_AUTH_SOCK", "SSH_AGENT_PID", "AWS_PARAMSTORE_SECRETS_AUTH_SOCK", "AWS_PARAMSTORE_SECRETS_AGENT_PID", "ORIG_SSH_AUTH_SOCK", "ORIG_SSH_AGENT_PID"];
  const records = [{ sockets: [], agentDirectories: [] }, { sockets: [job], agentDirectories: [] }, { sockets: [], agentDirectories: ["/tmp/bk-ssm-secrets-agents-Ab12Cd"] }];
  let checked = 0;
  // Each variable takes each value in turn, the others unset; and all at once.
  for (const record of records) {
    for (const name of names) {
      for (const value of values) {
        const env = value === undefined ? {} : { [name]: value };
        const plan = planAgentCleanup(env, record);
        assert.is(namesAnyAgent(env, record), plan.agents.length > 0 || plan.directories.length > 0 || plan.script !== "", JSON.stringify({ env, record }));
        checked++;
      }
    }
    for (const value of values) {
      const env = Object.fromEntries(names.map((name) => [name, value]));
      const plan = planAgentCleanup(env, record);
      assert.is(namesAnyAgent(env, record), plan.agents.length > 0 || plan.directories.length > 0 || plan.script !== "", JSON.stringify({ env, record }));
      checked++;
    }
  }
  assert.ok(checked > 90);
});

test("a job agent socket is recognised by its directory and name", () => {
  assert.ok(isJobAgentSocket(slug.socket));
  assert.ok(isJobAgentSocket(defaultAgent.socket));
  for (const other of [undefined, "", "relative/bk-ssm-secrets-agents-x/slug.sock", "/tmp/ssh-abc/agent.1", `${dir}/other.sock`, "/tmp/elsewhere/slug.sock"]) {
    assert.not.ok(isJobAgentSocket(other), String(other));
  }
});

test("the agent directory goes to TMPDIR unless a socket there would be too long to bind", () => {
  assert.is(agentDirectoryParent("/var/tmp/"), "/var/tmp");
  assert.is(agentDirectoryParent(undefined), "/tmp");
  assert.is(agentDirectoryParent("relative"), "/tmp");
  assert.is(agentDirectoryParent(`/${"x".repeat(90)}`), "/tmp");
  // Bytes, not characters: 60 characters of é are 120 bytes.
  assert.is(agentDirectoryParent(`/${"x".repeat(60)}`), `/${"x".repeat(60)}`);
  assert.is(agentDirectoryParent(`/${"é".repeat(60)}`), "/tmp");
});

test.run();
