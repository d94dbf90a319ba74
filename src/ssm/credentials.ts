// Which of the SDK's credential providers the environment calls for, so the
// hot path loads that one provider and not the whole default chain. Decided
// only where the chain's answer is certain from the environment: the direct
// route (direct.ts) is taken only without a profile or shared config files,
// so the chain's SSO, ini and process links would all pass; what is left is
// its order: static keys, then web identity and container (left to the whole
// chain), then the instance profile over IMDSv2: three fetches when all is
// well, the SDK's own IMDS provider for anything else.
import type { Env } from "../core/env.ts";
import type { SigningCredentials } from "./sigv4.ts";

export type CredentialSource = { kind: "env"; credentials: SigningCredentials } | { kind: "instance-metadata" } | { kind: "chain" };

export type CredentialProvider = () => Promise<SigningCredentials>;

/** The provider the SDK's default chain would answer from, for an environment with no profile and no shared config files. */
export function credentialSource(env: Env): CredentialSource {
  // The chain's fromEnv link: both keys, and a session token only when not empty.
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
    return { kind: "env", credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } };
  }
  const imdsDisabled = env.AWS_EC2_METADATA_DISABLED && env.AWS_EC2_METADATA_DISABLED !== "false";
  const other = env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_ROLE_ARN || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  return other || imdsDisabled ? { kind: "chain" } : { kind: "instance-metadata" };
}

/**
 * One provider, loaded from the SDK's own packages only when needed, asked
 * once: the phase is over long before credentials expire.
 */
export async function loadCredentialProvider(source: CredentialSource, env: Env): Promise<CredentialProvider> {
  if (source.kind === "env") return () => Promise.resolve(source.credentials);
  const provider: CredentialProvider =
    source.kind === "instance-metadata"
      ? async () => (await (early?.env === env ? early.answer : instanceProfileByFetch(env))) ?? (await instanceProfile())()
      : (await import("@aws-sdk/credential-provider-node")).defaultProvider({});
  let answer: Promise<SigningCredentials> | undefined;
  return () => (answer ??= provider());
}

let early: { env: Env; answer: Promise<SigningCredentials | undefined> } | undefined;

/**
 * Ask IMDS for the instance profile's credentials now, when they are what
 * `env` calls for: the environment phase starts this before it reads its
 * configuration, so the three round trips overlap its start-up instead of
 * delaying its first read. loadCredentialProvider takes the answer for the
 * same environment; a failed early answer still falls back to the SDK.
 */
export function fetchInstanceProfileEarly(env: Env): void {
  if (credentialSource(env).kind === "instance-metadata") early = { env, answer: instanceProfileByFetch(env) };
}

/** The SDK's IMDS timeout, per request. */
const IMDS_TIMEOUT_MS = 1000;
const IMDS_CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/";

/**
 * The instance profile's credentials the way IMDSv2 gives them when all is
 * well: a session token, the role's name, its credentials, three fetches.
 * Anything else (no answer, a refusal, an IPv6 endpoint mode, a proxy that
 * must not see the request) is left to the SDK's own provider, which knows
 * the IMDSv1 fallback and its settings: undefined.
 */
async function instanceProfileByFetch(env: Env): Promise<SigningCredentials | undefined> {
  if (env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE || env.HTTP_PROXY || env.http_proxy) return undefined;
  const endpoint = env.AWS_EC2_METADATA_SERVICE_ENDPOINT || "http://169.254.169.254";
  const get = async (path: string, init: RequestInit) => {
    const response = await fetch(new URL(path, endpoint), { ...init, signal: AbortSignal.timeout(IMDS_TIMEOUT_MS) });
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    return response.text();
  };
  try {
    const token = await get("/latest/api/token", { method: "PUT", headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" } });
    const headers = { "x-aws-ec2-metadata-token": token };
    const role = (await get(IMDS_CREDENTIALS_PATH, { headers })).trim();
    const answer = JSON.parse(await get(`${IMDS_CREDENTIALS_PATH}${role}`, { headers })) as Record<string, unknown>;
    const { AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, Token: sessionToken, Expiration: expiration } = answer;
    if ([accessKeyId, secretAccessKey, sessionToken, expiration].every((field) => typeof field === "string")) {
      return { accessKeyId: accessKeyId as string, secretAccessKey: secretAccessKey as string, sessionToken: sessionToken as string };
    }
  } catch {
    // The SDK's provider asks again and decides.
  }
  return undefined;
}

/** The chain's last links: IMDS, then the chain's own error when IMDS passes the question on, as it does when unreachable. */
async function instanceProfile(): Promise<CredentialProvider> {
  const [{ fromInstanceMetadata }, { CredentialsProviderError }] = await Promise.all([import("@smithy/credential-provider-imds"), import("@smithy/core/config")]);
  const fromImds = fromInstanceMetadata({});
  return () =>
    fromImds().catch((error: { tryNextLink?: boolean }) => {
      throw error?.tryNextLink === false ? error : new CredentialsProviderError("Could not load credentials from any providers", { tryNextLink: false });
    });
}
