/**
 * Benchmark: hit ratio of LRU vs W-TinyLFU (src/core/tinylfu.ts) at the same byte budget, on seeded
 * traces generated here: Zipf s = 0.8, 0.99, 1.2 over 1M keys; Zipf 0.99 with sequential scans; a
 * loop; a popularity shift half way; cache sizes 0.1%, 1% and 10% of the key space, with fixed
 * value sizes and (Zipf 0.99) varied ones. Each request is a get, and a miss adds the key, as a
 * read-through cache does. Prints a markdown table and which of issue 15's targets are met.
 * Usage: bun scripts/bench/hit-ratio.ts [--quick]
 */
import { LRU } from "../../src/core/lru.ts";
import { TinyLFU } from "../../src/core/tinylfu.ts";
import { mulberry32 } from "../../test/helpers/prng.ts"; // the one seeded PRNG, shared with the tests
import { fmt, parseArgs, table, verdict } from "./_lib.ts";

const { quick } = parseArgs("bun scripts/bench/hit-ratio.ts [--quick]");
const KEYS = 1_000_000;
const REQUESTS = quick ? 1_000_000 : 4_000_000;
const KEY_LEN = 8; // "k" + 7 digits
const VALUE_LEN = 100; // fixed-size runs
const SIZES = [0.001, 0.01, 0.1] as const;

function permutation(n: number, r: () => number): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Zipf draws ranks with P(k) ∝ 1/(k+1)^s over n keys by binary search of the CDF. */
class Zipf {
  private readonly cdf: Float64Array;
  constructor(n: number, s: number) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = sum += 1 / (k + 1) ** s;
  }
  rank(u: number): number {
    const cdf = this.cdf;
    const x = u * cdf[cdf.length - 1]!;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

type Trace = { name: string; seq: Uint32Array; s?: number };

/**
 * ceiling is the best hit ratio (%) any policy can reach on independent Zipf requests with room for
 * `entries` equal-sized entries: the share of requests for the `entries` most popular keys (keeping
 * exactly those is optimal when requests are independent). Cold misses are ignored, so it is a bound.
 */
function ceiling(s: number, entries: number): number {
  let top = 0;
  let all = 0;
  for (let k = 0; k < KEYS; k++) {
    const p = 1 / (k + 1) ** s;
    all += p;
    if (k < entries) top += p;
  }
  return (100 * top) / all;
}

function zipfTrace(s: number, seed: number): Uint32Array {
  const r = mulberry32(seed);
  const z = new Zipf(KEYS, s);
  const perm = permutation(KEYS, r); // hot ranks scattered over the key space
  const seq = new Uint32Array(REQUESTS);
  for (let i = 0; i < REQUESTS; i++) seq[i] = perm[z.rank(r())]!;
  return seq;
}

/** scans: Zipf 0.99, with one request in four part of a sequential scan of 2,000 keys never asked otherwise. */
function scanTrace(seed: number): Uint32Array {
  const seq = zipfTrace(0.99, seed);
  const r = mulberry32(seed + 1);
  const perm = permutation(KEYS, r);
  let cursor = 0;
  for (let i = 0; i + 8_000 <= REQUESTS; i += 8_000) {
    // Requests i+6000 .. i+7999 become one scan over the next 2,000 keys of a fixed walk.
    for (let j = 6_000; j < 8_000; j++) seq[i + j] = perm[KEYS - 1 - (cursor++ % (KEYS / 2))]!;
  }
  return seq;
}

/** loop: the same 50,000 keys (5% of the key space) in the same order, over and over. */
function loopTrace(): Uint32Array {
  const seq = new Uint32Array(REQUESTS);
  for (let i = 0; i < REQUESTS; i++) seq[i] = (i % 50_000) * 7;
  return seq;
}

/** shift: Zipf 0.99 whose popular keys change to another random set half way. */
function shiftTrace(seed: number): Uint32Array {
  const a = zipfTrace(0.99, seed);
  const b = zipfTrace(0.99, seed + 7);
  a.set(b.subarray(REQUESTS / 2), REQUESTS / 2);
  return a;
}

const keys = Array.from({ length: KEYS }, (_, i) => `k${String(i).padStart(KEY_LEN - 1, "0")}`);
const FIXED = new Uint8Array(VALUE_LEN);
// Varied sizes: 64 classes spread log-uniformly from 16 B to 4 KiB, each key's class fixed by its index.
const CLASSES = Array.from({ length: 64 }, (_, c) => new Uint8Array(Math.round(16 * 256 ** (c / 63))));
const classOf = (k: number) => (Math.imul(k ^ (k >>> 16), 0x45d9f3b) >>> 26) & 63;
const MEAN_VARIED = keys.reduce((n, _k, i) => n + CLASSES[classOf(i)]!.length, 0) / KEYS;

interface Policy {
  get(key: string): Uint8Array | undefined;
  add(key: string, v: Uint8Array): boolean;
}

function run(
  make: (budget: number) => Policy,
  seq: Uint32Array,
  budget: number,
  varied: boolean,
): { ratio: number; opsPerSec: number } {
  const c = make(budget);
  let hits = 0;
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < seq.length; i++) {
    const k = seq[i]!;
    const key = keys[k]!;
    if (c.get(key) !== undefined) hits++;
    else c.add(key, varied ? CLASSES[classOf(k)]! : FIXED);
  }
  const ns = Bun.nanoseconds() - t0;
  return { ratio: (100 * hits) / seq.length, opsPerSec: (seq.length * 1e9) / ns };
}

