// Proves test/support/ssm-server.ts behaves like SSM, by driving it with the
// real @aws-sdk/client-ssm: if the SDK accepts its answers and surfaces its
// errors under SSM's codes, tests built on it exercise the hook's real paths.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  DeleteParameterCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import type { SSMClientConfig } from "@aws-sdk/client-ssm";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { sdkEnv, startSsmServer, TEST_ACCOUNT_ID, TEST_CREDENTIALS } from "./support/ssm-server.ts";
import type { SeedParam, SsmServer, SsmServerOptions } from "./support/ssm-server.ts";

type SdkError = Error & { $fault?: string; $metadata: { httpStatusCode?: number; attempts?: number; requestId?: string } };

const SERVER_SCRIPT = join(import.meta.dir, "support", "ssm-server.ts");
const ARN_PREFIX = `arn:aws:ssm:us-east-1:${TEST_ACCOUNT_ID}:parameter`;

function clientFor(target: Pick<SsmServer, "url">, config: Partial<SSMClientConfig> = {}): SSMClient {
  return new SSMClient({
    endpoint: target.url,
    region: TEST_CREDENTIALS.region,
    credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: TEST_CREDENTIALS.secretAccessKey },
    ...config,
  });
}

/** Awaits a call that must fail with the SSM error `name`, and returns the SDK's exception. */
async function rejects(call: Promise<unknown>, name: string): Promise<SdkError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e as SdkError,
  );
  if (!error) throw new assert.Assertion({ message: `expected ${name}, but the call succeeded`, operator: "rejects", expects: name, actual: "success" });
  assert.is(error.name, name, `expected ${name}, got ${error.name}: ${error.message}`);
  return error;
}

/** Starts a server for one test and always closes it, so a failing assertion cannot leave the process hanging. */
async function withServer(options: SsmServerOptions, run: (server: SsmServer) => Promise<void>): Promise<void> {
  const own = await startSsmServer(options);
  try {
    await run(own);
  } finally {
    await own.close();
  }
}

/**
 * Records each raw JSON response body the client receives. The SDK drops
 * fields its model does not know, so only the wire shows e.g. that
 * DescribeParameters sends no Value.
 */
function captureResponses(client: SSMClient): Record<string, unknown>[] {
  const bodies: Record<string, unknown>[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as { body: AsyncIterable<Uint8Array> | Uint8Array };
      const chunks: Uint8Array[] = [];
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) chunks.push(chunk);
      // Hand the SDK's deserializer the bytes it would have read from the stream.
      response.body = Buffer.concat(chunks);
      bodies.push(JSON.parse(response.body.toString()) as Record<string, unknown>);
      return result;
    },
    // "low" runs inside the SDK's deserializer, so it sees the raw HTTP response.
    { step: "deserialize", priority: "low", name: "captureResponses" },
  );
  return bodies;
}

async function control(target: Pick<SsmServer, "url">, body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${target.url}/__control`, { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const ssm = suite("ssm-server");
let server: SsmServer;
let sdk: SSMClient; // default retries
let once: SSMClient; // maxAttempts 1, for asserting on a single error

ssm.before(async () => {
  server = await startSsmServer();
  sdk = clientFor(server);
  once = clientFor(server, { maxAttempts: 1 });
});

ssm.after(async () => {
  sdk.destroy();
  once.destroy();
  await server.close();
});

ssm.before.each(() => {
  server.clearFaults();
  server.configure({ latencyMs: 0, rateLimit: null });
  server.resetCalls();
});

// ---------------------------------------------------------------------------
// Parameters

ssm("PutParameter and GetParameter round-trip awkward values with full metadata", async () => {
  const values: Record<string, string> = {
    "/rt/newlines": "line one\nline two\r\n\ttabbed\n",
    "/rt/unicode": "héllo wörld ✓ 日本語 🚀",
    "/rt/quotes": `it's "double" and 'single' \\ back\`tick $HOME %s`,
    "/rt/json": JSON.stringify({ user: "admin", list: [1, "two"] }),
  };
  const before = Date.now();
  for (const [name, value] of Object.entries(values)) {
    const put = await sdk.send(new PutParameterCommand({ Name: name, Value: value, Type: "String" }));
    assert.equal([put.Version, put.Tier], [1, "Standard"]);
    const got = await sdk.send(new GetParameterCommand({ Name: name }));
    assert.is(got.Parameter?.Value, value, name);
    assert.is(server.get(name)?.value, value);
  }
  const { Parameter: p } = await sdk.send(new GetParameterCommand({ Name: "/rt/json" }));
  assert.is(p?.Name, "/rt/json");
  assert.is(p?.Type, "String");
  assert.is(p?.Version, 1);
  assert.is(p?.ARN, `${ARN_PREFIX}/rt/json`);
  assert.is(p?.DataType, "text");
  assert.instance(p?.LastModifiedDate, Date);
  assert.ok(Math.abs((p?.LastModifiedDate?.getTime() ?? 0) - before) < 60_000, "LastModifiedDate is now");

  const wire = clientFor(server);
  const bodies = captureResponses(wire);
  await wire.send(new GetParameterCommand({ Name: "/rt/json" }));
  const sent = bodies[0]?.Parameter as Record<string, unknown>;
  assert.type(sent.LastModifiedDate, "number");
  assert.ok(Math.abs((sent.LastModifiedDate as number) - before / 1000) < 60, "LastModifiedDate is sent in epoch seconds");
  wire.destroy();

  server.put("/rt/in-process", "seeded\nvalue");
  const seeded = await sdk.send(new GetParameterCommand({ Name: "/rt/in-process" }));
  assert.is(seeded.Parameter?.Value, "seeded\nvalue");
});

