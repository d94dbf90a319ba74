// The direct route through the compiled binary and the real hook: reads are
// signed by src/ssm/sigv4.ts and sent with fetch, the signature-checking
// endpoint accepts them, a page after the first reuses its connection, any
// other answer is handed to the SDK, and AWS_CA_BUNDLE, HTTPS_PROXY,
// HTTP_PROXY, NO_PROXY and AWS_ENDPOINT_URL(_SSM) work on both routes. The
// endpoint tells the routes apart by their User-Agent.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { makeCertificate } from "./support/git-http-server.ts";
import { startImdsServer } from "./support/imds-server.ts";
import { baseJobEnv, runHook, type Env } from "./support/job.ts";
import { startProxyServer } from "./support/proxy-server.ts";
import { sdkEnv, startSsmServer, type SsmServer } from "./support/ssm-server.ts";

const APP_PARAMETERS = 25; // three pages of ten
const DIRECT = /^bk-ssm-secrets\//;
const SDK = /^aws-sdk-js\//;

const Direct = suite<{ fixture: JobFixture; dir: string }>("direct route", {} as { fixture: JobFixture; dir: string });

Direct.before(async (context) => {
  context.dir = mkdtempSync(join(tmpdir(), "bk-direct-"));
  context.fixture = await startJobFixture(
    Object.fromEntries(Array.from({ length: APP_PARAMETERS }, (_, i) => [`${BASE}/app/env/VAR_${String(i).padStart(2, "0")}`, `app-value-${i}-0123456789`])),
  );
});
Direct.after(async ({ fixture, dir }) => {
  await fixture.close();
  rmSync(dir, { recursive: true, force: true });
});
Direct.before.each(({ fixture }) => {
  fixture.server.clearFaults();
  fixture.server.resetCalls();
});

const agents = (server: SsmServer, pathPrefix: string) =>
  server.requests.filter((request) => String((request.body as { Path?: string }).Path).startsWith(pathPrefix)).map((request) => request.userAgent);

function assertJobGotEverything(run: { status: number; stderr: string; env: Env }) {
  assert.is(run.status, 0, run.stderr);
  for (let i = 0; i < APP_PARAMETERS; i++) assert.is(run.env[`VAR_${String(i).padStart(2, "0")}`], `app-value-${i}-0123456789`);
}

/** A shared credentials file with a profile the job does not use: the SDK reads such files, so the hook leaves the reads to it. */
function sdkRouteEnv(dir: string): Env {
  const file = join(dir, "credentials");
  writeFileSync(file, "[unused]\naws_access_key_id = AKIDUNUSED\naws_secret_access_key = unused\n");
  return { AWS_SHARED_CREDENTIALS_FILE: file };
}

