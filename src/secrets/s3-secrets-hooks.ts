// Moving a fleet from Buildkite's S3 secrets hooks: what a directory synced
// from their bucket (`aws s3 sync s3://BUCKET DIR`) becomes in this tree, so
// every job gets what it got before. Pure: the command reads the directory
// and writes the parameters. Plans and reasons name files, lines and
// parameters, never a value.
//
// The bucket's layout, as the S3 hooks read it (global at the root, each
// pipeline under a prefix named after its slug):
//   env, environment          sourced by the hook in bash: NAME=value lines
//   private_ssh_key, id_rsa_github   deploy keys, all in the job's ssh-agent
//   git-credentials           git-credential-store lines
//   secret-files/NAME         exported as the variable NAME, only when NAME
//                             ends in one of SECRET_SUFFIXES: the helper
//                             quotes the content with Go's strconv.Quote and
//                             the hook evals it in bash (see secretFileValue)
import { envNameForKey, checkEnvKey } from "../job/names.ts";
import { isSlugName } from "../job/config.ts";
import type { Kind } from "./kinds.ts";
import { valueFor } from "./secret-kinds.ts";

/** The S3 hooks load a secret file only when its name ends with one of these. */
export const SECRET_SUFFIXES = ["_SECRET", "_SECRET_KEY", "_PASSWORD", "_TOKEN", "_ACCESS_KEY"];
const ENV_FILES = ["env", "environment"];
const KEY_FILES = ["private_ssh_key", "id_rsa_github"];
const SECRET_FILES = "secret-files";
/** Where the root's deploy keys go: keys for every job are listed by full name in AWS_PARAMSTORE_SECRETS_GLOBAL_SSH. */
const GLOBAL_KEYS = "keys";

/** A file of the synced directory: its path relative to the directory, and its text. */
export interface SourceFile {
  path: string;
  content: string;
}

export interface PlannedWrite {
  /** The parameter's full name, e.g. `/vendors/buildkite/global/env/TOKEN`. */
  name: string;
  kind: Kind;
  value: string;
  /** Where it came from: `app/env line 3`. */
  source: string;
}

export interface ImportPlan {
  writes: PlannedWrite[];
  /** What is not imported, and why: one line each. */
  skipped: string[];
  /** What the operator must do besides, e.g. list the global keys in the defaults file. */
  notes: string[];
}

export interface Assignment {
  name: string;
  value: string;
  line: number;
}

/**
 * The assignments of an env file, as bash would set them when sourcing it,
 * for the subset that is data: `[export] NAME=value` with the value unquoted,
 * single-quoted or double-quoted (possibly over several lines). Anything bash
 * would expand or run is refused by line, since importing it would change it.
 */