ssm("SecureString values are ciphertext unless WithDecryption is true", async () => {
  server.put("/sec/db/password", "hunter2-plaintext", { type: "SecureString" });
  await sdk.send(new PutParameterCommand({ Name: "/sec/db/token", Value: "tok-plaintext", Type: "SecureString", KeyId: "alias/team" }));

  const hidden = await sdk.send(new GetParameterCommand({ Name: "/sec/db/password" }));
  const again = await sdk.send(new GetParameterCommand({ Name: "/sec/db/password", WithDecryption: false }));
  const cipher = hidden.Parameter?.Value ?? "";
  assert.is(hidden.Parameter?.Type, "SecureString");
  assert.not.ok(cipher.includes("hunter2"), "ciphertext must not contain the plaintext");
  assert.match(cipher, /^AQICAH[A-Za-z0-9+/]+=*$/);
  assert.is(again.Parameter?.Value, cipher, "the stored ciphertext is stable");

  const shown = await sdk.send(new GetParameterCommand({ Name: "/sec/db/password", WithDecryption: true }));
  assert.is(shown.Parameter?.Value, "hunter2-plaintext");

  const tree = await sdk.send(new GetParametersByPathCommand({ Path: "/sec/db" }));
  assert.ok(tree.Parameters?.every((p) => p.Value && !p.Value.includes("plaintext")), "by-path hides values too");
  const decrypted = await sdk.send(new GetParametersByPathCommand({ Path: "/sec/db", WithDecryption: true }));
  assert.equal(decrypted.Parameters?.map((p) => p.Value), ["hunter2-plaintext", "tok-plaintext"]);
  const many = await sdk.send(new GetParametersCommand({ Names: ["/sec/db/token"] }));
  assert.is.not(many.Parameters?.[0]?.Value, "tok-plaintext");

  const described = await sdk.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: "Path", Values: ["/sec/db"] }] }));
  assert.equal(
    described.Parameters?.map((p) => [p.Name, p.KeyId]),
    [
      ["/sec/db/password", "alias/aws/ssm"],
      ["/sec/db/token", "alias/team"],
    ],
  );
});

ssm("GetParametersByPath: one level, recursive, trailing slash, sibling prefixes", async () => {
  for (const name of ["/tree/a", "/tree/b", "/tree/sub/c", "/tree/sub/deep/d", "/treehouse/x"]) server.put(name, name);
  const names = async (path: string, recursive: boolean) =>
    (await sdk.send(new GetParametersByPathCommand({ Path: path, Recursive: recursive }))).Parameters?.map((p) => p.Name);

  assert.equal(await names("/tree", false), ["/tree/a", "/tree/b"]);
  assert.equal(await names("/tree/", false), ["/tree/a", "/tree/b"]);
  assert.equal(await names("/tree", true), ["/tree/a", "/tree/b", "/tree/sub/c", "/tree/sub/deep/d"]);
  assert.equal(await names("/tree/sub", false), ["/tree/sub/c"]);
  assert.equal(await names("/nothing", true), []);
  const error = await rejects(once.send(new GetParametersByPathCommand({ Path: "tree" })), "ValidationException");
  assert.match(error.message, /must begin with a forward slash/);
});

ssm("GetParametersByPath pages 25 parameters as 10 + 10 + 5, sorted, each once", async () => {
  const expected = Array.from({ length: 25 }, (_, i) => `/page/p${String(i).padStart(2, "0")}`);
  for (const name of [...expected].reverse()) server.put(name, `v-${name}`);
  server.resetCalls();

  const seen: string[] = [];
  const sizes: number[] = [];
  let token: string | undefined;
  do {
    const page = await sdk.send(new GetParametersByPathCommand({ Path: "/page", Recursive: true, MaxResults: 10, NextToken: token }));
    sizes.push(page.Parameters?.length ?? 0);
    seen.push(...(page.Parameters ?? []).map((p) => p.Name ?? ""));
    token = page.NextToken;
  } while (token);

  assert.equal(sizes, [10, 10, 5]);
  assert.equal(seen, expected);
  assert.is(server.callCount("GetParametersByPath"), 3);
  assert.is(server.callCount(), 3);
  const defaulted = await sdk.send(new GetParametersByPathCommand({ Path: "/page" }));
  assert.is(defaulted.Parameters?.length, 10, "MaxResults defaults to 10");
});