Direct("every read takes the direct route, the signature check accepts it, and no SDK is loaded", async ({ fixture }) => {
  const run = await runHook("environment", fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", AWS_PARAMSTORE_SECRETS_VERBOSE: "1" }));
  assertJobGotEverything(run);
  assert.is(fixture.server.callCount(), 1 + 3, "global, then app's three pages");
  for (const request of fixture.server.requests) assert.match(request.userAgent, DIRECT);
  assert.not.match(run.stderr, /AWS SDK loaded/);
});

Direct("pages after the first reuse their slug's connection", async ({ fixture }) => {
  const run = await runHook("environment", fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app" }));
  assertJobGotEverything(run);
  const connections = fixture.server.connectionCount();
  console.log(`direct route: ${fixture.server.callCount()} requests over ${connections} connections`);
  assert.ok(connections <= 2, `${connections} connections for 2 slugs read at once`);
});

Direct("a 5xx is handed to the SDK, which retries it", async ({ fixture }) => {
  fixture.server.inject({ kind: "server-error", pathPrefix: `${BASE}/app`, times: 1 });
  const run = await runHook("environment", fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", AWS_PARAMSTORE_SECRETS_VERBOSE: "1" }));
  assertJobGotEverything(run);
  const app = agents(fixture.server, `${BASE}/app`);
  assert.match(app[0]!, DIRECT);
  assert.match(app[1]!, SDK, "the retry");
  assert.match(run.stderr, /SSM answered InternalServerError reading \/vendors\/buildkite\/app: the AWS SDK takes the request over/);
});

Direct("a refusal is handed to the SDK too, whose parsed error names the path and the permission", async ({ fixture }) => {
  fixture.server.inject({ kind: "access-denied", pathPrefix: `${BASE}/app` });
  const run = await runHook("environment", fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app" }));
  assert.is.not(run.status, 0);
  assert.match(run.stderr, /access denied reading \/vendors\/buildkite\/app .*grant ssm:GetParametersByPath/);
  assert.equal(agents(fixture.server, `${BASE}/app`).map((agent) => DIRECT.test(agent)), [true, false]);
});

Direct("AWS_ENDPOINT_URL serves when AWS_ENDPOINT_URL_SSM is not set", async ({ fixture }) => {
  const env = fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", AWS_ENDPOINT_URL: fixture.server.url });
  delete env.AWS_ENDPOINT_URL_SSM;
  assertJobGotEverything(await runHook("environment", env));
  assert.ok(fixture.server.callCount() > 0);
});

Direct("a configuration the direct route does not reproduce reads through the SDK alone", async ({ fixture, dir }) => {
  const run = await runHook("environment", fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", AWS_PARAMSTORE_SECRETS_VERBOSE: "1", ...sdkRouteEnv(dir) }));
  assertJobGotEverything(run);
  for (const request of fixture.server.requests) assert.match(request.userAgent, SDK);
  assert.match(run.stderr, /reading through the AWS SDK: a shared config or credentials file is present/);
});

Direct("instance-profile credentials over IMDSv2 sign the direct route's reads", async () => {
  const imds = await startImdsServer();
  const server = await startSsmServer({ credentials: imds.credentials, params: [{ name: `${BASE}/app/env/FROM_PROFILE`, value: "profile-value-0123", type: "SecureString" }] });
  try {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, AWS_SESSION_TOKEN: _token, AWS_EC2_METADATA_DISABLED: _disabled, ...env } = baseJobEnv({ ...sdkEnv(server), BUILDKITE_PIPELINE_SLUG: "app" });
    const run = await runHook("environment", { ...env, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url });
    assert.is(run.status, 0, run.stderr);
    assert.is(run.env.FROM_PROFILE, "profile-value-0123");
    assert.equal(imds.requests, ["PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/", `GET /latest/meta-data/iam/security-credentials/${imds.role}`], "asked once");
    for (const request of server.requests) assert.match(request.userAgent, DIRECT);
  } finally {
    await server.close();
    await imds.close();
  }
});

Direct("HTTPS: AWS_CA_BUNDLE's certificate is trusted on both routes, and nothing else is", async ({ dir }) => {
  const certificate = makeCertificate(dir);
  const server = await startSsmServer({ tls: certificate, params: [{ name: `${BASE}/app/env/OVER_TLS`, value: "tls-value-0123", type: "SecureString" }] });
  try {
    const env = baseJobEnv({ ...sdkEnv(server), BUILDKITE_PIPELINE_SLUG: "app", AWS_CA_BUNDLE: certificate.certFile });
    for (const [route, extra] of [["direct", {}], ["SDK", sdkRouteEnv(dir)]] as const) {
      server.resetCalls();
      const run = await runHook("environment", { ...env, ...extra });
      assert.is(run.status, 0, run.stderr);
      assert.is(run.env.OVER_TLS, "tls-value-0123");
      for (const request of server.requests) assert.match(request.userAgent, route === "direct" ? DIRECT : SDK);
      console.log(`HTTPS, ${route} route: ${server.callCount()} requests over ${server.connectionCount()} connections`);
      assert.ok(server.connectionCount() <= 2, `${server.connectionCount()} connections`);
    }
    const { AWS_CA_BUNDLE: _bundle, ...untrusted } = env;
    const run = await runHook("environment", { ...untrusted, AWS_MAX_ATTEMPTS: "2" });
    assert.is.not(run.status, 0);
    assert.is(run.env.OVER_TLS, undefined);
    assert.match(run.stderr, /\/vendors\/buildkite\/(global|app)/);
  } finally {
    await server.close();
  }
});

Direct("HTTPS_PROXY and HTTP_PROXY carry the reads on both routes, NO_PROXY bypasses them", async ({ fixture, dir }) => {
  const certificate = makeCertificate(dir);
  const tlsServer = await startSsmServer({ tls: certificate, params: [{ name: `${BASE}/app/env/OVER_TLS`, value: "tls-value-0123", type: "SecureString" }] });
  const proxy = await startProxyServer();
  try {
    const cases: Array<[label: string, env: Env, expect: RegExp | undefined]> = [
      ["HTTPS_PROXY, https endpoint", baseJobEnv({ ...sdkEnv(tlsServer), AWS_CA_BUNDLE: certificate.certFile, HTTPS_PROXY: proxy.url }), /^CONNECT 127\.0\.0\.1:\d+$/],
      ["HTTP_PROXY, http endpoint", fixture.jobEnv({ HTTP_PROXY: proxy.url }), /^POST http:\/\/127\.0\.0\.1:\d+\/$/],
      ["HTTP_PROXY with NO_PROXY", fixture.jobEnv({ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" }), undefined],
    ];
    for (const [label, env, expect] of cases) {
      for (const [route, extra] of [["direct", {}], ["SDK", sdkRouteEnv(dir)]] as const) {
        proxy.seen.length = 0;
        const run = await runHook("environment", { ...env, ...extra, BUILDKITE_PIPELINE_SLUG: "app" });
        assert.is(run.status, 0, `${label}, ${route} route: ${run.stderr}`);
        if (expect) {
          assert.ok(proxy.seen.length > 0, `${label}, ${route} route: nothing went through the proxy`);
          for (const line of proxy.seen) assert.match(line, expect);
        } else {
          assert.equal(proxy.seen, [], `${label}, ${route} route`);
        }
      }
    }
  } finally {
    await proxy.close();
    await tlsServer.close();
  }
});

Direct.run();
