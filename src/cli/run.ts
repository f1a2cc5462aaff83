import { type CommandDef, runCommand } from "citty";
import { errorMessage } from "../core/errors.ts";
import { renderHelp, useColor } from "./help.ts";

/** RunOptions describe the command for --help and --version. */
export interface RunOptions {
  name: string;
  version: string;
  description: string;
}

/**
 * runCli runs command with the process's arguments: --help (or -h) prints renderHelp's usage,
 * --version (or -v) alone the version, and any error before the node is up is one line on stderr
 * with exit code 2 (citty's runMain would print the whole usage and exit 1).
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
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    process.stdout.write(`${options.version}\n`);
    process.exit(0);
  }
  try {
    await runCommand(command, { rawArgs: argv });
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
