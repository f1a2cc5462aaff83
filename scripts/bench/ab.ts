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

/** pair starts two nodes of binary over scheme (http or grpc) and returns node A and a script of keys B owns. */
async function pair(binary: string, scheme: "http" | "grpc", tag: string) {
  const [pa, pb, ga, gb] = (await freePorts(4)) as [number, number, number, number];
  const url = (p: number, g: number) => (scheme === "http" ? `http://127.0.0.1:${p}` : `grpc://127.0.0.1:${g}`);
  const peers = `--peers=${url(pa, ga)},${url(pb, gb)}`;
  const flags = (p: number, g: number) => [
    `--port=${p}`,
    peers,
    source,
    "--log-level=warn",
    "--hot-cache-ratio=0",
    ...(scheme === "grpc" ? [`--grpc-port=${g}`] : []),
  ];
  const [a, b] = await Promise.all([
    spawnNode(flags(pa, ga), options(binary, pa)),
    spawnNode(flags(pb, gb), options(binary, pb)),
  ]);
  const ring = new Ring();
  ring.set([url(pa, ga), url(pb, gb)]);
  const owned = keys.filter((k) => ring.get(k) === url(pb, gb));
  for (const k of owned) await (await fetch(`${a.url}/api?key=${k}`)).text(); // cached at B
  const script = `${dir.path}/${tag}-${scheme}.lua`;
  await Bun.write(script, luaCycle("/api?key=", owned));
  return { url: a.url, script, stop: () => Promise.all([a.stop(), b.stop()]) };
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
  { name: "a hop to the owner over HTTP", start: (binary) => pair(binary, "http", binary === base ? "base" : "new") },
  { name: "a hop to the owner over gRPC", start: (binary) => pair(binary, "grpc", binary === base ? "base" : "new") },
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
