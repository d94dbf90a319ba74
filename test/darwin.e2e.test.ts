// The macOS operator builds: build.ts cross-compiles them with the project's
// flags, they are Mach-O executables for the right CPU carrying this version,
// and a release ships them with checksums. They cannot run here, so what they
// would do on a Mac is checked through the same code on Linux
// (test/platform.test.ts) and by the refusal being compiled in.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaryName, binaryPath, build, CHECKSUMS, packageRelease, sha256, VERSION, type TargetName } from "../build.ts";

const dir = mkdtempSync(join(tmpdir(), "bk-darwin-"));
// Mach-O 64-bit magic (0xfeedfacf) and CPU types, little-endian as both Macs store them.
const MACH_O_64 = 0xfeedfacf;
const CPU: Record<string, number> = { "darwin-arm64": 0x0100000c, "darwin-x64": 0x01000007 };
const DARWIN: TargetName[] = ["darwin-arm64", "darwin-x64"];

for (const target of DARWIN) {
  test(`${target}: a Mach-O executable for its CPU, built from this version, refusing the hook commands`, async () => {
    await build(target, VERSION, "0123456789ab", dir);
    const binary = readFileSync(binaryPath(target, dir));
    assert.is(binary.readUInt32LE(0), MACH_O_64, "Mach-O 64-bit magic");
    assert.is(binary.readUInt32LE(4), CPU[target], "CPU type");
    const text = binary.toString("latin1");
    for (const embedded of [VERSION, target, "0123456789ab", "is for Buildkite agents on Linux"]) assert.ok(text.includes(embedded), `${embedded} is compiled in`);
  });
}

test("a release ships the macOS binaries, gzip copies, and their checksums", () => {
  const assets = packageRelease(dir, VERSION, DARWIN);
  for (const target of DARWIN) {
    assert.ok(assets.includes(binaryName(target)) && assets.includes(`${binaryName(target)}.gz`), target);
  }
  const sums = readFileSync(join(dir, CHECKSUMS), "utf8");
  for (const target of DARWIN) {
    assert.ok(sums.includes(`${sha256(readFileSync(binaryPath(target, dir)))}  ${binaryName(target)}\n`), `${target} is in ${CHECKSUMS}`);
  }
  assert.equal(readdirSync(dir).sort(), [...assets].sort());
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