const lru = (budget: number): Policy => new LRU<Uint8Array>({ maxBytes: budget });
const tinylfu = (budget: number): Policy => new TinyLFU<Uint8Array>({ maxBytes: budget });

const started = Bun.nanoseconds();
const traces: (() => Trace)[] = [
  () => ({ name: "Zipf 0.8", seq: zipfTrace(0.8, 11), s: 0.8 }),
  () => ({ name: "Zipf 0.99", seq: zipfTrace(0.99, 12), s: 0.99 }),
  () => ({ name: "Zipf 1.2", seq: zipfTrace(1.2, 13), s: 1.2 }),
  () => ({ name: "Zipf 0.99 + scans", seq: scanTrace(14) }),
  () => ({ name: "loop 50k", seq: loopTrace() }),
  () => ({ name: "shift half way", seq: shiftTrace(15) }),
];
const rows: string[][] = [];
const gains = new Map<string, number>(); // "trace|size|sizes" -> TinyLFU minus LRU, in points
for (const build of traces) {
  const trace = build();
  const variants = trace.name === "Zipf 0.99" ? [false, true] : [false];
  for (const varied of variants) {
    for (const size of SIZES) {
      const budget = Math.round(size * KEYS * (KEY_LEN + (varied ? MEAN_VARIED : VALUE_LEN)));
      const a = run(lru, trace.seq, budget, varied);
      const b = run(tinylfu, trace.seq, budget, varied);
      const gain = b.ratio - a.ratio;
      gains.set(`${trace.name}|${size}|${varied ? "varied" : "fixed"}`, gain);
      const best = trace.s !== undefined && !varied ? ceiling(trace.s, Math.round(size * KEYS)) : undefined;
      const room = best === undefined ? "" : ` (${(best - a.ratio).toFixed(2)})`;
      rows.push([
        trace.name,
        varied ? "varied" : `${VALUE_LEN} B`,
        `${size * 100}%`,
        `${a.ratio.toFixed(2)}%`,
        `${b.ratio.toFixed(2)}%`,
        `${gain >= 0 ? "+" : ""}${gain.toFixed(2)}`,
        best === undefined ? "" : `${best.toFixed(2)}%${room}`,
        fmt(a.opsPerSec),
        fmt(b.opsPerSec),
      ]);
    }
  }
}
console.log(
  table(
    [
      "trace",
      "values",
      "cache",
      "LRU hits",
      "W-TinyLFU hits",
      "points",
      "ceiling (points over LRU)",
      "LRU ops/s",
      "W-TinyLFU ops/s",
    ],
    rows,
  ),
);

const g = (t: string, s: number, v = "fixed") => gains.get(`${t}|${s}|${v}`)!;
const guards = [...gains].filter(([k]) => /scans|loop|shift/.test(k)).map(([, v]) => v);
const targets: [string, boolean][] = [
  [`Zipf 0.99 at 1%: >= +10 points (${g("Zipf 0.99", 0.01).toFixed(2)})`, g("Zipf 0.99", 0.01) >= 10],
  [`Zipf 0.99 at 0.1%: >= +5 points (${g("Zipf 0.99", 0.001).toFixed(2)})`, g("Zipf 0.99", 0.001) >= 5],
  [`Zipf 0.99 at 10%: >= +5 points (${g("Zipf 0.99", 0.1).toFixed(2)})`, g("Zipf 0.99", 0.1) >= 5],
  [
    `loop, scans, shift: never below LRU by more than 2 points (worst ${Math.min(...guards).toFixed(2)})`,
    Math.min(...guards) >= -2,
  ],
];
console.log(`\n${targets.map(([t, ok]) => `- ${verdict(ok)}: ${t}`).join("\n")}`);
// The sketch halves its counts every 20 x capacity requests (2.6M for the 10% cache), so a short
// trace measures the 10% cache before it ever ages: the verdicts are for the full run.
if (quick)
  console.log("- (--quick: too few requests for the 10% cache to age once; the verdicts above are for the full run)");
console.log(
  `\n${REQUESTS.toLocaleString("en-US")} requests per trace over ${KEYS.toLocaleString("en-US")} keys (${KEY_LEN}-byte keys); ` +
    `budget = cache share x keys x (key + value bytes), varied values ${Math.round(MEAN_VARIED)} B on average (16 B-4 KiB); ` +
    `hits counted from the first request (cold start); ceiling = share of requests for the most popular keys that fit, ` +
    `the best any policy can do on independent requests; Bun ${Bun.version}; ${((Bun.nanoseconds() - started) / 1e9).toFixed(1)} s`,
);
