// Git credentials over HTTPS. `<slug>/git-credentials` holds lines
// `https://user:token@host[:port][/path]`; the environment phase registers
// `bk-ssm-secrets git-credential` as git's credential helper for those hosts,
// and the helper answers git from SSM when git asks. Everything here is pure:
// parsing the lines, matching git's request, and the GIT_CONFIG_PARAMETERS
// entries. The protocol's I/O is in phases/git-credential.ts.
import { isAbsolute, resolve } from "../core/paths.ts";
import type { GitCredentialsParameter } from "../job/plan.ts";
import { exportStatement, shellQuote } from "../core/shell.ts";

export interface GitCredential {
  protocol: "https" | "http";
  /** Host name, lower-cased, with `:port` when the line names a port other than the scheme's default. */
  host: string;
  /** Repository path without surrounding slashes; undefined for a credential valid for the whole host. */
  path?: string;
  username: string;
  password: string;
  /** The parameter and 1-based line it came from: what logs may name. */
  parameter: string;
  line: number;
}

export interface ParsedCredentials {
  credentials: GitCredential[];
  /** One per malformed line: names the parameter and the line number, never the content. */
  warnings: string[];
}

const DEFAULT_PORTS: Record<string, string> = { https: "443", http: "80" };

// scheme://userinfo@host[:port][/path]; the userinfo runs to the last `@`
// before the host, so an unencoded `@` or `/` in a token still parses.
const CREDENTIAL_LINE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)@(\[[0-9A-Fa-f:.]+\]|[^\s@/:[\]]+)(?::(\d{1,5}))?(\/[^\s@]*)?$/;

/** `host[:port]` as git sends it, with the scheme's default port dropped so both spellings match. */
function normaliseHost(protocol: string, host: string): string {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(host);
  const [name, port] = match ? [match[1]!, match[2]] : [host, undefined];
  return port && port !== DEFAULT_PORTS[protocol] ? `${name.toLowerCase()}:${port}` : name.toLowerCase();
}

/** A repository path without surrounding slashes; undefined for none. */
function trimPath(path: string | undefined): string | undefined {
  const trimmed = (path ?? "").replace(/^\/+/, "").replace(/\/+$/, "");
  return trimmed === "" ? undefined : trimmed;
}