ssm("GetParametersByPath rejects MaxResults 11 and a forged NextToken", async () => {
  const tooMany = await rejects(once.send(new GetParametersByPathCommand({ Path: "/", MaxResults: 11 })), "ValidationException");
  assert.is(
    tooMany.message,
    "1 validation error detected: Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10",
  );
  assert.is(tooMany.$metadata.httpStatusCode, 400);
  await rejects(once.send(new GetParametersByPathCommand({ Path: "/", MaxResults: 0 })), "ValidationException");
  await rejects(once.send(new GetParametersByPathCommand({ Path: "/", NextToken: "not-a-token" })), "ValidationException");
});

ssm("GetParameters reports missing names and refuses more than 10", async () => {
  server.put("/many/a", "A");
  server.put("/many/b", "B");
  const result = await sdk.send(new GetParametersCommand({ Names: ["/many/a", "/many/missing", "/many/b", "/many/a"] }));
  assert.equal(result.Parameters?.map((p) => [p.Name, p.Value]), [
    ["/many/a", "A"],
    ["/many/b", "B"],
  ]);
  assert.equal(result.InvalidParameters, ["/many/missing"]);

  const names = Array.from({ length: 11 }, (_, i) => `/many/n${i}`);
  const error = await rejects(once.send(new GetParametersCommand({ Names: names })), "ValidationException");
  assert.match(error.message, /at 'names' failed to satisfy constraint: Member must have length less than or equal to 10/);
});

ssm("DescribeParameters filters by Path and Name, pages, and never returns values", async () => {
  for (const name of ["/desc/a", "/desc/b", "/desc/deep/c", "/descx/d"]) server.put(name, `secret ${name}`);
  const describe = async (filters: { Key: string; Option?: string; Values: string[] }[]) =>
    (await sdk.send(new DescribeParametersCommand({ ParameterFilters: filters }))).Parameters ?? [];

  assert.equal((await describe([{ Key: "Path", Option: "OneLevel", Values: ["/desc"] }])).map((p) => p.Name), ["/desc/a", "/desc/b"]);
  assert.equal((await describe([{ Key: "Path", Option: "Recursive", Values: ["/desc/"] }])).map((p) => p.Name), [
    "/desc/a",
    "/desc/b",
    "/desc/deep/c",
  ]);
  assert.equal((await describe([{ Key: "Name", Option: "BeginsWith", Values: ["/desc"] }])).map((p) => p.Name), [
    "/desc/a",
    "/desc/b",
    "/desc/deep/c",
    "/descx/d",
  ]);
  assert.equal((await describe([{ Key: "Name", Values: ["/desc/b", "/descx/d"] }])).map((p) => p.Name), ["/desc/b", "/descx/d"]);

  const [meta] = await describe([{ Key: "Name", Option: "Equals", Values: ["/desc/a"] }]);
  assert.equal(
    { ...meta, LastModifiedDate: undefined },
    { Name: "/desc/a", ARN: `${ARN_PREFIX}/desc/a`, Type: "String", LastModifiedDate: undefined, Version: 1, Tier: "Standard", Policies: [], DataType: "text" },
  );
  const wire = clientFor(server);
  const bodies = captureResponses(wire);
  await wire.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: "Path", Values: ["/desc"] }] }));
  const sent = bodies[0]?.Parameters as Record<string, unknown>[];
  assert.equal(sent.map((p) => p.Name), ["/desc/a", "/desc/b"]);
  assert.ok(sent.every((p) => !("Value" in p)), "metadata never carries a value");
  wire.destroy();

  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const page = await sdk.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: "Path", Option: "Recursive", Values: ["/desc"] }], MaxResults: 2, NextToken: token }),
    );
    pages.push((page.Parameters ?? []).map((p) => p.Name ?? ""));
    token = page.NextToken;
  } while (token);
  assert.equal(pages, [["/desc/a", "/desc/b"], ["/desc/deep/c"]]);

  await rejects(once.send(new DescribeParametersCommand({ MaxResults: 51 })), "ValidationException");
  await rejects(once.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: "Path", Option: "BeginsWith", Values: ["/desc"] }] })), "InvalidFilterOption");
  await rejects(once.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: "Label", Values: ["x"] }] })), "InvalidFilterKey");
});

