// The Python hook (aws-paramstore-secrets) was installed by its configure.sh,
// which appended a block to each of the agent's hooks: a marked one to
// `environment` (`# --- Start AWS paramstore secrets plugin ---` … `# --- End
// … ---`, after an empty line) and an unmarked `if … then source
// …/aws-paramstore-secrets/hooks/<phase>; fi` to the others, again on every
// run. Left in place, both hooks would run in every job. `install` switches
// those blocks off by commenting them out where they stand, so that
// `install --uninstall` can put every byte back, and so that an operator
// reading the hook sees what was there. Pure text functions.

const ENVIRONMENT_BLOCK = /^\n?# --- Start AWS paramstore secrets plugin ---\n[\s\S]*?^# --- End AWS paramstore secrets plugin ---\n/gm;
const PHASE_BLOCK = /^if \[\[ [^\n]*AWS_SSM_SECRETS_PLUGIN_ENABLED[^\n]*\]\]\nthen\n {2}source [^\n]*\/aws-paramstore-secrets\/hooks\/[a-z-]+\nfi\n/gm;

const OFF_BEGIN = "# >>> bk-ssm-secrets: the Python hook's block, switched off >>>";
const OFF_NOTE = "# `bk-ssm-secrets install` commented it out; `bk-ssm-secrets install --uninstall` puts it back as it was.";
const OFF_END = "# <<< bk-ssm-secrets: the Python hook's block <<<";
const SWITCHED_OFF = new RegExp(`^${escape(OFF_BEGIN)}\\n# [^\\n]*\\n((?:#\\|[^\\n]*\\n)*)${escape(OFF_END)}\\n`, "gm");

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A block as comments: `#| ` before each line (`#|` alone for an empty one). */
function commentOut(block: string): string {
  const lines = block.slice(0, -1).split("\n");
  return [OFF_BEGIN, OFF_NOTE, ...lines.map((line) => (line === "" ? "#|" : `#| ${line}`)), OFF_END, ""].join("\n");
}

/** The hook with each of the Python hook's blocks switched off in place, and how many there were. */
export function switchOffOldBlocks(content: string): { content: string; blocks: number } {
  let blocks = 0;
  const off = (block: string) => {
    blocks++;
    return commentOut(block);
  };
  return { content: content.replace(ENVIRONMENT_BLOCK, off).replace(PHASE_BLOCK, off), blocks };
}

/** The hook with every block `switchOffOldBlocks` commented out put back, byte for byte. */
export function restoreOldBlocks(content: string): string {
  return content.replace(SWITCHED_OFF, (_, lines: string) =>
    lines
      .split("\n")
      .slice(0, -1)
      .map((line) => `${line === "#|" ? "" : line.slice(3)}\n`)
      .join(""),
  );
}

/** A line that runs the Python hook: its environment block's marker, or a command naming one of its hook scripts. */
const OLD_HOOK_LINE = /^# --- (?:Start|End) AWS paramstore secrets plugin ---$|^(?!\s*#).*aws-paramstore-secrets\/hooks\//;

/** The lines (1-based) of a hook that still run the Python hook. */
export function oldHookLines(content: string): number[] {
  return content.split("\n").flatMap((line, index) => (OLD_HOOK_LINE.test(line) ? [index + 1] : []));
}
