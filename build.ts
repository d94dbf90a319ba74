// Compiles bk-ssm-secrets into one self-contained executable per target with
// `bun build --compile`, and packages a release. This file is the single
// source of truth for targets, flags and release assets: `make build` and the
// release workflow both call it.
//
//   bun build.ts                                # the Linux (agent) targets into dist/
//   bun build.ts --target linux-x64             # one target
//   bun build.ts --release [--tag v1.2.3]       # every target, Linux and macOS, into a clean dist/ of release assets
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pkg from "./package.json" with { type: "json" };

export const TARGETS = {
  // The baseline x64 builds run on every x86_64 machine, including the older
  // generations without AVX2 (EC2 instances, Intel Macs); start-up time is the same.
  "linux-x64": "bun-linux-x64-baseline",
  "linux-arm64": "bun-linux-arm64",
  // For operators' workstations: put, ls, doctor and the other operator
  // commands. The hook commands refuse to run there (see main.ts).
  "darwin-arm64": "bun-darwin-arm64",
  "darwin-x64": "bun-darwin-x64-baseline",
} as const;

export type TargetName = keyof typeof TARGETS;
/** Every target a release ships. */
export const TARGET_NAMES = Object.keys(TARGETS) as TargetName[];
/** The targets Buildkite agents run: what `make build` compiles and the tests run. */
export const AGENT_TARGETS = ["linux-x64", "linux-arm64"] as const satisfies readonly TargetName[];
export const DIST = join(import.meta.dir, "dist");
export const VERSION = pkg.version;

/** The bootstrap script shipped with every release (see the Quick start in the README, and docs/install.md). */
export const INSTALLER = "install.sh";
export const CHECKSUMS = "SHA256SUMS";

export function binaryName(target: TargetName): string {
  return `bk-ssm-secrets-${target}`;
}

export function binaryPath(target: TargetName, dir = DIST): string {
  return join(dir, binaryName(target));
}

function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: import.meta.dir, stderr: "ignore" });
  return result.success ? result.stdout.toString().trim() : "unknown";
}

/** Compile one entry point with the project's flags; the benchmark's reference programs use this too. */
export async function compile(entry: string, outfile: string, target: TargetName, define: Record<string, string> = {}): Promise<string> {
  const args = [
    process.execPath, "build", "--compile", `--target=${TARGETS[target]}`,
    "--minify", "--bytecode", "--format=esm",
    // Each lazily imported module becomes its own chunk inside the executable,
    // loaded only when a phase imports it: phases that never talk to AWS do not
    // even load the SDK's bytecode (measured: --version 12.5 -> 6.4 ms).
    "--splitting",
    // A phase lives for tens of milliseconds: JIT tiers that pay off later only
    // cost CPU here. Tier up ten times later (measured: environment 35.6 ->
    // 29.1 ms, user CPU 27.6 -> 19.0 ms); hot loops over large payloads still
    // reach the optimising tiers.
    "--compile-jit-policy=10",
    // A job's checkout must not be able to configure the binary: no .env or
    // bunfig.toml is read from the working directory.
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    ...Object.entries(define).map(([name, value]) => `--define=${name}=${JSON.stringify(value)}`),
    entry, "--outfile", outfile,
  ];
  const proc = Bun.spawn(args, { stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) throw new Error(`bun build failed for ${entry} (${target})`);
  return outfile;
}

/** bk-ssm-secrets for `target`, into dist/ unless a test wants another version beside it. */
export function build(target: TargetName, version = pkg.version, commit = gitCommit(), outDir = DIST): Promise<string> {
  const define = { BUILD_VERSION: version, BUILD_COMMIT: commit, BUILD_TARGET: target };
  return compile(join(import.meta.dir, "src/main.ts"), binaryPath(target, outDir), target, define);
}

/** src/install/install.sh with the release's version filled in, so the script fetched from a release installs that release. */
export function stampInstaller(version: string): string {
  const source = readFileSync(join(import.meta.dir, "src", "install", INSTALLER), "utf8");
  const placeholder = /^release_version=""$/m;
  if (!placeholder.test(source)) throw new Error(`src/install/${INSTALLER} has no release_version="" line to stamp`);
  return source.replace(placeholder, `release_version="${version}"`);
}

export function sha256(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/**
 * Turn compiled binaries in `dir` into a release: a gzip copy of each
 * binary, the stamped install script, and SHA256SUMS over all of them (in
 * `sha256sum` format, so `sha256sum -c` reads it). Returns the asset names.
 * Without `gzip`, a mirror's minimal copy: no `.gz` assets, which install.sh
 * does without.
 */
export function packageRelease(dir: string, version: string, targets: readonly TargetName[] = TARGET_NAMES, { gzip = true } = {}): string[] {
  const digests = new Map<string, string>();
  const write = (name: string, data: Uint8Array, mode = 0o644) => {
    writeFileSync(join(dir, name), data, { mode });
    digests.set(name, sha256(data));
  };
  for (const target of targets) {
    const binary = new Uint8Array(readFileSync(binaryPath(target, dir)));
    digests.set(binaryName(target), sha256(binary));
    if (gzip) write(`${binaryName(target)}.gz`, Bun.gzipSync(binary, { level: 9 }));
  }
  write(INSTALLER, new TextEncoder().encode(stampInstaller(version)), 0o755);
  const names = [...digests.keys()].sort();
  writeFileSync(join(dir, CHECKSUMS), names.map((name) => `${digests.get(name)}  ${name}\n`).join(""));
  return [...names, CHECKSUMS];
}

/** The command line build.ts accepts; the workflow test checks the workflows against it. */
export const CLI_OPTIONS = {
  target: { type: "string" },
  release: { type: "boolean" },
  // The git tag being released: it must name package.json's version, so a
  // release can never carry binaries that report another version.
  tag: { type: "string" },
} as const;

function usageError(message: string): never {
  console.error(`build.ts: ${message}`);
  process.exit(2);
}

if (import.meta.main) {
  let values: { target?: string; release?: boolean; tag?: string };
  try {
    ({ values } = parseArgs({ options: CLI_OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    usageError((error as Error).message);
  }
  if (values.target && !(values.target in TARGETS)) usageError(`unknown target ${values.target}; known: ${TARGET_NAMES.join(", ")}`);
  if (values.release && values.target) usageError("--release builds every target; drop --target");
  if (values.tag && !values.release) usageError("--tag only makes sense with --release");
  if (values.tag && values.tag !== `v${VERSION}`) usageError(`tag ${values.tag} does not match package.json's version ${VERSION}: expected v${VERSION}`);

  // A release starts from an empty dist/ so nothing stale is ever uploaded.
  if (values.release) rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  // A plain build compiles what the agents and the tests run; a release adds the operators' macOS builds.
  const wanted = values.target ? [values.target as TargetName] : values.release ? TARGET_NAMES : AGENT_TARGETS;
  for (const target of wanted) console.log(`built ${await build(target)}`);
  if (values.release) console.log(`release assets in dist/: ${packageRelease(DIST, VERSION).join(" ")}`);
}
