import { describe, FLAGS, hintText } from "./flags.ts";

/** HELP_WIDTH is the terminal width --help is written for. */
export const HELP_WIDTH = 80;

/** HelpOptions say how to write --help: colour only on a terminal without NO_COLOR. */
export interface HelpOptions {
  name: string;
  version: string;
  description: string;
  color: boolean;
  width?: number;
}

const INDENT = "      "; // descriptions sit under their flag

/** useColor tells whether --help may use colour: stdout is a terminal and NO_COLOR is unset or empty. */
export function useColor(isTTY: boolean | undefined, env: Record<string, string | undefined>): boolean {
  return isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

/**
 * renderHelp writes the usage of the command line from FLAGS: each flag with its value hint on a
 * line, then its description wrapped under it, no line over `width` characters (colour codes,
 * when on, are not counted: they take no column).
 */
export function renderHelp(options: HelpOptions): string {
  const width = options.width ?? HELP_WIDTH;
  const bold = (s: string) => (options.color ? `\x1b[1m${s}\x1b[22m` : s);
  const dim = (s: string) => (options.color ? `\x1b[2m${s}\x1b[22m` : s);
  const out: string[] = [];
  out.push(`${bold(options.name)} ${options.version}`);
  out.push(...wrap(options.description, width, ""));
  out.push("", bold("USAGE"), `  ${options.name} [--flag=value ...]`, "", bold("FLAGS"));
  for (const s of Object.values(FLAGS)) {
    const hint = hintText(s);
    const flag = `--${s.name}`;
    const head = `  ${flag}${hint}`;
    out.push(head.length <= width ? `  ${bold(flag)}${dim(hint)}` : `  ${bold(flag)}`);
    out.push(...wrap(describe(s), width, INDENT));
  }
  out.push(
    "",
    ...wrap(
      "Every flag can also be set as GEECACHE_<FLAG>, e.g. GEECACHE_CACHE_BYTES=1GiB, or in the --config file" +
        " as cache_bytes; a flag on the command line wins. --version prints the version.",
      width,
      "",
    ),
  );
  return `${out.join("\n")}\n`;
}

/**
 * wrap splits text into lines of at most width characters after indent, breaking at spaces (a word longer than a line
 * is cut).
 */
export function wrap(text: string, width: number, indent: string): string[] {
  const room = width - indent.length;
  const lines: string[] = [];
  let line = "";
  for (let word of text.split(/\s+/).filter((w) => w !== "")) {
    while (word.length > room) {
      if (line) lines.push(line);
      lines.push(word.slice(0, room));
      word = word.slice(room);
      line = "";
    }
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= room) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l);
}
