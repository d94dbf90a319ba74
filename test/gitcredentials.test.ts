import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  appendConfigParameters,
  credentialResponse,
  findCredential,
  gitCredentialSetup,
  gitSqQuote,
  helperConfig,
  parseCredentialRequest,
  parseGitCredentials,
  selfCommand,
  UNSET_RUNTIME_VARIABLES,
} from "../src/secrets/gitcredentials.ts";
import type { Slug } from "../src/job/slug.ts";

const P = "/vendors/buildkite/app/git-credentials";
const slug: Slug = { kind: "pipeline", name: "app" };

test("lines parse into protocol, host (default port dropped), path, user and token; the last line may lack a newline", () => {
  const { credentials, warnings } = parseGitCredentials(
    P,
    "https://alice:tok1@GitHub.com\n\n# a comment\nhttps://bob:t%40k%3A2@git.example.com:8443/team/app.git/\r\nhttp://carol:t3@[::1]:443/x\nhttps://dave:t4@example.org:443",
  );
  assert.equal(warnings, []);
  assert.equal(
    credentials.map((c) => [c.protocol, c.host, c.path, c.username, c.password, c.line]),
    [
      ["https", "github.com", undefined, "alice", "tok1", 1],
      ["https", "git.example.com:8443", "team/app.git", "bob", "t@k:2", 4],
      ["http", "[::1]:443", "x", "carol", "t3", 5],
      ["https", "example.org", undefined, "dave", "t4", 6],
    ],
  );
  assert.ok(credentials.every((c) => c.parameter === P));
});

test("a token holding an unencoded @ or / still parses: the user part runs to the last @", () => {
  const [credential] = parseGitCredentials(P, "https://x-token:ab/c@d@github.com/org/repo").credentials;
  assert.equal([credential?.password, credential?.host, credential?.path], ["ab/c@d", "github.com", "org/repo"]);
});

test("malformed lines are skipped with their number and the parameter, never their content", () => {
  const secret = "s3cr3t-value";
  const { credentials, warnings } = parseGitCredentials(
    P,
    [`https://u:${secret}@ok.example.com`, `ssh://u:${secret}@host`, `https://${secret}@host`, `${secret}`, `https://u:@host`, `https://u:%zz${secret}@host`].join("\n"),
  );
  assert.is(credentials.length, 1);
  assert.equal(warnings.map((w) => w.slice(0, `skipping line N of ${P}`.length)), [2, 3, 4, 5, 6].map((n) => `skipping line ${n} of ${P}`));
  assert.ok(warnings.every((w) => !w.includes(secret) && !w.includes("%zz")));
});

test("hosts, users and tokens git cannot carry are refused by line number: =, control characters, %-encoded ones too", () => {
  const lines = [
    "https://alice:s3cr@git=hub.com",
    "https://alice:s3cr%0aprotocol=https@github.com",
    "https://ali%0Ace:s3cr@github.com",
    "https://alice:s3cr%00x@github.com",
    "https://alice:s3cr\u0007@github.com",
    "https://alice:s3cr@github.com%0a",
    "https://alice:a=b@github.com",
  ];
  const { credentials, warnings } = parseGitCredentials(P, lines.join("\n"));
  assert.equal(credentials.map((c) => [c.line, c.password]), [[7, "a=b"]], "= is fine in a s3cren: the protocol splits at the first");
  assert.equal(warnings.map((w) => w.replace(/:.*/, "")), [1, 2, 3, 4, 5, 6].map((n) => `skipping line ${n} of ${P}`));
  assert.match(warnings[0]!, /its host is not a host name/);
  assert.match(warnings[1]!, /control character/);
  assert.not.ok(warnings.some((w) => w.includes("s3cr")));
  // What git would have been told had line 2 been accepted: an injected field.
  assert.not.ok(credentials.some((c) => credentialResponse(c).split("\n").length > 3));
});

test("git's request is read up to the blank line; url= is understood", () => {
  assert.equal(parseCredentialRequest("protocol=https\nhost=github.com\npath=org/repo.git\nwwwauth[]=Basic\n\nprotocol=ignored\n"), {
    protocol: "https",
    host: "github.com",
    path: "org/repo.git",
  });
  assert.equal(parseCredentialRequest("url=https://me@git.example.com:8443/a/b.git\n"), { protocol: "https", host: "git.example.com:8443", path: "a/b.git", username: "me" });
});

test("matching: protocol and host, a path-specific entry before a host-wide one, then the earliest", () => {
  const credentials = parseGitCredentials(P, "https://a:host-wide@github.com\nhttps://b:repo@github.com/org/app\nhttps://c:later@github.com\nhttp://d:plain@github.com").credentials;
  const find = (request: Record<string, string>) => findCredential(credentials, request)?.password;
  assert.is(find({ protocol: "https", host: "github.com", path: "org/app.git" }), "repo");
  assert.is(find({ protocol: "https", host: "github.com", path: "org/other.git" }), "host-wide");
  assert.is(find({ protocol: "https", host: "github.com" }), "host-wide");
  assert.is(find({ protocol: "https", host: "GITHUB.COM:443" }), "host-wide");
  assert.is(find({ protocol: "http", host: "github.com" }), "plain");
  assert.is(find({ protocol: "https", host: "github.com", username: "c" }), "later");
  assert.is(find({ protocol: "https", host: "gitlab.com" }), undefined);
  assert.is(find({ protocol: "https", host: "github.com:8443" }), undefined);
  assert.is(find({ host: "github.com" }), undefined);
});

