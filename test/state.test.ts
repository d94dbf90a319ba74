// The job's record and the AWS settings kept in it: private to the agent's
// user or refused, merged as phases add to it, and the settings put back for
// the git helper only when the job's AWS secrets are still the agent's.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jobRecordPath, recordsDirectory } from "../src/job/record.ts";
import { addToJobRecord, readJobRecord, removeJobRecord } from "../src/job/state.ts";
import { captureAwsSettings, restoreAwsSettings } from "../src/ssm/settings.ts";

function scratch(): { dir: string; records: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "bk-state-"));
  return { dir, records: join(dir, "records"), done: () => rmSync(dir, { recursive: true, force: true }) };
}

test("one record per job id, in the agent user's directory; no usable job id, no record", () => {
  assert.is(jobRecordPath("0190b6a0-0000-4000-8000-000000000001"), `${recordsDirectory()}/0190b6a0-0000-4000-8000-000000000001.json`);
  for (const bad of [undefined, "", "../../etc/passwd", "a/b", "x".repeat(65), "a.b", "a_b", "é", "a\nb", "\u0661"]) assert.is(jobRecordPath(bad), undefined, String(bad));
  for (const good of ["x".repeat(64), "Z-9", "-"]) assert.ok(jobRecordPath(good), good);
});

test("additions are merged, 0600 in a 0700 directory; removing it leaves no record", () => {
  const { records, done } = scratch();
  try {
    const path = jobRecordPath("job-1", records)!;
    assert.is(readJobRecord(path), undefined);
    addToJobRecord(path, { sockets: ["/t/a/slug.sock"], agentDirectories: ["/t/a"] });
    addToJobRecord(path, { filesDirectories: ["/t/f"], grant: { parameters: ["/b/app/git-credentials"], aws: { values: {}, fingerprints: {} } } });
    assert.equal(readJobRecord(path), { agentDirectories: ["/t/a"], sockets: ["/t/a/slug.sock"], filesDirectories: ["/t/f"], grant: { parameters: ["/b/app/git-credentials"], aws: { values: {}, fingerprints: {} } } });
    assert.is(statSync(records).mode & 0o777, 0o700);
    assert.is(statSync(path).mode & 0o777, 0o600);
    removeJobRecord(path);
    assert.is(readJobRecord(path), undefined);
  } finally {
    done();
  }
});

test("a records directory or record another user owns, or others may read, is refused with one line", () => {
  const { records, done } = scratch();
  try {
    const path = jobRecordPath("job-2", records)!;
    mkdirSync(records, { mode: 0o755 });
    chmodSync(records, 0o755);
    assert.throws(() => addToJobRecord(path, { sockets: ["/x"] }), (e: Error) => e.name === "JobError" && /refusing the job record .*others may use it \(mode 755\)/.test(e.message));
    chmodSync(records, 0o700);
    chownSync(records, 65534, 65534);
    assert.throws(() => readJobRecord(path), /user 65534 owns it/);
    chownSync(records, process.getuid!(), process.getgid!());
    writeFileSync(path, "{}", { mode: 0o644 });
    chmodSync(path, 0o644);
    assert.throws(() => readJobRecord(path), /others may use it \(mode 644\)/);
    chmodSync(path, 0o600);
    writeFileSync(path, "not json");
    assert.throws(() => readJobRecord(path), /it is not a job record/);
  } finally {
    done();
  }
});

test("AWS settings: values kept, secrets only as fingerprints; a job's later values do not count", () => {
  const agent = { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL_SSM: "https://ssm.example", AWS_ACCESS_KEY_ID: "AKIDAGENT", AWS_SECRET_ACCESS_KEY: "agent-secret-value", HOME: "/home/agent", OTHER: "x" };
  const settings = captureAwsSettings(agent);
  assert.equal(settings.values, { HOME: "/home/agent", AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL_SSM: "https://ssm.example" });
  assert.not.ok(JSON.stringify(settings).includes("agent-secret-value"));
  assert.not.ok(JSON.stringify(settings).includes("AKIDAGENT"));

  const later = { ...agent, AWS_REGION: "ap-south-9", AWS_DEFAULT_REGION: "ap-south-9", AWS_PROFILE: "job", PATH: "/bin" };
  assert.equal(restoreAwsSettings(settings, later), { env: { ...agent, PATH: "/bin" } });
  const replaced = restoreAwsSettings(settings, { ...later, AWS_ACCESS_KEY_ID: "AKIDJOB" });
  assert.equal(replaced, { problem: "AWS_ACCESS_KEY_ID is no longer the one the environment hook read SSM with (a secret or the job replaced it)" });
  const instanceRole = captureAwsSettings({ AWS_REGION: "eu-west-1" });
  assert.equal(restoreAwsSettings(instanceRole, { AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIDJOB", AWS_SECRET_ACCESS_KEY: "job" }), { env: { AWS_REGION: "eu-west-1" } }, "the job's keys are dropped: the instance role as before");
});

test.run();
