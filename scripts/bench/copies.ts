/**
 * Benchmark: the cost of a PUT with --copies=1 against --copies=2. Two three-node clusters of
 * dist/geecache (demo source) side by side; 100 keys written through node 1, one PUT after
 * another and 16 at a time, in alternating rounds. Prints the median time per PUT and the ratio,
 * which is what the default of --copies is chosen from.
 * Usage: bun scripts/bench/copies.ts [--quick]
 */
import {
  alternate,
  fmt,
  footer,
  freePorts,
  parseArgs,
  ratio,
  type Server,
  spawnBenchCluster,
  summarize,
  table,
} from "./_lib.ts";

const KEYS = Array.from({ length: 100 }, (_, i) => `w${String(i).padStart(3, "0")}`);
const PARALLEL = 16;

const { quick } = parseArgs("bun scripts/bench/copies.ts [--quick]");
const rounds = quick ? 3 : 7;
const writes = quick ? 5 : 20;

/** cluster starts three nodes with --copies=copies. */
const cluster = async (copies: number) =>
  spawnBenchCluster(await freePorts(3), () => [`--copies=${copies}`, "--hot-cache-ratio=0"]);
const one = await cluster(1);
const two = await cluster(2);
await using _nodes = { [Symbol.asyncDispose]: () => Promise.all([...one, ...two].map((n) => n.stop())).then(() => {}) };

let version = 0;
async function put(via: string, key: string): Promise<void> {
  const res = await fetch(`${via}/api?key=${key}`, { method: "PUT", body: `v${version++}` });
  await res.arrayBuffer();
  if (res.status !== 204) throw new Error(`PUT ${key} answered ${res.status}`);
}
const sequential = (nodes: Server[]) => async () => {
  for (const k of KEYS) await put(nodes[0]!.url, k);
};
const parallel = (nodes: Server[]) => async () => {
  let next = 0;
  const worker = async () => {
    while (next < KEYS.length) await put(nodes[0]!.url, KEYS[next++]!);
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
};
/** perPut returns the ms one PUT takes, averaged over `writes` runs of fn (each 100 PUTs). */
const perPut = (fn: () => Promise<void>) => async () => {
  const start = performance.now();
  for (let i = 0; i < writes; i++) await fn();
  return (performance.now() - start) / writes / KEYS.length;
};

const ms = await alternate(rounds, {
  seq1: perPut(sequential(one)),
  seq2: perPut(sequential(two)),
  par1: perPut(parallel(one)),
  par2: perPut(parallel(two)),
});
const s = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, summarize(v)]));
const cell = (k: string) => `${fmt(s[k]!.median)} ms (${fmt(s[k]!.min)} – ${fmt(s[k]!.max)})`;
console.log("### copies.ts: PUT through node 1 of 3, --copies=1 vs --copies=2\n");
console.log(
  table(
    ["PUTs", "--copies=1, per PUT", "--copies=2, per PUT", "2 copies vs 1"],
    [
      ["one after another", cell("seq1"), cell("seq2"), ratio(s.seq2!.median, s.seq1!.median)],
      [`${PARALLEL} at a time`, cell("par1"), cell("par2"), ratio(s.par2!.median, s.par1!.median)],
    ],
  ),
);
console.log(`\n${footer(`${rounds} alternating rounds of ${writes} x 100 PUTs`, false)}`);
