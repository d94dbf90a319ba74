// The SSM Parameter Store edge. The AWS SDK is imported here and only here,
// lazily, so phases that never talk to AWS never pay for loading it.
import type { Env } from "../core/env.ts";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { Logger } from "../core/log.ts";
import type { CredentialProvider } from "./credentials.ts";
import { caBundle, directClient, directDecision, HandOver, type DirectClient } from "./direct.ts";
import { parameterNotFound, StoreError, type Parameter, type ParameterInfo, type SecretStore } from "./store.ts";

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
  env?: Env;
}

/** A parameter as the SDK returns it, or as the direct route reads it off the wire (dates in epoch seconds). */
export type RawParameter = { Name?: string; Value?: string; Type?: string; Version?: number; LastModifiedDate?: Date | number; Tier?: string };

export function toInfo(raw: RawParameter): ParameterInfo {
  return {
    name: raw.Name ?? "",
    type: raw.Type ?? "String",
    version: raw.Version,
    // As the SDK's deserialiser turns epoch seconds into a Date.
    lastModified: typeof raw.LastModifiedDate === "number" ? new Date(Math.round(raw.LastModifiedDate * 1000)) : raw.LastModifiedDate,
    ...(raw.Tier ? { tier: raw.Tier } : {}),
  };
}

export function toParameter(raw: RawParameter): Parameter {
  return { ...toInfo(raw), value: raw.Value ?? "" };
}

/** Every item of a paginated call, page after page, each page asked for once the previous one answered. */
export async function collectPages<R, T>(fetch: (nextToken: string | undefined) => Promise<{ Parameters?: R[]; NextToken?: string }>, convert: (raw: R) => T): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | undefined;
  do {
    const page = await fetch(nextToken);
    items.push(...(page.Parameters ?? []).map(convert));
    nextToken = page.NextToken;
  } while (nextToken);
  return items;
}

type Sdk = typeof import("@aws-sdk/client-ssm");
interface SdkClient {
  sdk: Sdk;
  client: SSMClient;
}
type SdkCall<T> = (sdk: Sdk, client: SSMClient) => Promise<T>;

/**
 * The SDK's client. `lastAnswer` collects what SSM last answered each
 * request; `credentials` is the direct route's provider when the client
 * takes over its requests, so credentials are fetched once.
 */
async function loadClient(env: Env, log: Logger, lastAnswer: Map<string, string>, maxAttempts: number, credentials?: CredentialProvider): Promise<SdkClient> {
  const started = performance.now();
  const [sdk, { ConfiguredRetryStrategy }, { FetchHttpHandler }] = await Promise.all([
    import("@aws-sdk/client-ssm"),
    import("@smithy/core/retry"),
    import("@smithy/fetch-http-handler"),
  ]);
  // boto3, which the original hook used, reads AWS_DEFAULT_REGION; the JS SDK
  // only AWS_REGION. Honour both so existing agents need no new variable.
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const tls = caBundle(env);
  const client: SSMClient = new sdk.SSMClient({
    ...(region ? { region } : {}),
    ...(credentials ? { credentials } : {}),
    // Bun's fetch, as on the direct route: it goes through HTTPS_PROXY and
    // HTTP_PROXY (NO_PROXY excepted), which the SDK's node:http handler ignores.
    // AWS_CA_BUNDLE too, which the JS SDK does not read itself.
    requestHandler: new FetchHttpHandler({ customFetch: ((request: Request) => fetch(request, tls)) as typeof fetch }),
    // The SDK's own standard strategy (retryable errors, retry quota), with
    // the backoff above; the phase deadline bounds it.
    retryStrategy: new ConfiguredRetryStrategy(maxAttempts, (attempt) => retryDelay(attempt)),
  });
  // When the deadline cuts retries short, say what SSM last answered for that
  // request: "did not finish" alone hides throttling or a 5xx brownout.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const input = args.input as { Path?: string; Names?: string[]; Name?: string };
        const err = error as Error;
        lastAnswer.set(input.Path ?? input.Name ?? input.Names?.join(", ") ?? "", `${err.name}: ${err.message.split("\n")[0]}`);
        throw error;
      }
    },
    // Inside the retry middleware (finalizeRequest, high) and outside the deserializer: sees every attempt's error.
    { step: "finalizeRequest", priority: "low", name: "bkRememberLastAnswer" },
  );
  log.debug(`AWS SDK loaded in ${(performance.now() - started).toFixed(0)} ms`);
  return { sdk, client };
}

