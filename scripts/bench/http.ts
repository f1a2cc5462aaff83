/**
 * Benchmark: one geecache node serving `/api?key=Tom` cache hits against a bare Bun.serve that
 * answers the same URL from a Map (the ceiling of any Bun server on this machine), and the same
 * bare server answering with the four headers a geecache hit carries (what those alone cost).
 * Usage: bun scripts/bench/http.ts [--quick]
 * Both servers run pinned to one core, wrk (1 thread, 64 connections) to the other; rounds
 * alternate between them. Target: geecache >= 0.85x the bare ceiling.
 */
import {
  alternate,
  checkWrk,
  fmt,
  footer,
  freePorts,
  parseArgs,
  ratio,
  requireWrk,
  spawnBare,
  spawnBenchNode,
  summarize,
  table,
  verdict,
  wrk,
} from "./_lib.ts";

/** TARGET is the least share of the bare server's throughput that geecache must reach. */
export const TARGET = 0.85;

/** singleNodeHits measures req/s of one node's cache hits and of the bare server, alternating. */
export async function singleNodeHits(
  quick: boolean,
): Promise<{ geecache: number[]; bare: number[]; headers: number[] }> {
  const rounds = quick ? 3 : 5;
  const seconds = quick ? 2 : 5;
  const [nodePort, barePort, headersPort] = await freePorts(3);
  await using node = await spawnBenchNode(nodePort!);
  await using bare = await spawnBare(barePort!, "origin");
  await using headers = await spawnBare(headersPort!, "headers");
  const warm = await fetch(`${node.url}/api?key=Tom`);
  if (warm.status !== 200 || (await warm.text()) !== "630") throw new Error(`warming Tom failed: ${warm.status}`);
  const hit = await fetch(`${node.url}/api?key=Tom`);
  if (hit.headers.get("x-geecache-cache") !== "hit") throw new Error("the second get of Tom was not a hit");
  const run = (url: string) => async () => checkWrk(url, await wrk({ url, seconds })).rps;
  const cases = {
    geecache: run(`${node.url}/api?key=Tom`),
    bare: run(`${bare.url}/api?key=Tom`),
    headers: run(`${headers.url}/api?key=Tom`),
  };
  return (await alternate(rounds, cases)) as { geecache: number[]; bare: number[]; headers: number[] };
}

if (import.meta.main) {
  const { quick } = parseArgs("bun scripts/bench/http.ts [--quick]");
  requireWrk("http.ts");
  const r = await singleNodeHits(quick);
  const g = summarize(r.geecache);
  const b = summarize(r.bare);
  const h = summarize(r.headers);
  console.log("### http.ts: one node, /api?key=Tom cache hits\n");
  console.log(
    table(
      ["server", "req/s median", "min", "max", "ratio to bare"],
      [
        ["geecache (dist/geecache)", fmt(g.median), fmt(g.min), fmt(g.max), ratio(g.median, b.median)],
        ["bare Bun.serve + Map", fmt(b.median), fmt(b.min), fmt(b.max), "1.00x"],
        [
          "bare Bun.serve + Map + a geecache hit's 4 headers",
          fmt(h.median),
          fmt(h.min),
          fmt(h.max),
          ratio(h.median, b.median),
        ],
      ],
    ),
  );
  console.log(
    `\nTarget geecache >= ${TARGET}x bare: ${verdict(g.median / b.median >= TARGET)}. ` +
      footer(`${r.geecache.length} alternating rounds of wrk -t1 -c64 -d${quick ? 2 : 5}s`),
  );
}