test("the answer is user name and token in git's key=value form", () => {
  const [credential] = parseGitCredentials(P, "https://x-access-token:tok@github.com").credentials;
  assert.is(credentialResponse(credential!), "username=x-access-token\npassword=tok\n");
});

test("sq-quoting as git writes it: ' and ! leave the quotes", () => {
  assert.is(gitSqQuote("plain"), "'plain'");
  assert.is(gitSqQuote("it's !"), "'it'\\''s '\\!''");
});

test("entries append to what GIT_CONFIG_PARAMETERS already holds", () => {
  assert.is(appendConfigParameters(undefined, [["a.b", "c"]]), "'a.b=c'");
  assert.is(appendConfigParameters("", [["a.b", "c"]]), "'a.b=c'");
  assert.is(appendConfigParameters("'user.name'='Me'", [["a.b", "c"], ["d.e", ""]]), "'user.name'='Me' 'a.b=c' 'd.e='");
});

test("real git reads the helper entries back exactly, next to existing ones; sh runs the helper with spaces and quotes in its path, without Bun's variables", () => {
  const scratch = mkdtempSync(join(tmpdir(), "bk-helper-"));
  try {
    // A stand-in for the binary that prints its arguments and the variables it was given.
    const dir = join(scratch, "bk ssm", "it's !here");
    mkdirSync(dir, { recursive: true });
    const binary = join(dir, "bk-ssm-secrets");
    writeFileSync(binary, '#!/bin/sh\nprintf \'%s\\n\' "$@"\nenv | grep -E "^(BUN_|MIMALLOC_|NODE_OPTIONS|KEPT)" | sort\n');
    chmodSync(binary, 0o755);
    const credentials = parseGitCredentials(P, "https://a:t@github.com/org/app\nhttps://b:u@git.example.com:8443").credentials;
    const value = appendConfigParameters("'user.name'='Existing User'", helperConfig([binary], [P], credentials));
    const listed = execFileSync("git", ["config", "--list"], { cwd: "/", env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_PARAMETERS: value } }).toString();
    const command = `!bash -c '${UNSET_RUNTIME_VARIABLES} || exit 1; exec "$0" "$@"' '${binary.replace("'", "'\\''")}' 'git-credential' '--parameter' '${P}'`;
    assert.equal(listed.trim().split("\n"), [
      "user.name=Existing User",
      "credential.https://github.com.helper=",
      `credential.https://github.com.helper=${command}`,
      "credential.https://github.com.usehttppath=true",
      "credential.https://git.example.com:8443.helper=",
      `credential.https://git.example.com:8443.helper=${command}`,
    ]);
    // sh -c runs the command as git does, with the operation appended and the job's environment.
    const env = { PATH: process.env.PATH, BUN_OPTIONS: "--preload=x.js", BUN_JSC_useJIT: "0", MIMALLOC_VERBOSE: "1", NODE_OPTIONS: "--require=x.js", KEPT: "kept" };
    const output = execFileSync("sh", ["-c", `${command.slice(1)} get`], { env }).toString();
    assert.equal(output.trim().split("\n"), ["git-credential", "--parameter", P, "get", "KEPT=kept"]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test("the hooks remove the same runtime variables before every phase as the helper's command", () => {
  assert.ok(readFileSync(join(import.meta.dir, "../hooks/lib/run-phase.bash"), "utf8").includes(`    ${UNSET_RUNTIME_VARIABLES} || exit 1\n`));
});

test("setup: parameters without a valid line register nothing for them and say so", () => {
  const setup = gitCredentialSetup(
    [
      { path: P, slug, value: "https://u:tok@github.com" },
      { path: "/vendors/buildkite/global/git-credentials", slug: { kind: "default", name: "global" }, value: "# nothing yet\n" },
      { path: "/vendors/buildkite/x/git-credentials", slug, value: "not a url" },
    ],
    undefined,
    ["/bin/bk"],
  );
  assert.is(setup.credentials.length, 1);
  assert.equal(setup.warnings, [
    "/vendors/buildkite/global/git-credentials holds no credential: add lines such as https://user:token@github.com",
    "skipping line 1 of /vendors/buildkite/x/git-credentials: it is not of the form https://user:token@host[:port][/path]",
  ]);
  assert.match(setup.statements, /^export GIT_CONFIG_PARAMETERS='/);
  assert.not.match(setup.statements, /global\/git-credentials|x\/git-credentials/);
  assert.is(gitCredentialSetup([], "'a.b=c'", ["/bin/bk"]).statements, "");
});

test("the helper runs the binary the hooks were given, else the compiled executable, else the sources", () => {
  assert.equal(selfCommand({ BK_SSM_SECRETS_BIN: "/opt/a b/bk" }, "/real/bk", "/$bunfs/root/bk", "/cwd"), ["/opt/a b/bk"]);
  assert.equal(selfCommand({ BK_SSM_SECRETS_BIN: "bin/bk" }, "/real/bk", "/$bunfs/root/bk", "/cwd"), ["/cwd/bin/bk"]);
  assert.equal(selfCommand({}, "/real/bk", "/$bunfs/root/bk", "/cwd"), ["/real/bk"]);
  assert.equal(selfCommand({}, "/usr/bin/bun", "/src/main.ts", "/cwd"), ["/usr/bin/bun", "/src/main.ts"]);
});

test.run();
