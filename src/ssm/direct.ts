// The hot path to SSM: one signed fetch per request, for the configurations
// it reproduces exactly (static keys or one credential provider, the standard
// partition's regional endpoint or AWS_ENDPOINT_URL_SSM, no profile, no
// shared config files, no FIPS or dual-stack). The real SSMClient stays
// behind it: any answer other than 2xx, and any network error, is handed
// back to client.ts, which sends that request through the SDK with its
// retries, backoff and error parsing. Everything else goes to the SDK from
// the start.
import { readFileSync, statSync } from "node:fs";
import { join } from "../core/paths.ts";
import { everyCharacter, isAsciiDigit, isLowerAsciiLetter } from "../core/chars.ts";
import type { Env } from "../core/env.ts";
import { VERSION } from "../core/version.ts";
import { credentialSource, loadCredentialProvider, type CredentialProvider, type CredentialSource } from "./credentials.ts";
import { signRequest } from "./sigv4.ts";

/** The SDK's `aws` partition: the regions whose SSM endpoint is ssm.<region>.amazonaws.com. */
const AWS_PARTITION_PREFIXES = new Set(["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"]);

/**
 * Whether `region` is in the `aws` partition: a prefix of that partition, a
 * word of lowercase letters and a number (`eu-west-2`, not `us-gov-west-1`).
 * Written out, not as a regular expression: this runs before a job's first
 * request (see core/chars.ts).
 */
export function isStandardRegion(region: string): boolean {
  const parts = region.split("-");
  if (parts.length !== 3 || !AWS_PARTITION_PREFIXES.has(parts[0]!)) return false;
  const [, word, number] = parts as [string, string, string];
  return word !== "" && number !== "" && everyCharacter(word, isLowerAsciiLetter) && everyCharacter(number, isAsciiDigit);
}

export interface DirectPlan {
  endpoint: URL;
  region: string;
  credentials: CredentialSource;
  tls: TlsOptions;
}

type TlsOptions = Pick<BunFetchRequestInit, "tls">;

/** AWS_CA_BUNDLE's certificates, trusted instead of the system's (as boto3 and the AWS CLI do), for fetch. */
export function caBundle(env: Env): TlsOptions {
  return env.AWS_CA_BUNDLE ? { tls: { ca: readFileSync(env.AWS_CA_BUNDLE, "utf8") } } : {};
}

/** Why a configuration goes to the SDK instead, for the verbose log. */
export type DirectDecision = { direct: true; plan: DirectPlan } | { direct: false; reason: string };

const set = (value: string | undefined) => Boolean(value) && value !== "false";

function hasContent(file: string): boolean {
  try {
    // Most agents have neither file: a stat says so without building an error to throw.
    if (!statSync(file, { throwIfNoEntry: false })) return false;
    return readFileSync(file, "utf8").trim() !== "";
  } catch {
    return false; // missing or unreadable: the SDK skips it too
  }
}

/** Whether `env` is a configuration the direct route sends exactly as the SDK would; pure but for reading the shared config files. */
export function directDecision(env: Env, readsFile: (file: string) => boolean = hasContent): DirectDecision {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region || !isStandardRegion(region)) return { direct: false, reason: `region ${JSON.stringify(region ?? "")} is not in the standard partition` };
  if (env.AWS_PROFILE) return { direct: false, reason: "AWS_PROFILE is set" };
  if (set(env.AWS_USE_FIPS_ENDPOINT) || set(env.AWS_USE_DUALSTACK_ENDPOINT)) return { direct: false, reason: "a FIPS or dual-stack endpoint is asked for" };
  // node:os only without HOME, as the SDK falls back: loading it costs every job ~0.5 ms.
  const home = env.HOME || (require("node:os") as typeof import("node:os")).homedir();
  const files = [env.AWS_CONFIG_FILE || join(home, ".aws", "config"), env.AWS_SHARED_CREDENTIALS_FILE || join(home, ".aws", "credentials")];
  // Profiles, endpoint_url, role_arn, sso, credential_process...: the SDK reads them all.
  if (files.some(readsFile)) return { direct: false, reason: "a shared config or credentials file is present" };
  let endpoint = new URL(`https://ssm.${region}.amazonaws.com/`);
  const configured = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === "true" ? undefined : env.AWS_ENDPOINT_URL_SSM || env.AWS_ENDPOINT_URL;
  if (configured) {
    try {
      endpoint = new URL(configured);
    } catch {
      return { direct: false, reason: "the configured endpoint is not a URL" };
    }
    if ((endpoint.protocol !== "https:" && endpoint.protocol !== "http:") || endpoint.pathname !== "/" || endpoint.search || endpoint.username) {
      return { direct: false, reason: "the configured endpoint has a path, query or user" };
    }
  }
  return { direct: true, plan: { endpoint, region, credentials: credentialSource(env), tls: caBundle(env) } };
}

/** A request the SDK must send instead, and what SSM (or the network) answered the direct attempt. */
export class HandOver {
  constructor(
    readonly answer: string,
    /** Throttling, a 5xx or a network error: worth a backoff before the SDK tries again. */
    readonly retryable: boolean,
  ) {}
}

export interface DirectClient {
  /** The JSON answer to `action`, or a HandOver. Throws only when `signal` aborts or credentials cannot be found. */
  call<T>(action: string, input: object, signal: AbortSignal): Promise<T | HandOver>;
  credentials: CredentialProvider;
}

export async function directClient(plan: DirectPlan, env: Env): Promise<DirectClient> {
  const credentials = await loadCredentialProvider(plan.credentials, env);
  return {
    credentials,
    async call<T>(action: string, input: object, signal: AbortSignal): Promise<T | HandOver> {
      const body = JSON.stringify(input);
      const headers = signRequest(
        {
          method: "POST",
          path: "/",
          headers: { host: plan.endpoint.host, "content-type": "application/x-amz-json-1.1", "x-amz-target": `AmazonSSM.${action}`, "user-agent": `bk-ssm-secrets/${VERSION}` },
          body,
        },
        { credentials: await credentials(), region: plan.region, service: "ssm" },
      );
      let response: Response;
      try {
        response = await fetch(plan.endpoint, { method: "POST", headers, body, signal, ...plan.tls });
      } catch (error) {
        if (signal.aborted) throw error;
        return new HandOver(`${(error as Error).name}: ${(error as Error).message}`, true);
      }
      let text: string;
      try {
        text = await response.text();
        if (response.ok) return JSON.parse(text) as T;
      } catch (error) {
        if (signal.aborted) throw error;
        return new HandOver(`${(error as Error).name}: ${(error as Error).message}`, true);
      }
      const type = /"__type"\s*:\s*"(?:[^"#]*#)?([^"]*)"/.exec(text)?.[1] ?? `HTTP ${response.status}`;
      return new HandOver(type, response.status === 429 || response.status >= 500 || /Throttl/.test(type));
    },
  };
}