/** The direct route for reads when this configuration allows it (see direct.ts). */
async function openDirect(env: Env, maxAttempts: number, log: Logger): Promise<DirectClient | undefined> {
  // A hand-over needs an attempt to spare.
  const decision = maxAttempts > 1 ? directDecision(env) : { direct: false as const, reason: "AWS_MAX_ATTEMPTS is 1" };
  if (!decision.direct) {
    log.debug(`reading through the AWS SDK: ${decision.reason}`);
    return undefined;
  }
  return directClient(decision.plan, env);
}

/** Wait `ms`, or reject as soon as `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * How every request reaches SSM: reads by the direct route when it is open,
 * everything else (and what it hands over) through the SDK, whose client
 * loads on first use; failures explained by path and permission.
 */
export interface Connection {
  send<T>(path: string, action: SsmAction, run: () => Promise<T>): Promise<T>;
  viaSdk<T>(call: SdkCall<T>): Promise<T>;
  read<T>(path: string, action: "GetParametersByPath" | "GetParameters", input: object, call: SdkCall<T>): Promise<T>;
  request: { abortSignal: AbortSignal };
}

export function connect(options: SsmStoreOptions): Connection {
  const env = options.env ?? process.env;
  const maxAttempts = Number(env.AWS_MAX_ATTEMPTS) || DEFAULT_MAX_ATTEMPTS;
  const lastAnswer = new Map<string, string>();
  const clients = new Map<number, Promise<SdkClient>>();
  const sdkClient = (attempts: number, credentials?: CredentialProvider) => {
    if (!clients.has(attempts)) clients.set(attempts, loadClient(env, options.log, lastAnswer, attempts, credentials));
    return clients.get(attempts)!;
  };
  let direct: Promise<DirectClient | undefined> | undefined;
  const send = <T>(path: string, action: SsmAction, run: () => Promise<T>): Promise<T> =>
    run().catch((error: unknown) => {
      throw explainError(error, path, action, options, lastAnswer.get(path));
    });
  const request = { abortSignal: options.signal };
  const viaSdk = async <T>(call: SdkCall<T>, attempts = maxAttempts, credentials?: CredentialProvider): Promise<T> => {
    const { sdk, client } = await sdkClient(attempts, credentials);
    return call(sdk, client);
  };

  /**
   * A read through the direct route when it is open. A request it hands over
   * is sent again by the SDK, after a backoff when the answer was worth
   * retrying, with the attempts the direct one left.
   */
  const read = async <T>(path: string, action: "GetParametersByPath" | "GetParameters", input: object, call: SdkCall<T>): Promise<T> => {
    const route = await (direct ??= openDirect(env, maxAttempts, options.log));
    if (!route) return viaSdk(call);
    const answer = await route.call<T>(action, input, options.signal);
    if (!(answer instanceof HandOver)) return answer;
    lastAnswer.set(path, answer.answer);
    options.log.debug(`SSM answered ${answer.answer} reading ${path}: the AWS SDK takes the request over`);
    if (answer.retryable) await pause(retryDelay(1), options.signal);
    return viaSdk(call, maxAttempts - 1, route.credentials);
  };

  return { send, viaSdk, read, request };
}

/**
 * What a job's phases read through: reads only. The operations that manage
 * the tree are built apart (admin.ts), so a phase holds none that writes or
 * removes. (`environment` also measured faster for it, 1.304 -> 1.277 x the
 * floor in one run, though not for the closures themselves: BENCHMARKS.md §7.)
 */
export async function createSsmStore(options: SsmStoreOptions): Promise<SecretStore> {
  return readOperations(connect(options));
}

