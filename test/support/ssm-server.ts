// An SSM Parameter Store look-alike for tests. It speaks the AWS JSON 1.1
// protocol the real `@aws-sdk/client-ssm` uses, verifies every request's SigV4
// signature, answers with SSM's own error codes and messages, and can be told
// to fail (throttle, 5xx, connection reset, access denied, KMS) so the hook's
// error handling is tested against what AWS really sends.
// Secrets Manager secrets are read through Parameter Store's bridge
// (secrets-manager-bridge.ts), with the same signature checks.
//
// Use it in-process (`startSsmServer()`), or as a child process:
//   bun test/support/ssm-server.ts [--port N] [--seed file.json] [--latency-ms N] [--rate-limit RPS]
// which prints one JSON line `{"url":…,"port":…}` when listening and is driven
// over `POST /__control`.
import { createCipheriv, createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { SecretsManagerBridge, type PutSecretOptions } from "./secrets-manager-bridge.ts";
import { answerSts, StsError, stsErrorXml, type IssuedCredentials } from "./sts.ts";

/** The credentials and region a server accepts unless told otherwise. */
export const TEST_CREDENTIALS = {
  accessKeyId: "AKIDSSMTEST",
  secretAccessKey: "ssm-test-secret",
  region: "us-east-1",
} as const;

/** The account every ARN the server makes belongs to. */
export const TEST_ACCOUNT_ID = "123456789012";

/** The caller that AccessDenied messages name, as an EC2 instance's role would appear. */
const CALLER_ARN = `arn:aws:sts::${TEST_ACCOUNT_ID}:assumed-role/test/i-0`;
/** Who wrote a parameter that a test arranged in-process rather than through the API. */
export const SEED_USER_ARN = `arn:aws:iam::${TEST_ACCOUNT_ID}:user/test-seed`;
/** SSM keeps this many versions of a parameter. */
const MAX_VERSIONS = 100;
/** And at most this many labels on one version. */
const MAX_LABELS_PER_VERSION = 10;
const LABEL = /^[a-zA-Z_.\-][a-zA-Z0-9_.\-]{0,99}$/;
const DEFAULT_KEY_ID = "alias/aws/ssm";
const STANDARD_MAX_VALUE = 4096;
const ADVANCED_MAX_VALUE = 8192;
const MAX_NAME_LENGTH = 1011;
const MAX_HIERARCHY_LEVELS = 15;
const NAME_CHARACTERS = /^[a-zA-Z0-9_.\-/]+$/;
const TYPES = ["String", "StringList", "SecureString"] as const;
const TIERS = ["Standard", "Advanced", "Intelligent-Tiering"] as const;

export type ParameterType = (typeof TYPES)[number];
export type ParameterTier = "Standard" | "Advanced";

export interface SsmCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SeedParam {
  name: string;
  value: string;
  type?: ParameterType;
  tier?: ParameterTier;
}

export interface RateLimit {
  requestsPerSecond: number;
  /** Bucket size: how many requests may arrive at once. Defaults to requestsPerSecond (at least 1). */
  burst?: number;
}

export type FaultKind = "throttle" | "server-error" | "delay" | "reset" | "access-denied" | "kms";

export interface Fault {
  /** SSM action name such as "GetParametersByPath"; "*" or omitted matches every action. */
  action?: string;
  /**
   * Matches a request whose Path, Name or any of Names starts with it. For
   * `kms` it is matched against the SecureStrings being decrypted (or, for
   * PutParameter, encrypted) instead, so one bad key fails a whole tree read.
   */
  pathPrefix?: string;
  kind: FaultKind;
  /** For `delay`: how long to hold the request before answering normally. */
  delayMs?: number;
  /** Apply to the first N matching requests only; omitted means always. */
  times?: number;
  /** HTTP status to answer with instead of the kind's own (e.g. 503 for `server-error`). */
  status?: number;
}

/** A parameter as the server holds it: `value` is always the plaintext. */
export interface StoredParameter {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  /** Epoch seconds, as the JSON protocol sends it. */
  lastModifiedDate: number;
  arn: string;
  dataType: "text";
  tier: ParameterTier;
  keyId?: string;
  description?: string;
  /** The IAM identity that wrote this version, as GetParameterHistory reports it. */
  lastModifiedUser: string;
}

export interface PutOptions {
  type?: ParameterType;
  tier?: ParameterTier;
  keyId?: string;
  /** Defaults to true: the in-process helper is for arranging state, not testing PutParameter. */
  overwrite?: boolean;
}

export interface RecordedRequest {
  action: string;
  /** The ARN whose credentials signed it, once the signature checked out. */
  caller?: string;
  target: string;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** Date.now() when the request arrived. */
  at: number;
  /** Which client sent it: the hook's direct route or the AWS SDK. */
  userAgent: string;
}

export interface RuntimeOptions {
  latencyMs?: number;
  /** `null` turns rate limiting off. */
  rateLimit?: RateLimit | null;
}

export interface SsmServerOptions {
  port?: number;
  region?: string;
  credentials?: SsmCredentials;
  /** A session token the server treats as expired (ExpiredTokenException). */
  expiredToken?: string;
  /** Roles STS lets the test credentials assume (cross-account reading through a profile's role_arn). */
  roles?: string[];
  params?: SeedParam[];
  latencyMs?: number;
  rateLimit?: RateLimit;
  /** Serve HTTPS with this certificate (see makeCertificate), as real SSM does. */
  tls?: { cert: string; key: string };
}

export interface SsmServer {
  /** http://127.0.0.1:PORT, or https:// with `tls`. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly credentials: SsmCredentials;
  /** Every SSM request received since the last resetCalls(), oldest first. */
  readonly requests: RecordedRequest[];
  put(name: string, value: string, options?: PutOptions): StoredParameter;
  /** Returns whether the parameter existed. */
  delete(name: string): boolean;
  get(name: string): StoredParameter | undefined;
  /** Create a Secrets Manager secret, or a new version of one, readable through the bridge; returns the version id. */
  putSecret(secretId: string, value: string, options?: PutSecretOptions): string;
  deleteSecret(secretId: string): boolean;
  /** Returns an id for the fault. */
  inject(fault: Fault): string;
  clearFaults(): void;
  configure(options: RuntimeOptions): void;
  /** Requests for one action, or for all actions when none is given. */
  callCount(action?: string): number;
  /** TCP connections clients opened since the last resetCalls(). */
  connectionCount(): number;
  resetCalls(): void;
  close(): Promise<void>;
}

/** An error SSM would answer with; `code` becomes `__type` and `x-amzn-ErrorType`. */
class SsmError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
  }
}

