// Cross-account reading: the agent's profile names a role in the account that
// holds the secrets (`role_arn`), with the agent's own credentials as its
// source (`source_profile`, or `credential_source = Ec2InstanceMetadata` for
// the instance profile). The SDK assumes the role through STS on the test
// endpoint, then reads SSM with the temporary credentials STS issued; the
// endpoint checks every signature, and records who signed each call.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE } from "./support/fixture.ts";
import { startImdsServer } from "./support/imds-server.ts";
import { baseJobEnv, envChanges, plantSecret, runHook, type Env } from "./support/job.ts";
import { failureLine, runOperator } from "./support/operator.ts";
import { sdkEnv, startSsmServer, type SsmCredentials, type SsmServer } from "./support/ssm-server.ts";

const SECRETS_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/buildkite-secrets-reader";
const VALUE = "cross-account-secret-value-5150";
plantSecret(VALUE);

/** A job environment whose only credentials are a profile in AWS_CONFIG_FILE (plus `extra`). */
function profileEnv(server: SsmServer, dir: string, config: string, credentials: string, extra: Env = {}): Env {
  writeFileSync(join(dir, "config"), config);
  writeFileSync(join(dir, "credentials"), credentials, { mode: 0o600 });
  const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, AWS_SESSION_TOKEN: _token, ...rest } = sdkEnv(server);
  return baseJobEnv({
    ...rest,
    AWS_ENDPOINT_URL_STS: server.url,
    AWS_PROFILE: "secrets",
    AWS_CONFIG_FILE: join(dir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
    BUILDKITE_PIPELINE_SLUG: "app",
    BUILDKITE_REPO: "",
    ...extra,
  });
}

async function withServer(credentials: SsmCredentials | undefined, run: (server: SsmServer, dir: string) => Promise<void>): Promise<void> {
  const server = await startSsmServer({ roles: [SECRETS_ACCOUNT_ROLE], ...(credentials ? { credentials } : {}) });
  const dir = mkdtempSync(join(tmpdir(), "bk-cross-account-"));
  server.put(`${BASE}/app/env/CROSS_ACCOUNT`, VALUE, { type: "SecureString" });
  try {
    await run(server, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.close();
  }
}

const ASSUMED = /^arn:aws:sts::210987654321:assumed-role\/buildkite-secrets-reader\/.+/;

test("role_arn with source_profile: STS AssumeRole signed by the agent's keys, then SSM signed by the role's", async () => {
  await withServer(undefined, async (server, dir) => {
    const env = profileEnv(
      server,
      dir,
      `[profile secrets]\nrole_arn = ${SECRETS_ACCOUNT_ROLE}\nsource_profile = agent\n\n[profile agent]\nregion = ${server.region}\n`,
      `[agent]\naws_access_key_id = ${server.credentials.accessKeyId}\naws_secret_access_key = ${server.credentials.secretAccessKey}\n`,
    );
    const job = await runHook("environment", env);
    assert.is(job.status, 0, job.stderr);
    assert.is(envChanges(env, job.env).CROSS_ACCOUNT, VALUE);
    const [assume, ...reads] = server.requests;
    assert.is(assume?.action, "sts:AssumeRole");
    assert.is((assume?.body as Record<string, string>).RoleArn, SECRETS_ACCOUNT_ROLE);
    assert.match(assume?.caller ?? "", /assumed-role\/test\/i-0$/, "the agent's own credentials asked for the role");
    assert.ok(reads.length > 0 && reads.every((read) => ASSUMED.test(read.caller ?? "")), reads.map((read) => `${read.action} by ${read.caller}`).join("\n"));
  });
});

test("role_arn with credential_source = Ec2InstanceMetadata: the instance profile's credentials assume the role", async () => {
  const imds = await startImdsServer();
  try {
    await withServer(imds.credentials, async (server, dir) => {
      const env = profileEnv(server, dir, `[profile secrets]\nrole_arn = ${SECRETS_ACCOUNT_ROLE}\ncredential_source = Ec2InstanceMetadata\n`, "", {
        AWS_EC2_METADATA_DISABLED: "false",
        AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
      });
      const job = await runHook("environment", env);
      assert.is(job.status, 0, job.stderr);
      assert.is(envChanges(env, job.env).CROSS_ACCOUNT, VALUE);
      assert.ok(imds.requests.includes("PUT /latest/api/token"), "IMDSv2");
      assert.is(server.requests[0]?.action, "sts:AssumeRole");
      assert.ok(server.requests.slice(1).every((read) => ASSUMED.test(read.caller ?? "")));
    });
  } finally {
    await imds.close();
  }
});

test("a role the agent may not assume: one line naming the access problem, nothing exported", async () => {
  await withServer(undefined, async (server, dir) => {
    const env = profileEnv(
      server,
      dir,
      `[profile secrets]\nrole_arn = arn:aws:iam::210987654321:role/not-trusted\nsource_profile = agent\n`,
      `[agent]\naws_access_key_id = ${server.credentials.accessKeyId}\naws_secret_access_key = ${server.credentials.secretAccessKey}\n`,
    );
    const job = await runHook("environment", env);
    assert.is(job.status, 1);
    assert.match(failureLine(job.stderr), /not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role\/not-trusted/);
    assert.not.ok("CROSS_ACCOUNT" in job.env);
    assert.is(server.callCount("GetParametersByPath"), 0);
  });
});

test("operator commands work through the same profile: put records the assumed role as the writer", async () => {
  await withServer(undefined, async (server, dir) => {
    const env = profileEnv(
      server,
      dir,
      `[profile secrets]\nrole_arn = ${SECRETS_ACCOUNT_ROLE}\nsource_profile = agent\n`,
      `[agent]\naws_access_key_id = ${server.credentials.accessKeyId}\naws_secret_access_key = ${server.credentials.secretAccessKey}\n`,
    );
    const put = await runOperator(["put", "env", "WRITTEN", "--pipeline", "app", "--yes"], env, VALUE);
    assert.is(put.status, 0, put.stderr);
    assert.match(server.get(`${BASE}/app/env/WRITTEN`)!.lastModifiedUser, ASSUMED);
  });
});

test.run();
