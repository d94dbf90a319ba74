// The bootstrap installer end to end: the install.sh a release ships, run in
// real bash with real curl, sha256sum and gzip, against release downloads
// served on 127.0.0.1 the way GitHub lays them out, installing the real
// compiled binaries into a temporary root.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryName, binaryPath, build, CHECKSUMS, INSTALLER, packageRelease, sha256, AGENT_TARGETS, VERSION, type TargetName } from "../build.ts";
import { parseDefaultsFile } from "../src/job/config.ts";
import { startJobFixture } from "./support/fixture.ts";
import { ROOT, runHook } from "./support/job.ts";
import { markedBlocks } from "./support/markdown.ts";
import { startReleaseServer, type ReleaseServer } from "./support/release-server.ts";

const SOURCE_SCRIPT = join(ROOT, "src", "install", INSTALLER);
const NATIVE: TargetName = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
const UPGRADE = `${VERSION}-upgrade.1`;
/** The GitHub repository the script downloads from by default, read from the script itself. */
const REPO = /^readonly DEFAULT_RELEASES_URL="https:\/\/github\.com\/([^/]+\/[^/]+)\/releases\/download"$/m.exec(readFileSync(SOURCE_SCRIPT, "utf8"))?.[1] ?? "";

interface Context {
  scratch: string;
  releases: Record<string, string>;
  github: ReleaseServer;
  /** Serves a release whose SHA256SUMS no longer matches its compressed binary. */
  tampered: ReleaseServer;
  /** A mirror that carries only the uncompressed binaries. */
  rawMirror: ReleaseServer;
  /** A mirror with mistakes: another version's files under this version, a SHA256SUMS that lists nothing. */
  broken: ReleaseServer;
}

const Installer = suite<Context>("install.sh", {} as Context);

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

function flipByte(file: string): void {
  const data = readFileSync(file);
  const middle = data.length >> 1;
  data[middle] = data[middle]! ^ 0xff;
  rmSync(file);
  writeFileSync(file, data);
}

Installer.before(async (context) => {
  assert.ok(REPO, "src/install/install.sh names its default GitHub releases URL");
  context.scratch = mkdtempSync("/tmp/bk-install-");
  const dir = (name: string) => {
    const path = join(context.scratch, "releases", name);
    mkdirSync(path, { recursive: true });
    return path;
  };

  // The release built by `make build`, packaged exactly as the release workflow packages it.
  const current = dir(VERSION);
  for (const target of AGENT_TARGETS) linkOrCopy(binaryPath(target), binaryPath(target, current));
  packageRelease(current, VERSION, AGENT_TARGETS);

  // A later version to upgrade to: compiled for real, so it reports its own version.
  const upgrade = dir(UPGRADE);
  await build(NATIVE, UPGRADE, undefined, upgrade);
  packageRelease(upgrade, UPGRADE, [NATIVE]);

  const tampered = dir("tampered");
  for (const asset of [CHECKSUMS, binaryName(NATIVE), `${binaryName(NATIVE)}.gz`]) linkOrCopy(join(current, asset), join(tampered, asset));
  flipByte(join(tampered, `${binaryName(NATIVE)}.gz`));

  const rawOnly = dir("raw-only");
  for (const asset of [CHECKSUMS, ...AGENT_TARGETS.map(binaryName)]) linkOrCopy(join(current, asset), join(rawOnly, asset));

  const mislabelled = dir("mislabelled");
  for (const asset of readdirSync(upgrade)) linkOrCopy(join(upgrade, asset), join(mislabelled, asset));
  const unlisted = dir("unlisted");
  linkOrCopy(join(current, `${binaryName(NATIVE)}.gz`), join(unlisted, `${binaryName(NATIVE)}.gz`));
  writeFileSync(join(unlisted, CHECKSUMS), `${sha256(readFileSync(join(current, INSTALLER)))}  ${INSTALLER}\n`);

  context.releases = { [VERSION]: current, [UPGRADE]: upgrade };
  context.github = await startReleaseServer(REPO, context.releases);
  context.tampered = await startReleaseServer(REPO, { [VERSION]: tampered });
  context.rawMirror = await startReleaseServer(REPO, { [VERSION]: rawOnly });
  context.broken = await startReleaseServer(REPO, { [VERSION]: mislabelled, "0.0.0-unlisted": unlisted });
});