/** Paths compare the way users write them: `.git` optional. */
function samePath(a: string, b: string | undefined): boolean {
  return b !== undefined && a.replace(/\.git$/, "") === b.replace(/\.git$/, "");
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const HOST_NAME = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$/;

type LineResult = { credential: Omit<GitCredential, "parameter" | "line"> } | { problem: string } | { blank: true };

function parseLine(raw: string): LineResult {
  const text = raw.trim();
  if (text === "" || text.startsWith("#")) return { blank: true };
  const match = CREDENTIAL_LINE.exec(text);
  if (!match) return { problem: "it is not of the form https://user:token@host[:port][/path]" };
  const [, scheme, userinfo, host, port, path] = match as unknown as [string, string, string, string, string | undefined, string | undefined];
  const protocol = scheme.toLowerCase();
  if (protocol !== "https" && protocol !== "http") return { problem: "only https:// (or http://) URLs carry git credentials" };
  const colon = userinfo.indexOf(":");
  if (colon < 0) return { problem: "it has no password: write https://user:token@host" };
  const username = decode(userinfo.slice(0, colon));
  const password = decode(userinfo.slice(colon + 1));
  if (username === undefined || password === undefined) return { problem: "its user or token has a malformed %-escape" };
  if (username === "" || password === "") return { problem: "its user or token is empty" };
  // Git's credential protocol is one `key=value` per line: a newline (%0a)
  // would add fields to the helper's answer, a NUL would end it.
  if (CONTROL.test(username) || CONTROL.test(password)) return { problem: "its user or token holds a control character (such as %0a, a newline), which git's credential protocol cannot carry" };
  // The host becomes part of a git configuration key, which cannot hold `=`.
  if (!HOST_NAME.test(host)) return { problem: "its host is not a host name (letters, digits, - . _, or an [IPv6] address)" };
  return {
    credential: { protocol, host: normaliseHost(protocol, port ? `${host}:${port}` : host), path: trimPath(path), username, password },
  };
}

/** Read one git-credentials parameter. The last line may lack a newline; blank lines and `#` comments are skipped. */
export function parseGitCredentials(parameter: string, text: string): ParsedCredentials {
  const result: ParsedCredentials = { credentials: [], warnings: [] };
  text.split("\n").forEach((raw, index) => {
    const parsed = parseLine(raw);
    if ("credential" in parsed) result.credentials.push({ ...parsed.credential, parameter, line: index + 1 });
    else if ("problem" in parsed) result.warnings.push(`skipping line ${index + 1} of ${parameter}: ${parsed.problem}`);
  });
  return result;
}

/** What git asks for, from the `key=value` lines it writes to a helper's stdin. */
export interface CredentialRequest {
  protocol?: string;
  host?: string;
  path?: string;
  username?: string;
}

export function parseCredentialRequest(text: string): CredentialRequest {
  const request: CredentialRequest = {};
  for (const line of text.split("\n")) {
    if (line === "") break; // a blank line ends the request
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const [key, value] = [line.slice(0, eq), line.slice(eq + 1)];
    if (key === "protocol" || key === "host" || key === "path" || key === "username") request[key] = value;
    else if (key === "url") Object.assign(request, requestFromUrl(value));
  }
  return request;
}

function requestFromUrl(url: string): CredentialRequest {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:([^@/]*)@)?([^/]*)(\/.*)?$/.exec(url);
  if (!match) return {};
  const [, protocol, userinfo, host, path] = match;
  const username = userinfo === undefined ? undefined : decode(userinfo.split(":")[0]!);
  return { protocol, host, ...(path ? { path: path.slice(1) } : {}), ...(username ? { username } : {}) };
}

/**
 * The credential to answer a request with, or undefined. Protocol and host
 * must match; a credential with a path only answers for that path; a
 * requested user name must match. A credential for the request's path beats
 * one for the whole host; otherwise the earliest in `credentials` wins
 * (callers list the latest slug first).
 */
export function findCredential(credentials: GitCredential[], request: CredentialRequest): GitCredential | undefined {
  const protocol = request.protocol?.toLowerCase();
  if (!protocol || !request.host) return undefined;
  const host = normaliseHost(protocol, request.host);
  const path = trimPath(request.path);
  const candidates = credentials.filter(
    (credential) =>
      credential.protocol === protocol &&
      credential.host === host &&
      (credential.path === undefined || samePath(credential.path, path)) &&
      (!request.username || request.username === credential.username),
  );
  return candidates.find((credential) => credential.path !== undefined) ?? candidates[0];
}

/** The answer a helper prints for git. */
export function credentialResponse(credential: GitCredential): string {
  return `username=${credential.username}\npassword=${credential.password}\n`;
}

/** git's sq_quote: one single-quoted word, with `'` and `!` written as `'\''` and `'\!'`. */
export function gitSqQuote(text: string): string {
  return `'${text.replace(/['!]/g, (c) => `'\\${c}'`)}'`;
}

/**
 * Append entries to a GIT_CONFIG_PARAMETERS value. Each is one sq-quoted
 * `'key=value'` word, space-separated: the form every git version parses
 * (git 2.31 added `'key'='value'` for keys containing `=`, which ours never
 * do, and still reads this one; older gits reject the newer form outright).
 */
export function appendConfigParameters(existing: string | undefined, entries: Array<[string, string]>): string {
  const added = entries.map(([key, value]) => gitSqQuote(`${key}=${value}`)).join(" ");
  return existing?.trim() ? `${existing} ${added}` : added;
}

/**
 * The bash statement that removes the variables the Bun runtime reads at
 * start-up (BUN_*, MIMALLOC_*, NODE_OPTIONS) from the shell it runs in. Git
 * runs the helper with the job's environment, which carries the pipeline's
 * `env:`, so the helper's command runs it first, as hooks/lib/run-phase.bash
 * does before every phase (the reasons are there; a test keeps the two equal).
 */
