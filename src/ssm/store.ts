// The seam between what a job gets and where it comes from. Phases and plans
// talk to a SecretStore; client.ts's createSsmStore is the real one, tests
// may run it against the local SSM endpoint or hand a plan fixed parameters.
// The operator commands also manage the tree through a ParameterAdmin
// (admin.ts's createParameterAdmin); a job's phases never get one.

/** What SSM says about a parameter without revealing its value. */
export interface ParameterInfo {
  name: string;
  /** String, StringList or SecureString. */
  type: string;
  version?: number;
  lastModified?: Date;
  /** Standard or Advanced; only listings report it. */
  tier?: string;
}

export interface Parameter extends ParameterInfo {
  value: string;
}

export interface SecretStore {
  /** Every parameter below `path`, recursively, SecureStrings decrypted. */
  readTree(path: string): Promise<Parameter[]>;
  /** The named parameters, decrypted; names that do not exist are listed apart. */
  readNames(names: string[]): Promise<{ found: Parameter[]; missing: string[] }>;
  /** Whether any parameter lives below `path`: one request, nothing decrypted. */
  holdsAny(path: string): Promise<boolean>;
}

export interface PutRequest {
  name: string;
  value: string;
  type: "SecureString" | "String" | "StringList";
  /** The KMS key for a SecureString; SSM's default key (alias/aws/ssm) when absent. */
  keyId?: string;
  /** Replace an existing parameter; without it, an existing one is an error. */
  overwrite: boolean;
  /** Needed for values over 4 KB; absent leaves the tier to SSM (Standard for a new parameter). */
  tier?: "Advanced";
}

/** One version of a parameter as its history lists it: who wrote it and when, never its value. */
export interface ParameterVersion {
  version: number;
  type: string;
  lastModified?: Date;
  /** The IAM identity (ARN) that wrote it. */
  changedBy?: string;
  labels: string[];
  /** The KMS key of a SecureString version. */
  keyId?: string;
}

/** Managing the tree, for the operator commands. Reads a value only to write it back (rollback). */
export interface ParameterAdmin {
  /** Every parameter below `path`, recursively: names and metadata, no values. */
  listTree(path: string): Promise<ParameterInfo[]>;
  put(request: PutRequest): Promise<{ version: number; tier: string }>;
  /** Fails with a StoreError (code ParameterNotFound) when there is nothing to delete. */
  remove(name: string): Promise<void>;
  /** The versions SSM keeps of `name`, oldest first, without values. */
  history(name: string): Promise<ParameterVersion[]>;
  /** One version, decrypted: only ever written back, never shown. */
  readVersion(name: string, version: number): Promise<Parameter>;
  /** Put labels on a version (SSM moves each from any other version); returns the labels SSM refused. */
  label(name: string, version: number, labels: string[]): Promise<string[]>;
}

/** A read that failed, with the path it was for and what the operator can do. */
export class StoreError extends Error {
  override name = "StoreError";
  constructor(
    message: string,
    readonly path: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The one way to say a parameter is not there, whether SSM said so or a listing showed it. */
export function parameterNotFound(path: string, nothingTo: string): StoreError {
  return new StoreError(`${path} does not exist: nothing to ${nothingTo} (bk-ssm-secrets ls shows what is there)`, path, "ParameterNotFound");
}