export function readOperations({ send, read, viaSdk, request }: Connection): SecretStore {
  return {
    readTree(path) {
      return collectPages((nextToken) => {
        const input = { Path: path, Recursive: true, WithDecryption: true, MaxResults: PAGE_SIZE, NextToken: nextToken };
        return send(path, "ssm:GetParametersByPath", () => read(path, "GetParametersByPath", input, (sdk, client) => client.send(new sdk.GetParametersByPathCommand(input), request)));
      }, toParameter);
    },

    async readNames(names) {
      const batches: string[][] = [];
      for (let i = 0; i < names.length; i += PAGE_SIZE) batches.push(names.slice(i, i + PAGE_SIZE));
      const pages = await Promise.all(
        batches.map((batch) => {
          const input = { Names: batch, WithDecryption: true };
          return send(batch.join(", "), "ssm:GetParameters", () =>
            read(batch.join(", "), "GetParameters", input, (sdk, client) => client.send(new sdk.GetParametersCommand(input), request)),
          );
        }),
      );
      return {
        found: pages.flatMap((page) => (page.Parameters ?? []).map(toParameter)),
        missing: pages.flatMap((page) => page.InvalidParameters ?? []),
      };
    },

    async holdsAny(path) {
      const page = await send(path, "ssm:GetParametersByPath", () =>
        viaSdk((sdk, client) => client.send(new sdk.GetParametersByPathCommand({ Path: path || "/", Recursive: true, WithDecryption: false, MaxResults: 1 }), request)),
      );
      // SSM may answer a page with fewer items than asked for; a next page means there is more.
      return (page.Parameters ?? []).length > 0 || page.NextToken !== undefined;
    },
  };
}

/** What the agent's AWS setup resolves to, for `doctor`: never a credential, only where it came from. */
export interface AwsSetup {
  region?: string;
  /** The SDK's record of the credential providers that answered (e.g. CREDENTIALS_ENV_VARS). */
  credentialFeatures?: string[];
  regionError?: StoreError;
  credentialsError?: StoreError;
}

export async function resolveAwsSetup(options: SsmStoreOptions): Promise<AwsSetup> {
  const env = options.env ?? process.env;
  const { client } = await loadClient(env, options.log, new Map(), Number(env.AWS_MAX_ATTEMPTS) || DEFAULT_MAX_ATTEMPTS);
  const explain = (error: unknown) => explainError(error, "the job's slugs", "ssm:GetParametersByPath", options);
  const setup: AwsSetup = {};
  await Promise.all([
    client.config.region().then(
      (region) => void (setup.region = region),
      (error: unknown) => void (setup.regionError = explain(error)),
    ),
    client.config.credentials().then(
      (credentials) => void (setup.credentialFeatures = Object.keys((credentials as { $source?: object }).$source ?? {})),
      (error: unknown) => void (setup.credentialsError = explain(error)),
    ),
  ]);
  return setup;
}

export type SsmAction = keyof typeof OPERATIONS;

/** How each call is described to the operator, and who needs which permission for it. */
const READ = { doing: "reading", scope: "on this path", grantee: "the agent's IAM role", kms: "grant kms:Decrypt on the parameters' KMS key to the agent's role" };
const OPERATIONS = {
  "ssm:GetParametersByPath": READ,
  "ssm:GetParameters": READ,
  "ssm:DescribeParameters": {
    doing: "listing",
    scope: 'on Resource "*" (IAM cannot scope it to a path)',
    grantee: "your IAM identity",
    kms: "listing needs no KMS permission; check the SSM endpoint",
  },
  "ssm:PutParameter": {
    doing: "writing",
    scope: "on this path",
    grantee: "your IAM identity",
    kms: "check --kms-key names an existing key, and grant kms:Encrypt and kms:GenerateDataKey on it to your IAM identity",
  },
  "ssm:DeleteParameter": { doing: "deleting", scope: "on this path", grantee: "your IAM identity", kms: "deleting needs no KMS permission; check the SSM endpoint" },
  "ssm:GetParameterHistory": {
    doing: "reading the history of",
    scope: "on this path",
    grantee: "your IAM identity",
    kms: "the history is read without values and needs no KMS permission; check the SSM endpoint",
  },
  "ssm:GetParameter": { doing: "reading", scope: "on this path", grantee: "your IAM identity", kms: "grant kms:Decrypt on the parameter's KMS key to your IAM identity" },
  "ssm:LabelParameterVersion": { doing: "labelling", scope: "on this path", grantee: "your IAM identity", kms: "labelling needs no KMS permission; check the SSM endpoint" },
} as const;

