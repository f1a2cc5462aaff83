import { GROUP_NAME } from "../core/limits.ts";
import { bytes, decimal, duration, oneOf, type Setting, settingError } from "../core/settings.ts";
import { formatDuration, sizeText } from "../core/units.ts";
import {
  ADMISSIONS,
  DEFAULT_ADMISSION,
  DEFAULT_CACHE_BYTES,
  DEFAULT_HOT_CACHE_RATIO,
  DEFAULT_HOT_QPS,
  DEFAULT_HOT_TTL,
} from "./options.ts";

/** DEFAULT_GROUP is a node's group (and SQL table) name when none is given, as in GeeCache. */
export const DEFAULT_GROUP = "scores";

/** groupName reads a group name: 1 to 128 letters, digits, "-", "_" or ".". */
export function groupName(t: string, name: string): string {
  if (t.includes(","))
    throw settingError(
      name,
      `names one group, got ${JSON.stringify(t)}: for several, use --config=FILE with one [[group]] table each`,
    );
  if (!GROUP_NAME.test(t))
    throw settingError(name, `accepts 1 to 128 letters, digits, "-", "_" or ".", got ${JSON.stringify(t)}`);
  return t;
}

/** GROUP_SETTINGS are a cache group's settings; the perGroup ones may differ per [[group]] table of --config. */
export const GROUP_SETTINGS: readonly Setting[] = [
  {
    name: "group",
    help: "Name of the cache group, and of the table the source reads",
    fallback: DEFAULT_GROUP,
    hint: "scores",
    parse: groupName,
  },
  {
    name: "cache-bytes",
    help: "Memory budget of the group: bytes, or 512KiB, 64MiB, 1GiB",
    fallback: sizeText(DEFAULT_CACHE_BYTES),
    parse: bytes(),
    perGroup: true,
  },
  {
    name: "ttl",
    help: "How long a loaded value lives: 30s, 5m, 1h; 0 = forever",
    fallback: "0",
    parse: duration(),
    perGroup: true,
  },
  {
    name: "stale",
    help: "Serve a value up to this long past its TTL while one background load refreshes it: 10s, 1m; 0 = off",
    fallback: "0",
    parse: duration(),
    perGroup: true,
  },
  {
    name: "hot-ttl",
    help:
      "Longest time a copy of another node's key is served here (hot copies, and values loaded while their " +
      "owner was down); bounds how long two nodes can disagree",
    fallback: formatDuration(DEFAULT_HOT_TTL),
    parse: duration(),
    perGroup: true,
  },
  {
    name: "hot-qps",
    help:
      "Keep a hot copy of a value fetched from a peer when its owner reports at least this many requests " +
      "per second for the key (minute_qps); 0 = the coin of --hot-cache-ratio for every key (with the 5s " +
      "--hot-ttl a copy then serves ~5 gets; lower thresholds churn the hot cache, higher ones leave it " +
      "part empty: scripts/bench/hot-qps.ts)",
    fallbackHelp: String(DEFAULT_HOT_QPS),
    hint: String(DEFAULT_HOT_QPS),
    parse: decimal(
      Number.MAX_VALUE,
      "a rate in requests per second such as 1 or 0.5 (0 = the coin of --hot-cache-ratio alone)",
    ),
  },
  {
    name: "hot-cache-ratio",
    help:
      "Advanced: chance, 0 to 1, that a value fetched from a peer whose owner reports no rate (Go GeeCache," +
      " groupcache) is kept in the hot cache; 0 turns the hot cache off (as groupcache)",
    fallbackHelp: String(DEFAULT_HOT_CACHE_RATIO),
    hint: String(DEFAULT_HOT_CACHE_RATIO),
    parse: decimal(1, "a number from 0 to 1 such as 0.1"),
  },
  {
    name: "admission",
    help:
      "Main cache policy: tinylfu (W-TinyLFU: a new key must be asked for more often than the keys it would" +
      " push out) or lru",
    fallback: DEFAULT_ADMISSION,
    parse: oneOf(ADMISSIONS),
    perGroup: true,
  },
];
