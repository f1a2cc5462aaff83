/**
 * Benchmark: a three-node cluster (dist/geecache, SQLite source, 100 keys spread over their
 * owners) under wrk through one node, with the hot cache on (--hot-cache-ratio=1) and off (0),
 * against one node serving cache hits (the http.ts figure, measured again here); then the
 * latency of one peer hop (node 1 asking node 2, hot cache off) against a bare Bun fetch relay.
 * Usage: bun scripts/bench/cluster.ts [--quick]
 * Targets: cluster throughput with the hot cache >= 0.7x single-node hits; the peer hop's latency
 * <= 1.5x the bare relay's.
 */
import { join } from "node:path";
import {
  alternate,
  checkWrk,
  fmt,
  footer,
  freePorts,
  luaCycle,
  parseArgs,
  ratio,
  requireWrk,
  type Server,
  scoresDb,
  spawnBare,
  spawnBenchCluster,
  spawnBenchNode,
  summarize,
  table,
  tempDir,
  verdict,
  type WrkResult,
  wrk,
} from "./_lib.ts";

/** THROUGHPUT_TARGET and LATENCY_TARGET are the targets. */
export const THROUGHPUT_TARGET = 0.7;
export const LATENCY_TARGET = 1.5;

const KEYS = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, "0")}`);

const { quick } = parseArgs("bun scripts/bench/cluster.ts [--quick]");
requireWrk("cluster.ts");
const rounds = quick ? 3 : 5;
const seconds = quick ? 2 : 5;

using dir = tempDir("cluster");
const dbPath = scoresDb(join(dir.path, "scores.db"), KEYS, (i) => `v${i}`);
const lua = join(dir.path, "cycle.lua");
await Bun.write(lua, luaCycle("/api?key=", KEYS));

/** cluster starts three nodes over the SQLite file with the hot cache ratio given. */
const cluster = async (hotCacheRatio: number) =>
  spawnBenchCluster(await freePorts(3), () => [`--source=sqlite:${dbPath}`, `--hot-cache-ratio=${hotCacheRatio}`]);

/**
 * warm gets every key once through nodes[0] and checks each was loaded by its owner, once; it returns the keys per
 * owner.
 */
async function warm(nodes: Server[]): Promise<Map<string, string[]>> {
  const byOwner = new Map<string, string[]>(nodes.map((n) => [n.url, []]));
  for (const k of KEYS) {
    const res = await fetch(`${nodes[0]!.url}/api?key=${k}`);
    if (res.status !== 200) throw new Error(`warming ${k}: ${res.status} ${await res.text()}`);
    byOwner.get(res.headers.get("x-geecache-owner")!)!.push(k);
  }
  const loads = await Promise.all(
    nodes.map(
      async (n) => ((await (await fetch(`${n.url}/stats`)).json()) as any).groups.scores.stats.localLoads as number,
    ),
  );
  nodes.forEach((n, i) => {
    if (loads[i] !== byOwner.get(n.url)!.length)
      throw new Error(`node ${n.url} loaded ${loads[i]} keys but owns ${byOwner.get(n.url)!.length}`);
  });
  return byOwner;
}

const [singlePort, single100Port, originPort, relayPort] = await freePorts(4);
await using single = await spawnBenchNode(singlePort!);
await using single100 = await spawnBenchNode(single100Port!, [`--source=sqlite:${dbPath}`]);
const hotOn = await cluster(1);
const hotOff = await cluster(0);
await using _nodes = {
  [Symbol.asyncDispose]: () => Promise.all([...hotOn, ...hotOff].map((n) => n.stop())).then(() => {}),
};
await fetch(`${single.url}/api?key=Tom`);
await warm([single100]);
const spread = await warm(hotOn);
const spreadOff = await warm(hotOff);

const rps = (url: string, script?: string) => async () => checkWrk(url, await wrk({ url, seconds, script })).rps;
const tput = await alternate(rounds, {
  single: rps(`${single.url}/api?key=Tom`),
  single100: rps(`${single100.url}/`, lua),
  hotOn: rps(`${hotOn[0]!.url}/`, lua),
  hotOff: rps(`${hotOff[0]!.url}/`, lua),
});
const hot = (await (await fetch(`${hotOn[0]!.url}/stats`)).json()) as any;

// One peer hop: a key that node 2 owns, asked of node 1 with the hot cache off, against
// client -> relay -> origin with bare Bun servers.
await using origin = await spawnBare(originPort!, "origin");
await using relay = await spawnBare(relayPort!, "relay", [`--origin=${origin.url}`]);
const hopKey = spreadOff.get(hotOff[1]!.url)![0];
if (hopKey === undefined) throw new Error("node 2 owns none of the 100 keys");
const ownerOf = (await fetch(`${hotOff[0]!.url}/api?key=${hopKey}`)).headers;
if (ownerOf.get("x-geecache-owner") !== hotOff[1]!.url || ownerOf.get("x-geecache-from") !== "peer") {
  throw new Error(
    `${hopKey} should come from node 2 through node 1, got owner ${ownerOf.get("x-geecache-owner")} from ${ownerOf.get("x-geecache-from")}`,
  );
}
const lat = (url: string, connections: number) => async () =>
  checkWrk(url, await wrk({ url, seconds, connections, latency: true }));
const hop64 = await alternate(rounds, {
  geecache: lat(`${hotOff[0]!.url}/api?key=${hopKey}`, 64),
  bare: lat(`${relay.url}/api?key=Tom`, 64),
});
const hop1 = await alternate(rounds, {
  geecache: lat(`${hotOff[0]!.url}/api?key=${hopKey}`, 1),
  bare: lat(`${relay.url}/api?key=Tom`, 1),
});

const s = Object.fromEntries(Object.entries(tput).map(([k, v]) => [k, summarize(v)]));
const base = s.single!.median;
console.log("### cluster.ts: three nodes, 100 keys, wrk through node 1\n");
console.log(
  table(
    ["setup", "req/s median", "min", "max", "ratio to single-node hits"],
    [
      [
        "single node, /api?key=Tom hits (http.ts)",
        fmt(s.single!.median),
        fmt(s.single!.min),
        fmt(s.single!.max),
        "1.00x",
      ],
      [
        "single node, 100 keys (Lua cycle), all hits",
        fmt(s.single100!.median),
        fmt(s.single100!.min),
        fmt(s.single100!.max),
        ratio(s.single100!.median, base),
      ],
      [
        "3 nodes, hot cache on (ratio 1)",
        fmt(s.hotOn!.median),
        fmt(s.hotOn!.min),
        fmt(s.hotOn!.max),
        ratio(s.hotOn!.median, base),
      ],
      [
        "3 nodes, hot cache off (ratio 0)",
        fmt(s.hotOff!.median),
        fmt(s.hotOff!.min),
        fmt(s.hotOff!.max),
        ratio(s.hotOff!.median, base),
      ],
    ],
  ),
);
console.log(
  `\nKeys per owner: ${[...spread.values()].map((k) => k.length).join(" / ")}; node 1 with the hot cache on served ` +
    `${hot.groups.scores.caches.hot.items} keys from its hot cache. ` +
    `Target hot cache on >= ${THROUGHPUT_TARGET}x single-node hits: ${verdict(s.hotOn!.median / base >= THROUGHPUT_TARGET)}. ` +
    footer(`${rounds} alternating rounds of wrk -t1 -c64 -d${seconds}s`),
);

const pct = (rs: WrkResult[], p: "p50" | "p99") => summarize(rs.map((r) => r[p]!));
const ms = (x: number) => `${fmt(x)} ms`;
const latRows: string[][] = [];
let worst = 0;
for (const [c, r] of [
  [64, hop64],
  [1, hop1],
] as const) {
  for (const p of ["p50", "p99"] as const) {
    const g = pct(r.geecache!, p);
    const b = pct(r.bare!, p);
    worst = Math.max(worst, g.median / b.median);
    latRows.push([
      `${c}`,
      p,
      ms(g.median),
      `${ms(g.min)} – ${ms(g.max)}`,
      ms(b.median),
      `${ms(b.min)} – ${ms(b.max)}`,
      ratio(g.median, b.median),
    ]);
  }
}
console.log(
  `\n### cluster.ts: latency of one peer hop (${hopKey}, owned by node 2, asked of node 1, hot cache off) vs a bare Bun fetch relay\n`,
);
console.log(
  table(
    [
      "connections",
      "percentile",
      "geecache median",
      "geecache min – max",
      "bare relay median",
      "bare relay min – max",
      "ratio",
    ],
    latRows,
  ),
);
console.log(
  `\nTarget peer hop <= ${LATENCY_TARGET}x the bare relay (worst row ${worst.toFixed(2)}x): ${verdict(worst <= LATENCY_TARGET)}. ` +
    footer(`${rounds} alternating rounds of wrk -t1 --latency -d${seconds}s`),
);
