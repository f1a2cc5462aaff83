/**
 * Benchmark: the gRPC peer transport against the HTTP one, on two three-node clusters of
 * dist/geecache (SQLite source, 100 keys, hot cache off) that differ only in their peer URLs
 * (grpc:// with --grpc-port, or http://). Through node 1 with wrk: the latency of one peer hop
 * (a key node 2 owns) at 1 and 64 connections, and /api throughput over the 100 keys.
 * Usage: bun scripts/bench/grpc.ts [--quick]
 * Targets: gRPC hop p50 <= 1.0x HTTP at 64 connections and <= 1.3x at 1; throughput >= 0.9x HTTP.
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
  spawnBenchCluster,
  summarize,
  table,
  tempDir,
  verdict,
  type WrkResult,
  wrk,
} from "./_lib.ts";

/** HOP_TARGET_64, HOP_TARGET_1 and THROUGHPUT_TARGET are the targets (gRPC / HTTP). */
export const HOP_TARGET_64 = 1.0;
export const HOP_TARGET_1 = 1.3;
export const THROUGHPUT_TARGET = 0.9;

const KEYS = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, "0")}`);

const { quick } = parseArgs("bun scripts/bench/grpc.ts [--quick]");
requireWrk("grpc.ts");
const rounds = quick ? 3 : 5;
const seconds = quick ? 2 : 5;

using dir = tempDir("grpc");
const dbPath = scoresDb(join(dir.path, "scores.db"), KEYS, (i) => `v${i}`);
const lua = join(dir.path, "cycle.lua");
await Bun.write(lua, luaCycle("/api?key=", KEYS));

/** Cluster is three nodes and the names they have on the ring (what x-geecache-owner says). */
interface Cluster {
  nodes: Server[];
  names: string[];
}

/** cluster starts three nodes that name each other by http:// URLs, or by grpc:// URLs of their --grpc-port. */
async function cluster(transport: "http" | "grpc"): Promise<Cluster> {
  const ports = await freePorts(transport === "grpc" ? 6 : 3);
  const names =
    transport === "grpc"
      ? ports.slice(3).map((p) => `grpc://127.0.0.1:${p}`)
      : ports.map((p) => `http://127.0.0.1:${p}`);
  const flags = (i: number) => [
    `--source=sqlite:${dbPath}`,
    "--hot-cache-ratio=0",
    ...(transport === "grpc" ? [`--grpc-port=${ports[3 + i]}`] : []),
  ];
  return { nodes: await spawnBenchCluster(ports.slice(0, 3), flags, names), names };
}

/** warm loads every key once through node 1 and returns a key that node 2 owns, checking it comes as a peer hop. */
async function warm(c: Cluster): Promise<string> {
  let hopKey: string | undefined;
  for (const k of KEYS) {
    const res = await fetch(`${c.nodes[0]!.url}/api?key=${k}`);
    if (res.status !== 200) throw new Error(`warming ${k}: ${res.status} ${await res.text()}`);
    if (res.headers.get("x-geecache-owner") === c.names[1]) hopKey ??= k;
  }
  if (hopKey === undefined) throw new Error("node 2 owns none of the 100 keys");
  const res = await fetch(`${c.nodes[0]!.url}/api?key=${hopKey}`);
  if (res.headers.get("x-geecache-from") !== "peer")
    throw new Error(`${hopKey} should come from node 2 as a peer hop, got ${res.headers.get("x-geecache-from")}`);
  return hopKey;
}

const http = await cluster("http");
const grpc = await cluster("grpc");
await using _nodes = {
  [Symbol.asyncDispose]: () => Promise.all([...http.nodes, ...grpc.nodes].map((n) => n.stop())).then(() => {}),
};
const hopHttp = await warm(http);
const hopGrpc = await warm(grpc);

const lat = (c: Cluster, key: string, connections: number) => async () => {
  const url = `${c.nodes[0]!.url}/api?key=${key}`;
  return checkWrk(url, await wrk({ url, seconds, connections, latency: true }));
};
const rps = (c: Cluster) => async () =>
  checkWrk("cycle", await wrk({ url: `${c.nodes[0]!.url}/`, seconds, script: lua })).rps;
const hop64 = await alternate(rounds, { grpc: lat(grpc, hopGrpc, 64), http: lat(http, hopHttp, 64) });
const hop1 = await alternate(rounds, { grpc: lat(grpc, hopGrpc, 1), http: lat(http, hopHttp, 1) });
const tput = await alternate(rounds, { grpc: rps(grpc), http: rps(http) });

const pct = (rs: WrkResult[], p: "p50" | "p99") => summarize(rs.map((r) => r[p]!));
const ms = (x: number) => `${fmt(x)} ms`;
const rows: string[][] = [];
const p50Ratio: Record<number, number> = {};
for (const [c, r] of [
  [64, hop64],
  [1, hop1],
] as const) {
  for (const p of ["p50", "p99"] as const) {
    const g = pct(r.grpc!, p);
    const h = pct(r.http!, p);
    if (p === "p50") p50Ratio[c] = g.median / h.median;
    rows.push([
      `${c}`,
      p,
      ms(g.median),
      `${ms(g.min)} – ${ms(g.max)}`,
      ms(h.median),
      `${ms(h.min)} – ${ms(h.max)}`,
      ratio(g.median, h.median),
    ]);
  }
}
console.log("### grpc.ts: one peer hop (node 1's /api for a key node 2 owns, hot cache off), gRPC vs HTTP peers\n");
console.log(
  table(
    ["connections", "percentile", "gRPC median", "gRPC min – max", "HTTP median", "HTTP min – max", "gRPC / HTTP"],
    rows,
  ),
);
const g = summarize(tput.grpc!);
const h = summarize(tput.http!);
console.log("\n### grpc.ts: three nodes, 100 keys (Lua cycle) through node 1, hot cache off\n");
console.log(
  table(
    ["peers", "req/s median", "min", "max", "ratio to HTTP"],
    [
      ["grpc://", fmt(g.median), fmt(g.min), fmt(g.max), ratio(g.median, h.median)],
      ["http://", fmt(h.median), fmt(h.min), fmt(h.max), "1.00x"],
    ],
  ),
);
console.log(
  `\nTargets: hop p50 at 64 <= ${HOP_TARGET_64}x (${p50Ratio[64]!.toFixed(2)}x): ${verdict(p50Ratio[64]! <= HOP_TARGET_64)}; ` +
    `hop p50 at 1 <= ${HOP_TARGET_1}x (${p50Ratio[1]!.toFixed(2)}x): ${verdict(p50Ratio[1]! <= HOP_TARGET_1)}; ` +
    `throughput >= ${THROUGHPUT_TARGET}x (${(g.median / h.median).toFixed(2)}x): ${verdict(g.median / h.median >= THROUGHPUT_TARGET)}. ` +
    footer(`${rounds} alternating rounds of wrk -t1 -d${seconds}s`),
);