export const UNSET_RUNTIME_VARIABLES = 'unset -v "${!BUN_@}" "${!MIMALLOC_@}" NODE_OPTIONS';

/**
 * The git configuration that makes `helper` (the words of the command that
 * runs bk-ssm-secrets) git's only credential helper for each host that has
 * credentials. The empty value first clears helpers configured elsewhere
 * for those hosts, so a stale token in an agent's own store cannot win.
 * Hosts with a path-specific credential also get useHttpPath, so git says
 * which repository it wants. Git runs the command with `sh -c`, the
 * operation appended; bash, which every agent has for its hooks, removes the
 * runtime's variables before running the binary.
 */
export function helperConfig(helper: string[], parameters: string[], credentials: GitCredential[]): Array<[string, string]> {
  const shielded = `${UNSET_RUNTIME_VARIABLES} || exit 1; exec "$0" "$@"`;
  const command = `!bash -c ${[shielded, ...helper, "git-credential", ...parameters.flatMap((name) => ["--parameter", name])].map(shellQuote).join(" ")}`;
  const entries: Array<[string, string]> = [];
  const hosts = new Map<string, boolean>();
  for (const credential of credentials) {
    const url = `${credential.protocol}://${credential.host}`;
    hosts.set(url, (hosts.get(url) ?? false) || credential.path !== undefined);
  }
  for (const [url, usesPath] of hosts) {
    entries.push([`credential.${url}.helper`, ""], [`credential.${url}.helper`, command]);
    if (usesPath) entries.push([`credential.${url}.useHttpPath`, "true"]);
  }
  return entries;
}

/**
 * The words that run this binary again, for git to call as its helper:
 * BK_SSM_SECRETS_BIN when the hooks were told where it is (kept as given,
 * so a path through a symlink stays stable), else the compiled executable,
 * else (running from source) the runtime and the entry script.
 */
export function selfCommand(env: Record<string, string | undefined>, execPath: string, main: string, cwd: string): string[] {
  const configured = env.BK_SSM_SECRETS_BIN;
  if (configured) return [isAbsolute(configured) ? configured : resolve(cwd, configured)];
  return main.startsWith("/$bunfs/") ? [execPath] : [execPath, main];
}

export interface GitCredentialSetup {
  /** Every valid credential, most important first. */
  credentials: GitCredential[];
  /** The parameters the helper reads: what the job's record grants it. */
  parameters: string[];
  warnings: string[];
  /** Shell code registering the helper; empty when there is no credential. */
  statements: string;
}

export interface JobCredentials {
  /** Every valid credential, most important first. */
  credentials: GitCredential[];
  warnings: string[];
  /** The parameters that hold at least one credential: the ones the helper reads. */
  used: string[];
}

/** Every credential of the job's git-credentials parameters, with a warning for each line or parameter that gives none. */
export function jobCredentials(parameters: GitCredentialsParameter[]): JobCredentials {
  const result: JobCredentials = { credentials: [], warnings: [], used: [] };
  for (const parameter of parameters) {
    const parsed = parseGitCredentials(parameter.path, parameter.value);
    result.warnings.push(...parsed.warnings);
    if (parsed.credentials.length === 0) {
      if (parsed.warnings.length === 0) result.warnings.push(`${parameter.path} holds no credential: add lines such as https://user:token@github.com`);
      continue;
    }
    result.credentials.push(...parsed.credentials);
    result.used.push(parameter.path);
  }
  return result;
}

/** From the job's git-credentials parameters to the GIT_CONFIG_PARAMETERS that registers the helper for their hosts. */
export function gitCredentialSetup(parameters: GitCredentialsParameter[], existingConfig: string | undefined, helper: string[]): GitCredentialSetup {
  const { credentials, warnings, used } = jobCredentials(parameters);
  if (credentials.length === 0) return { credentials, parameters: [], warnings, statements: "" };
  const config = appendConfigParameters(existingConfig, helperConfig(helper, used, credentials));
  return { credentials, parameters: used, warnings, statements: exportStatement("GIT_CONFIG_PARAMETERS", config) };
}