Installer.after(async (context) => {
  await Promise.all([context.github.close(), context.tampered.close(), context.rawMirror.close(), context.broken.close()]);
  rmSync(context.scratch, { recursive: true, force: true });
});

Installer.before.each((context) => {
  for (const server of [context.github, context.tampered, context.rawMirror, context.broken]) server.requests.length = 0;
});

/** A machine's file system in miniature: where the binary, the hooks and the agent's files go. */
interface Root {
  dir: string;
  bin: string;
  installed: string;
  hooks: string;
  /** Where `bk-ssm-secrets install` puts the hook scripts the agent's hooks call. */
  hookScripts: string;
  agentEnv: string;
  defaults: string;
  tmp: string;
  /** The script's options that point every destination into this root. */
  destinations: string[];
}

let roots = 0;
function newRoot(context: Context): Root {
  const dir = join(context.scratch, `root-${++roots}`);
  const root = {
    dir,
    bin: join(dir, "usr/local/bin"),
    installed: join(dir, "usr/local/bin/bk-ssm-secrets"),
    hooks: join(dir, "etc/buildkite-agent/hooks"),
    hookScripts: join(dir, "usr/local/lib/bk-ssm-secrets"),
    agentEnv: join(dir, "var/lib/buildkite-agent/cfn-env"),
    defaults: join(dir, "etc/bk-ssm-secrets/defaults.env"),
    tmp: join(dir, "tmp"),
    destinations: [] as string[],
  };
  for (const path of [root.bin, root.hooks, join(dir, "var/lib/buildkite-agent"), root.tmp]) mkdirSync(path, { recursive: true });
  root.destinations = ["--bin-dir", root.bin, "--agent-env-file", root.agentEnv];
  return root;
}

