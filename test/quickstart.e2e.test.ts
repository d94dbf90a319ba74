// The README's Quick start, run verbatim. Each block marked
// `<!-- quickstart: ... -->` runs in real bash, as root, in order, on a
// machine in miniature: a private mount namespace whose /etc, /usr/local and
// /var/lib are copy-on-write overlays over this machine's, so the quick start
// installs to the real default paths without touching the host. What the test
// changes is only environment: the SSM endpoint (the bundled one) and its
// credentials, and the releases URL (a local copy of the release downloads,
// built from the binary `make build` made). Then a job runs through the hooks
// the quick start installed, as the agent would source them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { binaryPath, INSTALLER, packageRelease, sha256, VERSION, type TargetName } from "../build.ts";
import { parseDefaultsFile } from "../src/job/config.ts";
import { assertNoSecretIn, plantSecret, ROOT } from "./support/job.ts";
import { markedBlocks } from "./support/markdown.ts";
import { startReleaseServer } from "./support/release-server.ts";
import { sdkEnv, startSsmServer } from "./support/ssm-server.ts";

const NATIVE: TargetName = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
/** The GitHub repository install.sh downloads from by default, read from the script itself. */
const REPO = /^readonly DEFAULT_RELEASES_URL="https:\/\/github\.com\/([^/]+\/[^/]+)\/releases\/download"$/m.exec(readFileSync(join(ROOT, "src", "install", INSTALLER), "utf8"))?.[1] ?? "";
/** The directories the quick start writes to, each an overlay in the namespace. */
const OVERLAID = ["/etc", "/usr/local", "/var/lib"];

const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const blocks = markedBlocks(readme, "quickstart");
const commands = blocks.filter((block) => block.language === "sh");
const expected = blocks.filter((block) => block.language === "text");

/** What the quick start writes, on the host: it must see none of it. */
const HOST_PATHS = ["/usr/local/bin/bk-ssm-secrets", "/etc/buildkite-agent/hooks", "/etc/bk-ssm-secrets/defaults.env", "/var/lib/buildkite-agent/cfn-env", "/usr/local/lib/bk-ssm-secrets"];
const fingerprint = (path: string) => (existsSync(path) ? `${path} ${statSync(path).mtimeMs}` : `${path} absent`);

interface Step {
  label: string;
  status: number;
  stdout: string;
  stderr: string;
}

/** Where the overlay of `dir` keeps what was written under it: the quick start's footprint. */
const upper = (scratch: string, dir: string, path = "") => join(scratch, "overlay", dir.slice(1).replaceAll("/", "-"), "upper", path);

/**
 * The namespace's set-up (overlays, and what an agent instance has before its
 * bootstrap runs: the agent's hooks directory and its environment file's
 * directory), then each script in `scripts` in its own `bash -e`, from `work`.
 */
function driver(scratch: string, scripts: string[]): string {
  const mounts = OVERLAID.map((dir) => {
    const [up, work] = [upper(scratch, dir), join(upper(scratch, dir), "../work")];
    return `mkdir -p '${up}' '${work}' && mount -t overlay overlay -o 'lowerdir=${dir},upperdir=${up},workdir=${work}' '${dir}'`;
  });
  return [
    "set -u",
    ...mounts.map((line) => `${line} || { echo "this test needs root to mount overlays: $?" >&2; exit 97; }`),
    "mkdir -p /etc/buildkite-agent/hooks /var/lib/buildkite-agent",
    `cd '${join(scratch, "work")}'`,
    ...scripts.map((script) => `bash -e '${script}' >'${script}.out' 2>'${script}.err'; echo $? >'${script}.status'`),
  ].join("\n");
}

