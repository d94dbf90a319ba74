// Writing to stdout and stderr so that every byte arrives, and telling a
// terminal apart without loading node:fs (see files.ts: ~4 ms) for a phase
// that writes nothing. A phase's payload is shell code its hook evals and can
// be hundreds of kilobytes, more than a pipe holds, and a cut or repeated
// payload could turn part of a quoted secret into code. Bun.write was seen to
// repeat part of one when stdout fills: a large payload to a full pipe
// (test/fuzz.e2e.test.ts found it), and 2.6 KB to a non-blocking socket
// (Bun 1.4.5); process.stdout to cut one when the process exits right after.
// Synchronous writes, resumed after partial writes and EAGAIN, cannot.
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
  const bytes = encoder.encode(text);
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