const validation = (message: string) => new SsmError("ValidationException", message);

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------
// Request field helpers. The error texts follow AWS's "1 validation error
// detected" format, which names the member in lowerCamelCase.

function member(key: string): string {
  return key.charAt(0).toLowerCase() + key.slice(1);
}

function optionalString(body: Json, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new SsmError("SerializationException", `Expected a string for ${key}`);
  return value;
}

function requiredString(body: Json, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined) {
    throw validation(`1 validation error detected: Value null at '${member(key)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function optionalEnum<T extends string>(body: Json, key: string, allowed: readonly T[]): T | undefined {
  const value = optionalString(body, key);
  if (value === undefined || (allowed as readonly string[]).includes(value)) return value as T | undefined;
  throw validation(
    `1 validation error detected: Value '${value}' at '${member(key)}' failed to satisfy constraint: Member must satisfy enum value set: [${[...allowed].sort().join(", ")}]`,
  );
}

function maxResults(body: Json, max: number): number {
  const value = body.MaxResults;
  if (value === undefined || value === null) return max;
  if (typeof value !== "number" || !Number.isInteger(value)) throw new SsmError("SerializationException", "Expected an integer for MaxResults");
  const prefix = `1 validation error detected: Value '${value}' at 'maxResults' failed to satisfy constraint: Member must have value`;
  if (value > max) throw validation(`${prefix} less than or equal to ${max}`);
  if (value < 1) throw validation(`${prefix} greater than or equal to 1`);
  return value;
}

// ---------------------------------------------------------------------------
// Names and paths

const INVALID_NAME =
  'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

const INVALID_PATH =
  'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/". It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.';

function validateName(name: string): void {
  if (name.length === 0) {
    throw validation("1 validation error detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1");
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw validation(
      `1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length less than or equal to ${MAX_NAME_LENGTH}`,
    );
  }
  if (name.includes("/") && !name.startsWith("/")) throw validation("Parameter name must be a fully qualified name.");
  const segments = (name.startsWith("/") ? name.slice(1) : name).split("/");
  const first = segments[0]?.toLowerCase() ?? "";
  if (!NAME_CHARACTERS.test(name) || segments.includes("") || first.startsWith("aws") || first.startsWith("ssm")) {
    throw validation(INVALID_NAME);
  }
  if (segments.length > MAX_HIERARCHY_LEVELS) {
    throw new SsmError(
      "HierarchyLevelLimitExceededException",
      `A hierarchy can have a maximum of ${MAX_HIERARCHY_LEVELS} levels. For more information, see Requirements and constraints for parameter names in the AWS Systems Manager User Guide.`,
    );
  }
}

/** "/a/b/" and "/a/b" are the same path; "/" stays "/". */
function normalisePath(path: string): string {
  if (!path.startsWith("/") || !NAME_CHARACTERS.test(path) || path.includes("//")) throw validation(INVALID_PATH);
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

/** Whether `name` lies under `path`: anywhere below it, or (one level) directly in it. */
function isUnder(name: string, path: string, recursive: boolean): boolean {
  const prefix = path === "/" ? "/" : `${path}/`;
  return name.startsWith(prefix) && (recursive || !name.slice(prefix.length).includes("/"));
}

// ---------------------------------------------------------------------------
// Pagination. A token carries the last name handed out, so a page stays right
// even if parameters are added or removed between calls, as SSM's do.

function paginate<T extends { name: string }>(sorted: T[], limit: number, token: string | undefined): { page: T[]; nextToken?: string } {
  let start = 0;
  if (token !== undefined) {
    const after = decodeToken(token);
    start = sorted.findIndex((item) => item.name > after);
    if (start === -1) start = sorted.length;
  }
  const page = sorted.slice(start, start + limit);
  const last = page[page.length - 1];
  if (start + limit >= sorted.length || !last) return { page };
  return { page, nextToken: Buffer.from(JSON.stringify({ after: last.name })).toString("base64url") };
}

function decodeToken(token: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof parsed === "object" && parsed !== null && typeof (parsed as Json).after === "string") return (parsed as Json).after as string;
  } catch {
    // falls through to the ValidationException below
  }
  throw validation("The nextToken is not valid.");
}

// ---------------------------------------------------------------------------
// The parameters themselves

interface PutInput {
  name: string;
  value: string;
  type?: ParameterType;
  tier?: (typeof TIERS)[number];
  keyId?: string;
  description?: string;
  overwrite: boolean;
  /** Who writes it; the seed user unless the request came through the API. */
  user?: string;
}

// KMS ciphertext blobs begin with these version bytes, which is why real
// SecureString ciphertexts all start "AQICAH" in base64.
const KMS_BLOB_HEADER = Buffer.from([0x01, 0x02, 0x02, 0x00, 0x78]);

class ParameterStore {
  private readonly params = new Map<string, StoredParameter>();
  /** Every version still kept, oldest first; the last is the current one. */
  private readonly versions = new Map<string, StoredParameter[]>();
  /** Each parameter's labels and the version each is on. */
  private readonly labels = new Map<string, Map<string, number>>();
  /** What a SecureString reads as without WithDecryption: fixed per version, like a stored KMS blob. */
  private readonly ciphertexts = new Map<string, string>();
  private readonly key = randomBytes(32);
  readonly region: string;

  constructor(region: string) {
    this.region = region;
  }

  arn(name: string): string {
    return `arn:aws:ssm:${this.region}:${TEST_ACCOUNT_ID}:parameter${name.startsWith("/") ? name : `/${name}`}`;
  }

  get(name: string): StoredParameter | undefined {
    const param = this.params.get(name);
    return param && { ...param };
  }

  /** Every parameter, sorted by name. */
  all(): StoredParameter[] {
    return [...this.params.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Validates as PutParameter does; `beforeEncrypt` lets a KMS fault refuse a SecureString. */
  put(input: PutInput, beforeEncrypt?: (name: string, keyId: string) => void): StoredParameter {
    validateName(input.name);
    const existing = this.params.get(input.name);
    if (existing && !input.overwrite) {
      throw new SsmError(
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
      );
    }
    const type = input.type ?? existing?.type;
    if (!type) throw validation("A parameter type is required when you create a parameter.");
    if (input.keyId !== undefined && type !== "SecureString") throw validation("KeyId is required for SecureString type parameter only.");
    if (input.value.length === 0) {
      throw validation("1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    const tier = resolveTier(input.tier, existing?.tier, input.value.length);
    const keyId = type === "SecureString" ? (input.keyId ?? existing?.keyId ?? DEFAULT_KEY_ID) : undefined;
    if (keyId) beforeEncrypt?.(input.name, keyId);
    const description = input.description ?? existing?.description;
    const param: StoredParameter = {
      name: input.name,
      type,
      value: input.value,
      version: (existing?.version ?? 0) + 1,
      lastModifiedDate: Date.now() / 1000,
      arn: this.arn(input.name),
      dataType: "text",
      tier,
      ...(keyId ? { keyId } : {}),
      ...(description !== undefined ? { description } : {}),
      lastModifiedUser: input.user ?? SEED_USER_ARN,
    };
    this.keepVersion(param);
    this.params.set(param.name, param);
    if (type === "SecureString") this.ciphertexts.set(param.name, this.encrypt(param.value));
    else this.ciphertexts.delete(param.name);
    return { ...param };
  }

  delete(name: string): boolean {
    // Deleting a parameter deletes its history and labels too, as in SSM.
    this.versions.delete(name);
    this.labels.delete(name);
    this.ciphertexts.delete(name);
    return this.params.delete(name);
  }

  /** SSM keeps 100 versions: the oldest goes, unless a label holds it. */
  private keepVersion(param: StoredParameter): void {
    const versions = this.versions.get(param.name) ?? [];
    if (versions.length >= MAX_VERSIONS) {
      const oldest = versions[0]!;
      if (this.labelsOf(param.name, oldest.version).length) {
        throw new SsmError(
          "ParameterMaxVersionLimitExceeded",
          `You attempted to create a new version of ${param.name} by calling the PutParameter API with the overwrite flag. Version ${oldest.version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
        );
      }
      versions.shift();
    }
    versions.push({ ...param });
    this.versions.set(param.name, versions);
  }

  /** The versions of `name`, oldest first. */
  history(name: string): StoredParameter[] {
    return (this.versions.get(name) ?? []).map((version) => ({ ...version }));
  }

  labelsOf(name: string, version: number): string[] {
    return [...(this.labels.get(name) ?? [])].filter(([, on]) => on === version).map(([label]) => label);
  }

  /** A `name:version` or `name:label` selector, as GetParameter takes it; a plain name is the current version. */
  select(selector: string): StoredParameter | undefined {
    const [name = "", choice] = selector.split(/:(.*)/s);
    if (choice === undefined) return this.get(name);
    if (!this.params.has(name)) return undefined;
    const version = /^\d+$/.test(choice) ? Number(choice) : this.labels.get(name)?.get(choice);
    const found = this.versions.get(name)?.find((kept) => kept.version === version);
    if (!found) {
      throw new SsmError("ParameterVersionNotFound", `Systems Manager could not find version ${choice} of ${name}. Verify the version and try again.`);
    }
    return { ...found };
  }

  /** Put `labels` on a version, moving each from wherever it was; returns the labels SSM would refuse. */
  label(name: string, version: number | undefined, labels: string[]): { invalid: string[]; version: number } {
    const current = this.params.get(name);
    if (!current) throw new SsmError("ParameterNotFound", `Parameter ${name} not found.`);
    const target = version ?? current.version;
    if (!this.versions.get(name)?.some((kept) => kept.version === target)) {
      throw new SsmError("ParameterVersionNotFound", `Systems Manager could not find version ${target} of ${name}. Verify the version and try again.`);
    }
    const invalid = labels.filter((label) => !LABEL.test(label) || /^(aws|ssm)/i.test(label));
    const valid = [...new Set(labels.filter((label) => !invalid.includes(label)))];
    const onVersion = new Set([...this.labelsOf(name, target), ...valid]);
    if (onVersion.size > MAX_LABELS_PER_VERSION) {
      throw new SsmError("ParameterVersionLabelLimitExceeded", `A parameter version can have maximum ${MAX_LABELS_PER_VERSION} labels. Move one or more labels to another version and try again.`);
    }
    const byLabel = this.labels.get(name) ?? new Map<string, number>();
    for (const label of valid) byLabel.set(label, target);
    this.labels.set(name, byLabel);
    return { invalid, version: target };
  }

  /** A version as GetParameterHistory returns it. */
  historyView(param: StoredParameter, withDecryption: boolean): Json {
    return {
      ...this.metadata(param),
      Value: param.type === "SecureString" && !withDecryption ? this.encrypt(param.value) : param.value,
      LastModifiedUser: param.lastModifiedUser,
      Labels: this.labelsOf(param.name, param.version),
    };
  }

  /** A parameter as GetParameter(s)/GetParametersByPath return it. */
  view(param: StoredParameter, withDecryption: boolean): Json {
    const ciphertext = this.ciphertexts.get(param.name);
    return {
      Name: param.name,
      Type: param.type,
      Value: param.type === "SecureString" && !withDecryption ? ciphertext : param.value,
      Version: param.version,
      LastModifiedDate: param.lastModifiedDate,
      ARN: param.arn,
      DataType: param.dataType,
    };
  }

  /** A parameter as DescribeParameters returns it: metadata, never the value. */
  metadata(param: StoredParameter): Json {
    return {
      Name: param.name,
      ARN: param.arn,
      Type: param.type,
      ...(param.keyId ? { KeyId: param.keyId } : {}),
      LastModifiedDate: param.lastModifiedDate,
      ...(param.description !== undefined ? { Description: param.description } : {}),
      Version: param.version,
      Tier: param.tier,
      Policies: [],
      DataType: param.dataType,
    };
  }

  /** Real encryption under a per-server key, so the text is as opaque as a KMS blob and never contains the plaintext. */
  private encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([KMS_BLOB_HEADER, iv, cipher.getAuthTag(), body]).toString("base64");
  }
}

