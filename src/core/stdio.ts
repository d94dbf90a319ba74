// Writing to stdout and stderr so that every byte arrives. A phase's payload
// can be hundreds of kilobytes, more than a pipe holds: Bun.write and
// process.stdout.write were both seen to cut or repeat parts of it when the
// process exits right after. Synchronous writes, resumed after partial writes
// and EAGAIN on a non-blocking pipe, cannot.
import { writeSync } from "node:fs";

export function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, "utf8");
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
