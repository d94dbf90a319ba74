// Deploy keys: which key goes into which ssh-agent, whether a key can be
// loaded at all, and what to tell the operator when a job has none. Pure:
// sshagent.ts starts the agents this plans.
import { slugPath, type Config } from "../job/config.ts";
import type { SlugKey } from "../job/plan.ts";
import { isSshRepository, type Slug, type SlugKind } from "../job/slug.ts";
import type { Parameter } from "../ssm/store.ts";

/**
 * Git hosts accept the first key that authenticates at all, so the slug's
 * keys and the keys every job gets live in separate agents; pre-checkout
 * decides which one the checkout uses.
 */
export type AgentRole = "slug" | "default";

export interface DeployKey {
  /** The parameter's full name: the only thing about a key a log may show. */
  path: string;
  value: string;
  origin: "repository" | "pipeline" | "global";
}

export interface AgentPlan {
  role: AgentRole;
  /** In the order ssh will offer them. */
  keys: DeployKey[];
}

export interface KeyPlan {
  agents: AgentPlan[];
  /** Operator-facing, naming parameters, never values. */
  warnings: string[];
  /** Set when a key cannot be loaded: the job must stop and no agent may start. */
  problem?: string;
}

export interface KeyInput {
  slugKeys: SlugKey[];
  /** AWS_PARAMSTORE_SECRETS_GLOBAL_SSH as configured, and what reading it found. */
  global: { names: string[]; found: Parameter[]; missing: string[] };
  repository: string;
  /** `<BASE_PATH>/<slug>` of the repository and pipeline slugs, where a key could go. */
  repositorySlugPath?: string;
  pipelineSlugPath?: string;
  skipMissingKeyWarning: boolean;
}

export function planKeys(input: KeyInput): KeyPlan {
  const warnings = input.global.missing.map(
    (name) => `AWS_PARAMSTORE_SECRETS_GLOBAL_SSH lists ${name}, which does not exist: create the parameter or remove it from the list`,
  );
  // Both slug keys go into the one slug agent, the pipeline's first: ssh
  // offers an agent's keys in the order they were added and the host takes the
  // first it knows, so the pipeline key wins whenever the host accepts it and
  // the repository key is still there when it does not.
  const fromSlug = (origin: "pipeline" | "repository"): DeployKey[] =>
    input.slugKeys.filter((key) => key.slug.kind === origin).map((key) => ({ path: key.path, value: key.value, origin }));
  const slugKeys = [...fromSlug("pipeline"), ...fromSlug("repository")];
  const byName = new Map(input.global.found.map((parameter) => [parameter.name, parameter.value]));
  const globalKeys: DeployKey[] = input.global.names.flatMap((name) => {
    const value = byName.get(name);
    return value === undefined ? [] : [{ path: name, value, origin: "global" as const }];
  });

  const agents: AgentPlan[] = [];
  if (slugKeys.length) agents.push({ role: "slug", keys: slugKeys });
  if (globalKeys.length) agents.push({ role: "default", keys: globalKeys });

  for (const key of [...slugKeys, ...globalKeys]) {
    const problem = keyProblem(key.value);
    if (problem) return { agents: [], warnings, problem: `the deploy key ${key.path} ${problem}` };
  }
  const missing = missingKeyWarning(input, agents.length > 0);
  return { agents, warnings: missing ? [...warnings, missing] : warnings };
}

/** The job's keys as the environment phase plans them: its slugs' keys and the global keys that were read. */
export function planJobKeys(config: Config, slugs: Slug[], repository: string, slugKeys: SlugKey[], global: KeyInput["global"]): KeyPlan {
  const pathOf = (kind: SlugKind) => slugs.filter((slug) => slug.kind === kind).map((slug) => slugPath(config, slug.name))[0];
  return planKeys({
    slugKeys,
    global,
    repository,
    repositorySlugPath: pathOf("repository"),
    pipelineSlugPath: pathOf("pipeline"),
    skipMissingKeyWarning: config.skipSshKeyNotFoundWarning,
  });
}

