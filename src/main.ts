// bk-ssm-secrets: one binary, one subcommand per hook phase. A phase prints
// shell code on stdout for its hook to eval, and logs on stderr. Each
// subcommand's module is imported only when it runs, so the AWS SDK is loaded
// by the phases that talk to AWS and by no others. The operator commands
// (doctor, ls, put, rm) print a report or table on stdout instead; exec runs
// a command with what a job would get. This file is the fast path the hooks
// take; anything else goes to the full command line in cli/commands.ts.
import { platformRefusal } from "./core/platform.ts";
import { VERSION } from "./core/version.ts";
import { fail, handOver, PHASES, runPhase } from "./cli/run.ts";
import { utf8 } from "./core/stdio.ts";

// A hook phase or --version alone, as the hooks and scripts call them, skips
// the CLI framework: nothing is loaded that the phase does not use.
// On another system than Linux the hook commands refuse before anything else.
const [first, ...more] = process.argv.slice(2);
const refusal = platformRefusal(first ?? "", process.platform);
if (refusal) fail(refusal, 2);
// The installed hooks add only the defaults file, which runPhase reads itself.
const onlyDefaultsFile = more.length === 0 || (more.length === 2 && more[0] === "--defaults-file") || (more.length === 1 && more[0]!.startsWith("--defaults-file="));
const phase = onlyDefaultsFile ? PHASES.find(({ name }) => name === first) : undefined;
if (phase) await runPhase(phase);
if (more.length === 0 && (first === "--version" || first === "-v")) {
  await handOver(utf8(`${VERSION}\n`));
}

await import("./cli/commands.ts");
