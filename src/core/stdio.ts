// Writing to stdout and stderr so that every byte arrives, and telling a
// terminal apart, without loading node:fs for a phase that writes nothing or
// little (see files.ts: ~4 ms). A phase's payload can be hundreds of
// kilobytes, more than a pipe holds: Bun.write was seen to repeat parts of
// such a payload to a full pipe (test/fuzz.e2e.test.ts), and process.stdout
// to cut it when the process exits right after. Synchronous writes, resumed
// after partial writes and EAGAIN on a non-blocking pipe, cannot.
import { nodeFs } from "./files.ts";

/**
 * Whether `fd` is a terminal: isatty(3), from Bun's native tty binding.
 * node:tty and process.stderr.isTTY would load Bun's stream modules (8-12 ms)
 * just to answer this, and fstat needs node:fs.
 */
export function isTerminal(fd: number): boolean {
  try {
    return ttyBinding().isTTY(fd);
  } catch {
    return false;
  }
}

function ttyBinding(): { isTTY(fd: number): boolean } {
  return (process as unknown as { binding(name: "tty_wrap"): { isTTY(fd: number): boolean } }).binding("tty_wrap");
}

// TextEncoder rather than Buffer, whose first use costs a phase ~0.4 ms.
const encoder = new TextEncoder();

export function writeAll(fd: number, text: string): void {
  writeBytes(fd, encoder.encode(text));
}

function writeBytes(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += nodeFs().writeSync(fd, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      Bun.sleepSync(1); // the reader has not drained the pipe yet
    }
  }
}

/** Linux's PIPE_BUF: a write of at most this many bytes to a pipe is atomic, all of it or none. */
const PIPE_BUF = 4096;

/**
 * Write `text` to stdout, all of it. What fits in PIPE_BUF goes in one native
 * write (Bun.write), atomic on a pipe, so nothing can be cut or repeated, and
 * node:fs is not loaded: the later phases' payloads and the version. Anything
 * larger goes through writeAll.
 */
export async function writeOutput(text: string): Promise<void> {
  const bytes = encoder.encode(text);
  if (bytes.length === 0) return;
  if (bytes.length > PIPE_BUF) return writeBytes(1, bytes);
  const written = await Bun.write(Bun.stdout, bytes);
  if (written !== bytes.length) throw new Error(`wrote ${written} of ${bytes.length} bytes to stdout`);
}
