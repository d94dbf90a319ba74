// Writing to stdout and stderr so that every byte arrives, and telling a
// terminal apart without loading node:fs (see files.ts: ~4 ms) for a phase
// that writes nothing. A phase's payload is shell code its hook evals and can
// be hundreds of kilobytes, more than a pipe holds, and a cut or repeated
// payload could turn part of a quoted secret into code. Bun.write was seen to
// repeat part of one when a write comes back short: a large payload to a full
// pipe (test/fuzz.e2e.test.ts found it), and 2.6 KB to a non-blocking socket
// (Bun 1.4.5); process.stdout to cut one when the process exits right after.
// Synchronous writes, resumed after partial writes and EAGAIN, cannot. A
// payload small enough for one atomic write to a pipe is the exception
// (writeOnce), and the hooks check that every hook payload arrived whole.
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

/** `text` as the UTF-8 bytes written for it. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Linux's PIPE_BUF. A write of at most this many bytes to a pipe is atomic
 * (pipe(7)): all of it goes in, or, on a full non-blocking pipe, none of it
 * and EAGAIN; never a part. So one such write never takes the short-write
 * path on which Bun.write repeated bytes.
 */
export const PIPE_BUF = 4096;

/**
 * Write a payload of at most PIPE_BUF bytes to stdout with Bun.write, without
 * loading node:fs (about 4 ms, a fifth of a bare start). To the hook's pipe,
 * the stdout of its `$(…)`, that is one whole write. To anything else it
 * need not be: to a non-blocking socket Bun split one and repeated part of
 * it (a review, 4 runs of 20); the hooks evaluate nothing that fails the
 * check at a payload's end (hooks/lib/run-phase.bash).
 */
export async function writeOnce(bytes: Uint8Array): Promise<void> {
  if (bytes.length > PIPE_BUF) throw new Error(`${bytes.length} bytes is more than one atomic write`);
  const written = await Bun.write(Bun.stdout, bytes);
  if (written !== bytes.length) throw new Error(`only ${written} of ${bytes.length} bytes were written`);
}

export function writeAll(fd: number, text: string | Uint8Array): void {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
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
