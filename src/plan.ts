// What a job gets, decided from what was read: a pure function from the
// parameters under each slug and the job's identity to a plan. No I/O here,
// so every rule (precedence, names, access lists) is testable on its own.
import { decideAccess, parseAccessList, type AccessDecision, type AccessLists, type JobIdentity } from "./acl.ts";
import { checkEnvKey } from "./names.ts";
import type { Slug } from "./slug.ts";
import type { Parameter } from "./store.ts";

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
type Entry =
  | { kind: "variable"; key: string }
  | { kind: "access-list"; list: keyof AccessLists }
  | { kind: "ssh-key" }
  | { kind: "unknown" };

function classify(relative: string): Entry {
  if (relative.startsWith("env/")) return { kind: "variable", key: relative.slice("env/".length) };
  if (relative === "allowed_pipelines") return { kind: "access-list", list: "allowedPipelines" };
  if (relative === "allowed_teams") return { kind: "access-list", list: "allowedTeams" };
  if (relative === "ssh/key") return { kind: "ssh-key" };
  return { kind: "unknown" };
}

export function planJob(reads: SlugRead[], job: JobIdentity): JobPlan {
  const env = new Map<string, EnvAssignment>();
  const plan: JobPlan = { env: [], sshKeys: [], access: [], warnings: [], ignored: [] };

  for (const read of reads) {
    const lists: AccessLists = {};
    for (const parameter of read.parameters) {
      const entry = classify(parameter.name.slice(read.path.length + 1));
      switch (entry.kind) {
        case "access-list":
          lists[entry.list] = parseAccessList(parameter.value, parameter.type);
          break;
        case "variable": {
          if (entry.key.includes("/")) {
            plan.warnings.push(`skipping ${parameter.name}: variables live directly under ${read.path}/env/, not deeper`);
            break;
          }
          const check = checkEnvKey(entry.key);
          if (!check.ok) {
            plan.warnings.push(`skipping ${parameter.name}: ${check.reason}`);
            break;
          }
          const previous = env.get(check.name);
          env.set(check.name, { name: check.name, value: parameter.value, path: parameter.name, slug: read.slug, overrides: previous?.slug });
          break;
        }
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
  return plan;
}