ssm("PutParameter: versions, Overwrite, ParameterAlreadyExists, type and tier rules", async () => {
  const put = (input: ConstructorParameters<typeof PutParameterCommand>[0]) => once.send(new PutParameterCommand(input));
  assert.is((await put({ Name: "/put/v", Value: "1", Type: "String" })).Version, 1);
  const exists = await rejects(put({ Name: "/put/v", Value: "2", Type: "String" }), "ParameterAlreadyExists");
  assert.match(exists.message, /set the overwrite option in the request to true/);
  assert.is((await put({ Name: "/put/v", Value: "2", Overwrite: true })).Version, 2);
  assert.is((await put({ Name: "/put/v", Value: "3", Type: "StringList", Overwrite: true })).Version, 3);
  assert.equal([server.get("/put/v")?.value, server.get("/put/v")?.type, server.get("/put/v")?.version], ["3", "StringList", 3]);

  const untyped = await rejects(put({ Name: "/put/new", Value: "x" }), "ValidationException");
  assert.match(untyped.message, /type is required/);
  await rejects(put({ Name: "/put/key", Value: "x", Type: "String", KeyId: "alias/k" }), "ValidationException");
  await rejects(put({ Name: "/put/empty", Value: "", Type: "String" }), "ValidationException");

  const big = "x".repeat(5000);
  const standard = await rejects(put({ Name: "/put/big", Value: big, Type: "String" }), "ValidationException");
  assert.match(standard.message, /^Standard tier parameters support a maximum parameter value of 4096 characters/);
  assert.equal(await put({ Name: "/put/big", Value: big, Type: "String", Tier: "Advanced" }).then((r) => [r.Version, r.Tier]), [1, "Advanced"]);
  assert.is((await put({ Name: "/put/big", Value: `${big}!`, Overwrite: true })).Tier, "Advanced", "the tier sticks on overwrite");
  await rejects(put({ Name: "/put/huge", Value: "x".repeat(8193), Type: "String", Tier: "Advanced" }), "ValidationException");
  assert.is((await put({ Name: "/put/exact", Value: "x".repeat(4096), Type: "String" })).Tier, "Standard");
});

ssm("PutParameter validates names as SSM does", async () => {
  const put = (name: string) => once.send(new PutParameterCommand({ Name: name, Value: "v", Type: "String" }));
  for (const bad of ["/has space", "/bad*char", "relative/path", "/double//slash", "/aws/reserved", "/SSM/reserved", `/${"n".repeat(1011)}`]) {
    await rejects(put(bad), "ValidationException");
  }
  const deep = `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join("/")}`;
  await rejects(put(deep), "HierarchyLevelLimitExceededException");
  await put(`/${Array.from({ length: 15 }, (_, i) => `l${i}`).join("/")}`);
  await put("plain-name_1.2");
  assert.is(server.get("plain-name_1.2")?.arn, `${ARN_PREFIX}/plain-name_1.2`);
});

ssm("seeding refuses a value over 4096 characters unless its tier is Advanced", async () => {
  const big: SeedParam = { name: "/seed/big", value: "y".repeat(4097) };
  const refused = await startSsmServer({ params: [big] }).then(
    async (s) => {
      await s.close();
      return undefined;
    },
    (e: Error) => e,
  );
  assert.match(refused?.message ?? "", /maximum parameter value of 4096/);
  await withServer({ params: [{ ...big, tier: "Advanced" }, { name: "/seed/s", value: "s", type: "SecureString" }] }, async (advanced) => {
    assert.is(advanced.get("/seed/big")?.tier, "Advanced");
    assert.is(advanced.get("/seed/s")?.keyId, "alias/aws/ssm");
  });
});

ssm("DeleteParameter removes a parameter; missing ones are ParameterNotFound", async () => {
  server.put("/del/x", "x");
  await sdk.send(new DeleteParameterCommand({ Name: "/del/x" }));
  assert.is(server.get("/del/x"), undefined);
  const again = await rejects(once.send(new DeleteParameterCommand({ Name: "/del/x" })), "ParameterNotFound");
  assert.is(again.message, "Parameter /del/x not found.");
  const get = await rejects(once.send(new GetParameterCommand({ Name: "/del/x" })), "ParameterNotFound");
  assert.is(get.message, "Parameter /del/x not found.");
  assert.is(get.$metadata.httpStatusCode, 400);
  assert.match(get.$metadata.requestId ?? "", /^[0-9a-f-]{36}$/, "x-amzn-RequestId reaches the SDK");
});

