// The seam between what a job gets and where it comes from. Phases and plans
// talk to a SecretStore; `ssm.ts` is the real one, tests may run it against
// the local SSM endpoint or hand a plan fixed parameters.

export interface Parameter {
  name: string;
  value: string;
  /** String, StringList or SecureString. */
  type: string;
  version?: number;
  lastModified?: Date;
}

export interface SecretStore {
  /** Every parameter below `path`, recursively, SecureStrings decrypted. */
  readTree(path: string): Promise<Parameter[]>;
  /** The named parameters, decrypted; names that do not exist are listed apart. */
  readNames(names: string[]): Promise<{ found: Parameter[]; missing: string[] }>;
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
