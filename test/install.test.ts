// The install plan, pure: blocks in the agent's hooks, the defaults file, and
// an uninstall that gives back every byte.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseDefaultsFile } from "../src/job/config.ts";
import { defaultsSettings, planInstall, recordedPaths, withBlock, withoutBlock, type EmbeddedFile, type FileState, type InstallRequest } from "../src/install/install.ts";
import { oldHookLines, restoreOldBlocks, switchOffOldBlocks } from "../src/install/old-hook.ts";
import { PYTHON_HOOK_BLOCKS } from "./support/python-hook.ts";

const HOOK = "/usr/local/lib/bk-ssm-secrets/environment";

test("a block is added at the end and removed again byte for byte, whatever the file ended with", () => {
  for (const original of ["", "#!/bin/bash\necho hi\n", "#!/bin/bash\necho no newline", "\n\n", "echo a\r\necho b\r\n", "x"]) {
    const installed = withBlock(original, HOOK);
    assert.ok(installed.startsWith(original), JSON.stringify(original));
    assert.ok(installed.includes(`source '${HOOK}' || return\n`));
    assert.is(withoutBlock(installed), original, JSON.stringify(original));
    assert.is(withBlock(installed, HOOK), installed, "installing again changes nothing");
  }
});

test("a file the install created is deleted by the uninstall; a user's identical-looking file is not", () => {
  const created = withBlock(undefined, HOOK);
  assert.ok(created.startsWith("#!/usr/bin/env bash\n"));
  assert.is(withoutBlock(created), undefined);
  assert.is(withoutBlock(withBlock("#!/usr/bin/env bash\n", HOOK)), "#!/usr/bin/env bash\n");
});

test("installing again replaces the block in place and keeps what the operator added around it", () => {
  const installed = withBlock("#!/bin/bash\necho before", HOOK);
  const edited = `${installed}echo after\n`;
  const moved = withBlock(edited, "/opt/bk/environment");
  assert.is(moved, edited.replace(`'${HOOK}'`, "'/opt/bk/environment'"));
  assert.is(withoutBlock(moved), "#!/bin/bash\necho before\necho after\n");
});

test("a block copied twice by hand is reduced to one, and uninstall removes both", () => {
  const once = withBlock("echo a\n", HOOK);
  const twice = `${once}echo b\n${once.slice("echo a\n".length)}`;
  assert.is(withBlock(twice, HOOK), `${once}echo b\n`);
  assert.is(withoutBlock(twice), "echo a\necho b\n");
});

const files: EmbeddedFile[] = [
  { name: "environment", content: "env hook\n", isHook: true },
  { name: "lib/run-phase.bash", content: "lib\n  local bin='' defaults_file=''\n", isHook: false },
];
const request: InstallRequest = { hooksDir: "/agent/hooks", installDir: "/opt/bk", defaultsFile: "/etc/bk-ssm-secrets/defaults.env", settings: {}, uninstall: false };

/** Apply a plan to an in-memory file system. */
function applyPlan(disk: Map<string, FileState>, req: InstallRequest, settings: Array<[string, string]> = []): Map<string, FileState> {
  const next = new Map(disk);
  for (const change of planInstall(req, files, settings, (path) => disk.get(path))) {
    if (change.kind === "write") next.set(change.path, { content: change.content, mode: change.mode });
    if (change.kind === "delete") next.delete(change.path);
  }
  return next;
}

test("the hook library records the binary's and the defaults file's absolute paths, quoted for bash", () => {
  const custom = { ...request, binary: "/opt/it's/bin/bk-ssm-secrets", defaultsFile: "/srv/agent/../conf/defaults.env" };
  const lib = applyPlan(new Map(), custom).get("/opt/bk/lib/run-phase.bash")!.content;
  assert.is(lib, "lib\n  local bin='/opt/it'\\''s/bin/bk-ssm-secrets' defaults_file='/srv/conf/defaults.env'\n");
  const fromSource = applyPlan(new Map(), request).get("/opt/bk/lib/run-phase.bash")!.content;
  assert.is(fromSource, "lib\n  local bin='' defaults_file='/etc/bk-ssm-secrets/defaults.env'\n", "no binary: the hooks look on PATH");
  // doctor and the operator commands read them back, as bash would.
  assert.equal(recordedPaths(lib), { binary: "/opt/it's/bin/bk-ssm-secrets", defaultsFile: "/srv/conf/defaults.env" });
  assert.equal(recordedPaths(fromSource), { defaultsFile: "/etc/bk-ssm-secrets/defaults.env" });
  assert.equal(recordedPaths("#!/bin/bash\n"), {});
});