export function parseEnvFile(text: string): { assignments: Assignment[]; problems: Array<{ line: number; reason: string }> } {
  const assignments: Assignment[] = [];
  const problems: Array<{ line: number; reason: string }> = [];
  let at = 0;
  const lineAt = (index: number) => text.slice(0, index).split("\n").length;
  const skipToLineEnd = () => {
    const end = text.indexOf("\n", at);
    at = end === -1 ? text.length : end + 1;
  };
  while (at < text.length) {
    const start = /^[ \t\r\n]*/.exec(text.slice(at))![0].length;
    at += start;
    if (at >= text.length) break;
    const line = lineAt(at);
    if (text[at] === "#") {
      skipToLineEnd();
      continue;
    }
    const head = /^(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(text.slice(at));
    if (!head) {
      problems.push({ line, reason: "not a NAME=value assignment (shell code is not imported: set what it does by hand)" });
      skipToLineEnd();
      continue;
    }
    at += head[0].length;
    const value = readWord();
    if ("problem" in value) {
      problems.push({ line, reason: value.problem });
      skipToLineEnd();
      continue;
    }
    const rest = /^[ \t\r]*(#[^\n]*)?(\n|$)/.exec(text.slice(at));
    if (!rest) {
      problems.push({ line, reason: "more than one word after the =: quote the value, or set it by hand" });
      skipToLineEnd();
      continue;
    }
    at += rest[0].length;
    assignments.push({ name: head[1]!, value: value.word, line });
  }
  return { assignments, problems };

  /** One shell word at `at`: the value bash would assign, or why it cannot be known without running bash. */
  function readWord(): { word: string } | { problem: string } {
    let word = "";
    while (at < text.length && !/[ \t\r\n]/.test(text[at]!)) {
      const char = text[at]!;
      if (char === "'") {
        const end = text.indexOf("'", at + 1);
        if (end === -1) return { problem: "a single quote is not closed" };
        word += text.slice(at + 1, end);
        at = end + 1;
      } else if (char === '"') {
        at++;
        for (;;) {
          if (at >= text.length) return { problem: "a double quote is not closed" };
          const inner = text[at]!;
          if (inner === '"') break;
          if (inner === "$" || inner === "`") return { problem: "the value expands a variable or runs a command: set it by hand" };
          if (inner === "\\" && at + 1 < text.length && '$`"\\\n'.includes(text[at + 1]!)) {
            if (text[at + 1] !== "\n") word += text[at + 1];
            at += 2;
            continue;
          }
          word += inner;
          at++;
        }
        at++;
      } else if ("$`\\|&;<>(){}*?[]~!".includes(char)) {
        return { problem: `the unquoted value holds ${JSON.stringify(char)}, which bash would interpret: quote it, or set it by hand` };
      } else {
        word += char;
        at++;
      }
    }
    return { word };
  }
}

/**
 * What a job of the S3 hooks got for a secret file: its content quoted by Go's
 * strconv.Quote, then evaluated by bash inside double quotes. Bash keeps Go's
 * escapes for control and non-printable characters as they are (a trailing
 * newline arrived as the two characters `\n`), and undoes only `\"` and
 * `\\`. A `$` or backquote was expanded by bash at job time, which cannot be
 * reproduced: undefined then.
 */
export function secretFileValue(content: string): string | undefined {
  if (/[$`]/.test(content)) return undefined;
  const ESCAPES: Record<string, string> = { "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v" };
  let value = "";
  for (const char of content) {
    const code = char.codePointAt(0)!;
    if (ESCAPES[char]) value += ESCAPES[char];
    else if (char === " " || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(char)) value += char;
    else if (code < 0x80) value += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (code <= 0xffff) value += `\\u${code.toString(16).padStart(4, "0")}`;
    else value += `\\U${code.toString(16).padStart(8, "0")}`;
  }
  return value;
}

/** The plan for a whole synced bucket: the root is the default slug, each directory a pipeline slug. */
export function planS3Import(files: SourceFile[], { basePath, defaultKey }: { basePath: string; defaultKey: string }): ImportPlan {
  const plan: ImportPlan = { writes: [], skipped: [], notes: [] };
  const byLevel = new Map<string, SourceFile[]>();
  for (const file of files) {
    const parts = file.path.split("/");
    const prefix = parts.length === 1 || parts[0] === SECRET_FILES ? "" : parts[0]!;
    byLevel.set(prefix, [...(byLevel.get(prefix) ?? []), { ...file, path: prefix ? parts.slice(1).join("/") : file.path }]);
  }
  for (const [prefix, levelFiles] of [...byLevel].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (prefix && !isSlugName(prefix)) {
      plan.skipped.push(`${prefix}/: not a pipeline slug (letters, digits, _ . -), so no job would read it`);
      continue;
    }
    planLevel(plan, prefix, `${basePath}/${prefix || defaultKey}`, levelFiles, `${basePath}/${GLOBAL_KEYS}`);
  }
  const globalKeys = plan.writes.filter((write) => write.name.startsWith(`${basePath}/${GLOBAL_KEYS}/`)).map((write) => write.name);
  if (globalKeys.length) {
    plan.notes.push(
      `every job got the bucket's root deploy keys: list ${globalKeys.join(":")} in AWS_PARAMSTORE_SECRETS_GLOBAL_SSH in the agent's defaults file (bk-ssm-secrets install --global-ssh ...)`,
    );
  }
  return plan;
}

/** One level of the bucket: its files become parameters of the slug at `slugPath`. */
function planLevel(plan: ImportPlan, prefix: string, slugPath: string, files: SourceFile[], globalKeys: string): void {
  const where = (path: string) => (prefix ? `${prefix}/${path}` : path);
  // In the order the S3 hooks export them: env, environment, then secret files; later ones win.
  const variables = new Map<string, PlannedWrite>();
  const setVariable = (name: string, value: string, source: string) => {
    const mapped = envNameForKey(name);
    const check = checkEnvKey(name);
    if (!check.ok) return plan.skipped.push(`${source}: ${check.reason}`);
    if (mapped !== name) return plan.skipped.push(`${source}: jobs here get variables upper-cased, so ${name} would arrive as ${mapped}: rename it where it is used, then put it by hand`);
    const earlier = variables.get(name);
    if (earlier) plan.skipped.push(`${earlier.source}: ${name} is set again by ${source}, which wins as it did in the S3 hooks`);
    variables.set(name, { name: `${slugPath}/env/${name}`, kind: "env", value, source });
  };
  const ordered = [...files].sort((a, b) => rank(a.path) - rank(b.path) || (a.path < b.path ? -1 : 1));
  let keyFrom: string | undefined;
  for (const file of ordered) {
    const source = where(file.path);
    if (ENV_FILES.includes(file.path)) {
      const { assignments, problems } = parseEnvFile(file.content);
      for (const problem of problems) plan.skipped.push(`${source} line ${problem.line}: ${problem.reason}`);
      for (const assignment of assignments) setVariable(assignment.name, assignment.value, `${source} line ${assignment.line}`);
    } else if (file.path.startsWith(`${SECRET_FILES}/`) && !file.path.slice(SECRET_FILES.length + 1).includes("/")) {
      const name = file.path.slice(SECRET_FILES.length + 1);
      if (!SECRET_SUFFIXES.some((suffix) => name.endsWith(suffix))) {
        plan.skipped.push(`${source}: the S3 hooks load only secret files named *${SECRET_SUFFIXES.join(", *")}, so no job got it`);
      } else {
        const value = secretFileValue(file.content);
        if (value === undefined) {
          plan.skipped.push(`${source}: holds $ or a backquote, which bash expanded when the S3 hooks exported it: put the value a job should get by hand`);
        } else {
          if (value !== file.content) {
            plan.notes.push(`${source}: the S3 hooks exported it with its control characters as escapes (a trailing newline as the two characters \\n), and so does the import; to store the file's bytes instead, put it again with bk-ssm-secrets put env ${name}`);
          }
          setVariable(name, value, source);
        }
      }
    } else if (KEY_FILES.includes(file.path)) {
      if (!prefix) {
        addWrite(plan, { name: `${globalKeys}/${file.path}`, kind: "ssh-key", value: file.content, source });
      } else if (keyFrom) {
        plan.skipped.push(`${source}: the slug's deploy key is ${keyFrom} already (one key per slug): put this one under the repository's slug with bk-ssm-secrets put ssh-key --repo URL`);
      } else {
        keyFrom = source;
        addWrite(plan, { name: `${slugPath}/ssh/key`, kind: "ssh-key", value: file.content, source });
      }
    } else if (file.path === "git-credentials") {
      addWrite(plan, { name: `${slugPath}/git-credentials`, kind: "git-credentials", value: file.content, source });
    } else {
      plan.skipped.push(`${source}: not a file the S3 hooks read`);
    }
  }
  for (const variable of variables.values()) addWrite(plan, variable);
}

/** The S3 hooks' order within a level: env, environment, then everything else. */
function rank(path: string): number {
  const index = ENV_FILES.indexOf(path);
  return index === -1 ? ENV_FILES.length : index;
}

/** Add a write once its value passes the checks `put` makes; otherwise say why it is skipped. */
function addWrite(plan: ImportPlan, write: PlannedWrite): void {
  try {
    plan.writes.push({ ...write, value: valueFor(write.kind, write.value) });
  } catch (error) {
    plan.skipped.push(`${write.source}: ${(error as Error).message}`);
  }
}
