// Output of the operator commands (`ls`, `doctor`): aligned tables for people,
// JSON for scripts. Colour only on a terminal and never with NO_COLOR, so a
// table piped into another program is plain text.
import { createColors } from "picocolors";
import { colorWanted, printable } from "../core/log.ts";

export interface Column {
  /** The field of each row this column shows; also its name in JSON. */
  key: string;
  title: string;
}

export type Row = Record<string, string>;

/** A JSON item as a table row: every field as text, a missing one empty. */
export function asRow(item: Record<string, string | number | boolean | null | undefined>): Row {
  return Object.fromEntries(Object.entries(item).map(([key, value]) => [key, value === null || value === undefined ? "" : String(value)]));
}

/** How a row reads at a glance; a table colours its `status` column with it. */
export type Tone = "ok" | "warn" | "fail" | "info";

export interface TableOptions {
  color: boolean;
  /** Prefix for every line, to nest a table under a heading. */
  indent?: string;
}

/** Whether stdout gets colour: a terminal, and no NO_COLOR. */
export function stdoutColor(env: NodeJS.ProcessEnv): boolean {
  return colorWanted(env, Boolean(process.stdout.isTTY));
}

export function colors(enabled: boolean) {
  return createColors(enabled);
}

/**
 * Columns padded to their widest cell (measured before colouring, so colour
 * never breaks the alignment); the last column is not padded. Cells are shown
 * printable.
 */
export function renderTable(columns: Column[], shown: Row[], options: TableOptions): string {
  const rows = shown.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, printable(value)])));
  const c = createColors(options.color);
  const widths = columns.map((column) => Math.max(column.title.length, ...rows.map((row) => (row[column.key] ?? "").length)));
  const tone: Record<string, (text: string) => string> = { ok: c.green, warn: c.yellow, fail: c.red, info: c.dim };
  const line = (cells: string[], paint: (text: string, index: number) => string) =>
    (options.indent ?? "") +
    cells
      .map((cell, index) => paint(index === cells.length - 1 ? cell : cell.padEnd(widths[index] ?? 0), index))
      .join("  ")
      .trimEnd() +
    "\n";
  const header = line(
    columns.map((column) => column.title),
    (text) => c.bold(text),
  );
  return (
    header +
    rows
      .map((row) =>
        line(
          columns.map((column) => row[column.key] ?? ""),
          (text, index) => (columns[index]?.key === "status" ? (tone[row.status ?? ""] ?? String)(text) : text),
        ),
      )
      .join("")
  );
}

/** What JSON.stringify leaves raw of what printable writes out: all but C0, which it escapes itself (and whose newlines lay the JSON out). */
const UNPRINTABLE_IN_JSON = /[\u007f-\u009f\p{Cf}\u2028\u2029]/gu;

/**
 * JSON for scripts, with every unprintable character escaped, so that none
 * (an 8-bit CSI among them) reaches a terminal raw when a person reads it.
 * They occur only inside strings there, where `\\uXXXX` is the same value.
 */
export function renderJson(value: unknown): string {
  const json = JSON.stringify(value, null, 2).replace(UNPRINTABLE_IN_JSON, (character) =>
    Array.from({ length: character.length }, (_, unit) => `\\u${character.charCodeAt(unit).toString(16).padStart(4, "0")}`).join(""),
  );
  return `${json}\n`;
}

/** A date as both outputs show it: ISO 8601 in UTC, to the second. */
export function formatDate(date: Date | undefined): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, "Z") : "";
}
