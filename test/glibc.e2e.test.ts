// What the compiled binaries need from the system, read from the binaries
// themselves with readelf, against what docs/platforms.md promises operators: the
// highest GLIBC_ symbol version each needs, and which distributions run them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { binaryName, binaryPath, AGENT_TARGETS } from "../build.ts";
import { ROOT } from "./support/job.ts";

type Version = number[];
const parseVersion = (text: string): Version => text.split(".").map(Number);
const compare = (a: Version, b: Version) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};
const highest = (versions: Version[]) => versions.reduce((a, b) => (compare(a, b) >= 0 ? a : b));

function readelf(args: string[], file: string): string {
  const result = Bun.spawnSync(["readelf", ...args, "--wide", file]);
  assert.is(result.exitCode, 0, result.stderr.toString());
  return result.stdout.toString();
}

/** The rows of the first markdown table after `heading` in docs/platforms.md. */
function platformsTable(heading: string): string[][] {
  const page = readFileSync(join(ROOT, "docs", "platforms.md"), "utf8");
  const start = page.indexOf(heading);
  assert.ok(start >= 0, `docs/platforms.md has ${heading}`);
  const lines = page.slice(start).split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.split("|").slice(1, -1).map((cell) => cell.trim().replaceAll("`", "")));
  }
  return rows;
}

const GLIBC_LIBRARIES = /^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|ld-linux-(x86-64|aarch64)\.so\.[12])$/;
const documented = new Map(platformsTable("## glibc").map(([binary = "", glibc = ""]) => [binary, glibc]));
const required = new Map<string, Version>();

for (const target of AGENT_TARGETS) {
  test(`${target}: needs nothing but glibc, and the glibc version docs/platforms.md states`, () => {
    const file = binaryPath(target);
    const needed = [...readelf(["--dynamic"], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
    assert.ok(needed.includes("libc.so.6"), needed.join(" "));
    assert.equal(needed.filter((library) => !GLIBC_LIBRARIES.test(library)), [], "only glibc's own libraries are loaded");

    const versions = [...readelf(["--version-info"], file).matchAll(/Name: GLIBC_([0-9.]+)/g)].map((m) => parseVersion(m[1]!));
    assert.ok(versions.length > 0);
    const need = highest(versions);
    required.set(target, need);
    assert.is(documented.get(binaryName(target)), `GLIBC_${need.join(".")}`, "the glibc table in docs/platforms.md matches the binary");
  });
}

test("the distribution table in docs/platforms.md follows from what the binaries need", () => {
  const need = highest([...required.values()]);
  const rows = platformsTable("| distribution |");
  assert.ok(rows.length >= 5);
  for (const [distribution = "", glibc = "", runs = ""] of rows) {
    const expected = compare(parseVersion(glibc), need) >= 0 ? "yes" : "no";
    assert.is(runs, expected, `${distribution} (glibc ${glibc}) against GLIBC_${need.join(".")}`);
  }
  for (const distribution of ["Amazon Linux 2", "Amazon Linux 2023", "Ubuntu 20.04", "Ubuntu 22.04", "Ubuntu 24.04"]) {
    assert.ok(rows.some(([name]) => name?.startsWith(distribution)), `${distribution} is in the table`);
  }
});

test.run();