ssm("errors have AWS's JSON 1.1 shape on the wire", async () => {
  const res = await fetch(server.url, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.LaunchRockets" },
    body: "{}",
  });
  assert.is(res.status, 400);
  assert.is(res.headers.get("x-amzn-errortype"), "UnknownOperationException");
  assert.match(res.headers.get("x-amzn-requestid") ?? "", /^[0-9a-f-]{36}$/);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(Object.keys(body), ["__type", "message"]);
  assert.is(body.__type, "UnknownOperationException");

  const unsigned = await fetch(server.url, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.GetParameter" },
    body: JSON.stringify({ Name: "/x" }),
  });
  assert.is(unsigned.status, 400);
  assert.is(unsigned.headers.get("x-amzn-errortype"), "MissingAuthenticationTokenException");
  assert.equal(server.requests.map((r) => r.action), ["LaunchRockets", "GetParameter"]);
});

// ---------------------------------------------------------------------------
// The Secrets Manager bridge

ssm("the bridge: GetParameters reads secrets by name and stage, missing ones in InvalidParameters, only with decryption and a signature", async () => {
  server.putSecret("bridge/db", '{"password":"first"}');
  server.putSecret("bridge/db", '{"password":"second"}', { stages: ["BLUE"] });
  const prefix = "/aws/reference/secretsmanager/";
  const answer = await sdk.send(new GetParametersCommand({ Names: [`${prefix}bridge/db`, `${prefix}bridge/missing`, "/plain/missing"], WithDecryption: true }));
  assert.equal(
    answer.Parameters?.map((p) => [p.Name, p.Type, p.Value, p.Selector]),
    [[`${prefix}bridge/db`, "SecureString", '{"password":"second"}', undefined]],
  );
  assert.equal(answer.InvalidParameters?.sort(), [`${prefix}bridge/missing`, "/plain/missing"]);
  const previous = await sdk.send(new GetParametersCommand({ Names: [`${prefix}bridge/db:AWSPREVIOUS`, `${prefix}bridge/db:NOPE`], WithDecryption: true }));
  // A labelled name is answered as SSM answers one: the name, and the selector apart.
  assert.equal(previous.Parameters?.map((p) => [p.Name, p.Selector, p.Value]), [[`${prefix}bridge/db`, ":AWSPREVIOUS", '{"password":"first"}']]);
  assert.equal(previous.InvalidParameters, [`${prefix}bridge/db:NOPE`]);
  const blue = await sdk.send(new GetParametersCommand({ Names: [`${prefix}bridge/db:BLUE`], WithDecryption: true }));
  assert.is(blue.Parameters?.[0]?.Value, '{"password":"second"}');

  const encrypted = await rejects(once.send(new GetParametersCommand({ Names: [`${prefix}bridge/db`] })), "ValidationException");
  assert.match(encrypted.message, /WithDecryption flag must be True/);
  const wrongSecret = clientFor(server, { maxAttempts: 1, credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: "nope" } });
  await rejects(wrongSecret.send(new GetParametersCommand({ Names: [`${prefix}bridge/db`], WithDecryption: true })), "InvalidSignatureException");
  wrongSecret.destroy();
  assert.ok(server.deleteSecret("bridge/db"));
});

// ---------------------------------------------------------------------------
// SigV4 and credentials

ssm("a wrong secret key is InvalidSignatureException; an unknown key id is UnrecognizedClientException", async () => {
  server.put("/auth/x", "x");
  const wrongSecret = clientFor(server, { maxAttempts: 1, credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: "nope" } });
  const badSig = await rejects(wrongSecret.send(new GetParameterCommand({ Name: "/auth/x" })), "InvalidSignatureException");
  assert.is(
    badSig.message,
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  );
  assert.is(badSig.$metadata.httpStatusCode, 400);

  const unknownKey = clientFor(server, { maxAttempts: 1, credentials: { accessKeyId: "AKIDUNKNOWN", secretAccessKey: TEST_CREDENTIALS.secretAccessKey } });
  const unrecognized = await rejects(unknownKey.send(new GetParameterCommand({ Name: "/auth/x" })), "UnrecognizedClientException");
  assert.is(unrecognized.message, "The security token included in the request is invalid.");

  const wrongRegion = clientFor(server, { maxAttempts: 1, region: "eu-west-1" });
  const scoped = await rejects(wrongRegion.send(new GetParameterCommand({ Name: "/auth/x" })), "InvalidSignatureException");
  assert.match(scoped.message, /^Credential should be scoped to a valid region/);

  const withToken = clientFor(server, { maxAttempts: 1, credentials: { ...TEST_CREDENTIALS, sessionToken: "stray" } });
  await rejects(withToken.send(new GetParameterCommand({ Name: "/auth/x" })), "UnrecognizedClientException");
  for (const client of [wrongSecret, unknownKey, wrongRegion, withToken]) client.destroy();
});

