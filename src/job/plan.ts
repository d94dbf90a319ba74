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
  /** Parameters read but not used, for verbose logs. */
  ignored: string[];
}

/** What a parameter is, from its path below the slug. */
export type Entry =
  | { kind: "variable"; key: string }
  | { kind: "file"; key: string }
  | { kind: "git-credentials" }
  | { kind: "access-list"; list: keyof AccessLists }
  | { kind: "ssh-key" }
  | { kind: "unknown" };

export function classify(relative: string): Entry {
  if (relative.startsWith("env/")) return { kind: "variable", key: relative.slice("env/".length) };
  if (relative.startsWith("file/")) return { kind: "file", key: relative.slice("file/".length) };
  if (relative === "git-credentials") return { kind: "git-credentials" };
  if (relative === "allowed_pipelines") return { kind: "access-list", list: "allowedPipelines" };
  if (relative === "allowed_teams") return { kind: "access-list", list: "allowedTeams" };
  if (relative === "ssh/key") return { kind: "ssh-key" };
  return { kind: "unknown" };
}

/** The variable an `env/<KEY>` or `file/<KEY>` parameter sets, or a warning saying why it cannot. */
function nameFor(parameter: Parameter, key: string, where: string): { name: string } | { warning: string } {
  if (key.includes("/")) return { warning: `skipping ${parameter.name}: ${where}, not deeper` };
  const check = checkEnvKey(key);
  return check.ok ? { name: check.name } : { warning: `skipping ${parameter.name}: ${check.reason}` };
}

export function planJob(reads: SlugRead[], job: JobIdentity): JobPlan {
  const env = new Map<string, EnvAssignment>();
  const files = new Map<string, FileAssignment>();
  const plan: JobPlan = { env: [], files: [], gitCredentials: [], sshKeys: [], access: [], warnings: [], ignored: [] };

  for (const read of reads) {
    const lists: AccessLists = {};
    for (const parameter of read.parameters) {
      const entry = classify(parameter.name.slice(read.path.length + 1));
      switch (entry.kind) {
        case "access-list":
          lists[entry.list] = parseAccessList(parameter.value, parameter.type);
          break;
        case "variable":
        case "file": {
          const directory = entry.kind === "file" ? "file" : "env";
          const named = nameFor(parameter, entry.key, `${entry.kind}s live directly under ${read.path}/${directory}/`);
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
          const assignment = { name, path: parameter.name, slug: read.slug, overrides: clash ? previous.overrides : previous?.slug };
          if (entry.kind === "file") {
            env.delete(name);
            files.set(name, { ...assignment, content: parameter.value });
          } else {
            files.delete(name);
            env.set(name, { ...assignment, value: parameter.value });
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
