// The file system as every phase touches it, without node:fs on the way:
// Bun's node:fs costs a phase about 4 ms to load (a compiled probe that
// writes one line with it: 1.18-1.2 × hello), more than all of post-command's
// own work. It loads on first use, for the phases and paths that do more than
// read a small file.
import type * as NodeFs from "node:fs";

let loaded: typeof NodeFs | undefined;

/** node:fs, loaded on first use: synchronously, as Bun's require does, so that synchronous callers can have it. */
export function nodeFs(): typeof NodeFs {
  return (loaded ??= import.meta.require("node:fs") as typeof NodeFs);
}

// As readFileSync(path, "utf8") decodes: invalid bytes replaced, a byte-order mark kept.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * A small file's text, or undefined when there is none, read by mapping it and
 * decoding the mapping at once (Bun.mmap is native: no module to load; Bun's
 * asynchronous Bun.file().text() costs more than node:fs, ~4.5 ms, as it
 * starts a thread). For files replaced whole when they change (written to a
 * temporary name and renamed, as `install` writes the defaults file): a file
 * truncated in the microseconds between the mapping and the copy would stop
 * the process. What cannot be mapped (an empty file, /proc, a FIFO) is read
 * the ordinary way, which also reports whatever is wrong with it.
 */
export function readSmallFile(path: string): string | undefined {
  let mapped: Uint8Array;
  try {
    mapped = Bun.mmap(path, { shared: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return nodeFs().readFileSync(path, "utf8");
  }
  return decoder.decode(mapped);
}
