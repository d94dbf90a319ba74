// The AWS settings an SSM client is made with, as the environment says them:
// captured when the environment phase reads SSM, and put back for the git
// credential helper, which runs later in the job's environment. By then an
// ordinary secret named AWS_REGION or AWS_ACCESS_KEY_ID (common in CI) may
// have replaced the agent's value; the helper must read SSM as the
// environment phase did, never as the job's variables now say. Pure.
import type { Env } from "../core/env.ts";

/** What the SDK reads from the environment to choose a region, an endpoint and a credentials source; none is a secret. */
const SETTINGS = [
  "HOME",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_SDK_LOAD_CONFIG",
  "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_SSM",
  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
  "AWS_USE_FIPS_ENDPOINT",
  "AWS_USE_DUALSTACK_ENDPOINT",
  "AWS_MAX_ATTEMPTS",
  "AWS_RETRY_MODE",
  "AWS_CA_BUNDLE",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
  "AWS_EC2_METADATA_V1_DISABLED",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_ARN",
  "AWS_ROLE_SESSION_NAME",
  "AWS_STS_REGIONAL_ENDPOINTS",
];
/** Secrets: only a fingerprint is kept, and the job's value is used when it is still the same. */
const SECRETS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN"];

export interface AwsSettings {
  values: Record<string, string>;
  fingerprints: Record<string, string>;
}

// Bun's own hasher: node:crypto would cost the environment phase more than its reads.
const fingerprint = (value: string) => new Bun.CryptoHasher("sha256").update(value).digest("hex");

export function captureAwsSettings(env: Env): AwsSettings {
  const settings: AwsSettings = { values: {}, fingerprints: {} };
  for (const name of SETTINGS) if (env[name] !== undefined) settings.values[name] = env[name]!;
  for (const name of SECRETS) if (env[name] !== undefined) settings.fingerprints[name] = fingerprint(env[name]!);
  return settings;
}

export type AwsEnvironment = { env: Env } | { problem: string };

/**
 * `env` with the captured AWS settings put back. A secret the capture did not
 * see is dropped; one it saw must still have its value, since the value itself
 * was never kept: otherwise SSM is not read at all.
 */
export function restoreAwsSettings(settings: AwsSettings, env: Env): AwsEnvironment {
  const restored: Env = Object.fromEntries(Object.entries(env).filter(([name]) => !SETTINGS.includes(name) && !SECRETS.includes(name)));
  Object.assign(restored, settings.values);
  for (const name of SECRETS) {
    const recorded = settings.fingerprints[name];
    if (recorded === undefined) continue;
    const value = env[name];
    if (value === undefined || fingerprint(value) !== recorded) {
      return { problem: `${name} is no longer the one the environment hook read SSM with (a secret or the job replaced it)` };
    }
    restored[name] = value;
  }
  return { env: restored };
}