function resolveTier(requested: PutInput["tier"], existing: ParameterTier | undefined, length: number): ParameterTier {
  // Intelligent-Tiering picks Standard when the value fits, as SSM does.
  const tier = requested === "Intelligent-Tiering" ? (length > STANDARD_MAX_VALUE ? "Advanced" : "Standard") : (requested ?? existing ?? "Standard");
  if (tier === "Standard" && length > STANDARD_MAX_VALUE) {
    throw validation(
      `Standard tier parameters support a maximum parameter value of ${STANDARD_MAX_VALUE} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html`,
    );
  }
  if (length > ADVANCED_MAX_VALUE) {
    throw validation(
      `1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${ADVANCED_MAX_VALUE}`,
    );
  }
  return tier;
}

// ---------------------------------------------------------------------------
// Faults

interface ActiveFault extends Fault {
  id: string;
  /** Matches still allowed; undefined means unlimited. */
  remaining?: number;
}

const FAULT_KINDS: readonly FaultKind[] = ["throttle", "server-error", "delay", "reset", "access-denied", "kms"];

class FaultSet {
  private faults: ActiveFault[] = [];
  private nextId = 1;

  inject(fault: Fault): string {
    if (!FAULT_KINDS.includes(fault.kind)) throw new Error(`unknown fault kind ${JSON.stringify(fault.kind)}`);
    const id = `fault-${this.nextId++}`;
    this.faults.push({ ...fault, id, ...(fault.times !== undefined ? { remaining: fault.times } : {}) });
    return id;
  }

