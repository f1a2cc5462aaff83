import { type CommandDef, runCommand } from "citty";
import { errorMessage, GeeCacheError } from "../core/errors.ts";
import { renderHelp, useColor } from "./help.ts";

/** RunOptions describe the command for --help and --version. */
export interface RunOptions {
  name: string;
  version: string;
  description: string;
}

/**
 * runCli runs command with the process's arguments: --help (or -h) prints renderHelp's usage,
 * --version (or -v) the version, -p is --port, and any error before the node is up is one line on
 * stderr with exit code 2 (citty's runMain would print the whole usage and exit 1).
 */
export async function runCli(
  command: CommandDef<any>,
  options: RunOptions,
  argv: string[] = process.argv.slice(2),
): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(renderHelp({ ...options, color: useColor(process.stdout.isTTY, process.env) }));
    process.exit(0);
  }
  if (argv.includes("--version") || argv.includes("-v")) {
    process.stdout.write(`${options.version}\n`);
    process.exit(0);
  }
  try {
    await runCommand(command, { rawArgs: expandShortFlags(argv) });
  } catch (err) {
    startupFailure(err);
  }
}

/** startupFailure writes err as one line, `geecache: <what is wrong>`, and exits 2. */
export function startupFailure(err: unknown): never {
  // citty colours some of its messages; a one-line error stays plain text.
  const line = errorMessage(err)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
    .replace(/\x1b\[[0-9;]*m/g, "")
    .split("\n", 1)[0];
  process.stderr.write(`geecache: ${line}\n`);
  process.exit(2);
}

/** SHORT_FLAGS are the one-letter forms of flags that take a value (-h and -v are --help and --version). */
export const SHORT_FLAGS: Readonly<Record<string, { name: string; example: string }>> = {
  p: { name: "port", example: "-p 8001" },
};

/**
 * expandShortFlags writes `-p 8001`, `-p=8001` and `-p8001` as `--port=8001` before citty reads the
 * arguments (it would read `-p` as a flag named p); -p without a value, or another letter, is a
 * one-line INVALID_ARGUMENT error.
 */
export function expandShortFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return [...out, ...argv.slice(i)]; // what follows is no flag
    const m = /^-([a-zA-Z])(?:=?(.*))?$/.exec(arg);
    if (!m) {
      out.push(arg);
      continue;
    }
    const short = SHORT_FLAGS[m[1]!];
    if (!short) {
      const known = Object.keys(SHORT_FLAGS).map((k) => `-${k}`);
      throw new GeeCacheError(
        "INVALID_ARGUMENT",
        `${arg} is not a geecache flag; the short ones are ${[...known, "-h"].join(", ")} and -v (see --help)`,
      );
    }
    let value = m[2];
    if (!value) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("-"))
        throw new GeeCacheError("INVALID_ARGUMENT", `-${m[1]} needs a value, e.g. ${short.example}`, {
          flag: short.name,
        });
      value = next;
      i++;
    }
    out.push(`--${short.name}=${value}`);
  }
  return out;
}
