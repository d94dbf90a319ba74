// Which configurations the direct route takes (src/ssm/direct.ts), and which
// credential provider it loads for them (src/ssm/credentials.ts): everything
// it does not reproduce exactly must go to the SDK.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { credentialSource } from "../src/ssm/credentials.ts";
import { directDecision, type DirectDecision } from "../src/ssm/direct.ts";

const KEYS = { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "secret" };
const noFiles = () => false;
const plan = (decision: DirectDecision) => {
  if (!decision.direct) throw new Error(`expected the direct route, got: ${decision.reason}`);
  return decision.plan;
};
const reason = (decision: DirectDecision) => (decision.direct ? "direct" : decision.reason);

test("static keys in a standard region: the regional endpoint, the keys themselves", () => {
  const decided = plan(directDecision({ ...KEYS, AWS_REGION: "eu-west-2", AWS_SESSION_TOKEN: "tok" }, noFiles));
  assert.is(decided.endpoint.href, "https://ssm.eu-west-2.amazonaws.com/");
  assert.is(decided.region, "eu-west-2");
  assert.equal(decided.credentials, { kind: "env", credentials: { accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "tok" } });
});

test("AWS_DEFAULT_REGION counts, as for the SDK path", () => {
  assert.is(plan(directDecision({ ...KEYS, AWS_DEFAULT_REGION: "us-east-1" }, noFiles)).region, "us-east-1");
});

test("AWS_ENDPOINT_URL_SSM, then AWS_ENDPOINT_URL, unless configured endpoints are ignored", () => {
  const env = { ...KEYS, AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: "http://127.0.0.1:9/" };
  assert.is(plan(directDecision(env, noFiles)).endpoint.href, "http://127.0.0.1:9/");
  assert.is(plan(directDecision({ ...env, AWS_ENDPOINT_URL_SSM: "https://vpce.example:8443" }, noFiles)).endpoint.href, "https://vpce.example:8443/");
  assert.is(plan(directDecision({ ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" }, noFiles)).endpoint.href, "https://ssm.us-east-1.amazonaws.com/");
});

test("everything the SDK resolves differently goes to the SDK", () => {
  const base = { ...KEYS, AWS_REGION: "us-east-1" };
  assert.match(reason(directDecision({ ...KEYS }, noFiles)), /region "" is not in the standard partition/);
  for (const region of ["cn-north-1", "us-gov-west-1", "us-iso-east-1", "eu-isoe-west-1", "nowhere"]) {
    assert.match(reason(directDecision({ ...KEYS, AWS_REGION: region }, noFiles)), /not in the standard partition/, region);
  }
  assert.match(reason(directDecision({ ...base, AWS_PROFILE: "cross-account" }, noFiles)), /AWS_PROFILE/);
  assert.match(reason(directDecision({ ...base, AWS_USE_FIPS_ENDPOINT: "true" }, noFiles)), /FIPS/);
  assert.match(reason(directDecision({ ...base, AWS_USE_DUALSTACK_ENDPOINT: "true" }, noFiles)), /dual-stack/);
  assert.is(reason(directDecision({ ...base, AWS_USE_FIPS_ENDPOINT: "false" }, noFiles)), "direct");
  assert.match(reason(directDecision({ ...base, AWS_ENDPOINT_URL_SSM: "https://proxy.example/ssm" }, noFiles)), /path/);
  assert.match(reason(directDecision({ ...base, AWS_ENDPOINT_URL_SSM: "not a url" }, noFiles)), /not a URL/);
});

test("a shared config or credentials file with anything in it goes to the SDK: profiles, endpoint_url, role_arn", () => {
  const base = { ...KEYS, AWS_REGION: "us-east-1", AWS_CONFIG_FILE: "/etc/aws/config", AWS_SHARED_CREDENTIALS_FILE: "/etc/aws/credentials" };
  const asked: string[] = [];
  assert.is(reason(directDecision(base, (file) => (asked.push(file), false))), "direct");
  assert.equal(asked, ["/etc/aws/config", "/etc/aws/credentials"]);
  assert.match(reason(directDecision(base, (file) => file === "/etc/aws/credentials")), /shared config or credentials file/);
  const home: string[] = [];
  directDecision({ ...KEYS, AWS_REGION: "us-east-1", HOME: "/home/agent" }, (file) => (home.push(file), false));
  assert.equal(home, ["/home/agent/.aws/config", "/home/agent/.aws/credentials"]);
});

test("credentials: the chain's order, each provider only when the environment calls for it", () => {
  assert.equal(credentialSource({ ...KEYS, AWS_SESSION_TOKEN: "" }), { kind: "env", credentials: { accessKeyId: "AKID", secretAccessKey: "secret" } });
  assert.equal(credentialSource({ AWS_ACCESS_KEY_ID: "AKID" }), { kind: "instance-metadata" }, "one key alone is no static credential");
  assert.equal(credentialSource({}), { kind: "instance-metadata" });
  assert.equal(credentialSource({ AWS_EC2_METADATA_DISABLED: "false" }), { kind: "instance-metadata" });
  assert.equal(credentialSource({ AWS_EC2_METADATA_DISABLED: "true" }), { kind: "chain" });
  assert.equal(credentialSource({ AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/token", AWS_ROLE_ARN: "arn:aws:iam::1:role/r" }), { kind: "chain" });
  assert.equal(credentialSource({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials" }), { kind: "chain" });
  assert.equal(credentialSource({ ...KEYS, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials" }).kind, "env", "static keys come first");
});

test.run();