  clear(): void {
    this.faults = [];
  }

  /** Consumes every live fault of these kinds that matches; `names` are what pathPrefix is tested against. */
  takeAll(kinds: readonly FaultKind[], action: string, names: string[]): ActiveFault[] {
    const hits = this.faults.filter((fault) => this.matches(fault, kinds, action, names));
    for (const hit of hits) if (hit.remaining !== undefined) hit.remaining--;
    return hits;
  }

  /** Consumes only the first match: one failure answers one request. */
  takeFirst(kinds: readonly FaultKind[], action: string, names: string[]): ActiveFault | undefined {
    const hit = this.faults.find((fault) => this.matches(fault, kinds, action, names));
    if (hit?.remaining !== undefined) hit.remaining--;
    return hit;
  }

  private matches(fault: ActiveFault, kinds: readonly FaultKind[], action: string, names: string[]): boolean {
    const prefix = fault.pathPrefix;
    return (
      kinds.includes(fault.kind) &&
      (fault.remaining === undefined || fault.remaining > 0) &&
      (fault.action === undefined || fault.action === "*" || fault.action === action) &&
      (prefix === undefined || names.some((name) => name.startsWith(prefix)))
    );
  }
}

/** The parameter names a request is about, for matching pathPrefix. A Path gets a trailing "/" so "/app" and "/app/" match alike. */
function requestNames(body: Json | undefined): string[] {
  if (!body) return [];
  const names: string[] = [];
  if (typeof body.Path === "string") names.push(body.Path.endsWith("/") ? body.Path : `${body.Path}/`);
  if (typeof body.Name === "string") names.push(body.Name);
  if (Array.isArray(body.Names)) names.push(...body.Names.filter((name): name is string => typeof name === "string"));
  return names;
}

function kmsKeyArn(keyId: string, region: string): string {
  if (keyId.startsWith("arn:")) return keyId;
  return `arn:aws:kms:${region}:${TEST_ACCOUNT_ID}:${keyId.startsWith("alias/") ? keyId : `key/${keyId}`}`;
}

// SSM passes a KMS failure through as its own error with KMS's message and a
// "(Service: AWSKMS; …)" suffix naming KMS's error code; seen in the wild as:
//   AccessDeniedException … GetParameter: User: arn:aws:iam::…:user/… is not authorized to perform:
//     kms:Decrypt on resource: arn:aws:kms:…:key/… because no resource-based policy allows the
//     kms:Decrypt action (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: …; Proxy: null)
//     (hashicorp/terraform-provider-aws#42849)
//   InvalidKeyId … PutParameter: Key 'arn:aws:kms:…:key/…' does not exist
//     (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: …; Proxy: null)
//     (binxio/aws-ssm-copy#10)
function kmsDecryptError(keyArn: string): SsmError {
  return new SsmError(
    "AccessDeniedException",
    `User: ${CALLER_ARN} is not authorized to perform: kms:Decrypt on resource: ${keyArn} because no identity-based policy allows the kms:Decrypt action (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null)`,
  );
}