ssm("a configured session token must be sent; the expired one is ExpiredTokenException", async () => {
  const credentials = { accessKeyId: "ASIATEMP", secretAccessKey: "temp-secret", sessionToken: "session-ok" };
  const options = { credentials, expiredToken: "session-old", region: "eu-west-2", params: [{ name: "/tok/x", value: "x" }] };
  await withServer(options, async (tokenServer) => {
    const get = (sessionToken?: string) =>
      clientFor(tokenServer, { maxAttempts: 1, region: "eu-west-2", credentials: { ...credentials, sessionToken } }).send(new GetParameterCommand({ Name: "/tok/x" }));
    assert.is((await get("session-ok")).Parameter?.Value, "x");
    await rejects(get(undefined), "UnrecognizedClientException");
    await rejects(get("session-forged"), "UnrecognizedClientException");
    const expired = await rejects(get("session-old"), "ExpiredTokenException");
    assert.is(expired.message, "The security token included in the request is expired");
  });
});

// ---------------------------------------------------------------------------
// Faults

ssm("throttle once: the SDK's default retry succeeds and the retry is counted", async () => {
  server.put("/fault/t", "t");
  server.inject({ kind: "throttle", action: "GetParameter", times: 1 });
  const result = await sdk.send(new GetParameterCommand({ Name: "/fault/t" }));
  assert.is(result.Parameter?.Value, "t");
  assert.is(result.$metadata.attempts, 2);
  assert.is(server.callCount("GetParameter"), 2);

  server.inject({ kind: "throttle" });
  const throttled = await rejects(once.send(new GetParameterCommand({ Name: "/fault/t" })), "ThrottlingException");
  assert.is(throttled.message, "Rate exceeded");
  assert.is(throttled.$metadata.httpStatusCode, 400);
});

ssm("server-error answers 500 InternalServerError, or 503 ServiceUnavailable when asked", async () => {
  server.put("/fault/s", "s");
  const id = server.inject({ kind: "server-error", pathPrefix: "/fault/s" });
  assert.type(id, "string");
  const internal = await rejects(once.send(new GetParameterCommand({ Name: "/fault/s" })), "InternalServerError");
  assert.is(internal.$metadata.httpStatusCode, 500);
  assert.is(internal.$fault, "server");

  server.clearFaults();
  server.inject({ kind: "server-error", status: 503, times: 1 });
  const unavailable = await rejects(once.send(new GetParameterCommand({ Name: "/fault/s" })), "ServiceUnavailable");
  assert.is(unavailable.$metadata.httpStatusCode, 503);
  assert.is((await once.send(new GetParameterCommand({ Name: "/fault/s" }))).Parameter?.Value, "s", "times: 1 is used up");
});

ssm("reset drops the connection without an answer", async () => {
  server.put("/fault/r", "r");
  server.inject({ kind: "reset", action: "GetParameter", times: 1 });
  const error = await once.send(new GetParameterCommand({ Name: "/fault/r" })).then(
    () => undefined,
    (e: unknown) => e as SdkError & { code?: string },
  );
  assert.ok(error, "the call must fail");
  assert.match(`${error?.name} ${error?.code} ${error?.message}`, /ECONNRESET|socket|closed/i);
  assert.is(error?.$metadata?.httpStatusCode, undefined, "no HTTP response was received");
  assert.is((await once.send(new GetParameterCommand({ Name: "/fault/r" }))).Parameter?.Value, "r");
});

ssm("delay holds matching requests, and combines with a throttle", async () => {
  server.put("/fault/d", "d");
  server.inject({ kind: "delay", action: "GetParameter", delayMs: 300, times: 1 });
  let started = performance.now();
  await once.send(new GetParameterCommand({ Name: "/fault/d" }));
  assert.ok(performance.now() - started >= 290, "the delayed call took at least delayMs");
  started = performance.now();
  await once.send(new GetParameterCommand({ Name: "/fault/d" }));
  assert.ok(performance.now() - started < 250, "the next call is not delayed");

  server.inject({ kind: "delay", delayMs: 200, times: 1 });
  server.inject({ kind: "throttle", times: 1 });
  started = performance.now();
  await rejects(once.send(new GetParameterCommand({ Name: "/fault/d" })), "ThrottlingException");
  assert.ok(performance.now() - started >= 190, "the throttle came after the delay");
});