test("the plan: hooks 0755, the library and defaults 0644, an existing agent hook keeps its mode; twice is once; uninstall is the undo", () => {
  const original = new Map<string, FileState>([["/agent/hooks/environment", { content: "#!/bin/bash\necho mine", mode: 0o700 }]]);
  const once = applyPlan(original, request, [["AWS_PARAMSTORE_SECRETS_SECRETS_PATH", "/x"]]);
  assert.equal(
    [...once].map(([path, state]) => [path, state.mode.toString(8)]).sort(),
    [
      ["/agent/hooks/environment", "700"],
      ["/etc/bk-ssm-secrets/defaults.env", "644"],
      ["/opt/bk/environment", "755"],
      ["/opt/bk/lib/run-phase.bash", "644"],
    ],
  );
  assert.equal(parseDefaultsFile(once.get("/etc/bk-ssm-secrets/defaults.env")!.content), { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/x" });
  assert.equal(planInstall(request, files, [["AWS_PARAMSTORE_SECRETS_SECRETS_PATH", "/x"]], (path) => once.get(path)), []);
  assert.equal(applyPlan(once, { ...request, uninstall: true }), original);
});

test("uninstall removes only what an install wrote where the blocks point: a block rewritten to name /etc cannot make it delete /etc/environment", () => {
  const installed = applyPlan(new Map(), request);
  const hook = installed.get("/agent/hooks/environment")!;
  const tampered = new Map(installed)
    .set("/agent/hooks/environment", { ...hook, content: hook.content.replace("/opt/bk/environment", "/etc/environment") })
    .set("/etc/environment", { content: "PATH=/usr/bin\n", mode: 0o644 });
  assert.throws(() => planInstall({ ...request, uninstall: true }, files, [], (path) => tampered.get(path)), /runs the scripts in \/etc, not in the install directory \/opt\/bk/);
  // Nor when the operator names that directory: only a file an install wrote there goes.
  const named = planInstall({ ...request, installDir: "/etc", uninstall: true }, files, [], (path) => tampered.get(path));
  assert.not.ok(named.some((change) => change.kind === "delete" && change.path.startsWith("/etc/")));
  assert.ok(named.some((change) => change.kind === "keep" && change.path === "/etc/environment"));
  // What the install wrote under /opt/bk, its recorded paths whatever they are, still goes.
  const custom = applyPlan(new Map(), { ...request, binary: "/usr/local/bin/bk-ssm-secrets" });
  assert.equal(applyPlan(custom, { ...request, uninstall: true }), new Map());
});

test("uninstall keeps a defaults file an operator wrote by hand", () => {
  const handWritten = new Map<string, FileState>([["/etc/bk-ssm-secrets/defaults.env", { content: "export AWS_PARAMSTORE_SECRETS_DEFAULT_KEY=shared\n", mode: 0o644 }]]);
  assert.equal(applyPlan(handWritten, { ...request, uninstall: true }), handWritten);
});

test("uninstall removes a defaults file an older install wrote, whose header said more, with that install's scripts", () => {
  const installed = applyPlan(new Map(), request);
  const older = new Map(installed).set("/etc/bk-ssm-secrets/defaults.env", { content: "# bk-ssm-secrets defaults, written by `bk-ssm-secrets install`. The job's environment overrides them.\nexport A=1\n", mode: 0o644 });
  assert.equal(applyPlan(older, { ...request, uninstall: true }), new Map());
});

test("the hook scripts may not go into the agent's hooks directory itself", () => {
  assert.throws(() => planInstall({ ...request, installDir: "/agent/hooks/" }, files, [], () => undefined), /need a directory of their own/);
});

test("defaults come from the flags, validated; AWS_PARAMSTORE_SECRETS_PATH is the original install's base path", () => {
  assert.equal(defaultsSettings({ ...request, settings: { basePath: "/a/b", defaultKey: "shared", globalSsh: "/k/1:/k/2" } }, {}), [
    ["AWS_PARAMSTORE_SECRETS_SECRETS_PATH", "/a/b"],
    ["AWS_PARAMSTORE_SECRETS_DEFAULT_KEY", "shared"],
    ["AWS_PARAMSTORE_SECRETS_GLOBAL_SSH", "/k/1:/k/2"],
  ]);
  assert.equal(defaultsSettings(request, { AWS_PARAMSTORE_SECRETS_PATH: "/legacy" }), [["AWS_PARAMSTORE_SECRETS_SECRETS_PATH", "/legacy"]]);
  assert.equal(defaultsSettings({ ...request, settings: { basePath: "/flag" } }, { AWS_PARAMSTORE_SECRETS_PATH: "/legacy" }), [["AWS_PARAMSTORE_SECRETS_SECRETS_PATH", "/flag"]]);
  assert.throws(() => defaultsSettings({ ...request, settings: { basePath: "relative" } }, {}), /^--base-path: AWS_PARAMSTORE_SECRETS_SECRETS_PATH="relative" is not an absolute SSM path/);
  assert.throws(() => defaultsSettings({ ...request, settings: { defaultKey: "a b" } }, {}), /^--default-key: /);
  assert.throws(() => defaultsSettings({ ...request, settings: { globalSsh: "not-a-path" } }, {}), /^--global-ssh: /);
});

test("uninstall stops, changing nothing, when a block runs scripts outside the install directory the operator names", () => {
  const installed = applyPlan(new Map(), request);
  const elsewhere = new Map([...installed, ["/usr/local/lib/bk-ssm-secrets/environment", { content: "env hook\n", mode: 0o755 }]]);
  assert.throws(
    () => planInstall({ ...request, installDir: "/usr/local/lib/bk-ssm-secrets", uninstall: true }, files, [], (path) => elsewhere.get(path)),
    /\/agent\/hooks\/environment's bk-ssm-secrets block runs the scripts in \/opt\/bk, not in the install directory \/usr\/local\/lib\/bk-ssm-secrets; nothing was changed. A job may be able to rewrite that block: if it is this install's own, run the uninstall with --install-dir \/opt\/bk/,
  );
});

test("uninstall from another hooks directory keeps the scripts the agent's default hooks directory still runs, and their defaults", () => {
  const machine = applyPlan(new Map(), { ...request, hooksDir: "/etc/buildkite-agent/hooks" });
  const both = applyPlan(machine, request);
  const removed = applyPlan(both, { ...request, uninstall: true });
  assert.equal([...removed].sort(), [...machine].sort());
});

test("a defaults file is removed with the scripts it was written for, not with another install's", () => {
  const installed = applyPlan(new Map(), request);
  assert.match(installed.get(request.defaultsFile)!.content, "# For the hook scripts in /opt/bk\n");
  const other = new Map([...installed, [request.defaultsFile, { content: installed.get(request.defaultsFile)!.content.replace("/opt/bk", "/opt/other"), mode: 0o644 }]]);
  assert.ok(applyPlan(other, { ...request, uninstall: true }).has(request.defaultsFile));
  assert.not.ok(applyPlan(installed, { ...request, uninstall: true }).has(request.defaultsFile));
});

test("the Python hook's blocks are switched off in place and put back byte for byte, however often configure.sh ran", () => {
  for (const [hook, block] of Object.entries(PYTHON_HOOK_BLOCKS)) {
    // configure.sh's environment block starts with a line break: it also follows a last line without one.
    const noNewline = block.startsWith("\n") ? [`echo no newline${block}${block}`] : [];
    for (const original of [block, block + block, `#!/bin/bash\necho mine\n${block}echo after\n`, ...noNewline]) {
      const { content, blocks } = switchOffOldBlocks(original);
      assert.is(blocks, original.split(block).length - 1, hook);
      assert.equal(oldHookLines(content), [], content);
      assert.ok(oldHookLines(original).length > 0);
      assert.is(restoreOldBlocks(content), original, `${hook}: ${JSON.stringify(original)}`);
      // Through the whole plan: install, then uninstall.
      const disk = new Map([["/agent/hooks/environment", { content: original, mode: 0o755 }]]);
      assert.equal([...applyPlan(applyPlan(disk, request), { ...request, uninstall: true })], [...disk]);
    }
  }
});

test("a line running the Python hook that is not one of configure.sh's blocks stops the install, naming the line", () => {
  const disk = new Map([["/agent/hooks/environment", { content: "#!/bin/bash\n. /opt/aws-paramstore-secrets/hooks/environment\n", mode: 0o755 }]]);
  assert.throws(() => applyPlan(disk, request), /^\/agent\/hooks\/environment line 2 runs the Python hook \(aws-paramstore-secrets\) in a form install does not recognise/);
  assert.equal(oldHookLines("# a note on aws-paramstore-secrets/hooks/environment\n#| # --- Start AWS paramstore secrets plugin ---\n"), []);
});

test("the Python hook's settings fill what no flag gives; a bad one names its file", () => {
  const old = { path: "/old/custom-defaults", values: { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/old/", AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: "", AWS_PARAMSTORE_SECRETS_VERBOSE: "1" } };
  assert.equal(defaultsSettings({ ...request, settings: { defaultKey: "shared" } }, {}, old), [
    ["AWS_PARAMSTORE_SECRETS_SECRETS_PATH", "/old/"],
    ["AWS_PARAMSTORE_SECRETS_DEFAULT_KEY", "shared"],
    ["AWS_PARAMSTORE_SECRETS_VERBOSE", "1"],
  ]);
  assert.throws(() => defaultsSettings(request, {}, { path: "/old/custom-defaults", values: { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "relative" } }), /^AWS_PARAMSTORE_SECRETS_SECRETS_PATH in \/old\/custom-defaults: /);
});

test.run();