function kmsEncryptError(keyArn: string): SsmError {
  return new SsmError(
    "InvalidKeyId",
    `Key '${keyArn}' does not exist (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: ${randomUUID()}; Proxy: null)`,
  );
}

/** The error an injected throttle, server-error or access-denied fault answers with. */
function faultError(fault: ActiveFault, action: string, names: string[], region: string, store: ParameterStore): SsmError {
  switch (fault.kind) {
    case "throttle":
      return new SsmError("ThrottlingException", "Rate exceeded", fault.status ?? 400);
    case "server-error": {
      const status = fault.status ?? 500;
      return status === 503
        ? new SsmError("ServiceUnavailable", "Service Unavailable", status)
        : new SsmError("InternalServerError", "An internal error occurred. Please try again.", status);
    }
    default: {
      // access-denied names the parameter (or path) the matched prefix covers, as IAM does.
      const prefix = fault.pathPrefix;
      const name = names.find((n) => prefix === undefined || n.startsWith(prefix));
      const resource = name === undefined ? `arn:aws:ssm:${region}:${TEST_ACCOUNT_ID}:*` : store.arn(name.length > 1 && name.endsWith("/") ? name.slice(0, -1) : name);
      return new SsmError(
        "AccessDeniedException",
        `User: ${CALLER_ARN} is not authorized to perform: ssm:${action} on resource: ${resource} because no identity-based policy allows the ssm:${action} action`,
        fault.status ?? 400,
      );
    }
  }
}

// ---------------------------------------------------------------------------
// Rate limiting: one token bucket shared by every caller, as an account's
// per-region API quota is.