test("the README's Quick start works verbatim: install on an agent, put a secret, doctor the pipeline, and a job gets it", async () => {
  assert.equal(
    commands.map((block) => block.label),
    ["install on the agent", "store a secret", "check the pipeline"],
    "the README marks the Quick start's three steps",
  );
  assert.is(expected.length, 1, "the README marks the output doctor ends with");
  const lines = readme.split("\n");
  const section = lines.findIndex((line) => line === "## Quick start") + 1;
  const sectionEnd = lines.findIndex((line, index) => index >= section && line.startsWith("## "));
  assert.ok(section > 0 && section < 40, "the Quick start is near the top");
  assert.ok(blocks.every((block) => block.line > section && block.line < sectionEnd + 1), "the marked blocks are in the Quick start");
  assert.match(commands[0]!.code, `BK_SSM_SECRETS_VERSION=${VERSION}\n`, "the README pins the current version");
  assert.match(commands[0]!.code, `https://github.com/${REPO}/releases/download`);

  const hostBefore = HOST_PATHS.map(fingerprint);
  const scratch = mkdtempSync("/tmp/bk-quickstart-");
  const ssm = await startSsmServer();
  const releaseDir = join(scratch, "releases", VERSION);
  mkdirSync(releaseDir, { recursive: true });
  try {
    linkSync(binaryPath(NATIVE), binaryPath(NATIVE, releaseDir));
  } catch {
    copyFileSync(binaryPath(NATIVE), binaryPath(NATIVE, releaseDir));
  }
  // A mirror's copy (raw binary, install.sh, SHA256SUMS): gzip-compressing 115 MB costs seconds and is install-script.e2e's to test.
  packageRelease(releaseDir, VERSION, [NATIVE], { gzip: false });
  const releases = await startReleaseServer(REPO, { [VERSION]: releaseDir });

  try {
    // What the operator has at hand in step 2: the token in a file.
    const token = `npm_${randomBytes(18).toString("hex")}`;
    plantSecret(token);
    for (const dir of ["work", "home", "tmp", "steps"]) mkdirSync(join(scratch, dir));
    writeFileSync(join(scratch, "work", "npm-token.txt"), token, { mode: 0o600 });

    const scripts = commands.map((block, index) => {
      const path = join(scratch, "steps", `${index + 1}.sh`);
      writeFileSync(path, `${block.code}\n`);
      return path;
    });
    // After the quick start: a job of pipeline widgets, through the agent hooks it installed, sourced as
    // the agent sources them, with the agent's environment file. It says whether it got the token, never what.
    const job = join(scratch, "steps", "job.sh");
    writeFileSync(
      job,
      [
        "set -a; source /var/lib/buildkite-agent/cfn-env; set +a",
        "export BUILDKITE_PIPELINE_SLUG=widgets BUILDKITE_REPO=https://github.com/acme/widgets.git BUILDKITE_JOB_ID=0190b6f4-quickstart BUILDKITE_BUILD_CHECKOUT_PATH=/nonexistent/checkout",
        "source /etc/buildkite-agent/hooks/environment",
        '[[ "${NPM_TOKEN-}" == "$(cat npm-token.txt)" ]] && echo "NPM_TOKEN: the stored value"',
        "source /etc/buildkite-agent/hooks/pre-exit",
      ].join("\n"),
    );
    writeFileSync(join(scratch, "driver.sh"), driver(scratch, [...scripts, job]));

    const env = {
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: join(scratch, "home"),
      TMPDIR: join(scratch, "tmp"),
      LANG: "C.UTF-8",
      NO_COLOR: "1",
      ...sdkEnv(ssm),
      BK_SSM_SECRETS_RELEASES_URL: releases.releasesUrl,
    };
    const proc = Bun.spawn(["unshare", "--mount", "--propagation", "private", "bash", join(scratch, "driver.sh")], { env, stdout: "pipe", stderr: "pipe" });
    const [driverOut, driverErr, driverStatus] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    assert.is(driverStatus, 0, `the namespace could not be set up (this test runs as root): ${driverOut}${driverErr}`);

    const steps: Step[] = [...scripts, job].map((script, index) => ({
      label: commands[index]?.label ?? "a job",
      status: Number(readFileSync(`${script}.status`, "utf8")),
      stdout: readFileSync(`${script}.out`, "utf8"),
      stderr: readFileSync(`${script}.err`, "utf8"),
    }));
    for (const step of steps) {
      assertNoSecretIn(step.stdout + step.stderr, `the output of "${step.label}"`);
      assert.is(step.status, 0, `"${step.label}" failed:\n${step.stdout}${step.stderr}`);
    }
    const [install, put, doctor, jobRun] = steps as [Step, Step, Step, Step];

    // 1. The binary, the hooks, the defaults file and the enable flag, where the quick start says.
    assert.is(sha256(readFileSync(upper(scratch, "/usr/local", "bin/bk-ssm-secrets"))), sha256(readFileSync(binaryPath(NATIVE))), "the release's binary is in /usr/local/bin");
    assert.equal(readdirSync(upper(scratch, "/etc", "buildkite-agent/hooks")).sort(), ["environment", "post-checkout", "post-command", "pre-checkout", "pre-exit"]);
    const defaults = parseDefaultsFile(readFileSync(upper(scratch, "/etc", "bk-ssm-secrets/defaults.env"), "utf8"));
    assert.is(defaults.AWS_PARAMSTORE_SECRETS_SECRETS_PATH, "/vendors/buildkite");
    assert.is(readFileSync(upper(scratch, "/var/lib", "buildkite-agent/cfn-env"), "utf8"), "export AWS_SSM_SECRETS_PLUGIN_ENABLED=1\n");
    assert.match(install.stdout, `Installing bk-ssm-secrets ${VERSION}`);
    assert.equal(readdirSync(join(scratch, "tmp")).filter((name) => !name.startsWith("tmp.")), [], "the installer leaves no download behind");

    // 2. The secret, byte for byte, where the quick start says, encrypted.
    const stored = ssm.get("/vendors/buildkite/widgets/env/NPM_TOKEN");
    assert.ok(stored, `put stored the token:\n${put.stderr}`);
    assert.is(stored!.value, token);
    assert.is(stored!.type, "SecureString");
    assert.match(put.stderr, "/vendors/buildkite/widgets/env/NPM_TOKEN");

    // 3. doctor ends with the line the README shows.
    assert.is(doctor.stdout.trimEnd().split("\n").at(-1), expected[0]!.code.trim(), `doctor's verdict, as the README shows it:\n${doctor.stdout}`);
    assert.match(doctor.stdout, /NPM_TOKEN\s+widgets\s+\/vendors\/buildkite\/widgets\/env\/NPM_TOKEN/);

    // And the agent works: a job gets the token, its log names it, and pre-exit leaves nothing.
    assert.match(jobRun.stdout, "NPM_TOKEN: the stored value");
    assert.match(jobRun.stderr, "Loading secrets from SSM");
    assert.ok(ssm.callCount("GetParametersByPath") >= 3 * 2, "doctor and the job each read the three slugs");
  } finally {
    await Promise.all([ssm.close(), releases.close()]);
    rmSync(scratch, { recursive: true, force: true });
  }
  assert.equal(HOST_PATHS.map(fingerprint), hostBefore, "the host's own files are untouched");
});

test.run();
