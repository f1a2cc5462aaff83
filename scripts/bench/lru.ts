/**
 * Benchmark: geecache LRU and W-TinyLFU vs lru-cache under the same byte budget, in one process.
 * Usage: bun scripts/bench/lru.ts [--quick]
 * Rounds alternate LRU/W-TinyLFU/lru-cache so drift (thermal, GC, JIT tiers) hits both sides alike; each
 * round times a fixed batch with Bun.nanoseconds() and the table shows median and min–max ns/op.
 */
import { LRUCache } from "lru-cache";
import { LRU } from "../../src/core/lru.ts";
import { TinyLFU } from "../../src/core/tinylfu.ts";
import { mulberry32 } from "../../test/helpers/prng.ts"; // the one seeded PRNG, shared with the tests
import { median } from "./_lib.ts";

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 3 : 9;
const OPS = quick ? 1 << 18 : 1 << 20; // per round
const SEQ = 1 << 16; // pre-generated key indices, so the PRNG is not timed
const VALUE = new Uint8Array(64); // shared: we measure the cache, not the allocator
const KEY_LEN = 7; // "k" + 6 digits, ASCII
const CACHED = 10_000;
const BUDGET = CACHED * (KEY_LEN + VALUE.length);

function uniform(n: number, seed: number): Uint32Array {
  const r = mulberry32(seed);
  const seq = new Uint32Array(SEQ);
  for (let i = 0; i < SEQ; i++) seq[i] = Math.floor(r() * n);
  return seq;
}

/** zipf draws ranks with P(k) ∝ 1/(k+1)^s by binary search over the CDF, rank scattered over keys. */
function zipf(n: number, seed: number, s = 1): Uint32Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / (k + 1) ** s;
  const r = mulberry32(seed);
  // A fixed shuffle so hot keys are not also the first-inserted ones.
  const perm = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const seq = new Uint32Array(SEQ);
  for (let i = 0; i < SEQ; i++) {
    const u = r() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    seq[i] = perm[lo]!;
  }
  return seq;
}

const KEYS = Array.from({ length: 100_000 }, (_, i) => `k${String(i).padStart(6, "0")}`);

// The loops are written once per library, not shared through a common interface, so each call
// site stays monomorphic and neither side pays for the other's shape.
function getOurs(c: LRU<Uint8Array>, seq: Uint32Array, ops: number): number {
  let sink = 0;
  for (let i = 0; i < ops; i++) {
    const v = c.get(KEYS[seq[i & (SEQ - 1)]!]!);
    if (v !== undefined) sink += v.length;
  }
  return sink;
}

function getTheirs(c: LRUCache<string, Uint8Array>, seq: Uint32Array, ops: number): number {
  let sink = 0;
  for (let i = 0; i < ops; i++) {
    const v = c.get(KEYS[seq[i & (SEQ - 1)]!]!);
    if (v !== undefined) sink += v.length;
  }
  return sink;
}

function getTiny(c: TinyLFU<Uint8Array>, seq: Uint32Array, ops: number): number {
  let sink = 0;
  for (let i = 0; i < ops; i++) {
    const v = c.get(KEYS[seq[i & (SEQ - 1)]!]!);
    if (v !== undefined) sink += v.length;
  }
  return sink;
}

function addTiny(c: TinyLFU<Uint8Array>, seq: Uint32Array, ops: number): number {
  for (let i = 0; i < ops; i++) c.add(KEYS[seq[i & (SEQ - 1)]!]!, VALUE);
  return c.length;
}

function addOurs(c: LRU<Uint8Array>, seq: Uint32Array, ops: number): number {
  for (let i = 0; i < ops; i++) c.add(KEYS[seq[i & (SEQ - 1)]!]!, VALUE);
  return c.length;
}

function addTheirs(c: LRUCache<string, Uint8Array>, seq: Uint32Array, ops: number): number {
  for (let i = 0; i < ops; i++) c.set(KEYS[seq[i & (SEQ - 1)]!]!, VALUE);
  return c.size;
}

function makeOurs(): LRU<Uint8Array> {
  return new LRU<Uint8Array>({ maxBytes: BUDGET });
}

function makeTheirs(): LRUCache<string, Uint8Array> {
  // Keys are ASCII, so key.length is their UTF-8 length: the cheapest exact sizeCalculation.
  return new LRUCache<string, Uint8Array>({ maxSize: BUDGET, sizeCalculation: (v, k) => k.length + v.length });
}

