const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** parseBytes reads a size such as `1048576`, `512KiB`, `64MiB`, `1GiB` or `10MB`; undefined when it is not one. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * MAX_DURATION is the longest duration parseDuration accepts: 100 years, so an expiry always fits int64 nanoseconds on
 * the wire.
 */
export const MAX_DURATION = 100 * 365 * 86_400_000;

/**
 * parseDuration reads a duration such as `250ms`, `2s`, `5m`, `1h`, `1h30m` or a bare number of ms; undefined when it
 * is not one or is over MAX_DURATION.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  let total = 0;
  if (/^\d+(\.\d+)?$/.test(s)) total = Number(s);
  else if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return undefined;
  else for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return total <= MAX_DURATION ? total : undefined;
}

/**
 * unitMissing tells whether text is a bare number other than 0 (`30`): the CLI and API refuse it rather than guess ms
 * or seconds; parseDuration itself still reads it as ms.
 */
export function unitMissing(text: string): boolean {
  const s = text.trim();
  return /^\d+(\.\d+)?$/.test(s) && Number(s) !== 0;
}

/** unitHint is the one line that refuses a duration without a unit, e.g. `--ttl=30: add a unit, e.g. 30s or 500ms`. */
export function unitHint(name: string, text: string): string {
  return `${name}=${text}: add a unit, e.g. 30s or 500ms`;
}

/** formatDuration writes ms in the largest unit that holds it whole: 1d, 5s, 90s, 250ms; 0 is 0. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/**
 * formatElapsed writes a measured duration for people: 0.4ms, 12ms, 1.2s, 2m5s, 1h3m (formatDuration
 * writes settings, which stay whole: 1500 ms is 1500ms there and 1.5s here).
 */
export function formatElapsed(ms: number): string {
  if (ms < 10) return `${Number(ms.toFixed(1))}ms`;
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ""}`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ""}`;
}

/** sizeText writes bytes as flag text: 64MiB, 4KiB, or a plain number. */
export function sizeText(n: number): string {
  for (const [unit, size] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const)
    if (n > 0 && n % size === 0) return `${n / size}${unit}`;
  return String(n);
}

/** formatBytes writes a size the way people read it: `64 MiB`, `1.5 KiB`, `12 B`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1023.95 && i < units.length - 1) {
    // 1048575 B reads as 1 MiB, not 1024.0 KiB
    v /= 1024;
    i++;
  }
  const rounded = Number(v.toFixed(1));
  return `${Number.isInteger(rounded) ? rounded : rounded.toFixed(1)} ${units[i]}`;
}