function missingKeyWarning(input: KeyInput, haveKey: boolean): string | undefined {
  if (haveKey || input.skipMissingKeyWarning || !isSshRepository(input.repository)) return undefined;
  const places = [
    input.repositorySlugPath && `${input.repositorySlugPath}/ssh/key`,
    input.pipelineSlugPath && `${input.pipelineSlugPath}/ssh/key for this pipeline only`,
    "a key for every job in AWS_PARAMSTORE_SECRETS_GLOBAL_SSH",
  ].filter(Boolean);
  return `no SSH deploy key found for this job's repository: put one at ${places.join(", or ")}; AWS_PARAMSTORE_SECRETS_SKIP_SSH_KEY_NOT_FOUND_WARNING=1 silences this warning`;
}

/**
 * The key as ssh-add reads it: LF line endings and a final newline, which
 * OpenSSH needs ("error in libcrypto" otherwise) and a value pasted into the
 * SSM console often lacks.
 */
export function normaliseKey(value: string): string {
  return `${value.replace(/\r\n?/g, "\n").trim()}\n`;
}

const ARMOUR = /^-----BEGIN ([A-Z0-9 ]*?)PRIVATE KEY-----$/m;
const OPENSSH_BODY = /-----BEGIN OPENSSH PRIVATE KEY-----\n([\s\S]*?)\n-----END OPENSSH PRIVATE KEY-----/;
const OPENSSH_MAGIC = "openssh-key-v1\0";

const PASSPHRASE = "is protected by a passphrase, which nobody can type during a job: store the key without one (ssh-keygen -p -N '' -f KEYFILE, then put the file in SSM)";

/** What a value is, as ssh-add would find it, without quoting it. */
type KeyShape = "not-a-key" | "garbled" | "encrypted" | "loadable";

function keyShape(value: string): KeyShape {
  const text = normaliseKey(value);
  const armour = ARMOUR.exec(text);
  if (!armour) return "not-a-key";
  if (armour[1] === "ENCRYPTED " || /^Proc-Type:\s*4,ENCRYPTED/m.test(text)) return "encrypted";
  if (armour[1] !== "OPENSSH ") return "loadable";
  const body = OPENSSH_BODY.exec(text)?.[1];
  const bytes = body === undefined ? undefined : Buffer.from(body.replace(/\s+/g, ""), "base64");
  if (!bytes || bytes.toString("latin1", 0, OPENSSH_MAGIC.length) !== OPENSSH_MAGIC || bytes.length < OPENSSH_MAGIC.length + 4) return "garbled";
  // After the magic: a uint32 length, then the cipher's name.
  const cipherLength = bytes.readUInt32BE(OPENSSH_MAGIC.length);
  const cipher = bytes.toString("latin1", OPENSSH_MAGIC.length + 4, OPENSSH_MAGIC.length + 4 + cipherLength);
  return cipher === "none" ? "loadable" : "encrypted";
}

/**
 * True when the key needs a passphrase: an OpenSSH key whose cipher is not
 * "none", a PEM key with a `Proc-Type: 4,ENCRYPTED` header, or an encrypted
 * PKCS#8 key. (ssh-keygen and ssh-add report all of these as a generic error.)
 */
export function isPassphraseProtected(value: string): boolean {
  return keyShape(value) === "encrypted";
}

/**
 * Why ssh-add could not load this key without asking for something, or
 * undefined when it looks loadable. Never quotes the key.
 */
export function keyProblem(value: string): string | undefined {
  switch (keyShape(value)) {
    case "not-a-key":
      return "is not an SSH private key (it has no -----BEGIN ... PRIVATE KEY----- line): store the private key file itself";
    case "garbled":
      return "is not a valid OpenSSH private key (its body does not decode): store the whole key file, unchanged";
    case "encrypted":
      return PASSPHRASE;
    case "loadable":
      return undefined;
  }
}
