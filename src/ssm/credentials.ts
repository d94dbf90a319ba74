// Which of the SDK's credential providers the environment calls for, so the
// hot path loads that one provider and not the whole default chain. Decided
// only where the chain's answer is certain from the environment: the direct
// route (direct.ts) is taken only without a profile or shared config files,
// so the chain's SSO, ini and process links would all pass; what is left is
// its order: static keys, then web identity and container (left to the whole
// chain), then the instance profile over IMDS.
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

/** One provider, loaded from the SDK's own packages, asked once: the phase is over long before credentials expire. */
export async function loadCredentialProvider(source: CredentialSource): Promise<CredentialProvider> {
  if (source.kind === "env") return () => Promise.resolve(source.credentials);
  const provider = source.kind === "instance-metadata" ? await instanceProfile() : (await import("@aws-sdk/credential-provider-node")).defaultProvider({});
  let answer: Promise<SigningCredentials> | undefined;
  return () => (answer ??= provider());
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
