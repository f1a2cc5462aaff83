import { readFileSync } from "node:fs";
import { GeeCacheError } from "../core/errors.ts";
import { parseDuration, unitHint, unitMissing } from "../core/units.ts";
import type { FlagName } from "./flags.ts";

// Readers of one flag's text: each returns the value or throws an INVALID_ARGUMENT GeeCacheError,
// "--<flag> accepts ..., got ...", that resolveConfig passes on as the node's one-line error.

/** bool reads a true/false flag (1 and 0 too); fallback when not given. */
export function bool(flag: FlagName, text: string | undefined, fallback: boolean): boolean {
  if (text === undefined) return fallback;
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0") return false;
  throw bad(flag, `accepts true or false, got ${JSON.stringify(text)}`);
}

/** duration reads a duration flag such as 30s or 0, in ms. */
export function duration(flag: FlagName, text: string): number {
  const ms = durationOf(flag, text);
  if (ms === undefined) throw bad(flag, `accepts a duration such as 30s, 5m, 1h or 0, got ${JSON.stringify(text)}`);
  return ms;
}

/** durationOf reads a duration flag; a bare number other than 0 is refused, since it could mean ms or seconds. */
export function durationOf(flag: FlagName, text: string): number | undefined {
  if (unitMissing(text)) throw new GeeCacheError("INVALID_ARGUMENT", unitHint(`--${flag}`, text.trim()));
  return parseDuration(text);
}

/** secret reads a token flag: non-empty, no spaces; undefined when not given. */
export function secret(flag: FlagName, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length < 1 || /\s/.test(value)) throw bad(flag, "must be a non-empty string without spaces");
  return value;
}

/** readPem reads the PEM file a flag names. */
export function readPem(flag: FlagName, path: string): string {
  try {
    const pem = readFileSync(path, "utf8");
    if (!pem.includes("-----BEGIN ")) throw new Error("not a PEM file");
    return pem;
  } catch (err) {
    throw bad(flag, `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** int reads a whole-number flag from min to max. */
export function int(flag: FlagName, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw bad(flag, `accepts a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

/** decimal reads a number flag such as 0.5 from 0 to max; undefined when not given. */
export function decimal(flag: FlagName, text: string | undefined, max: number, what: string): number | undefined {
  const n = text === undefined ? undefined : /^\d*\.?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (n !== undefined && !(n <= max)) throw bad(flag, `accepts ${what}, got ${JSON.stringify(text)}`);
  return n;
}

/** bad is the error of a flag with a bad value: `--<flag> <what>`. */
export function bad(flag: string, what: string): GeeCacheError {
  return new GeeCacheError("INVALID_ARGUMENT", `--${flag} ${what}`);
}