/** Turn an SDK failure into one line naming the path and what to do. Never includes a value. */
export function explainError(
  error: unknown,
  path: string,
  action: SsmAction,
  options: Pick<SsmStoreOptions, "signal" | "timeoutMs">,
  lastAnswer?: string,
): StoreError {
  const err = error as { name?: string; message?: string; code?: string; $metadata?: { attempts?: number } };
  const { doing, scope, grantee, kms } = OPERATIONS[action];
  const name = err.name ?? "Error";
  const awsMessage = (err.message ?? "").split("\n")[0]?.trim() ?? "";
  const because = awsMessage ? ` (${name}: ${awsMessage})` : ` (${name})`;
  if (options.signal.aborted || name === "AbortError") {
    const last = lastAnswer ? ` (SSM's last answer: ${lastAnswer})` : "";
    return new StoreError(
      `${doing} ${path} did not finish within ${options.timeoutMs / 1000} s${last}: check the network path to SSM, or raise AWS_PARAMSTORE_SECRETS_TIMEOUT`,
      path,
      "Timeout",
    );
  }
  if (/kms/i.test(`${name} ${awsMessage}`)) {
    const what = doing === "writing" ? `cannot encrypt ${path}` : `cannot decrypt the SecureString parameters under ${path}`;
    return new StoreError(`${what}${because}: ${kms}, or check the key is enabled`, path, name);
  }
  switch (name) {
    case "AccessDeniedException":
      return new StoreError(`access denied ${doing} ${path}${because}: grant ${action} ${scope} to ${grantee}`, path, name);
    case "ParameterAlreadyExists":
      return new StoreError(`${path} already exists: pass --overwrite to replace it`, path, name);
    case "ParameterVersionNotFound":
      return new StoreError(`${path} has no such version${because}: bk-ssm-secrets history lists the versions SSM keeps`, path, name);
    case "ParameterNotFound":
      return parameterNotFound(path, doing === "deleting" ? "delete" : "do");
    case "ThrottlingException":
      return new StoreError(
        `SSM kept throttling the ${doing} of ${path} after ${err.$metadata?.attempts ?? "several"} attempts: retry, or raise AWS_MAX_ATTEMPTS`,
        path,
        name,
      );
    case "UnrecognizedClientException":
    case "InvalidSignatureException":
      return new StoreError(`AWS rejected the credentials ${doing} ${path}${because}: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the instance profile`, path, name);
    case "ExpiredTokenException":
      return new StoreError(`the AWS session has expired ${doing} ${path}${because}: refresh AWS_SESSION_TOKEN or the role's credentials`, path, name);
    case "CredentialsProviderError":
      return new StoreError(`no AWS credentials found for ${doing} ${path}: attach an instance profile to the agent, or set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`, path, name);
  }
  // "Region is missing" when unset, and region="" when set but empty.
  if (/region is missing|region=""/i.test(awsMessage)) {
    return new StoreError(`no AWS region configured for ${doing} ${path}: set AWS_REGION (or AWS_DEFAULT_REGION)`, path, "RegionMissing");
  }
  if (/region not accepted/i.test(awsMessage)) {
    return new StoreError(`the AWS region is not valid for ${doing} ${path}${because}: set AWS_REGION to a region such as us-east-1`, path, "RegionInvalid");
  }
  const code = err.code ?? name;
  if (/ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EPIPE|socket|network/i.test(`${code} ${awsMessage}`)) {
    return new StoreError(`cannot reach SSM ${doing} ${path}${because}: check the network path to SSM (or AWS_ENDPOINT_URL_SSM)`, path, code);
  }
  return new StoreError(`${doing} ${path} failed${because}`, path, name);
}
