// What a job gets, decided from what was read: a pure function from the
// parameters under each slug and the job's identity to a plan. No I/O here,
// so every rule (precedence, names, access lists) is testable on its own.
import { decideAccess, parseAccessList, type AccessDecision, type AccessLists, type JobIdentity } from "./acl.ts";
import { checkEnvKey } from "./names.ts";
import type { Slug } from "./slug.ts";
import type { Parameter } from "../ssm/store.ts";

export interface SlugRead {
  slug: Slug;
  /** `<BASE_PATH>/<slug>` */
  path: string;
  parameters: Parameter[];
}

export interface EnvAssignment {
  name: string;
  value: string;
  /** The parameter it came from. */
  path: string;
  slug: Slug;
  /** The slug whose value of the same name this one replaced. */
  overrides?: Slug;
  /**
   * Set for `<slug>/secretsmanager/<KEY>`: `value` is a reference to a
   * Secrets Manager secret (secrets/secretsmanager.ts resolves it) until it
   * is resolved, and the job never sees the reference itself.
   */
  secretsManager?: boolean;
  /** Once resolved: the secret it came from, described for the operator (never a value). */
  secret?: string;
}

/** A secret file: `<slug>/file/<KEY>`, written to disk and its path exported as `name`. */
export interface FileAssignment {
  name: string;
  content: string;
  path: string;
  slug: Slug;
  /** The slug whose variable or file of the same name this one replaced. */
  overrides?: Slug;
}

/** A `<slug>/git-credentials` parameter; its lines are read by gitcredentials.ts. */
export interface GitCredentialsParameter {
  path: string;
  slug: Slug;
  value: string;
}

export interface SlugAccess {
  slug: Slug;
  path: string;
  decision: AccessDecision;
}

/** A deploy key found at `<slug>/ssh/key` of the repository or the pipeline slug. */
export interface SlugKey {
  /** The parameter's full name. */
  path: string;
  value: string;
  slug: Slug;
}

export interface JobPlan {
  /** One entry per variable, in the order first set. */
  env: EnvAssignment[];
  /** Secret files; a name is either a variable or a file, never both. */
  files: FileAssignment[];
  /** Every slug's git-credentials, most important (latest slug) first. */
  gitCredentials: GitCredentialsParameter[];
  /** Deploy keys of the repository and pipeline slugs, in slug order. */
  sshKeys: SlugKey[];
  access: SlugAccess[];
  /** Set when an access list refuses the job: nothing may be exported then. */
  denial?: string;
  /** Operator-facing warnings; they name paths, never values. */
  warnings: string[];
  /** Parameters named almost like an access list: it is not read, so the slug is open (a warning; a problem for `doctor`). */
  misnamedAccessLists: string[];
  /** Parameters read but not used, for verbose logs. */
  ignored: string[];
}

/** What a parameter is, from its path below the slug. */
export type Entry =
  | { kind: "variable"; key: string; directory: "env" | "secretsmanager" }
  | { kind: "file"; key: string }
  | { kind: "git-credentials" }
  | { kind: "access-list"; list: keyof AccessLists }
  | { kind: "misnamed-access-list"; expected: string }
  | { kind: "ssh-key" }
  | { kind: "unknown" };

const ACCESS_LISTS = new Map<string, keyof AccessLists>([
  ["allowed_pipelines", "allowedPipelines"],
  ["allowed_teams", "allowedTeams"],
]);

export function classify(relative: string): Entry {
  if (relative.startsWith("env/")) return { kind: "variable", key: relative.slice("env/".length), directory: "env" };
  if (relative.startsWith("secretsmanager/")) return { kind: "variable", key: relative.slice("secretsmanager/".length), directory: "secretsmanager" };
  if (relative.startsWith("file/")) return { kind: "file", key: relative.slice("file/".length) };
  if (relative === "git-credentials") return { kind: "git-credentials" };
  const list = ACCESS_LISTS.get(relative);
  if (list) return { kind: "access-list", list };
  if (relative === "ssh/key") return { kind: "ssh-key" };
  const expected = nearMissAccessList(relative);
  return expected ? { kind: "misnamed-access-list", expected } : { kind: "unknown" };
}

/**
 * The access list a name was probably meant to be (`allowed-pipelines`,
 * `Allowed_Teams`, `allowed_pipeline`, `allowed_teams/x`): letters only,
 * lower-cased, it starts like one. Such a list is not read, so the slug is
 * open to everyone: worth a warning the operator sees.
 */
function nearMissAccessList(relative: string): string | undefined {
  const letters = relative.toLowerCase().replace(/[^a-z]/g, "");
  return [...ACCESS_LISTS.keys()].find((name) => letters.startsWith(name.replace("_", "").replace(/s$/, "")));
}

/** The variable an `env/<KEY>` or `file/<KEY>` parameter sets, or a warning saying why it cannot. */
function nameFor(parameter: Parameter, key: string, where: string, allowedNames: ReadonlySet<string>): { name: string } | { warning: string } {
  if (key.includes("/")) return { warning: `skipping ${parameter.name}: ${where}, not deeper` };
  const check = checkEnvKey(key, allowedNames);
  return check.ok ? { name: check.name } : { warning: `skipping ${parameter.name}: ${check.reason}` };
}