interface ScriptRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run a shell program as a bootstrap would, with the root's temp dir, and an optional PATH prefix for shims. */
async function runShell(argv: string[], root: Root, options: { pathPrefix?: string; env?: Record<string, string> } = {}): Promise<ScriptRun> {
  const proc = Bun.spawn(argv, {
    env: {
      PATH: [options.pathPrefix, process.env.PATH ?? "/usr/bin:/bin"].filter(Boolean).join(":"),
      HOME: root.dir,
      LANG: "C.UTF-8",
      NO_COLOR: "1",
      TMPDIR: root.tmp,
      // Where `bk-ssm-secrets install` writes the defaults file: inside the root, not the host's /etc.
      BK_SSM_SECRETS_DEFAULTS_FILE: root.defaults,
      ...options.env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { status, stdout, stderr };
}

const releaseScript = (context: Context, version: string) => join(context.releases[version]!, INSTALLER);

function runInstaller(context: Context, root: Root, args: string[], options: { version?: string; server?: ReleaseServer; pathPrefix?: string } = {}) {
  const server = options.server ?? context.github;
  return runShell(["bash", releaseScript(context, options.version ?? VERSION), "--releases-url", server.releasesUrl, ...root.destinations, ...args], root, options);
}

/** Everything the script could have touched, to prove a failed run changed nothing. */
function snapshot(root: Root): string {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [`${path.slice(root.dir.length)} ${statSync(path).mode.toString(8)} ${sha256(readFileSync(path))}`];
    });
  return files(root.dir).sort().join("\n");
}

function installedVersion(root: Root): string {
  return Bun.spawnSync([root.installed, "--version"]).stdout.toString().trim();
}

/** The single line a failure must print, on stderr. */
function assertOneLineFailure(run: ScriptRun, pattern: RegExp): void {
  assert.is(run.status, 1, run.stdout + run.stderr);
  const lines = run.stderr.trimEnd().split("\n");
  assert.is(lines.length, 1, `one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^install\.sh: /);
  assert.match(lines[0]!, pattern);
}

function assertNoLeftovers(root: Root): void {
  assert.equal(readdirSync(root.bin).filter((name) => name !== "bk-ssm-secrets"), [], "no staged or backup copy is left beside the binary");
  assert.equal(readdirSync(root.tmp), [], "the download directory is removed");
}

const asset = (server: ReleaseServer, version: string, name: string) => `${new URL(server.releasesUrl).pathname}/v${version}/${name}`;

Installer("installs the verified binary for this machine, from the compressed asset", async (context) => {
  const root = newRoot(context);
  const run = await runInstaller(context, root, ["--binary-only"]);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, "");
  assert.match(run.stdout, `Installing bk-ssm-secrets ${VERSION} (${NATIVE})`);
  assert.is(sha256(readFileSync(root.installed)), sha256(readFileSync(binaryPath(NATIVE))));
  assert.is(statSync(root.installed).mode & 0o777, 0o755);
  assert.is(installedVersion(root), VERSION);
  assert.equal(context.github.requests, [asset(context.github, VERSION, CHECKSUMS), asset(context.github, VERSION, `${binaryName(NATIVE)}.gz`)]);
  assert.not.ok(existsSync(root.agentEnv), "--binary-only leaves the agent's environment alone");
  assertNoLeftovers(root);
});

Installer("a mirror without the compressed assets: falls back to the raw binary", async (context) => {
  const root = newRoot(context);
  const run = await runInstaller(context, root, ["--binary-only"], { server: context.rawMirror });
  assert.is(run.status, 0, run.stderr);
  assert.is(sha256(readFileSync(root.installed)), sha256(readFileSync(binaryPath(NATIVE))));
  assert.equal(context.rawMirror.requests.slice(1), [asset(context.rawMirror, VERSION, `${binaryName(NATIVE)}.gz`), asset(context.rawMirror, VERSION, binaryName(NATIVE))]);
  assertNoLeftovers(root);
});

Installer("re-running upgrades in place: the newer release's script replaces the binary", async (context) => {
  const root = newRoot(context);
  assert.is((await runInstaller(context, root, ["--binary-only"])).status, 0);
  const again = await runInstaller(context, root, ["--binary-only"]);
  assert.is(again.status, 0, again.stderr);
  assert.match(again.stdout, `(was: ${VERSION})`);
  assert.is(installedVersion(root), VERSION);

  const upgrade = await runInstaller(context, root, ["--binary-only"], { version: UPGRADE });
  assert.is(upgrade.status, 0, upgrade.stderr);
  assert.match(upgrade.stdout, `Installed ${root.installed} ${UPGRADE} (was: ${VERSION})`);
  assert.is(installedVersion(root), UPGRADE);
  assert.is(sha256(readFileSync(root.installed)), sha256(readFileSync(binaryPath(NATIVE, context.releases[UPGRADE]))));
  assertNoLeftovers(root);
});

Installer("checksum mismatch: aborts with one line, never falls back, changes nothing", async (context) => {
  const root = newRoot(context);
  assert.is((await runInstaller(context, root, ["--binary-only"])).status, 0);
  writeFileSync(root.agentEnv, "export BUILDKITE_STACK_NAME=ci\n");
  const before = snapshot(root);
  const run = await runInstaller(context, root, [], { server: context.tampered });
  assertOneLineFailure(run, new RegExp(`checksum mismatch for ${binaryName(NATIVE)}\\.gz: SHA256SUMS says [0-9a-f]{64}, the download is [0-9a-f]{64}; nothing was installed`));
  assert.not.ok(context.tampered.requests.includes(asset(context.tampered, VERSION, binaryName(NATIVE))), "a mismatch is not retried with the other asset");
  assert.is(snapshot(root), before);
  assertNoLeftovers(root);
});

Installer("a mirror's mistakes: an asset SHA256SUMS does not list, another version's binary", async (context) => {
  const root = newRoot(context);
  assert.is((await runInstaller(context, root, ["--binary-only"])).status, 0);
  const before = snapshot(root);
  const unlisted = await runInstaller(context, root, ["--version", "0.0.0-unlisted"], { server: context.broken });
  assertOneLineFailure(unlisted, new RegExp(`SHA256SUMS of 0\\.0\\.0-unlisted lists no ${binaryName(NATIVE)}\\.gz: nothing was installed$`));
  // Checksums match, but the binary is not the version asked for: refused before it replaces anything.
  const mislabelled = await runInstaller(context, root, [], { server: context.broken });
  assertOneLineFailure(mislabelled, new RegExp(`the downloaded ${binaryName(NATIVE)} reports version ${UPGRADE.replaceAll(".", "\\.")}, not ${VERSION.replaceAll(".", "\\.")}: nothing was installed$`));
  assert.is(snapshot(root), before);
  assertNoLeftovers(root);
});

Installer("unknown architecture: one line naming it, nothing downloaded", async (context) => {
  const root = newRoot(context);
  const shims = join(root.dir, "shims");
  mkdirSync(shims);
  writeFileSync(join(shims, "uname"), `#!/bin/sh\nif [ "$1" = -m ]; then echo riscv64; else exec ${Bun.which("uname")} "$@"; fi\n`, { mode: 0o755 });
  const before = snapshot(root);
  const run = await runInstaller(context, root, [], { pathPrefix: shims });
  assertOneLineFailure(run, /unsupported architecture riscv64: releases are built for x86_64 and aarch64$/);
  assert.equal(context.github.requests, []);
  assert.is(snapshot(root), before);
});

Installer("on a Mac: one line pointing to the macOS operator binary, nothing downloaded", async (context) => {
  const root = newRoot(context);
  const shims = join(root.dir, "shims");
  mkdirSync(shims);
  writeFileSync(join(shims, "uname"), `#!/bin/sh\nif [ "$1" = -s ]; then echo Darwin; else echo arm64; fi\n`, { mode: 0o755 });
  const before = snapshot(root);
  const run = await runInstaller(context, root, [], { pathPrefix: shims });
  assertOneLineFailure(run, /this installs the agent hooks, which run on Linux: on a Mac, download bk-ssm-secrets-darwin-arm64 from the release for the operator commands \(put, ls, doctor\)$/);
  assert.equal(context.github.requests, []);
  assert.is(snapshot(root), before);
});

Installer("aarch64 machines get the arm64 binary", async (context) => {
  const root = newRoot(context);
  const shims = join(root.dir, "shims");
  mkdirSync(shims);
  writeFileSync(join(shims, "uname"), `#!/bin/sh\nif [ "$1" = -m ]; then echo aarch64; else exec ${Bun.which("uname")} "$@"; fi\n`, { mode: 0o755 });
  const run = await runInstaller(context, root, ["--binary-only"], { pathPrefix: shims });
  assert.equal(context.github.requests, [asset(context.github, VERSION, CHECKSUMS), asset(context.github, VERSION, "bk-ssm-secrets-linux-arm64.gz")]);
  if (process.arch === "arm64") {
    assert.is(run.status, 0, run.stderr);
    assert.is(sha256(readFileSync(root.installed)), sha256(readFileSync(binaryPath("linux-arm64"))));
  } else {
    // Verified, then refused: the script runs the binary before it replaces anything.
    assertOneLineFailure(run, /the downloaded bk-ssm-secrets-linux-arm64 does not run on this machine \(.*\): nothing was installed$/);
    assert.not.ok(existsSync(root.installed));
  }
  assertNoLeftovers(root);
});

Installer("download failures: a missing version, a server that is down", async (context) => {
  const root = newRoot(context);
  assert.is((await runInstaller(context, root, ["--binary-only"])).status, 0);
  const before = snapshot(root);

  const missing = await runInstaller(context, root, ["--version", "9.9.9"]);
  assertOneLineFailure(missing, /could not download http:\/\/127\.0\.0\.1:\d+\/.*\/v9\.9\.9\/SHA256SUMS \(curl: \(22\) .*404.*\): check the version and the releases URL; nothing was installed$/);

  const down = await startReleaseServer(REPO, {});
  await down.close();
  const refused = await runInstaller(context, root, [], { server: down });
  assertOneLineFailure(refused, /could not download .*SHA256SUMS \(curl: \(7\) .*\)/);

  assert.is(snapshot(root), before);
  assertNoLeftovers(root);
});

Installer("usage errors stop before anything is downloaded", async (context) => {
  const root = newRoot(context);
  const before = snapshot(root);
  const cases: Array<[string[], RegExp]> = [
    [["--bogus", "x"], /unknown option --bogus \(see --help\)$/],
    [["--base-path"], /--base-path needs a value/],
    [["--binary-only", "--base-path", "/x"], /--binary-only installs no hooks: drop --base-path$/],
    [["--version", "1.0; rm -rf /"], /is not a version number$/],
    [["--agent-env-file", join(root.dir, "no/such/dir/cfn-env")], /cannot write to .*no\/such\/dir for the agent's environment file: is the Buildkite agent installed\?/],
  ];
  for (const [args, pattern] of cases) assertOneLineFailure(await runInstaller(context, root, args), pattern);
  // The script in the source tree has no version of its own.
  const unstamped = await runShell(["bash", SOURCE_SCRIPT, ...root.destinations], root);
  assertOneLineFailure(unstamped, /no version to install: pass --version \(this copy of install\.sh is not from a release\)$/);
  assert.equal(context.github.requests, []);
  assert.is(snapshot(root), before);
});

Installer("the release's script is the source script with its version filled in", (context) => {
  const shipped = readFileSync(releaseScript(context, VERSION), "utf8");
  const source = readFileSync(SOURCE_SCRIPT, "utf8");
  assert.is(shipped, source.replace(/^release_version=""$/m, `release_version="${VERSION}"`));
  assert.is.not(shipped, source);
  assert.is(statSync(releaseScript(context, VERSION)).mode & 0o777, 0o755);
  // Everything runs from the last line, so a truncated download of the script does nothing.
  assert.is(source.trimEnd().split("\n").at(-1), 'main "$@"');
});

Installer("a failing `bk-ssm-secrets install` puts the previous binary back and leaves the agent disabled", async (context) => {
  const root = newRoot(context);
  assert.is((await runInstaller(context, root, ["--binary-only"])).status, 0);
  // A hooks directory under a regular file cannot be written.
  writeFileSync(join(root.dir, "not-a-dir"), "");
  const before = snapshot(root);
  const run = await runInstaller(context, root, ["--hooks-dir", join(root.dir, "not-a-dir/hooks"), "--install-dir", root.hookScripts, "--base-path", "/custom/base"], { version: UPGRADE });
  assert.is(run.status, 1, run.stdout);
  assert.match(run.stderr.trimEnd().split("\n").at(-1)!, new RegExp(`^install\\.sh: \`bk-ssm-secrets install\` failed \\(see above\\): put the previous binary \\(${VERSION}\\) back; the agent was not enabled$`));
  assert.is(installedVersion(root), VERSION);
  assert.is(snapshot(root), before);
  assertNoLeftovers(root);
});

Installer("a full install: binary, `bk-ssm-secrets install` with the operator's options, the enable flag once", async (context) => {
  const root = newRoot(context);
  writeFileSync(root.agentEnv, "export BUILDKITE_STACK_NAME=ci\nexport AWS_SSM_SECRETS_PLUGIN_ENABLED=0\n");
  const operator = ["--base-path", "/custom/base", "--default-key", "shared", "--hooks-dir", root.hooks, "--install-dir", root.hookScripts];
  const run = await runInstaller(context, root, operator);
  assert.is(run.status, 0, run.stderr);
  assert.is(installedVersion(root), VERSION);
  assert.equal(readdirSync(root.hooks).sort(), ["environment", "post-checkout", "post-command", "pre-checkout", "pre-exit"], "install wrote every agent hook");
  const defaults = parseDefaultsFile(readFileSync(root.defaults, "utf8"));
  assert.is(defaults.AWS_PARAMSTORE_SECRETS_SECRETS_PATH, "/custom/base");
  assert.is(defaults.AWS_PARAMSTORE_SECRETS_DEFAULT_KEY, "shared");
  assert.is(readFileSync(root.agentEnv, "utf8"), "export BUILDKITE_STACK_NAME=ci\nexport AWS_SSM_SECRETS_PLUGIN_ENABLED=1\n");

  const first = snapshot(root);
  const again = await runInstaller(context, root, operator);
  assert.is(again.status, 0, again.stderr);
  assert.match(again.stdout, "already has AWS_SSM_SECRETS_PLUGIN_ENABLED=1");
  assert.is(snapshot(root), first, "a second run leaves every file as the first left it");
  assertNoLeftovers(root);
});

Installer("custom paths for the binary, the hook scripts and the defaults file: a job through the agent's hooks works with nothing else set", async (context) => {
  const root = newRoot(context);
  const defaults = join(root.dir, "opt/agent-conf/bk-ssm-secrets.env");
  const scripts = join(root.dir, "opt/bk-hooks");
  const run = await runInstaller(context, root, ["--base-path", "/custom/base", "--hooks-dir", root.hooks, "--install-dir", scripts, "--defaults-file", defaults]);
  assert.is(run.status, 0, run.stderr);
  assert.is(parseDefaultsFile(readFileSync(defaults, "utf8")).AWS_PARAMSTORE_SECRETS_SECRETS_PATH, "/custom/base");
  const fixture = await startJobFixture({ "/custom/base/global/env/FROM_CUSTOM_BASE": "custom-base-value" });
  try {
    // The job's environment names neither the binary (not on PATH either) nor the defaults file.
    const { BK_SSM_SECRETS_BIN: _, ...env } = fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", TMPDIR: root.tmp });
    assert.not.ok(Bun.which("bk-ssm-secrets", { PATH: env.PATH! }));
    const job = await runHook("environment", env, { hookPath: join(root.hooks, "environment") });
    assert.is(job.status, 0, job.stderr);
    assert.is(job.env.FROM_CUSTOM_BASE, "custom-base-value", "the recorded defaults file's base path, read by the recorded binary");
  } finally {
    await fixture.close();
  }
});

Installer("over the Python hook: its pip-installed bk-ssm-secrets script is kept beside the binary for a rollback", async (context) => {
  const root = newRoot(context);
  // The console script pip writes for the Python hook's `bk-ssm-secrets` entry point.
  const pythonScript = "#!/usr/bin/python3\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom bk_ssm_secrets.__main__ import main\nif __name__ == '__main__':\n    sys.exit(main())\n";
  writeFileSync(root.installed, pythonScript, { mode: 0o755 });
  const run = await runInstaller(context, root, ["--hooks-dir", root.hooks, "--install-dir", root.hookScripts]);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, `Kept the Python hook's ${root.installed} as ${root.installed}.python-hook`);
  assert.is(installedVersion(root), VERSION);
  assert.is(readFileSync(`${root.installed}.python-hook`, "utf8"), pythonScript);
  assert.is(statSync(`${root.installed}.python-hook`).mode & 0o777, 0o755);
});

Installer("the README's install snippet, run as written", async (context) => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const snippet = `${markedBlocks(readme, "quickstart").find((block) => block.label === "install on the agent")?.code ?? ""}\n`;
  assert.match(snippet, `BK_SSM_SECRETS_VERSION=${VERSION}\n`, "the README pins the current version");
  assert.match(snippet, `https://github.com/${REPO}/releases/download`);
  const root = newRoot(context);
  // The snippet runs `bash "$installer" ...`; this shim only adds the options that keep it inside the test root.
  const shim = `bash() { command bash "$@" ${[...root.destinations, "--hooks-dir", root.hooks, "--install-dir", root.hookScripts].map((arg) => `'${arg}'`).join(" ")}; }\n`;
  writeFileSync(root.agentEnv, "");
  const run = await runShell(["bash", "-c", shim + snippet], root, { env: { BK_SSM_SECRETS_RELEASES_URL: context.github.releasesUrl } });
  assert.equal(context.github.requests.slice(0, 3), [asset(context.github, VERSION, INSTALLER), asset(context.github, VERSION, CHECKSUMS), asset(context.github, VERSION, `${binaryName(NATIVE)}.gz`)]);
  assert.is(run.status, 0, run.stderr);
  assert.is(installedVersion(root), VERSION);
  assert.is(parseDefaultsFile(readFileSync(root.defaults, "utf8")).AWS_PARAMSTORE_SECRETS_SECRETS_PATH, "/vendors/buildkite");
  assert.is(readFileSync(root.agentEnv, "utf8"), "export AWS_SSM_SECRETS_PLUGIN_ENABLED=1\n");
});

