// A fake agent machine's directories, and a snapshot of every byte under
// one, for the install tests: what `install` writes and what `--uninstall`
// gives back are compared through it.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Agent {
  root: string;
  hooksDir: string;
  installDir: string;
  defaultsFile: string;
  /** The install's flags pointing at this agent's directories. */
  flags: string[];
}

/** Every directory and file under `root`: type, mode and bytes. */
export function snapshot(root: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const entry of readdirSync(root, { recursive: true, encoding: "utf8" }).sort()) {
    const stat = lstatSync(join(root, entry));
    const mode = (stat.mode & 0o7777).toString(8);
    entries[entry] = stat.isDirectory() ? `dir ${mode}` : `file ${mode} ${readFileSync(join(root, entry)).toString("base64")}`;
  }
  return entries;
}