class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private readonly rate: number;
  private readonly burst: number;

  constructor(limit: RateLimit) {
    if (!(limit.requestsPerSecond > 0)) throw new Error("rateLimit.requestsPerSecond must be a positive number");
    this.rate = limit.requestsPerSecond;
    this.burst = limit.burst ?? Math.max(1, limit.requestsPerSecond);
    this.tokens = this.burst;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

// ---------------------------------------------------------------------------
// SigV4

const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

interface AuthConfig {
  region: string;
  credentials: SsmCredentials;
  expiredToken?: string;
  /** Temporary credentials STS issued, by access key id. */
  issued: Map<string, IssuedCredentials>;
}

/** Checks a request's Authorization header the way AWS does, throwing the error AWS would answer with; returns the caller's ARN. */
function verifySignature(req: IncomingMessage, body: Buffer, auth: AuthConfig, expectedService = "ssm"): string {
  const authorization = headerValue(req, "authorization");
  if (!authorization) throw new SsmError("MissingAuthenticationTokenException", "Missing Authentication Token");
  const match = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization);
  const amzDate = headerValue(req, "x-amz-date");
  if (!match || !amzDate) {
    throw new SsmError(
      "IncompleteSignatureException",
      `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters, and an 'X-Amz-Date' header. Authorization=${authorization}`,
    );
  }
  const [, credential = "", signedHeaders = "", signature = ""] = match;
  const [accessKeyId, date, region, service, terminator] = credential.split("/");
  if (service !== expectedService || terminator !== "aws4_request") {
    throw new SsmError("InvalidSignatureException", `Credential should be scoped to correct service: '${expectedService}'. `);
  }
  if (region !== auth.region) throw new SsmError("InvalidSignatureException", "Credential should be scoped to a valid region. ");
  if (date !== amzDate.slice(0, 8)) {
    throw new SsmError(
      "InvalidSignatureException",
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from 'X-Amz-Date'.`,
    );
  }
  const signer = accessKeyId === auth.credentials.accessKeyId ? { ...auth.credentials, arn: CALLER_ARN } : auth.issued.get(accessKeyId ?? "");
  if (!signer) {
    throw new SsmError("UnrecognizedClientException", "The security token included in the request is invalid.");
  }
  const token = headerValue(req, "x-amz-security-token");
  if (auth.expiredToken !== undefined && token === auth.expiredToken) {
    throw new SsmError("ExpiredTokenException", "The security token included in the request is expired");
  }
  if (token !== signer.sessionToken) {
    throw new SsmError("UnrecognizedClientException", "The security token included in the request is invalid.");
  }

  const names = signedHeaders.split(";");
  const canonicalHeaders = names.map((name) => `${name}:${(headerValue(req, name) ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  // SSM's canonical URI is always "/" with an empty query string.
  const canonicalRequest = ["POST", "/", "", canonicalHeaders, signedHeaders, sha256Hex(body)].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${signer.secretAccessKey}`, date);
  for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
  if (!timingSafeEqual(hmac(key, stringToSign), Buffer.from(signature, "hex"))) {
    throw new SsmError(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
  return signer.arn;
}

// ---------------------------------------------------------------------------
// Actions

interface ActionContext {
  store: ParameterStore;
  secrets: SecretsManagerBridge;
  /** Who signed the request. */
  caller: string;
  /** Throws SSM's KMS failure when a kms fault covers one of the SecureStrings about to be decrypted. */
  checkDecrypt(params: StoredParameter[]): void;
  /** Throws SSM's KMS failure when a kms fault covers the SecureString about to be encrypted. */
  checkEncrypt(name: string, keyId: string): void;
}

function parameterFilter(raw: unknown): (param: StoredParameter) => boolean {
  if (typeof raw !== "object" || raw === null) throw new SsmError("SerializationException", "Expected a ParameterStringFilter");
  const filter = raw as Json;
  const key = requiredString(filter, "Key");
  const option = optionalString(filter, "Option");
  const values = filter.Values;
  if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === "string")) {
    throw new SsmError("InvalidFilterValue", `The filter value is not valid for key '${key}'.`);
  }
  if (key === "Name") {
    if ((option ?? "Equals") === "Equals") return (p) => values.includes(p.name);
    if (option === "BeginsWith") return (p) => values.some((v: string) => p.name.startsWith(v));
  } else if (key === "Path") {
    const paths = values.map(normalisePath);
    if (option === undefined || option === "OneLevel" || option === "Recursive") {
      return (p) => paths.some((path) => isUnder(p.name, path, option === "Recursive"));
    }
  } else {
    throw new SsmError("InvalidFilterKey", `The filter key '${key}' is not supported by this test server; use Name or Path.`);
  }
  throw new SsmError(
    "InvalidFilterOption",
    `The filter option '${option}' is not valid. Valid options are Equals and BeginsWith. For Path filter, valid options are Recursive and OneLevel.`,
  );
}

const ACTIONS: Record<string, (ctx: ActionContext, body: Json) => Json> = {
  GetParametersByPath(ctx, body) {
    const path = normalisePath(requiredString(body, "Path"));
    const recursive = body.Recursive === true;
    const withDecryption = body.WithDecryption === true;
    const matching = ctx.store.all().filter((p) => isUnder(p.name, path, recursive));
    const { page, nextToken } = paginate(matching, maxResults(body, 10), optionalString(body, "NextToken"));
    if (withDecryption) ctx.checkDecrypt(page);
    return { Parameters: page.map((p) => ctx.store.view(p, withDecryption)), ...(nextToken ? { NextToken: nextToken } : {}) };
  },

  GetParameter(ctx, body) {
    const name = requiredString(body, "Name");
    const withDecryption = body.WithDecryption === true;
    const param = ctx.store.select(name);
    if (!param) throw new SsmError("ParameterNotFound", `Parameter ${name} not found.`);
    if (withDecryption) ctx.checkDecrypt([param]);
    return { Parameter: ctx.store.view(param, withDecryption) };
  },

  GetParameters(ctx, body) {
    const names = body.Names;
    if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) {
      throw validation("1 validation error detected: Value null at 'names' failed to satisfy constraint: Member must not be null");
    }
    const prefix = `1 validation error detected: Value '[${names.join(", ")}]' at 'names' failed to satisfy constraint: Member must have length`;
    if (names.length > 10) throw validation(`${prefix} less than or equal to 10`);
    if (names.length < 1) throw validation(`${prefix} greater than or equal to 1`);
    const withDecryption = body.WithDecryption === true;
    const unique = [...new Set(names as string[])];
    const [bridged, parameters] = [unique.filter(SecretsManagerBridge.handles), unique.filter((name) => !SecretsManagerBridge.handles(name))];
    if (bridged.length && !withDecryption) throw validation("WithDecryption flag must be True for retrieving a Secret Manager secret.");
    const secrets = bridged.map((name) => [name, ctx.secrets.read(name)] as const);
    const found = parameters.flatMap((name) => ctx.store.get(name) ?? []);
    if (withDecryption) ctx.checkDecrypt(found);
    return {
      Parameters: [...found.map((p) => ctx.store.view(p, withDecryption)), ...secrets.flatMap(([, secret]) => secret ?? [])],
      InvalidParameters: [...parameters.filter((name) => !ctx.store.get(name)), ...secrets.filter(([, secret]) => !secret).map(([name]) => name)],
    };
  },

  DescribeParameters(ctx, body) {
    const filters = body.ParameterFilters ?? [];
    if (!Array.isArray(filters)) throw new SsmError("SerializationException", "Expected a list for ParameterFilters");
    const predicates = filters.map(parameterFilter);
    const matching = ctx.store.all().filter((p) => predicates.every((keep) => keep(p)));
    const { page, nextToken } = paginate(matching, maxResults(body, 50), optionalString(body, "NextToken"));
    return { Parameters: page.map((p) => ctx.store.metadata(p)), ...(nextToken ? { NextToken: nextToken } : {}) };
  },

  PutParameter(ctx, body) {
    const input: PutInput = {
      name: requiredString(body, "Name"),
      value: requiredString(body, "Value"),
      overwrite: body.Overwrite === true,
    };
    const type = optionalEnum(body, "Type", TYPES);
    const tier = optionalEnum(body, "Tier", TIERS);
    const keyId = optionalString(body, "KeyId");
    const description = optionalString(body, "Description");
    if (type) input.type = type;
    if (tier) input.tier = tier;
    if (keyId !== undefined) input.keyId = keyId;
    if (description !== undefined) input.description = description;
    const param = ctx.store.put({ ...input, user: ctx.caller }, ctx.checkEncrypt);
    return { Version: param.version, Tier: param.tier };
  },

  GetParameterHistory(ctx, body) {
    const name = requiredString(body, "Name");
    const versions = ctx.store.history(name);
    if (versions.length === 0) throw new SsmError("ParameterNotFound", `Parameter ${name} not found.`);
    const withDecryption = body.WithDecryption === true;
    const limit = maxResults(body, 50);
    const token = optionalString(body, "NextToken");
    const after = token === undefined ? 0 : Number(decodeToken(token));
    const page = versions.filter((version) => version.version > after).slice(0, limit);
    if (withDecryption) ctx.checkDecrypt(page);
    const last = page.at(-1);
    const more = last !== undefined && versions.some((version) => version.version > last.version);
    return {
      Parameters: page.map((version) => ctx.store.historyView(version, withDecryption)),
      ...(more ? { NextToken: Buffer.from(JSON.stringify({ after: String(last.version) })).toString("base64url") } : {}),
    };
  },

  LabelParameterVersion(ctx, body) {
    const name = requiredString(body, "Name");
    const labels = body.Labels;
    if (!Array.isArray(labels) || labels.length < 1 || labels.length > MAX_LABELS_PER_VERSION || !labels.every((label) => typeof label === "string")) {
      throw validation(`1 validation error detected: Value at 'labels' failed to satisfy constraint: Member must have length less than or equal to ${MAX_LABELS_PER_VERSION} and greater than or equal to 1`);
    }
    const version = body.ParameterVersion === undefined ? undefined : Number(body.ParameterVersion);
    const result = ctx.store.label(name, version, labels as string[]);
    return { InvalidLabels: result.invalid, ParameterVersion: result.version };
  },

  DeleteParameter(ctx, body) {
    const name = requiredString(body, "Name");
    if (!ctx.store.delete(name)) throw new SsmError("ParameterNotFound", `Parameter ${name} not found.`);
    return {};
  },
};

// ---------------------------------------------------------------------------
// HTTP

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function parseJson(raw: Buffer): Json | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/x-amz-json-1.1",
    "Content-Length": String(Buffer.byteLength(payload)),
    "x-amzn-RequestId": randomUUID(),
    ...headers,
  });
  res.end(payload);
}

function sendError(res: ServerResponse, error: SsmError): void {
  send(res, error.status, { __type: error.code, message: error.message }, { "x-amzn-ErrorType": error.code });
}

// unref: a delayed answer nobody waits for any more must not keep the test process alive.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function checkLatency(latencyMs: number): number {
  if (!(latencyMs >= 0)) throw new Error("latencyMs must be a non-negative number");
  return latencyMs;
}

export async function startSsmServer(options: SsmServerOptions = {}): Promise<SsmServer> {
  const region = options.region ?? TEST_CREDENTIALS.region;
  const credentials: SsmCredentials = options.credentials ?? {
    accessKeyId: TEST_CREDENTIALS.accessKeyId,
    secretAccessKey: TEST_CREDENTIALS.secretAccessKey,
  };
  const auth: AuthConfig = { region, credentials, issued: new Map(), ...(options.expiredToken !== undefined ? { expiredToken: options.expiredToken } : {}) };
  const store = new ParameterStore(region);
  const secrets = new SecretsManagerBridge(region, TEST_ACCOUNT_ID);
  const faults = new FaultSet();
  const requests: RecordedRequest[] = [];
  let latencyMs = checkLatency(options.latencyMs ?? 0);
  let bucket = options.rateLimit ? new TokenBucket(options.rateLimit) : undefined;

  for (const seed of options.params ?? []) {
    store.put({ name: seed.name, value: seed.value, type: seed.type ?? "String", ...(seed.tier ? { tier: seed.tier } : {}), overwrite: true });
  }

  async function handleSsm(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const target = headerValue(req, "x-amz-target") ?? "";
    const action = target.replace(/^AmazonSSM\./, "");
    const body = parseJson(raw);
    const record: RecordedRequest = { action, target, body: body ?? raw.toString("utf8"), at: Date.now(), userAgent: headerValue(req, "user-agent") ?? "" };
    requests.push(record);
    const names = requestNames(body);

    // Network-level behaviour first: it happens before AWS ever looks at the request.
    const delay = faults.takeAll(["delay"], action, names).reduce((total, fault) => total + (fault.delayMs ?? 0), latencyMs);
    if (delay > 0) await sleep(delay);
    if (faults.takeFirst(["reset"], action, names)) {
      req.socket.destroy();
      return;
    }

    if (req.method !== "POST" || req.url !== "/" || !Object.hasOwn(ACTIONS, action)) {
      throw new SsmError("UnknownOperationException", `Unknown operation ${target || "(no X-Amz-Target)"}`);
    }
    record.caller = verifySignature(req, raw, auth);
    if (!body) throw new SsmError("SerializationException", "The request body is not a JSON object");
    if (bucket && !bucket.take()) throw new SsmError("ThrottlingException", "Rate exceeded");
    const fault = faults.takeFirst(["throttle", "server-error", "access-denied"], action, names);
    if (fault) throw faultError(fault, action, names, region, store);

    const ctx: ActionContext = {
      store,
      secrets,
      caller: record.caller,
      checkDecrypt(params) {
        for (const param of params) {
          if (param.type !== "SecureString" || !param.keyId) continue;
          if (faults.takeFirst(["kms"], action, [param.name])) throw kmsDecryptError(kmsKeyArn(param.keyId, region));
        }
      },
      checkEncrypt(name, keyId) {
        if (faults.takeFirst(["kms"], action, [name])) throw kmsEncryptError(kmsKeyArn(keyId, region));
      },
    };
    const handler = ACTIONS[action] as (ctx: ActionContext, body: Json) => Json;
    send(res, 200, handler(ctx, body));
  }

  /** STS's AssumeRole, signed for service sts; answers in XML as the query protocol does. */
  function handleSts(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const form = new URLSearchParams(raw.toString("utf8"));
    const record: RecordedRequest = { action: `sts:${form.get("Action") ?? ""}`, target: "sts", body: Object.fromEntries(form), at: Date.now(), userAgent: headerValue(req, "user-agent") ?? "" };
    requests.push(record);
    const reply = (status: number, xml: string) => res.writeHead(status, { "Content-Type": "text/xml", "x-amzn-RequestId": randomUUID() }).end(xml);
    try {
      record.caller = verifySignature(req, raw, auth, "sts");
      reply(200, answerSts(form, record.caller, options.roles ?? [], (issued) => auth.issued.set(issued.accessKeyId, issued)));
    } catch (error) {
      const sts = error instanceof StsError ? error : new StsError((error as SsmError).code ?? "InternalFailure", (error as Error).message, (error as SsmError).status ?? 500);
      reply(sts.status, stsErrorXml(sts));
    }
  }

  function handleControl(body: Json | undefined): Json {
    const str = (key: string): string => {
      const value = body?.[key];
      if (typeof value !== "string") throw new Error(`"${key}" must be a string`);
      return value;
    };
    switch (body?.op) {
      case "put": {
        const { type, tier, keyId, overwrite } = body as Json;
        const parameter = api.put(str("name"), str("value"), {
          ...(type !== undefined ? { type: type as ParameterType } : {}),
          ...(tier !== undefined ? { tier: tier as ParameterTier } : {}),
          ...(keyId !== undefined ? { keyId: String(keyId) } : {}),
          ...(overwrite !== undefined ? { overwrite: overwrite === true } : {}),
        });
        return { parameter };
      }
      case "delete":
        return { deleted: api.delete(str("name")) };
      case "putSecret":
        return { versionId: api.putSecret(str("secretId"), str("value"), { stages: ((body as Json).stages as string[] | undefined) ?? [] }) };
      case "deleteSecret":
        return { deleted: api.deleteSecret(str("secretId")) };
      case "inject": {
        const { op: _op, ...fault } = body as Json;
        return { id: api.inject(fault as unknown as Fault) };
      }
      case "clearFaults":
        api.clearFaults();
        return { ok: true };
      case "calls": {
        const byAction: Record<string, number> = {};
        for (const request of requests) byAction[request.action] = (byAction[request.action] ?? 0) + 1;
        return { total: requests.length, byAction };
      }
      case "resetCalls":
        api.resetCalls();
        return { ok: true };
      case "configure": {
        const { latencyMs: latency, rateLimit } = body as Json;
        api.configure({
          ...(latency !== undefined ? { latencyMs: Number(latency) } : {}),
          ...(rateLimit !== undefined ? { rateLimit: rateLimit as RateLimit | null } : {}),
        });
        return { ok: true };
      }
      case "dump":
        return { params: store.all() };
      default:
        throw new Error(`unknown op ${JSON.stringify(body?.op)}; expected put, delete, putSecret, deleteSecret, inject, clearFaults, calls, resetCalls, configure or dump`);
    }
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const raw = await readBody(req);
      if (req.url === "/__control") {
        try {
          const reply = handleControl(parseJson(raw));
          res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(reply));
        } catch (error) {
          res.writeHead(400, { "Content-Type": "application/json" }).end(JSON.stringify({ error: (error as Error).message }));
        }
        return;
      }
      if (headerValue(req, "content-type")?.startsWith("application/x-www-form-urlencoded")) return handleSts(req, res, raw);
      await handleSsm(req, res, raw);
    })().catch((error: unknown) => {
      if (error instanceof SsmError) return sendError(res, error);
      console.error("ssm-server: unexpected error", error);
      sendError(res, new SsmError("InternalServerError", String((error as Error)?.message ?? error), 500));
    });
  };
  const server = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createServer(handler);
  let connections = 0;
  server.on("connection", () => connections++);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const api: SsmServer = {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    region,
    credentials,
    requests,
    put(name, value, putOptions = {}) {
      const type = putOptions.type ?? (store.get(name) ? undefined : "String");
      return store.put({
        name,
        value,
        overwrite: putOptions.overwrite ?? true,
        ...(type ? { type } : {}),
        ...(putOptions.tier ? { tier: putOptions.tier } : {}),
        ...(putOptions.keyId !== undefined ? { keyId: putOptions.keyId } : {}),
      });
    },
    delete: (name) => store.delete(name),
    get: (name) => store.get(name),
    putSecret: (secretId, value, secretOptions) => secrets.put(secretId, value, secretOptions),
    deleteSecret: (secretId) => secrets.delete(secretId),
    inject: (fault) => faults.inject(fault),
    clearFaults: () => faults.clear(),
    configure(runtime) {
      if (runtime.latencyMs !== undefined) latencyMs = checkLatency(runtime.latencyMs);
      if (runtime.rateLimit !== undefined) bucket = runtime.rateLimit ? new TokenBucket(runtime.rateLimit) : undefined;
    },
    callCount: (action) => (action === undefined ? requests.length : requests.filter((r) => r.action === action).length),
    connectionCount: () => connections,
    resetCalls() {
      // Emptied in place: callers may hold on to `requests`.
      requests.length = 0;
      connections = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps connections alive; close() would wait for them otherwise.
        server.closeAllConnections();
      }),
  };
  return api;
}

/**
 * Environment that points the real SDK (and the compiled hook) at `server`
 * and shuts out everything on the host: profiles, config files, instance
 * metadata, a stray session token.
 */
export function sdkEnv(server: Pick<SsmServer, "url" | "region" | "credentials">): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SSM: server.url,
    AWS_REGION: server.region,
    AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    // The SDK treats an empty token as none, so this also hides the host's.
    AWS_SESSION_TOKEN: server.credentials.sessionToken ?? "",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PROFILE: "",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    // Set to "true" on a host, this would make the SDK ignore AWS_ENDPOINT_URL_SSM.
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "false",
  };
}

// ---------------------------------------------------------------------------
// Child-process mode

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      seed: { type: "string" },
      "latency-ms": { type: "string" },
      "rate-limit": { type: "string" },
    },
  });
  const number = (flag: string, text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`--${flag} needs a number, got ${JSON.stringify(text)}`);
    return value;
  };
  const params: unknown = values.seed ? JSON.parse(readFileSync(values.seed, "utf8")) : [];
  if (!Array.isArray(params)) throw new Error("the seed file must hold a JSON array of {name, value, type?, tier?}");
  const server = await startSsmServer({
    params: params as SeedParam[],
    ...(values.port ? { port: number("port", values.port) } : {}),
    ...(values["latency-ms"] ? { latencyMs: number("latency-ms", values["latency-ms"]) } : {}),
    ...(values["rate-limit"] ? { rateLimit: { requestsPerSecond: number("rate-limit", values["rate-limit"]) } } : {}),
  });
  process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port })}\n`);
  const stop = () => void server.close().finally(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
