// Compiles bk-ssm-secrets into one self-contained executable per target with
// `bun build --compile`. This file is the single source of truth for targets
// and flags: `make build` and the release workflow both call it.
//
//   bun build.ts                     # every target into dist/
//   bun build.ts --target linux-x64  # one target
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pkg from "./package.json" with { type: "json" };

export const TARGETS = {
  // The baseline x64 build runs on every x86_64 EC2 instance, including the
  // older generations without AVX2; start-up time is the same.
  "linux-x64": "bun-linux-x64-baseline",
  "linux-arm64": "bun-linux-arm64",
} as const;

export type TargetName = keyof typeof TARGETS;
export const DIST = join(import.meta.dir, "dist");

export function binaryPath(target: TargetName): string {
  return join(DIST, `bk-ssm-secrets-${target}`);
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

export function build(target: TargetName, version = pkg.version, commit = gitCommit()): Promise<string> {
  const define = { BUILD_VERSION: version, BUILD_COMMIT: commit, BUILD_TARGET: target };
  return compile(join(import.meta.dir, "src/main.ts"), binaryPath(target), target, define);
}

if (import.meta.main) {
  const flag = process.argv.indexOf("--target");
  const wanted = flag >= 0 ? [process.argv[flag + 1] as TargetName] : (Object.keys(TARGETS) as TargetName[]);
  for (const target of wanted) {
    if (!(target in TARGETS)) {
      console.error(`unknown target ${target}; known: ${Object.keys(TARGETS).join(", ")}`);
      process.exit(2);
    }
  }
  mkdirSync(DIST, { recursive: true });
  for (const target of wanted) console.log(`built ${await build(target)}`);
}
