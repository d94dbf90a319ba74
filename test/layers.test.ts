// The layout's one rule (ARCHITECTURE.md): a folder of src/ imports only from
// itself and from lower layers, never from a layer above it or a neighbour on
// its own layer. Type-only imports count too: they are dependencies of the
// design even though the compiled code drops them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = join(import.meta.dir, "..");
const SRC = join(ROOT, "src");

/** Each folder of src/ and its layer, lowest first; main.ts at the root is above them all. */
const LAYERS: Record<string, number> = {
  core: 0,
  ssm: 1,
  job: 2,
  ssh: 3,
  secrets: 3,
  install: 3,
  phases: 4,
  commands: 4,
  cli: 5,
  "": 6,
};

/** The files allowed at the root of src/. */
const ROOT_FILES = ["main.ts"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** The top folder of src/ a path is in ("" for the root). */
function folderOf(path: string): string {
  const parts = relative(SRC, path).split("/");
  return parts.length === 1 ? "" : parts[0]!;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;

/** The project files `text` (at `file`) imports, static, dynamic and type-only alike. */
function projectImports(file: string, text: string): string[] {
  return [...text.matchAll(SPECIFIER)].map((match) => resolve(dirname(file), match[1]!));
}

/** The rule: why importing `target` from `file` breaks the layering, or undefined when it may. */
function violation(file: string, target: string): string | undefined {
  if (!target.startsWith(`${SRC}/`)) return undefined; // hook scripts embedded as text live outside src/
  const [from, to] = [folderOf(file), folderOf(target)];
  if (from === to) return undefined;
  if (LAYERS[to]! < LAYERS[from]!) return undefined;
  const where = (folder: string) => (folder === "" ? "the root" : `${folder}/ (layer ${LAYERS[folder]})`);
  return `${relative(SRC, file)} imports ${relative(SRC, target)}: ${where(from)} may not import from ${where(to)}`;
}

const FILES = sourceFiles(SRC);

test("every folder of src/ has a layer, and the root holds only main.ts", () => {
  const folders = new Set(FILES.map(folderOf));
  assert.equal([...folders].filter((folder) => !(folder in LAYERS)), [], "a new folder needs a place in LAYERS and in ARCHITECTURE.md");
  assert.equal(FILES.filter((file) => folderOf(file) === "").map((file) => relative(SRC, file)).sort(), ROOT_FILES);
});

test("no module imports from a layer above it or from a neighbour on its own layer", () => {
  const problems = FILES.flatMap((file) =>
    projectImports(file, readFileSync(file, "utf8")).flatMap((target) => violation(file, target) ?? []),
  );
  assert.equal(problems, []);
});

test("the check sees every kind of import and names the offending pair", () => {
  const file = join(SRC, "job", "example.ts");
  const text = [
    'import { a } from "../core/log.ts";',
    'import type { B } from "../phases/environment.ts";',
    'const c = await import("../ssh/keys.ts");',
    'import "../secrets/redact.ts";',
  ].join("\n");
  const problems = projectImports(file, text).flatMap((target) => violation(file, target) ?? []);
  assert.equal(problems, [
    "job/example.ts imports phases/environment.ts: job/ (layer 2) may not import from phases/ (layer 4)",
    "job/example.ts imports ssh/keys.ts: job/ (layer 2) may not import from ssh/ (layer 3)",
    "job/example.ts imports secrets/redact.ts: job/ (layer 2) may not import from secrets/ (layer 3)",
  ]);
  // Neighbours on one layer are kept apart too.
  assert.ok(violation(join(SRC, "ssh", "keys.ts"), join(SRC, "secrets", "gitcredentials.ts")));
});

test("no source module is over 450 lines", () => {
  const long = FILES.map((file) => [relative(SRC, file), readFileSync(file, "utf8").split("\n").length] as const).filter(([, lines]) => lines > 450);
  assert.equal(long, []);
});

test.run();
