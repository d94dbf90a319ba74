// readSmallFile's answer as data, for test/files.test.ts. Run as
// `bun read-small-file.ts PATH` in a fresh process, where node:fs is not
// loaded yet, so that readSmallFile maps the file; prints the answer as JSON.
import { readSmallFile } from "../../src/core/files.ts";

export type SmallFileRead = { text: string } | { missing: true } | { code: string | undefined };

/** What readSmallFile(path) gave: its text, nothing there, or the error's code. */
export function readResult(path: string): SmallFileRead {
  try {
    const text = readSmallFile(path);
    return text === undefined ? { missing: true } : { text };
  } catch (error) {
    return { code: (error as NodeJS.ErrnoException).code };
  }
}

if (import.meta.main) await Bun.write(Bun.stdout, JSON.stringify(readResult(process.argv[2]!)));
