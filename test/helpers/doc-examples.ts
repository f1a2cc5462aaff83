// The examples of README.md and docs/*.md that test/docs.test.ts runs: which blocks are marked, how a
// shell block becomes a bash script, and how its output is held to the comments that show it.

/** RUN_MARKER is the line just above a runnable block: `<!-- run -->`, `<!-- run file=a.toml needs=openssl -->`. */
export const RUN_MARKER = /^<!-- run((?:\s+[a-z]+=\S+)*)\s*-->$/;

/** EXAMPLE_PORT matches the ports examples use; each is replaced by a free one, the same all through a file. */
export const EXAMPLE_PORT = /(?<!\d)(800[1-9]|900[1-9]|9999)(?!\d)/g;

/** Block is one fenced code block of a markdown file. */
export interface Block {
  lang: string;
  text: string;
  /** line is where the fence opens (1-based). */
  line: number;
  /** run holds the marker's fields ({} for a bare `<!-- run -->`), or is undefined for an unmarked block. */
  run?: Record<string, string>;
}

/** blocks lists the fenced code blocks of a markdown text, in order, with their markers. */
export function blocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
    if (end < 0) throw new Error(`line ${i + 1}: a code block that is never closed`);
    const marker = i > 0 ? RUN_MARKER.exec(lines[i - 1]!) : null;
    const run = marker
      ? Object.fromEntries(
          marker[1]!
            .trim()
            .split(/\s+/)
            .filter(Boolean)
            .map((f) => f.split("=", 2) as [string, string]),
        )
      : undefined;
    out.push({ lang: open[1]!, text: lines.slice(i + 1, end).join("\n"), line: i + 1, run });
    i = end;
  }
  return out;
}

/** Command is one shell command of an example, with the output its trailing comment shows. */
export interface Command {
  code: string;
  /** expected is the trailing comment (and the `#  ` lines under it), when there is one. */
  expected?: string;
  background: boolean;
}

/**
 * commands splits a shell example into commands: a line ending in `\` or inside a quote goes on.
 * A comment after a command is its expected output; comment lines right under it that start with
 * `#` and two spaces continue it (joined without a break, so long JSON can be wrapped).
 */
export function commands(text: string): Command[] {
  const out: Command[] = [];
  let code = "";
  let quote: "'" | '"' | undefined;
  let continuing = false; // the last command's expected output may go on
  for (const line of text.split("\n")) {
    const { code: part, comment, open } = scan(line, quote);
    quote = open;
    code += code ? `\n${part}` : part;
    if (quote || /\\$/.test(part)) continue;
    const last = out.at(-1);
    if (code.trim() === "") {
      if (continuing && last?.expected !== undefined && comment?.startsWith("  ")) last.expected += comment.trim();
      else continuing = false;
    } else {
      const background = /[^&]&\s*$/.test(code);
      out.push({
        code: background ? code.replace(/&\s*$/, "") : code.trimEnd(),
        expected: comment?.trim(),
        background,
      });
      continuing = comment !== undefined;
    }
    code = "";
  }
  if (code.trim() !== "") throw new Error(`an unfinished command: ${code}`);
  return out;
}

/** scan reads one physical line from inside quote (if any): its code, its comment, and the quote left open. */
function scan(line: string, quote: "'" | '"' | undefined) {
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (c === "\\") i++;
    else if (quote === '"') {
      if (c === '"') quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!)))
      return { code: line.slice(0, i).trimEnd(), comment: line.slice(i + 1), open: quote };
  }
  return { code: line, comment: undefined, open: quote };
}

/**
 * script is the bash program that runs an example's commands in order under `set -eo pipefail`:
 * each foreground command's stdout goes to $OUT/<n>.out; a background one (`cmd &`) logs to
 * $OUT/<n>.log and the script waits for its "listening on" line before going on, so `sleep`
 * lines, which only stand in for that wait, are left out. $OUT/step holds the command running.
 * On exit every background process still running is killed and waited for.
 */
export function script(cmds: readonly Command[]): string {
  const lines = [
    "set -eo pipefail",
    "__ready() {",
    "  local end=$((SECONDS + 10))",
    "  while ((SECONDS < end)); do",
    '    grep -q "listening on" "$2" 2>/dev/null && return 0',
    '    kill -0 "$1" 2>/dev/null || { echo "exited before listening:" >&2; cat "$2" >&2; return 1; }',
    "    sleep 0.005",
    "  done",
    '  echo "not listening after 10 s:" >&2; cat "$2" >&2; return 1',
    "}",
    "trap '__s=$?; set +e; kill $(jobs -p) 2>/dev/null; wait; exit $__s' EXIT",
  ];
  cmds.forEach((c, n) => {
    if (/^sleep [\d.]+$/.test(c.code.trim())) return;
    lines.push(`echo ${n} > "$OUT/step"`);
    if (c.background) lines.push(`${c.code} > "$OUT/${n}.log" 2>&1 &`, `__ready $! "$OUT/${n}.log"`);
    else lines.push(`{\n${c.code}\n} > "$OUT/${n}.out"`);
  });
  return `${lines.join("\n")}\n`;
}

/**
 * shows tells whether output shows what a comment expects, `…` standing for any text: a line of
 * a foreground command's output is exactly it (spaces around it aside); a background command's
 * log has it somewhere.
 */
export function shows(output: string, expected: string, background: boolean): boolean {
  const pattern = expected
    .split("…")
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  if (background) return new RegExp(pattern).test(output);
  const line = new RegExp(`^${pattern}$`);
  return output.split("\n").some((l) => line.test(l.trim()));
}
