import { test } from "uvu";
import * as assert from "uvu/assert";
import { MIN_REDACTED_LENGTH, redactionNeedles, redactorRoute } from "../src/secrets/redact.ts";
import { makeFakeAgent } from "./support/fake-buildkite-agent.ts";

test("each value once, trimmed; empty and too-short values skipped", () => {
  const { needles, tooShort } = redactionNeedles(["token-one", "  token-one\n", "", "   ", "short", "token-two", "x".repeat(MIN_REDACTED_LENGTH)]);
  assert.equal(needles, ["token-one", "token-two", "xxxxxx"]);
  assert.is(tooShort, 1);
});

test("a value of several lines is registered whole and line by line, lines too short to matter left out", () => {
  const key = "-----BEGIN KEY-----\r\nAAAAbase64line1\nBBBB\n  CCCCbase64line3  \n-----END KEY-----\n";
  assert.equal(redactionNeedles([key, "AAAAbase64line1"]).needles, [
    key.trim(),
    "-----BEGIN KEY-----",
    "AAAAbase64line1",
    "CCCCbase64line3",
    "-----END KEY-----",
  ]);
});

test("the route: the Job API when both its variables are set, else buildkite-agent on the job's PATH, else none", () => {
  const agent = makeFakeAgent();
  try {
    const api = { BUILDKITE_AGENT_JOB_API_SOCKET: "/run/job.sock", BUILDKITE_AGENT_JOB_API_TOKEN: "t" };
    assert.equal(redactorRoute({ ...api, PATH: agent.dir }), { kind: "job-api", socket: "/run/job.sock", token: "t" });
    assert.equal(redactorRoute({ BUILDKITE_AGENT_JOB_API_SOCKET: "/run/job.sock", PATH: `/nonexistent:${agent.dir}` }), { kind: "cli", agent: `${agent.dir}/buildkite-agent` });
    assert.equal(redactorRoute({ PATH: "/nonexistent" }), { kind: "none" });
    assert.equal(redactorRoute({}), { kind: "none" });
  } finally {
    agent.close();
  }
});

test.run();
