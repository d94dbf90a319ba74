// Errors that several layers raise and main.ts reports; they live at the
// bottom so the lowest module that throws one can reach it.

/** The command line asks for something impossible: one line, exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