ssm("access-denied by pathPrefix names the action and resource, leaving other paths readable", async () => {
  server.put("/secret/app/key", "k");
  server.put("/public/app/key", "p");
  server.inject({ kind: "access-denied", pathPrefix: "/secret" });

  const byPath = await rejects(once.send(new GetParametersByPathCommand({ Path: "/secret/app", Recursive: true })), "AccessDeniedException");
  assert.is(
    byPath.message,
    `User: arn:aws:sts::${TEST_ACCOUNT_ID}:assumed-role/test/i-0 is not authorized to perform: ssm:GetParametersByPath on resource: ${ARN_PREFIX}/secret/app because no identity-based policy allows the ssm:GetParametersByPath action`,
  );
  assert.is(byPath.$metadata.httpStatusCode, 400);
  const single = await rejects(once.send(new GetParameterCommand({ Name: "/secret/app/key" })), "AccessDeniedException");
  assert.match(single.message, `ssm:GetParameter on resource: ${ARN_PREFIX}/secret/app/key`);
  await rejects(once.send(new GetParametersCommand({ Names: ["/public/app/key", "/secret/app/key"] })), "AccessDeniedException");

  const open = await once.send(new GetParametersByPathCommand({ Path: "/public/app" }));
  assert.equal(open.Parameters?.map((p) => p.Value), ["p"]);
});

