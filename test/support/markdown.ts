// Reading the project's Markdown the way a reader (and GitHub) sees it: code
// fences, the blocks the README marks for tests, links and heading anchors.
// The docs tests and the quick-start test use it, so what they check is what
// an operator copies.

export interface Fence {
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word (`sh`, `text`, ...), "" when none. */
  language: string;
  /** The lines between the fences, joined with "\n", without the last newline. */
  code: string;
  /** False when the file ends before the fence is closed. */
  closed: boolean;
  /** The nearest non-blank line above the opening fence. */
  above: string;
}

/** An opening fence, indented or not (fences inside list items are): its run of ` or ~, then the info string. */
const OPENING = /^\s*(`{3,}|~{3,})\s*(.*)$/;

/** Every fenced code block, in order, by CommonMark's rule: closed by a run of the same character at least as long, with nothing after it. */
export function fences(markdown: string): Fence[] {
  const lines = markdown.split("\n");
  const found: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const opening = OPENING.exec(lines[i]!);
    if (!opening) continue;
    const [, marker = "", info = ""] = opening;
    // A backtick fence's info string has no backtick (otherwise it is inline code).
    if (marker[0] === "`" && info.includes("`")) continue;
    const closing = new RegExp(`^\\s*\\${marker[0]}{${marker.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !closing.test(lines[end]!)) end++;
    let above = "";
    for (let j = i - 1; j >= 0 && !above; j--) above = lines[j]!.trim();
    found.push({ line: i + 1, language: info.split(/\s/)[0] ?? "", code: lines.slice(i + 1, end).join("\n"), closed: end < lines.length, above });
    i = end;
  }
  return found;
}

export interface MarkedBlock extends Fence {
  /** What the marker says after `<!-- NAME:`. */
  label: string;
}

/** The code blocks right below a `<!-- NAME: label -->` comment, in order. */
export function markedBlocks(markdown: string, name: string): MarkedBlock[] {
  const marker = new RegExp(`^<!--\\s*${name}:\\s*(.*?)\\s*-->$`);
  return fences(markdown).flatMap((fence) => {
    const label = marker.exec(fence.above)?.[1];
    return label === undefined ? [] : [{ ...fence, label }];
  });
}

/** The document with every fenced block's lines (fences included) blanked, so line numbers stay. */
function outsideFences(markdown: string): string {
  const lines = markdown.split("\n");
  for (const fence of fences(markdown)) {
    const last = fence.closed ? fence.line + fence.code.split("\n").length : lines.length - 1;
    for (let i = fence.line - 1; i <= last && i < lines.length; i++) lines[i] = "";
  }
  return lines.join("\n");
}

/** The text outside code fences and inline code spans: where links are links. */
export function prose(markdown: string): string {
  return outsideFences(markdown).replace(/(`+)[\s\S]*?\1/g, "");
}

/** The targets of inline links and images, `[text](target)`, outside code. */
export function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!);
}

/** The anchors GitHub gives a file's headings: lower-cased, punctuation dropped, spaces to hyphens, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of outsideFences(markdown).split("\n")) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1]?.replaceAll("`", "");
    if (heading === undefined) continue;
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count ? `${base}-${count}` : base);
  }
  return anchors;
}
