// The SSM Parameter Store edge. The AWS SDK is imported here and only here,
// lazily, so phases that never talk to AWS never pay for loading it.
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { Logger } from "./log.ts";
import { StoreError, type Parameter, type SecretStore } from "./store.ts";

/** SSM's largest page for GetParametersByPath and GetParameters. */
const PAGE_SIZE = 10;

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
  const sdk = await import("@aws-sdk/client-ssm");
  // boto3, which the original hook used, reads AWS_DEFAULT_REGION; the JS SDK
  // only AWS_REGION. Honour both so existing agents need no new variable.
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const client: SSMClient = new sdk.SSMClient({
    ...(region ? { region } : {}),
    // Throttling is retried by the SDK's own strategy (jittered backoff); a
    // fleet starting many jobs at once needs more than its default 3 tries.
    ...(env.AWS_MAX_ATTEMPTS ? {} : { maxAttempts: 6 }),
  });
  options.log.debug(`AWS SDK loaded in ${(performance.now() - started).toFixed(0)} ms`);
  const send = <T>(path: string, action: string, run: () => Promise<T>): Promise<T> =>
    run().catch((error: unknown) => {
      throw explainError(error, path, action, options);
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
export function explainError(error: unknown, path: string, action: string, options: Pick<SsmStoreOptions, "signal" | "timeoutMs">): StoreError {
  const err = error as { name?: string; message?: string; code?: string; $metadata?: { attempts?: number } };
  const name = err.name ?? "Error";
  const awsMessage = (err.message ?? "").split("\n")[0]?.trim() ?? "";
  const because = awsMessage ? ` (${name}: ${awsMessage})` : ` (${name})`;
  if (options.signal.aborted || name === "AbortError") {
    return new StoreError(
      `reading ${path} did not finish within ${options.timeoutMs / 1000} s: check the agent's network path to SSM, or raise AWS_PARAMSTORE_SECRETS_TIMEOUT`,
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