ssm("kms fails decrypting a matching SecureString as SSM reports KMS errors", async () => {
  server.put("/kms/app/plain", "plain");
  server.put("/kms/app/secure", "secure", { type: "SecureString", keyId: "alias/team-key" });
  server.inject({ kind: "kms", pathPrefix: "/kms/app/secure" });

  const denied = await rejects(once.send(new GetParametersByPathCommand({ Path: "/kms/app", WithDecryption: true })), "AccessDeniedException");
  assert.match(denied.message, `is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:${TEST_ACCOUNT_ID}:alias/team-key`);
  assert.match(denied.message, /\(Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: [0-9a-f-]{36}; Proxy: null\)$/);

  // No decryption, no KMS call: the same tree reads, and so does the String.
  const encrypted = await once.send(new GetParametersByPathCommand({ Path: "/kms/app" }));
  assert.is(encrypted.Parameters?.length, 2);
  assert.is((await once.send(new GetParameterCommand({ Name: "/kms/app/plain", WithDecryption: true }))).Parameter?.Value, "plain");

  const encrypt = await rejects(
    once.send(new PutParameterCommand({ Name: "/kms/app/secure-new", Value: "v", Type: "SecureString" })),
    "InvalidKeyId",
  );
  assert.match(encrypt.message, /^Key 'arn:aws:kms:us-east-1:123456789012:alias\/aws\/ssm' does not exist \(Service: AWSKMS; .*Error Code: NotFoundException/);
  assert.is(server.get("/kms/app/secure-new"), undefined, "nothing is stored when encryption fails");
});

ssm("rateLimit throttles over the bucket, refills, and can be changed at run time", async () => {
  server.put("/rate/x", "x");
  server.configure({ rateLimit: { requestsPerSecond: 2, burst: 2 } });
  const get = () =>
    once.send(new GetParameterCommand({ Name: "/rate/x" })).then(
      () => "ok",
      (e: SdkError) => e.name,
    );
  const burst = await Promise.all([get(), get(), get()]);
  assert.equal([...burst].sort(), ["ThrottlingException", "ok", "ok"]);
  await new Promise((resolve) => setTimeout(resolve, 600)); // one new token every 500 ms
  assert.is(await get(), "ok");

  server.configure({ rateLimit: null });
  assert.equal(await Promise.all([get(), get(), get(), get()]), ["ok", "ok", "ok", "ok"]);

  await withServer({ rateLimit: { requestsPerSecond: 1 }, params: [{ name: "/rate/y", value: "y" }] }, async (limited) => {
    const client = clientFor(limited, { maxAttempts: 1 });
    await client.send(new GetParameterCommand({ Name: "/rate/y" }));
    await rejects(client.send(new GetParameterCommand({ Name: "/rate/y" })), "ThrottlingException");
    client.destroy();
  });
});

ssm("latencyMs slows every request", async () => {
  server.put("/lat/x", "x");
  server.configure({ latencyMs: 150 });
  const started = performance.now();
  await once.send(new GetParameterCommand({ Name: "/lat/x" }));
  assert.ok(performance.now() - started >= 140);
});

ssm("the request log records action, target, parsed body and time", async () => {
  const before = Date.now();
  await rejects(once.send(new GetParameterCommand({ Name: "/log/missing", WithDecryption: true })), "ParameterNotFound");
  const [entry] = server.requests;
  assert.is(server.requests.length, 1);
  assert.is(entry?.action, "GetParameter");
  assert.is(entry?.target, "AmazonSSM.GetParameter");
  assert.equal(entry?.body, { Name: "/log/missing", WithDecryption: true });
  assert.ok((entry?.at ?? 0) >= before && (entry?.at ?? 0) <= Date.now());
  server.resetCalls();
  assert.is(server.callCount(), 0);
  assert.is(server.requests.length, 0);
});

// ---------------------------------------------------------------------------
// Control route, child process, environment

ssm("POST /__control puts, injects, counts, configures, dumps and deletes", async () => {
  const put = await control(server, { op: "put", name: "/ctl/a", value: "from control", type: "SecureString" });
  assert.is(put.status, 200);
  assert.is((await sdk.send(new GetParameterCommand({ Name: "/ctl/a", WithDecryption: true }))).Parameter?.Value, "from control");

  assert.is((await control(server, { op: "inject", kind: "throttle", action: "GetParameter", times: 1 })).status, 200);
  await rejects(once.send(new GetParameterCommand({ Name: "/ctl/a" })), "ThrottlingException");
  const calls = await control(server, { op: "calls" });
  assert.equal(calls.json, { total: 2, byAction: { GetParameter: 2 } });

  await control(server, { op: "inject", kind: "throttle" });
  await control(server, { op: "clearFaults" });
  await once.send(new GetParameterCommand({ Name: "/ctl/a" }));
  await control(server, { op: "resetCalls" });
  assert.is(server.callCount(), 0);

  await control(server, { op: "configure", latencyMs: 120 });
  let started = performance.now();
  await once.send(new GetParameterCommand({ Name: "/ctl/a" }));
  assert.ok(performance.now() - started >= 110, "configure set latencyMs");
  await control(server, { op: "configure", latencyMs: 0, rateLimit: { requestsPerSecond: 1, burst: 1 } });
  started = performance.now();
  await once.send(new GetParameterCommand({ Name: "/ctl/a" }));
  await rejects(once.send(new GetParameterCommand({ Name: "/ctl/a" })), "ThrottlingException");
  await control(server, { op: "configure", rateLimit: null });

  const dump = await control(server, { op: "dump" });
  const stored = (dump.json.params as { name: string; value: string; type: string }[]).find((p) => p.name === "/ctl/a");
  assert.equal([stored?.value, stored?.type], ["from control", "SecureString"]);
  assert.equal((await control(server, { op: "delete", name: "/ctl/a" })).json, { deleted: true });
  assert.is(server.get("/ctl/a"), undefined);

  const bad = await control(server, { op: "explode" });
  assert.is(bad.status, 400);
  assert.match(String(bad.json.error), /unknown op/);
});

ssm("runs as a child process: one JSON line on stdout, seeded, stops on SIGTERM", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ssm-server-"));
  const seedFile = join(dir, "seed.json");
  const seed: SeedParam[] = [
    { name: "/child/a", value: "A" },
    { name: "/child/s", value: "S", type: "SecureString" },
  ];
  writeFileSync(seedFile, JSON.stringify(seed));
  const child = spawn(process.execPath, [SERVER_SCRIPT, "--seed", seedFile], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const lines: string[] = [];
    const reader = createInterface({ input: child.stdout });
    const stdoutClosed = new Promise((resolve) => reader.once("close", resolve));
    const first = await new Promise<string>((resolve, reject) => {
      reader.on("line", (line) => {
        lines.push(line);
        if (lines.length === 1) resolve(line);
      });
      child.once("exit", (code) => reject(new Error(`server exited with ${code} before listening`)));
    });
    const ready = JSON.parse(first) as { url: string; port: number };
    assert.equal(Object.keys(ready), ["url", "port"]);
    assert.is(ready.url, `http://127.0.0.1:${ready.port}`);

    const client = clientFor(ready);
    const tree = await client.send(new GetParametersByPathCommand({ Path: "/child", WithDecryption: true }));
    assert.equal(tree.Parameters?.map((p) => [p.Name, p.Value]), [
      ["/child/a", "A"],
      ["/child/s", "S"],
    ]);
    client.destroy();
    assert.equal((await control(ready, { op: "calls" })).json, { total: 1, byAction: { GetParametersByPath: 1 } });

    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    assert.is(await exited, 0);
    await stdoutClosed;
    assert.equal(lines, [first], "nothing else on stdout");
  } finally {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

ssm("sdkEnv points an unconfigured SDK client at the server and shuts out the host", async () => {
  const env = sdkEnv(server);
  assert.equal(env, {
    AWS_ENDPOINT_URL_SSM: server.url,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIDSSMTEST",
    AWS_SECRET_ACCESS_KEY: "ssm-test-secret",
    AWS_SESSION_TOKEN: "",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PROFILE: "",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "false",
  });

  server.put("/env/x", "via env");
  const saved = { ...process.env };
  // Host settings that would otherwise win or leak in.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIDHOST", AWS_SESSION_TOKEN: "host-token", AWS_PROFILE: "host", AWS_REGION: "ap-south-1" });
  Object.assign(process.env, env);
  try {
    const client = new SSMClient({});
    assert.is((await client.send(new GetParameterCommand({ Name: "/env/x" }))).Parameter?.Value, "via env");
    client.destroy();
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
});

ssm.run();
