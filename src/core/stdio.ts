// Writing to stdout and stderr so that every byte arrives. A phase's payload
// can be hundreds of kilobytes, more than a pipe holds: Bun.write and
// process.stdout.write were both seen to cut or repeat parts of it when the
// process exits right after. Synchronous writes, resumed after partial writes
// and EAGAIN on a non-blocking pipe, cannot.
import { fstatSync, writeSync } from "node:fs";

/** Linux's terminal device majors: BSD and Unix98 pseudo-terminals, virtual consoles, /dev/tty and /dev/console. */
const TERMINAL_MAJORS = new Set([3, 4, 5, 136, 137, 138, 139, 140, 141, 142, 143]);

/**
 * Whether `fd` is a terminal, from fstat alone: process.stderr.isTTY and
 * node:tty would load Bun's stream modules just to answer this.
 */
export function isTerminal(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isCharacterDevice() && TERMINAL_MAJORS.has((Number(stat.rdev) >> 8) & 0xfff);
  } catch {
    return false;
  }
}

// TextEncoder rather than Buffer, whose first use costs a phase ~0.4 ms.
const encoder = new TextEncoder();

export function writeAll(fd: number, text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      Bun.sleepSync(1); // the reader has not drained the pipe yet
    }
  }
}