type Row = { name: string; ours: () => number; tiny: () => number; theirs: () => number; check: () => void };

function makeRow(name: string, op: "get" | "add", seq: Uint32Array): Row {
  const a = makeOurs();
  const b = makeTheirs();
  const t = new TinyLFU<Uint8Array>({ maxBytes: BUDGET });
  for (let i = 0; i < CACHED; i++) a.add(KEYS[i]!, VALUE), b.set(KEYS[i]!, VALUE), t.add(KEYS[i]!, VALUE);
  // Both must hold the same entries under the same budget, or the comparison is meaningless.
  const check = () => {
    const ours = { entries: a.length, bytes: a.bytes };
    const theirs = { entries: b.size, bytes: b.calculatedSize };
    const tiny = { entries: t.length, bytes: t.bytes };
    const same = (x: typeof ours) => x.entries === theirs.entries && x.bytes === theirs.bytes;
    if (!same(ours) || !same(tiny) || ours.entries !== CACHED) {
      throw new Error(
        `${name}: caches diverged: ours ${JSON.stringify(ours)}, W-TinyLFU ${JSON.stringify(tiny)}, lru-cache ${JSON.stringify(theirs)}`,
      );
    }
  };
  return op === "get"
    ? {
        name,
        check,
        ours: () => getOurs(a, seq, OPS),
        tiny: () => getTiny(t, seq, OPS),
        theirs: () => getTheirs(b, seq, OPS),
      }
    : {
        name,
        check,
        ours: () => addOurs(a, seq, OPS),
        tiny: () => addTiny(t, seq, OPS),
        theirs: () => addTheirs(b, seq, OPS),
      };
}

// Built one at a time, so only the row being timed holds caches in memory.
const ROWS: (() => Row)[] = [
  () => makeRow("get-hit, one hot key", "get", new Uint32Array(SEQ)),
  () => makeRow("get-hit, uniform over 10k", "get", uniform(CACHED, 1)),
  () => makeRow("get-hit, Zipf s=1 over 10k", "get", zipf(CACHED, 2)),
  () => makeRow("add-with-eviction, uniform over 100k", "add", uniform(KEYS.length, 3)),
  () => makeRow("add-with-eviction, Zipf s=1 over 100k", "add", zipf(KEYS.length, 4)),
];

function time(fn: () => number, sink: { n: number }): number {
  const t0 = Bun.nanoseconds();
  sink.n += fn();
  return (Bun.nanoseconds() - t0) / OPS;
}

const fmt = (x: number) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const cell = (xs: number[]) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;

const sink = { n: 0 };
const started = Bun.nanoseconds();
const lines = [
  `| row | geecache LRU ns/op (median, min–max) | lru-cache ns/op (median, min–max) | ratio | W-TinyLFU ns/op (median, min–max) | W-TinyLFU vs lru-cache | W-TinyLFU vs LRU |`,
  `|---|---|---|---|---|---|---|`,
];
for (const build of ROWS) {
  const row = build();
  // One untimed round each lets both reach their top JIT tier before measuring.
  sink.n += row.ours() + row.tiny() + row.theirs();
  const a: number[] = [];
  const b: number[] = [];
  const t: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(time(row.ours, sink));
    t.push(time(row.tiny, sink));
    b.push(time(row.theirs, sink));
  }
  row.check();
  const x = (slow: number[], fast: number[]) => `${(median(slow) / median(fast)).toFixed(2)}x`;
  lines.push(`| ${row.name} | ${cell(a)} | ${cell(b)} | ${x(b, a)} | ${cell(t)} | ${x(b, t)} | ${x(a, t)} |`);
}
console.log(lines.join("\n"));
console.log(
  `\n${ROUNDS} alternating rounds x ${OPS} ops each; ` +
    `budget ${BUDGET} bytes (${CACHED} x ${KEY_LEN}-byte key + ${VALUE.length}-byte value); ` +
    `ratio = lru-cache median / geecache LRU median, and so on (>1 = the second named faster); Bun ${Bun.version}; ` +
    `${((Bun.nanoseconds() - started) / 1e9).toFixed(1)} s; checksum ${sink.n}`,
);
