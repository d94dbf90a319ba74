// The kinds of parameter an operator can put in a slug, with a line each for
// `put --help`, and the variable that names a job's secret files. A leaf
// module with no imports: help and pre-exit read it without loading anything
// else.

/** Exported to the job with its secret files' directory, so pre-exit knows what to remove; the protected prefix keeps secrets from setting it. */
export const FILES_DIR_VARIABLE = "BK_SSM_SECRETS_FILES_DIR";

export const KINDS = ["env", "ssh-key", "git-credentials", "file", "allowed-pipelines", "allowed-teams", "secretsmanager"] as const;
export type Kind = (typeof KINDS)[number];

/** How each kind is named on the command line, and what it is. */
export const KIND_USAGE: Record<Kind, [usage: string, what: string]> = {
  env: ["env NAME", "a variable the job exports as NAME (upper-cased, - becomes _)"],
  file: ["file NAME", "a secret file (0600, removed when the job ends); the job gets its path in NAME"],
  "ssh-key": ["ssh-key [FILE]", "the slug's deploy key, from FILE or stdin; prints its public half"],
  "git-credentials": ["git-credentials", "https://USER:TOKEN@HOST lines, one per host, for git's credential helper"],
  "allowed-pipelines": ["allowed-pipelines", "the pipelines that may read the slug: one slug per line, or --add/--remove SLUG"],
  "allowed-teams": ["allowed-teams", "the teams whose builds may read the slug: one per line, or --add/--remove TEAM"],
  secretsmanager: ["secretsmanager NAME", "a reference SECRET-ID[:STAGE][#KEY] to a Secrets Manager secret; the job exports the secret as NAME"],
};

/**
 * Why a value on the command line is refused, and what to do instead. Said
 * whenever an argument looks like a value; the argument itself is never repeated.
 */
export function valueOnStdinHint(kind: string): string {
  const example = KINDS.includes(kind as Kind) ? KIND_USAGE[kind as Kind][0] : "KIND [NAME]";
  return (
    `values are read from stdin, never from the command line: every local user can read a command line (ps, /proc/PID/cmdline) and your shell keeps it in its history. ` +
    `Pipe the value in instead: printf '%s' "$VALUE" | bk-ssm-secrets put ${example} ... (if that argument was a real secret, rotate it)`
  );
}
