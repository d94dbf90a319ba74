// Jobs that use deploy keys: a scratch directory per job (its TMPDIR, HOME and
// build directory, so jobs on one machine are told apart), ssh-agent and
// ssh-add wrappers that record how they were called, and the checks every
// such job must pass afterwards: no agent alive, no socket, no key on disk,
// no key in any argv.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as assert from "uvu/assert";
import type { TestKey } from "./git-ssh-server.ts";
import { plantSecret, type Env } from "./job.ts";

/** Every line of a key's body is planted, so a log holding any part of a key fails the audit. */
export function plantKey(key: Pick<TestKey, "privateKey">): void {
  plantSecret(key.privateKey);
  plantSecret(key.privateKey.trim());
  for (const line of keyLines(key.privateKey)) plantSecret(line);
}

function keyLines(privateKey: string): string[] {
  return privateKey.split("\n").filter((line) => line.length >= 16 && !line.startsWith("-----"));
}

export interface ToolWrappers {
  /** Put first on the job's PATH. */
  dir: string;
  /** One line per call: program, whether stdin was a stream (a pipe or socket, not a file), the arguments. */
  calls(): Array<{ program: string; stdin: string; args: string }>;
  close(): void;
}

/** ssh-agent and ssh-add wrappers that log their argv and stdin kind, then exec the real programs. */
export function toolWrappers(): ToolWrappers {
  const dir = mkdtempSync(join(tmpdir(), "bk-tools-"));
  const log = join(dir, "calls.log");
  writeFileSync(log, "");
  for (const program of ["ssh-agent", "ssh-add"]) {
    const real = Bun.which(program, { PATH: "/usr/bin:/bin" });
    writeFileSync(
      join(dir, program),
      `#!/bin/bash\nstdin=other; [[ -p /dev/stdin || -S /dev/stdin ]] && stdin=stream\nprintf '%s\\t%s\\t%s\\n' ${program} "$stdin" "$*" >> '${log}'\nexec ${real} "$@"\n`,
      { mode: 0o755 },
    );
  }
  return {
    dir,
    calls: () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [program, stdin, args] = line.split("\t") as [string, string, string];
          return { program, stdin, args: args ?? "" };
        }),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface JobScratch {
  root: string;
  tmp: string;
  home: string;
  build: string;
  /** TMPDIR, HOME and PATH for a job living here. */
  env(wrappers?: ToolWrappers): Env;
  remove(): void;
}

export function jobScratch(): JobScratch {
  const root = mkdtempSync(join(tmpdir(), "bk-job-"));
  const [tmp, home, build] = ["tmp", "home", "build"].map((name) => join(root, name)) as [string, string, string];
  for (const dir of [tmp, home, build]) mkdirSync(dir);
  return {
    root,
    tmp,
    home,
    build,
    env: (wrappers) => ({ TMPDIR: tmp, HOME: home, PATH: `${wrappers ? `${wrappers.dir}:` : ""}${process.env.PATH ?? "/usr/bin:/bin"}` }),
    remove: () => {
      // A test that failed half-way must not leave the job's agents running.
      for (const pid of agentsUnder(root)) process.kill(pid);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Paths anywhere under `dir` whose stat passes `keep`. */
function pathsUnder(dir: string, keep: (stat: Stats) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((entry) => join(dir, entry))
    .filter((path) => {
      try {
        return keep(statSync(path));
      } catch {
        return false;
      }
    });
}

/** Unix sockets anywhere under `dir`. */
export const socketsUnder = (dir: string) => pathsUnder(dir, (stat) => stat.isSocket());

/** ssh-agents alive (zombies are not) whose socket is under `dir`: the agents a job with TMPDIR=dir started. */
export function agentsUnder(dir: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return argv[0]!.endsWith("ssh-agent") && argv.some((arg) => arg.startsWith(`${dir}/`));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** After pre-exit: nothing of the job's agents is left, and no key reached the disk or an argv. */
export function assertJobLeftNothing(scratch: JobScratch, keys: TestKey[], wrappers?: ToolWrappers): void {
  assert.equal(agentsUnder(scratch.root), [], "no ssh-agent of the job is alive");
  assert.equal(socketsUnder(scratch.root), [], "no socket is left");
  assert.equal(
    readdirSync(scratch.tmp).filter((entry) => entry.startsWith("bk-ssm-secrets-agents-")),
    [],
    "the agent directory is gone",
  );
  const lines = keys.flatMap((key) => keyLines(key.privateKey));
  for (const file of pathsUnder(scratch.root, (stat) => stat.isFile())) {
    const content = readFileSync(file, "latin1");
    assert.not.ok(lines.some((line) => content.includes(line)), `key material in ${file}`);
  }
  for (const call of wrappers?.calls() ?? []) {
    assert.not.ok(lines.some((line) => call.args.includes(line)), `key material in the argv of ${call.program}`);
    if (call.program === "ssh-add" && call.args.split(" ").includes("-")) assert.is(call.stdin, "stream", "ssh-add reads the key from a stream, not a file");
  }
}

