// The SSM Parameter Store edge. The AWS SDK is imported here and only here,
// lazily, so phases that never talk to AWS never pay for loading it.
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { Logger } from "./log.ts";
import { StoreError, type Parameter, type SecretStore } from "./store.ts";

/** SSM's largest page for GetParametersByPath and GetParameters. */
const PAGE_SIZE = 10;

/**
 * Attempts per request unless AWS_MAX_ATTEMPTS says otherwise. A fleet of
 * agents starting jobs together shares one account's SSM quota, so a request
 * keeps trying while the phase deadline allows rather than giving up after
 * the SDK's default three.
 */
const DEFAULT_MAX_ATTEMPTS = 30;
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2000;

/**
 * "Full jitter": a uniformly random wait below a capped exponential. Clients
 * sharing a quota spread their retries instead of retrying in step, and the
 * short cap keeps the quota in use while any of them is waiting.
 */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  return random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

export interface SsmStoreOptions {
  /** Aborts every request still in flight when the phase's deadline passes. */
  signal: AbortSignal;
  timeoutMs: number;
  log: Logger;
  env?: Record<string, string | undefined>;
}

type RawParameter = { Name?: string; Value?: string; Type?: string; Version?: number; LastModifiedDate?: Date };

function toParameter(raw: RawParameter): Parameter {
  return {
    name: raw.Name ?? "",
    value: raw.Value ?? "",
    type: raw.Type ?? "String",
    version: raw.Version,
    lastModified: raw.LastModifiedDate,
  };
}

export async function createSsmStore(options: SsmStoreOptions): Promise<SecretStore> {
  const env = options.env ?? process.env;
  const started = performance.now();
  const [sdk, { ConfiguredRetryStrategy }] = await Promise.all([import("@aws-sdk/client-ssm"), import("@smithy/core/retry")]);
  // boto3, which the original hook used, reads AWS_DEFAULT_REGION; the JS SDK
  // only AWS_REGION. Honour both so existing agents need no new variable.
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const maxAttempts = Number(env.AWS_MAX_ATTEMPTS) || DEFAULT_MAX_ATTEMPTS;
  const client: SSMClient = new sdk.SSMClient({
    ...(region ? { region } : {}),
    // The SDK's own standard strategy (retryable errors, retry quota), with
    // the backoff above; the phase deadline bounds it.
    retryStrategy: new ConfiguredRetryStrategy(maxAttempts, (attempt) => retryDelay(attempt)),
  });
  // When the deadline cuts retries short, say what SSM last answered for that
  // request: "did not finish" alone hides throttling or a 5xx brownout.
  const lastAnswer = new Map<string, string>();
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const input = args.input as { Path?: string; Names?: string[] };
        const err = error as Error;
        lastAnswer.set(input.Path ?? input.Names?.join(", ") ?? "", `${err.name}: ${err.message.split("\n")[0]}`);
        throw error;
      }
    },
    // Inside the retry middleware (finalizeRequest, high) and outside the deserializer: sees every attempt's error.
    { step: "finalizeRequest", priority: "low", name: "bkRememberLastAnswer" },
  );
  options.log.debug(`AWS SDK loaded in ${(performance.now() - started).toFixed(0)} ms`);
  const send = <T>(path: string, action: string, run: () => Promise<T>): Promise<T> =>
    run().catch((error: unknown) => {
      throw explainError(error, path, action, options, lastAnswer.get(path));
    });

  return {
    async readTree(path) {
      const parameters: Parameter[] = [];
      let nextToken: string | undefined;
      do {
        const page = await send(path, "ssm:GetParametersByPath", () =>
          client.send(
            new sdk.GetParametersByPathCommand({
              Path: path,
              Recursive: true,
              WithDecryption: true,
              MaxResults: PAGE_SIZE,
              NextToken: nextToken,
            }),
            { abortSignal: options.signal },
          ),
        );
        parameters.push(...(page.Parameters ?? []).map(toParameter));
        nextToken = page.NextToken;
      } while (nextToken);
      return parameters;
    },

    async readNames(names) {
      const batches: string[][] = [];
      for (let i = 0; i < names.length; i += PAGE_SIZE) batches.push(names.slice(i, i + PAGE_SIZE));
      const pages = await Promise.all(
        batches.map((batch) =>
          send(batch.join(", "), "ssm:GetParameters", () =>
            client.send(new sdk.GetParametersCommand({ Names: batch, WithDecryption: true }), {
              abortSignal: options.signal,
            }),
          ),
        ),
      );
      return {
        found: pages.flatMap((page) => (page.Parameters ?? []).map(toParameter)),
        missing: pages.flatMap((page) => page.InvalidParameters ?? []),
      };
    },
  };
}

/** Turn an SDK failure into one line naming the path and what to do. Never includes a value. */
export function explainError(
  error: unknown,
  path: string,
  action: string,
  options: Pick<SsmStoreOptions, "signal" | "timeoutMs">,
  lastAnswer?: string,
): StoreError {
  const err = error as { name?: string; message?: string; code?: string; $metadata?: { attempts?: number } };
  const name = err.name ?? "Error";
  const awsMessage = (err.message ?? "").split("\n")[0]?.trim() ?? "";
  const because = awsMessage ? ` (${name}: ${awsMessage})` : ` (${name})`;
  if (options.signal.aborted || name === "AbortError") {
    const last = lastAnswer ? ` (SSM's last answer: ${lastAnswer})` : "";
    return new StoreError(
      `reading ${path} did not finish within ${options.timeoutMs / 1000} s${last}: check the agent's network path to SSM, or raise AWS_PARAMSTORE_SECRETS_TIMEOUT`,
      path,
      "Timeout",
    );
  }
  if (/kms/i.test(`${name} ${awsMessage}`)) {
    return new StoreError(
      `cannot decrypt the SecureString parameters under ${path}${because}: grant kms:Decrypt on the parameters' KMS key to the agent's role, or check the key is enabled`,
      path,
      name,
    );
  }
  switch (name) {
    case "AccessDeniedException":
      return new StoreError(`access denied reading ${path}${because}: grant ${action} on this path to the agent's IAM role`, path, name);
    case "ThrottlingException":
      return new StoreError(
        `SSM kept throttling the reads of ${path} after ${err.$metadata?.attempts ?? "several"} attempts: retry the job, or raise AWS_MAX_ATTEMPTS`,
        path,
        name,
      );
    case "UnrecognizedClientException":
    case "InvalidSignatureException":
      return new StoreError(`AWS rejected the agent's credentials reading ${path}${because}: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the instance profile`, path, name);
    case "ExpiredTokenException":
      return new StoreError(`the agent's AWS session has expired reading ${path}${because}: refresh AWS_SESSION_TOKEN or the role's credentials`, path, name);
    case "CredentialsProviderError":
      return new StoreError(`no AWS credentials found to read ${path}: attach an instance profile to the agent, or set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`, path, name);
  }
  // "Region is missing" when unset; "Region not accepted: region=\"\"" when set but empty.
  if (/region is missing|region not accepted/i.test(awsMessage)) {
    return new StoreError(`no AWS region configured to read ${path}: set AWS_REGION (or AWS_DEFAULT_REGION) in the agent's environment`, path, "RegionMissing");
  }
  const code = err.code ?? name;
  if (/ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EPIPE|socket|network/i.test(`${code} ${awsMessage}`)) {
    return new StoreError(`cannot reach SSM to read ${path}${because}: check the agent's network path to SSM (or AWS_ENDPOINT_URL_SSM)`, path, code);
  }
  return new StoreError(`reading ${path} failed${because}`, path, name);
}
