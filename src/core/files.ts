// The file system as every phase touches it, without node:fs on the way:
// Bun's node:fs costs a phase about 4 ms to load (a compiled probe that
// writes one line with it: 1.18-1.2 × hello), more than all of post-command's
// own work. It loads on first use, for the phases and paths that do more than
// read a small file.
import type * as NodeFs from "node:fs";

let loaded: typeof NodeFs | undefined;

/**
 * node:fs, loaded on first use, synchronously, for the callers that cannot
 * wait: a log line or an error in a phase that did not load it. Bun's require costs
 * about 2.7 ms more than an import when it is the first to load node:fs (a
 * compiled probe: 1.36 against 1.22 × hello), so asynchronous code imports
 * it instead (loadNodeFs).
 */
export function nodeFs(): typeof NodeFs {
  return (loaded ??= import.meta.require("node:fs") as typeof NodeFs);
}

/** Whether node:fs is loaded already: then writing with it costs nothing more. */
export function nodeFsLoaded(): boolean {
  return loaded !== undefined;
}

/**
 * Load node:fs by import, for a phase about to write through it: the first
 * synchronous use costs more, even after another module imported node:fs
 * (environment's first log line: 1.3 against 0.8 ms, marks in a copy of the
 * binary, medians of 30).
 */
export async function loadNodeFs(): Promise<void> {
  loaded ??= await import("node:fs");
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
 * the process. What is not a file to map (a FIFO or a device: Bun gives their
 * size as Infinity; an empty file, /proc, a directory) is read the ordinary
 * way, which also reports whatever is wrong with it; a FIFO is opened once.
 */
export function readSmallFile(path: string): string | undefined {
  // Where node:fs is loaded already (a phase that logs on every job loads
  // it first), reading with it costs least: the first stat, mapping and
  // decoding cost ~0.5 ms together (marks in pre-checkout).
  if (!loaded && Bun.file(path).size !== Infinity) {
    try {
      return decoder.decode(Bun.mmap(path, { shared: false }));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    }
  }
  try {
    return nodeFs().readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
