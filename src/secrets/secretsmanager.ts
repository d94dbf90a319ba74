// Secrets Manager references: `<slug>/secretsmanager/<KEY>` holds the id of
// a Secrets Manager secret, optionally a version stage and a key of its JSON:
//
//   SECRET-ID            the secret's string
//   SECRET-ID#KEY        the value of KEY in the secret's JSON object
//   SECRET-ID:STAGE      the version labelled STAGE (e.g. AWSPREVIOUS)
//   SECRET-ID:STAGE#KEY  both
//
// Secret names hold letters, digits and / _ + = . @ -, so neither `:` nor
// `#` can be part of one. The secrets are read through Parameter Store's
// bridge (`/aws/reference/secretsmanager/SECRET-ID[:STAGE]`, GetParameters
// with decryption), so no second AWS client is needed: one extra round trip,
// after the plan has decided which references the job gets (so a denied job
// or an overridden reference never reads a secret). All or nothing: any
// reference that cannot be resolved fails the job, naming the parameter and
// the secret, never a value.
import { planJob, withoutNulValues, type EnvAssignment, type JobPlan, type SlugRead } from "../job/plan.ts";
import type { JobIdentity } from "../job/acl.ts";
import type { Logger } from "../core/log.ts";
import { StoreError, type SecretStore } from "../ssm/store.ts";

export const BRIDGE_PREFIX = "/aws/reference/secretsmanager/";
export const REFERENCE_SYNTAX = "SECRET-ID, SECRET-ID#KEY, SECRET-ID:STAGE or SECRET-ID:STAGE#KEY";

/** GetParameters' largest request. */
const NAMES_PER_CALL = 10;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const STAGE = /^[A-Za-z0-9_+=.@-]{1,256}$/;

export interface SecretReference {
  secretId: string;
  stage?: string;
  /** A top-level key of the secret's JSON object. */
  jsonKey?: string;
}

/** Parse a reference, or say (without repeating it) why it is not one. Surrounding whitespace is ignored. */
export function parseReference(text: string): SecretReference | { problem: string } {
  const trimmed = text.trim();
  const hash = trimmed.indexOf("#");
  const secret = hash < 0 ? trimmed : trimmed.slice(0, hash);
  const jsonKey = hash < 0 ? undefined : trimmed.slice(hash + 1);
  if (/^arn:/i.test(secret)) return { problem: "it holds an ARN; name the secret by its name, as Parameter Store's bridge does" };
  const colon = secret.indexOf(":");
  const secretId = colon < 0 ? secret : secret.slice(0, colon);
  const stage = colon < 0 ? undefined : secret.slice(colon + 1);
  if (!SECRET_NAME.test(secretId)) return { problem: "the secret id is not a Secrets Manager name (1 to 512 letters, digits and / _ + = . @ -)" };
  if (stage !== undefined && !STAGE.test(stage)) return { problem: `the version stage after ${secretId}: is not a staging label (letters, digits and _ + = . @ -)` };
  if (jsonKey === "") return { problem: `nothing follows the # after ${secret}: name a JSON key, or drop the #` };
  return { secretId, ...(stage !== undefined ? { stage } : {}), ...(jsonKey !== undefined ? { jsonKey } : {}) };
}

/** The Parameter Store name that reads the secret (and version stage) a reference names. */
export function bridgeName(reference: SecretReference): string {
  return `${BRIDGE_PREFIX}${reference.secretId}${reference.stage ? `:${reference.stage}` : ""}`;
}

/** How a reference is described to the operator: the secret, its stage and key; never a value. */
export function describeReference(reference: SecretReference): string {
  const stage = reference.stage ? ` (stage ${reference.stage})` : "";
  const key = reference.jsonKey !== undefined ? `, key ${JSON.stringify(reference.jsonKey)}` : "";
  return `Secrets Manager secret ${reference.secretId}${stage}${key}`;
}

/** The name without its `:STAGE` selector, as SSM answers a labelled request. */
const withoutSelector = (name: string) => name.replace(/:[^/]*$/, "");

/**
 * Split names into calls of at most ten, never two stages of one secret in a
 * call: SSM answers a labelled name without its label, so within a call each
 * answer must map back to exactly one request.
 */
export function bridgeCalls(names: string[]): string[][] {
  const calls: string[][] = [];
  for (const name of names) {
    const call = calls.find((batch) => batch.length < NAMES_PER_CALL && !batch.some((other) => withoutSelector(other) === withoutSelector(name)));
    if (call) call.push(name);
    else calls.push([name]);
  }
  return calls;
}

