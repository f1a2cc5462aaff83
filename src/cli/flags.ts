import type { ArgsDef } from "citty";
import type { Setting } from "../core/settings.ts";
import { cliSettings } from "./config.ts";

export { envName } from "../core/settings.ts";

/** FLAGS are the command line of `geecache`, one entry per setting of the node and the CLI, by flag name. */
export const FLAGS: Readonly<Record<string, Setting>> = Object.fromEntries(cliSettings().map((s) => [s.name, s]));

/** defaultText is what --help says a setting's default is, if anything. */
export function defaultText(s: Setting): string | undefined {
  if (s.fallbackHelp !== undefined) return s.fallbackHelp;
  if (s.flag) return s.fallback === "true" ? "on" : undefined;
  return s.fallback;
}

/** hintText is the value --help shows after `--flag=`; a switch has none. */
export function hintText(s: Setting): string {
  return s.flag ? "" : `=${s.hint ?? s.fallback ?? "VALUE"}`;
}

/** describe is a setting's line of --help: its help and its default. */
export function describe(s: Setting): string {
  const d = defaultText(s);
  return d === undefined ? s.help : `${s.help} (default ${d})`;
}

/** cittyArgs are FLAGS in citty's form, so it knows which flags are switches. */
export function cittyArgs(): ArgsDef {
  return Object.fromEntries(
    Object.values(FLAGS).map((s) => [s.name, { type: s.flag ? "boolean" : "string", description: describe(s) }]),
  ) as ArgsDef;
}
