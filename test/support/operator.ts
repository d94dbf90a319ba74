// Running the operator commands (doctor, ls, put, rm) through the compiled
// binary. Their stdout is a report, never an eval payload, so it is audited
// like their log; and a value must never reach their argv.
import { assertNoSecretIn, runBinary, type BinaryRun, type Env } from "./job.ts";

export async function runOperator(args: string[], env: Env, stdin?: string | Uint8Array): Promise<BinaryRun> {
  assertNoSecretIn(args.join("\n"), `the argv of bk-ssm-secrets ${args[0]}`);
  const run = await runBinary(args, env, stdin);
  assertNoSecretIn(run.stdout, `the output of bk-ssm-secrets ${args.join(" ")}`);
  return run;
}

/** The lines of a table: the cells of each line, split on the two-space gaps between columns. */
export function tableCells(table: string): string[][] {
  return table
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => line.trim().split(/ {2,}/));
}

/** The one error line of a failed command: `:no_entry: …` in a job's log, `error: …` on a terminal. */
export function failureLine(stderr: string): string {
  const lines = stderr.split("\n").filter((line) => line.includes(":no_entry:") || line.startsWith("error: "));
  if (lines.length !== 1) throw new Error(`expected one failure line, got ${lines.length}:\n${stderr}`);
  return lines[0]!;
}
