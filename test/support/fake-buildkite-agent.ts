// A `buildkite-agent` executable for tests to put on a job's PATH. It records
// every call (argv, NUL-separated, and stdin) in its directory, answers
// `--version` with the version it was given, and exits with the status it was
// given for `redactor add` (0 by default, as an agent with a redactor does).
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface FakeAgentCall {
  argv: string[];
  stdin: string;
}

export interface FakeAgent {
  /** Put this first on the job's PATH. */
  readonly dir: string;
  /** Every call so far, oldest first. */
  calls(): FakeAgentCall[];
  close(): void;
}

export function makeFakeAgent(options: { version?: string; redactorExit?: number } = {}): FakeAgent {
  const dir = mkdtempSync(join(tmpdir(), "bk-fake-agent-"));
  const calls = join(dir, "calls");
  const version = options.version ?? "3.100.0";
  const script = `#!/usr/bin/env bash
set -u
record=${JSON.stringify(calls)}
mkdir -p "$record"
n=$(find "$record" -name '*.argv' | wc -l)
n=$(printf '%04d' "$n")
printf '%s\\0' "$@" > "$record/$n.argv"
if [[ "\${1:-}" == "--version" ]]; then
  : > "$record/$n.stdin"
  echo "buildkite-agent version ${version}, build 1234"
  exit 0
fi
cat > "$record/$n.stdin"
if [[ "\${1:-} \${2:-}" == "redactor add" ]]; then exit ${options.redactorExit ?? 0}; fi
echo "fake buildkite-agent: unknown command $*" >&2
exit 1
`;
  writeFileSync(join(dir, "buildkite-agent"), script);
  chmodSync(join(dir, "buildkite-agent"), 0o755);
  return {
    dir,
    calls: () => {
      let names: string[];
      try {
        names = readdirSync(calls).filter((name) => name.endsWith(".argv")).sort();
      } catch {
        return [];
      }
      return names.map((name) => ({
        argv: readFileSync(join(calls, name), "utf8").split("\0").slice(0, -1),
        stdin: readFileSync(join(calls, name.replace(/\.argv$/, ".stdin")), "utf8"),
      }));
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