/** What the job gets from a secret's string: all of it, or one key of its JSON object. */
function pick(reference: SecretReference, secret: string, path: string): { value: string } | { problem: string } {
  if (reference.jsonKey === undefined) return { value: secret };
  const what = `${path}: ${describeReference({ ...reference, jsonKey: undefined })}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { problem: `${what} is not a JSON object, so it has no key ${JSON.stringify(reference.jsonKey)}: drop #${reference.jsonKey} from the reference to get the whole secret` };
  }
  if (!Object.hasOwn(parsed, reference.jsonKey)) return { problem: `${what} has no key ${JSON.stringify(reference.jsonKey)}: check the key's spelling (keys are case-sensitive)` };
  const value = (parsed as Record<string, unknown>)[reference.jsonKey];
  return { value: typeof value === "string" ? value : JSON.stringify(value) };
}

export interface ResolvedVariables {
  /** The plan's variables, each reference replaced by what it names. */
  env: EnvAssignment[];
  /** Set when a reference cannot be resolved: one line naming each bad parameter, and the job gets nothing. */
  problem?: string;
}

/** Resolve the references among `env`: one round trip, ten names per call, nothing read when there is none. */
export async function resolveReferences(store: SecretStore, env: EnvAssignment[], log: Logger): Promise<ResolvedVariables> {
  const references = new Map<EnvAssignment, SecretReference>();
  const problems: string[] = [];
  for (const assignment of env.filter((entry) => entry.secretsManager)) {
    const parsed = parseReference(assignment.value);
    if ("problem" in parsed) problems.push(`${assignment.path} is not a Secrets Manager reference (${REFERENCE_SYNTAX}): ${parsed.problem}`);
    else references.set(assignment, parsed);
  }
  if (problems.length) return { env, problem: problems.join("; ") };
  if (references.size === 0) return { env };

  const started = performance.now();
  const names = [...new Set([...references.values()].map(bridgeName))];
  const secrets = new Map<string, string>();
  await Promise.all(
    bridgeCalls(names).map(async (call) => {
      const { found } = await store.readNames(call).catch((error: unknown) => {
        if (!(error instanceof StoreError)) throw error;
        const paths = [...references].filter(([, reference]) => call.includes(bridgeName(reference))).map(([assignment]) => assignment.path);
        throw new StoreError(
          `${error.message} (for the Secrets Manager references ${paths.join(", ")}: the agent's role needs ssm:GetParameters on ${BRIDGE_PREFIX}*, secretsmanager:GetSecretValue on the secrets, and kms:Decrypt on their customer-managed keys)`,
          error.path,
          error.code,
        );
      });
      for (const parameter of found) {
        const requested = call.find((name) => name === parameter.name) ?? call.find((name) => withoutSelector(name) === parameter.name);
        if (requested) secrets.set(requested, parameter.value);
      }
    }),
  );
  log.debug(`read ${names.length} Secrets Manager ${names.length === 1 ? "secret" : "secrets"} for ${references.size} ${references.size === 1 ? "reference" : "references"} in ${(performance.now() - started).toFixed(0)} ms`);

  const resolved = env.map((assignment) => {
    const reference = references.get(assignment);
    if (!reference) return assignment;
    const secret = secrets.get(bridgeName(reference));
    if (secret === undefined) {
      problems.push(`${assignment.path}: ${describeReference({ ...reference, jsonKey: undefined })} was not found (${bridgeName(reference)}): check the secret's name, stage and region, and that the agent's role may read it`);
      return assignment;
    }
    const picked = pick(reference, secret, assignment.path);
    if ("problem" in picked) {
      problems.push(picked.problem);
      return assignment;
    }
    return { ...assignment, value: picked.value, secret: describeReference(reference) };
  });
  return problems.length ? { env, problem: problems.join("; ") } : { env: resolved };
}

export interface PlannedJob {
  reads: SlugRead[];
  /** The plan, its references resolved unless the job is denied or a reference failed. */
  plan: JobPlan;
  /** Why the references could not be resolved: the job must get nothing. */
  referenceProblem?: string;
}

/**
 * Plan a job from its slugs and resolve its references, for the environment
 * phase, doctor and exec alike. A denied job reads no secret.
 */
export async function planWithReferences(store: SecretStore, reads: SlugRead[], job: JobIdentity, log: Logger, allowedNames?: ReadonlySet<string>): Promise<PlannedJob> {
  const plan = planJob(reads, job, allowedNames);
  if (plan.denial) return { reads, plan };
  const { env, problem } = await resolveReferences(store, plan.env, log);
  return { reads, plan: withoutNulValues({ ...plan, env }), ...(problem !== undefined ? { referenceProblem: problem } : {}) };
}
