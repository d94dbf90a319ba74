// What an operator can put in a slug, where each kind lives below it, and
// which values each kind accepts. Pure: `put` and `rm` do the I/O. Every check
// reports line numbers and paths, never the content it refused.
import { isSlugName } from "../job/config.ts";
import { UsageError } from "../core/errors.ts";
import { isShellIdentifier } from "../core/shell.ts";
import { parseGitCredentials } from "./gitcredentials.ts";
import { checkEnvKey, envNameForKey } from "../job/names.ts";
import { describeReference, parseReference, REFERENCE_SYNTAX } from "./secretsmanager.ts";
import type { Slug } from "../job/slug.ts";
import { didYouMean } from "../core/closest.ts";
import { KINDS, valueOnStdinHint, type Kind } from "./kinds.ts";


/** SSM's largest value (advanced tier); the standard tier holds 4 KB. */
const MAX_VALUE_LENGTH = 8192;
export const STANDARD_TIER_LIMIT = 4096;

export interface Entry {
  kind: Kind;
  /** The parameter's name below the slug, e.g. `env/ACCESS_TOKEN`. */
  relative: string;
  /** What a job makes of it, for the operator. */
  effect: string;
}

/**
 * Which names `entryFor` accepts: for storing, those a job would export
 * (`allowedNames` being the protected names the operator let through); for a
 * parameter that exists (rm, history, rollback, label), any variable name, so
 * one a job refuses can still be dealt with.
 */
export type NamePolicy = { allowedNames: ReadonlySet<string> } | { existing: true };

function variableName(kind: "env" | "file" | "secretsmanager", key: string, policy: NamePolicy): string {
  const check = checkEnvKey(key, "allowedNames" in policy ? policy.allowedNames : undefined);
  if (check.ok) return check.name;
  const name = envNameForKey(key);
  if ("existing" in policy && isShellIdentifier(name)) return name;
  throw new UsageError(`cannot use ${kind} ${JSON.stringify(key)}: ${check.reason}`);
}

/** Where `kind` (with its NAME argument, for `env` and `file`) lives below `slug`. */
export function entryFor(kindName: string, name: string | undefined, slug: Slug, policy: NamePolicy = { allowedNames: new Set() }): Entry {
  const kind = KINDS.find((known) => known === kindName);
  if (!kind) throw new UsageError(`unknown kind ${JSON.stringify(kindName)}${didYouMean(kindName, KINDS)}: the kinds are ${KINDS.join(", ")}`);
  const needsName = kind === "env" || kind === "file" || kind === "secretsmanager";
  if (needsName && !name) throw new UsageError(`${kind} needs a NAME, as in \`${kind} NAME\``);
  // An argument where none belongs is most likely the value itself: it is not repeated.
  if (!needsName && name !== undefined) throw new UsageError(`${kind} takes no NAME argument: ${valueOnStdinHint(kind)}`);
  if (needsName && name!.includes("=")) throw new UsageError(`${kind} NAME cannot hold "=": ${valueOnStdinHint(kind)}`);
  switch (kind) {
    case "env":
      return { kind, relative: `env/${name}`, effect: `a job exports it as ${variableName(kind, name!, policy)}` };
    case "secretsmanager":
      return { kind, relative: `secretsmanager/${name}`, effect: `a job exports the secret it names (read when the job starts) as ${variableName(kind, name!, policy)}` };
    case "file":
      // A secret file reaches the job as a variable holding its path, so its name follows the variable rules.
      return { kind, relative: `file/${name}`, effect: `a job gets it as a file only the agent's user can read (0600, removed when the job ends), its path in ${variableName(kind, name!, policy)}` };
    case "ssh-key":
      if (slug.kind === "default") {
        throw new UsageError(
          "an ssh key under the default slug is ignored: keys every job gets are listed by full SSM name in AWS_PARAMSTORE_SECRETS_GLOBAL_SSH; put this key under a repository or pipeline slug",
        );
      }
      return {
        kind,
        relative: "ssh/key",
        effect:
          slug.kind === "pipeline"
            ? `jobs of pipeline ${slug.name} get it in their ssh-agent for this slug's keys, offered before the repository's key`
            : "jobs of this repository get it in their ssh-agent for the slug's keys (a pipeline's own key is offered first)",
      };
    case "git-credentials":
      return { kind, relative: "git-credentials", effect: "a job's git gets them from its credential helper (bk-ssm-secrets git-credential), for the hosts the lines name" };
    case "allowed-pipelines":
      return { kind, relative: "allowed_pipelines", effect: `only the listed pipelines may read slug ${slug.name}` };
    case "allowed-teams":
      return { kind, relative: "allowed_teams", effect: `only builds by the listed teams may read slug ${slug.name}` };
  }
}

/**
 * Check a value for `kind` and return what to store: access lists are
 * normalised to one name per line, everything else is stored byte for byte.
 * Throws a UsageError naming lines, never their content.
 */
export function valueFor(kind: Kind, value: string): string {
  if (value.length === 0) throw new UsageError(`the ${kind} value is empty: nothing to store`);
  const stored = kind === "allowed-pipelines" || kind === "allowed-teams" ? accessList(kind, value) : value;
  if (kind === "git-credentials") checkGitCredentials(value);
  if (kind === "secretsmanager") return checkReference(value);
  if (stored.length > MAX_VALUE_LENGTH) {
    throw new UsageError(`the ${kind} value is ${stored.length} characters: SSM holds at most ${MAX_VALUE_LENGTH}`);
  }
  return stored;
}

/** The lines (1-based) for which `bad` holds, as `line 2` or `lines 2, 5`; "" when none. */
function badLines(lines: string[], bad: (line: string) => boolean): string {
  const numbers = lines.flatMap((line, index) => (bad(line) ? [index + 1] : []));
  return numbers.length ? `${numbers.length === 1 ? "line" : "lines"} ${numbers.join(", ")}` : "";
}

function accessList(kind: Kind, value: string): string {
  const lines = value.split(/\r?\n/).map((line) => line.trim());
  const bad = badLines(lines, (line) => line !== "" && !isSlugName(line));
  const what = kind === "allowed-pipelines" ? "pipeline" : "team";
  if (bad) throw new UsageError(`${kind} on stdin, ${bad}: not a ${what} slug (one slug per line: letters, digits, _ . -)`);
  const names = [...new Set(lines.filter(Boolean))];
  if (names.length === 0) {
    throw new UsageError(`no ${what} slugs on stdin: an empty list would admit nobody; to lift the restriction, bk-ssm-secrets rm ${kind}`);
  }
  return names.join("\n");
}

function checkGitCredentials(value: string): void {
  // The same parser the hook uses, so what put accepts is what a job gets.
  const { credentials, warnings } = parseGitCredentials("stdin", value);
  if (warnings.length) throw new UsageError(`git-credentials on ${warnings.map((w) => w.replace(/^skipping /, "")).join("; ")} (percent-encode special characters in USER and TOKEN)`);
  if (credentials.length === 0) throw new UsageError("no credentials on stdin: give one https://USER:TOKEN@HOST line per host");
}

/** A reference is stored trimmed, once it parses: a job would fail on one that does not. */
function checkReference(value: string): string {
  const reference = parseReference(value);
  if ("problem" in reference) throw new UsageError(`the secretsmanager value on stdin is not a reference (${REFERENCE_SYNTAX}): ${reference.problem}`);
  return value.trim();
}

/** What a stored reference names, for the operator (a reference is not a secret). */
export function referenceSummary(value: string): string {
  const reference = parseReference(value);
  return "problem" in reference ? "not a valid reference" : describeReference(reference);
}
