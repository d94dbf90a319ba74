// Run by test/files.test.ts as `bun stdout-writer.ts SIZE...`: writes a
// payload of each size with writeAll to a stdout made non-blocking, with a
// small send buffer, so that writes come back short and with EAGAIN.
import { dlopen, FFIType } from "bun:ffi";
import { writeAll } from "../../src/core/stdio.ts";

/** The text of `size` characters written for that size: ASCII with an `é` (two bytes) every seventh. */
export function payload(size: number): string {
  let text = "";
  for (let i = 0; text.length < size; i++) text += i % 7 === 0 ? "é" : String.fromCharCode(97 + (i % 26));
  return text.slice(0, size);
}

if (import.meta.main) {
  const { symbols: libc } = dlopen("libc.so.6", {
    fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  });
  const [F_GETFL, F_SETFL, O_NONBLOCK, SOL_SOCKET, SO_SNDBUF] = [3, 4, 0o4000, 1, 7];
  if (libc.fcntl(1, F_SETFL, libc.fcntl(1, F_GETFL, 0) | O_NONBLOCK) !== 0) throw new Error("fcntl");
  // A small send buffer: a write of a few kilobytes comes back short.
  if (libc.setsockopt(1, SOL_SOCKET, SO_SNDBUF, new Int32Array([1024]), 4) !== 0) throw new Error("setsockopt");
  for (const size of process.argv.slice(2).map(Number)) writeAll(1, payload(size));
  process.exit(0);
}