/**
 * The plan without the variables whose value holds a NUL byte, each with a
 * warning naming its parameter: no environment variable can hold one (the
 * byte ends a C string), and bash drops it from the hook's payload, which
 * then fails its byte count. Checked once the values are final, Secrets
 * Manager's included. The name is then not set at all: a lower slug's value
 * is not used instead, and whatever the job had for it stays.
 */
export function withoutNulValues(plan: JobPlan): JobPlan {
  const refused = plan.env.filter((assignment) => assignment.value.includes("\0"));
  if (refused.length === 0) return plan;
  const warning = ({ name, path, secret }: EnvAssignment) =>
    secret
      ? `${path} names ${secret}, whose value holds a NUL byte, which no environment variable can hold: ${name} is not exported`
      : `${path} holds a NUL byte, which no environment variable can hold: ${name} is not exported (a secret file, <slug>/file/<NAME>, keeps every byte)`;
  return { ...plan, env: plan.env.filter((assignment) => !refused.includes(assignment)), warnings: [...plan.warnings, ...refused.map(warning)] };
}

/** `allowedNames`: the protected names the operator lets secrets set (see names.ts). */
export function planJob(reads: SlugRead[], job: JobIdentity, allowedNames: ReadonlySet<string> = new Set()): JobPlan {
  const env = new Map<string, EnvAssignment>();
  const files = new Map<string, FileAssignment>();
  const plan: JobPlan = { env: [], files: [], gitCredentials: [], sshKeys: [], access: [], warnings: [], misnamedAccessLists: [], ignored: [] };

  for (const read of reads) {
    const lists: AccessLists = {};
    const prefix = `${read.path}/`;
    for (const parameter of read.parameters) {
      // A relative name is cut only from a name that is under the slug.
      if (!parameter.name.startsWith(prefix)) {
        plan.warnings.push(`ignoring ${parameter.name}: SSM returned it for ${read.path}, but it is not under that path`);
        continue;
      }
      const entry = classify(parameter.name.slice(prefix.length));
      switch (entry.kind) {
        case "access-list":
          lists[entry.list] = parseAccessList(parameter.value, parameter.type);
          break;
        case "variable":
        case "file": {
          const directory = entry.kind === "file" ? "file" : entry.directory;
          const named = nameFor(parameter, entry.key, `${entry.kind}s live directly under ${read.path}/${directory}/`, allowedNames);
          if ("warning" in named) {
            plan.warnings.push(named.warning);
            break;
          }
          const { name } = named;
          const previous = env.get(name) ?? files.get(name);
          // A file and a variable of the same name in one slug are a mistake;
          // the file wins whatever order SSM lists them in.
          const clash = previous?.slug === read.slug && (entry.kind === "file") !== files.has(name);
          if (clash) {
            const [file, variable] = entry.kind === "file" ? [parameter.name, previous.path] : [previous.path, parameter.name];
            plan.warnings.push(`${file} and ${variable} both set ${name}: using the file`);
            if (entry.kind === "variable") break;
          }
          // Likewise a value and a Secrets Manager reference: the reference wins.
          const sameSlugVariable =
            entry.kind === "variable" && previous?.slug === read.slug && !files.has(name) && Boolean(env.get(name)?.secretsManager) !== (entry.directory === "secretsmanager");
          if (sameSlugVariable) {
            const fromReference = entry.directory === "secretsmanager";
            const [reference, value] = fromReference ? [parameter.name, previous.path] : [previous.path, parameter.name];
            plan.warnings.push(`${reference} and ${value} both set ${name}: using the Secrets Manager reference`);
            if (!fromReference) break;
          }
          const assignment = { name, path: parameter.name, slug: read.slug, overrides: clash || sameSlugVariable ? previous.overrides : previous?.slug };
          if (entry.kind === "file") {
            env.delete(name);
            files.set(name, { ...assignment, content: parameter.value });
          } else {
            files.delete(name);
            env.set(name, { ...assignment, value: parameter.value, ...(entry.directory === "secretsmanager" ? { secretsManager: true } : {}) });
          }
          break;
        }
        case "git-credentials":
          plan.gitCredentials.unshift({ path: parameter.name, slug: read.slug, value: parameter.value });
          break;
        case "ssh-key":
          if (read.slug.kind === "default") {
            // A key every job gets belongs in AWS_PARAMSTORE_SECRETS_GLOBAL_SSH,
            // which keeps it in its own agent, as the original hook did.
            plan.warnings.push(`ignoring ${parameter.name}: a deploy key under the default slug is not used; list keys for every job in AWS_PARAMSTORE_SECRETS_GLOBAL_SSH instead`);
          } else {
            plan.sshKeys.push({ path: parameter.name, value: parameter.value, slug: read.slug });
          }
          break;
        case "misnamed-access-list":
          plan.misnamedAccessLists.push(`${parameter.name} is not an access list, so it restricts nobody: an access list must be named exactly ${read.path}/${entry.expected}`);
          break;
        case "unknown":
          plan.ignored.push(parameter.name);
      }
    }
    const decision = decideAccess(lists, job);
    plan.access.push({ slug: read.slug, path: read.path, decision });
    if (!decision.allowed && !plan.denial) {
      plan.denial = `access to the secrets of slug ${read.slug.name} (${read.path}) denied: ${decision.reason}`;
    }
  }
  plan.env = [...env.values()];
  plan.files = [...files.values()];
  return plan;
}
