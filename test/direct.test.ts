// Which configurations the direct route takes (src/ssm/direct.ts), and which
// credential provider it loads for them (src/ssm/credentials.ts): everything
// it does not reproduce exactly must go to the SDK.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PHASES } from "../src/cli/run.ts";
import { credentialSource } from "../src/ssm/credentials.ts";
import { directDecision, isStandardRegion, type DirectDecision } from "../src/ssm/direct.ts";
import { Random } from "./support/random.ts";

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

test("the standard partition's regions are recognised exactly as the previous regular expression did", () => {
  // The check as it was written before (narrower than the SDK's own \w+ and \d+: anything else goes to the SDK).
  const expected = (region: string) => /^(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-[0-9]+$/.test(region);
  // Every combination of these parts, so that each prefix and each kind of bad word or number is tried.
  const prefixes = ["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx", "cn", "US", "u", "uss", "", "us-gov"];
  const words = ["east", "northeast", "", "East", "e1", "é", "ea-st", "\u017f"];
  const numbers = ["1", "12", "", "1a", "\u0663", "0", "1\n"];
  let combinations = 0;
  for (const prefix of prefixes) {
    for (const word of words) {
      for (const number of numbers) {
        for (const region of [`${prefix}-${word}-${number}`, `${prefix}${word}-${number}`, `${prefix}-${word}-${number}-`]) {
          assert.is(isStandardRegion(region), expected(region), JSON.stringify(region));
          combinations++;
        }
      }
    }
  }
  assert.ok(combinations > 2000);
  const random = new Random();
  const pieces = ["us", "eu", "ap", "mx", "cn", "gov", "-", "-", "east", "West", "1", "12", "", "a", "\n", "é", "0"];
  for (let i = 0; i < 20_000; i++) {
    const region = Array.from({ length: random.int(7) }, () => random.pick(pieces)).join("");
    assert.is(isStandardRegion(region), expected(region), `${JSON.stringify(region)} (seed ${random.seed})`);
  }
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

test("the environment phase skips early work exactly when the credential chain answers from static keys", async () => {
  const early = PHASES.find((phase) => phase.name === "environment")!.early!;
  const environments = [
    { ...KEYS },
    { ...KEYS, AWS_SESSION_TOKEN: "" },
    { ...KEYS, AWS_SESSION_TOKEN: "token" },
    { ...KEYS, AWS_PROFILE: "cross-account" },
    { AWS_ACCESS_KEY_ID: "AKID" },
    { AWS_SECRET_ACCESS_KEY: "secret" },
    { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "secret" },
    { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "" },
    {},
  ];
  for (const keys of environments) {
    // IMDS disabled: where early work starts, the provider module is loaded and asked, and fetches nothing.
    const env = { ...keys, AWS_EC2_METADATA_DISABLED: "true" };
    const started = early(env);
    assert.is(started === undefined, credentialSource(keys).kind === "env", JSON.stringify(keys));
    if (started) {
      assert.ok(started instanceof Promise);
      await started;
    }
  }
});

test.run();