Installer("the enable flag: set once, other lines kept, mode kept, a second run changes nothing", async (context) => {
  // The script's functions without its last line (`main "$@"`), so this runs enable_agent alone.
  const root = newRoot(context);
  const script = readFileSync(releaseScript(context, VERSION), "utf8").trimEnd().split("\n").slice(0, -1).join("\n");
  const enable = (file: string) => runShell(["bash", "-c", `${script}\nenable_agent "$1"`, "install.sh", file], root);
  const cases: Array<[string | null, string]> = [
    [null, "export AWS_SSM_SECRETS_PLUGIN_ENABLED=1\n"],
    ["", "export AWS_SSM_SECRETS_PLUGIN_ENABLED=1\n"],
    ["export A=1\nexport B='x y'", "export A=1\nexport B='x y'\nexport AWS_SSM_SECRETS_PLUGIN_ENABLED=1\n"],
    ["AWS_SSM_SECRETS_PLUGIN_ENABLED=0\nexport A=1\n  export AWS_SSM_SECRETS_PLUGIN_ENABLED=1\n", "export A=1\nexport AWS_SSM_SECRETS_PLUGIN_ENABLED=1\n"],
    ["export AWS_SSM_SECRETS_PLUGIN_ENABLED_LATER=1\n", "export AWS_SSM_SECRETS_PLUGIN_ENABLED_LATER=1\nexport AWS_SSM_SECRETS_PLUGIN_ENABLED=1\n"],
  ];
  for (const [index, [initial, expected]] of cases.entries()) {
    const file = join(root.dir, `cfn-env-${index}`);
    if (initial !== null) {
      writeFileSync(file, initial);
      chmodSync(file, 0o640);
    }
    const first = await enable(file);
    assert.is(first.status, 0, first.stderr);
    assert.is(readFileSync(file, "utf8"), expected, `case ${index}`);
    assert.is(statSync(file).mode & 0o777, initial === null ? 0o644 : 0o640);
    const second = await enable(file);
    assert.is(second.status, 0, second.stderr);
    assert.match(second.stdout, "already has");
    assert.is(readFileSync(file, "utf8"), expected);
  }
  assert.equal(readdirSync(root.dir).filter((name) => name.includes("cfn-env-") && name.includes(".")), [], "no temporary file left");
});

Installer.run();
