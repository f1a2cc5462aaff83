/**
 * Benchmark: this tree's dist/geecache against another build (--base=PATH, e.g. one built from an
 * earlier commit in a worktree), side by side in alternating rounds under the same load: cache hits
 * on one node (/api), a hop to the owner over HTTP, and a hop over gRPC (two nodes, the hot cache
 * off, every key owned by the other node). Prints each side's median requests per second with its
 * spread, and the ratio new / base. Usage: bun scripts/bench/ab.ts --base=PATH [--quick]
 */
import { Ring } from "../../src/core/consistent-hash.ts";
import { spawnNode } from "../../test/helpers/process.ts";
import {
  alternate,
  BINARY,
  checkWrk,
  fmt,
  footer,
  freePorts,
  luaCycle,
  median,
  pinning,
  requireWrk,
  SERVER_CPU,
  table,
  tempDir,
  wrk,
} from "./_lib.ts";

const argv = process.argv.slice(2);
const base = argv.find((a) => a.startsWith("--base="))?.slice("--base=".length);
const quick = argv.includes("--quick");
if (!base) {
  console.error("usage: bun scripts/bench/ab.ts --base=PATH [--quick]");
  process.exit(2);
}
requireWrk("ab.ts");
const rounds = quick ? 3 : 7;
const seconds = quick ? 2 : 3;
using dir = tempDir("geecache-ab-");
const options = (binary: string, port: number) => ({
  binary,
  prefix: pinning(SERVER_CPU),
  env: { GEECACHE_DRAIN: "0" },
  ready: `http://127.0.0.1:${port}/healthz`,
  stopSignal: "SIGKILL" as const,
});

type Case = {
  name: string;
  start: (binary: string) => Promise<{ url: string; script?: string; stop: () => Promise<unknown> }>;
};
const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
const origin = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (req) => new Response(`v:${new URL(req.url).pathname}`),
});
const source = `--source=http://127.0.0.1:${origin.port}/{key}`;

/**
 * cluster starts n nodes of binary over scheme (http or grpc), the hot cache off, and returns the
 * first node and a script of keys it asks: those the others own (remoteOnly), or all of them.
 */
async function cluster(binary: string, scheme: "http" | "grpc", n: number, remoteOnly: boolean, tag: string) {
  const ports = await freePorts(2 * n);
  const url = (i: number) => (scheme === "http" ? `http://127.0.0.1:${ports[i]}` : `grpc://127.0.0.1:${ports[n + i]}`);
  const urls = Array.from({ length: n }, (_, i) => url(i));
  const flags = (i: number) => [
    `--port=${ports[i]}`,
    `--peers=${urls.join(",")}`,
    source,
    "--log-level=warn",
    "--hot-cache-ratio=0",
    ...(scheme === "grpc" ? [`--grpc-port=${ports[n + i]}`] : []),
  ];
  const nodes = await Promise.all(urls.map((_, i) => spawnNode(flags(i), options(binary, ports[i]!))));
  const ring = new Ring();
  ring.set(urls);
  const asked = remoteOnly ? keys.filter((k) => ring.get(k) !== urls[0]) : keys;
  for (const k of asked) await (await fetch(`${nodes[0]!.url}/api?key=${k}`)).text(); // cached at the owners
  const script = `${dir.path}/${tag}-${scheme}-${n}.lua`;
  await Bun.write(script, luaCycle("/api?key=", asked));
  return { url: nodes[0]!.url, script, stop: () => Promise.all(nodes.map((x) => x.stop())) };
}

const cases: Case[] = [
  {
    name: "hits on one node (/api?key=Tom)",
    start: async (binary) => {
      const [p] = (await freePorts(1)) as [number];
      const n = await spawnNode([`--port=${p}`, "--log-level=warn"], options(binary, p));
      await (await fetch(`${n.url}/api?key=Tom`)).text();
      return { url: `${n.url}/api?key=Tom`, stop: () => n.stop() };
    },
  },
  { name: "a hop to the owner over HTTP", start: (b) => cluster(b, "http", 2, true, b === base ? "base" : "new") },
  { name: "a hop to the owner over gRPC", start: (b) => cluster(b, "grpc", 2, true, b === base ? "base" : "new") },
  {
    name: "3 nodes, 200 keys through one (hot cache off)",
    start: (b) => cluster(b, "http", 3, false, b === base ? "base" : "new"),
  },
];

const rows: string[][] = [];
for (const c of cases) {
  const sides = { base: await c.start(base), new: await c.start(BINARY) };
  const run = (side: keyof typeof sides) => async () => {
    const s = sides[side];
    return checkWrk(`${c.name} (${side})`, await wrk({ url: s.url, seconds, script: s.script })).rps;
  };
  const got = await alternate(rounds, { base: run("base"), new: run("new") });
  await Promise.all([sides.base.stop(), sides.new.stop()]);
  const [b, n] = [median(got.base!), median(got.new!)];
  const spread = (xs: number[]) => `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`;
  rows.push([c.name, fmt(b), spread(got.base!), fmt(n), spread(got.new!), `${(n / b).toFixed(2)}x`]);
}
origin.stop(true);
console.log(`## This build against ${base}\n`);
console.log(table(["case", "base req/s", "base range", "new req/s", "new range", "new / base"], rows));
console.log(`\n${footer(`${rounds} alternating rounds of wrk -t1 -c64 -d${seconds}s`)}`);
