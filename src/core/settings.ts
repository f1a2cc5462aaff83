import { readFileSync } from "node:fs";
import { GeeCacheError } from "./errors.ts";
import { formatDuration, parseBytes, parseDuration, unitHint, unitMissing } from "./units.ts";

/**
 * Setting is one knob of a node, declared once by the module that uses it: the CLI makes it a flag
 * (`--name`), an environment variable (envName) and a `--config` TOML key (tomlKey), and writes
 * `--help`, validation and errors from this entry alone. Its parsed value goes to the option named
 * camelCase(name) unless `option` says otherwise.
 */
export interface Setting<T = unknown> {
  /** name is the flag's kebab-case name, without the dashes. */
  readonly name: string;
  /** help says what it does, for --help and docs/flags.md. */
  readonly help: string;
  /** hint is the value shown after `=` in --help (default: the default text, else VALUE). */
  readonly hint?: string;
  /** flag marks a switch (`--api`, `--no-metrics`); its value is true or false. */
  readonly flag?: boolean;
  /**
   * fallback is the value when the setting is given nowhere, as flag text; it comes from the owning
   * module's exported constant. Left out, the option stays undefined (the module's own default).
   */
  readonly fallback?: string;
  /** fallbackHelp describes the default when it is no flag text ("none: a single node"). */
  readonly fallbackHelp?: string;
  /** parse turns the text into the option's value; bad text throws settingError(name, ...). */
  readonly parse: (text: string, name: string) => T;
  /** option is where the value goes, when not camelCase(name). */
  readonly option?: string;
  /** perGroup marks a setting that a `[[group]]` table of --config may set for its group alone. */
  readonly perGroup?: boolean;
  /** secret marks a value the log must never show. */
  readonly secret?: boolean;
}

/** settingError is the error of a bad setting: `--<name> <what>`, with the setting's name in `flag`. */
export function settingError(name: string, what: string): GeeCacheError {
  return new GeeCacheError("INVALID_ARGUMENT", `--${name} ${what}`, { flag: name });
}

/** optionName is where a setting's value goes: `cache-bytes` -> cacheBytes. */
export function optionName(s: Pick<Setting, "name" | "option">): string {
  return s.option ?? s.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** envName is the environment variable that stands in for a setting: `cache-bytes` -> GEECACHE_CACHE_BYTES. */
export function envName(name: string): string {
  return `GEECACHE_${name.toUpperCase().replaceAll("-", "_")}`;
}

/** tomlKey is a setting's key in a --config file: `cache-bytes` -> cache_bytes. */
export function tomlKey(name: string): string {
  return name.replaceAll("-", "_");
}

// Parsers: each reads one setting's text or throws settingError. They are the only place a kind of
// value (a port, a size, a duration) is read, so every flag of that kind says the same thing.

/** text accepts any text; nonEmpty refuses "". */
export const text =
  (nonEmpty = false) =>
  (t: string, name: string): string => {
    if (nonEmpty && t === "") throw settingError(name, "must not be empty");
    return t;
  };

/** int reads a whole number from min to max. */
export const int =
  (min: number, max: number) =>
  (t: string, name: string): number => {
    const n = /^\d+$/.test(t.trim()) ? Number(t) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max)
      throw settingError(name, `accepts a whole number from ${min} to ${max}, got ${JSON.stringify(t)}`);
    return n;
  };

/** port reads a TCP port; 0 picks a free one. */
export const port = int(0, 65535);

/** bytes reads a size such as 1048576, 512KiB, 64MiB or 1GiB, of at least min bytes. */
export const bytes =
  (min = 0, example = "1048576, 512KiB, 64MiB or 1GiB") =>
  (t: string, name: string): number => {
    const n = parseBytes(t);
    if (n === undefined || n < min)
      throw settingError(
        name,
        `accepts a size${min > 0 ? ` of at least ${min} byte${min === 1 ? "" : "s"}` : ""} such as ${example}, got ${JSON.stringify(t)}`,
      );
    return n;
  };

/**
 * duration reads a duration such as 30s, 5m or 1h, in ms, of at least min ms (above zero with
 * min = 1); a bare number other than 0 is refused, since it could mean ms or seconds.
 */
export const duration =
  (min = 0, example = "30s, 5m, 1h or 0") =>
  (t: string, name: string): number => {
    if (unitMissing(t)) throw new GeeCacheError("INVALID_ARGUMENT", unitHint(`--${name}`, t.trim()), { flag: name });
    const ms = parseDuration(t);
    if (ms === undefined || ms < min) {
      const floor = min === 1 ? " above zero" : min > 1 ? ` of at least ${formatDuration(min)}` : "";
      throw settingError(name, `accepts a duration${floor} such as ${example}, got ${JSON.stringify(t)}`);
    }
    return ms;
  };

/** decimal reads a number such as 0.5 from 0 to max; what says what it is for in the error. */
export const decimal =
  (max: number, what: string) =>
  (t: string, name: string): number => {
    const n = /^\d*\.?\d+$/.test(t.trim()) ? Number(t) : Number.NaN;
    if (!(n <= max)) throw settingError(name, `accepts ${what}, got ${JSON.stringify(t)}`);
    return n;
  };

/** oneOf reads one of a fixed list of words. */
export const oneOf =
  <const W extends string>(words: readonly W[]) =>
  (t: string, name: string): W => {
    if (!(words as readonly string[]).includes(t))
      throw settingError(name, `accepts ${words.slice(0, -1).join(", ")} or ${words.at(-1)}, got ${JSON.stringify(t)}`);
    return t as W;
  };

/** bool reads a switch: true or false (1 and 0 too). */
export function bool(t: string, name: string): boolean {
  if (t === "true" || t === "1") return true;
  if (t === "false" || t === "0") return false;
  throw settingError(name, `accepts true or false, got ${JSON.stringify(t)}`);
}

/** yesNo reads a switch written as a word (--protected-mode=no): yes or no (true, false, 1 and 0 too). */
export function yesNo(t: string, name: string): boolean {
  if (t === "yes" || t === "true" || t === "1") return true;
  if (t === "no" || t === "false" || t === "0") return false;
  throw settingError(name, `accepts yes or no, got ${JSON.stringify(t)}`);
}

/** secret reads a token: non-empty, no spaces. */
export function secret(t: string, name: string): string {
  if (t.length < 1 || /\s/.test(t)) throw settingError(name, "must be a non-empty string without spaces");
  return t;
}

/** pemFile reads the PEM file a setting names and answers its text. */
export function pemFile(path: string, name: string): string {
  try {
    const pem = readFileSync(path, "utf8");
    if (!pem.includes("-----BEGIN ")) throw new Error("not a PEM file");
    return pem;
  } catch (err) {
    throw settingError(name, `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** settingDetail is what a settingError says about its value, without the `--name` it starts with. */
export function settingDetail(err: GeeCacheError): string {
  const prefix = `--${err.flag}`;
  const m = err.message;
  if (m.startsWith(`${prefix} `)) return m.slice(prefix.length + 1);
  if (m.startsWith(`${prefix}=`)) return m.slice(m.indexOf(": ") + 2); // the unit hint: --ttl=30: add a unit
  return m;
}
