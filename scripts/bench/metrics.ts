/**
 * What do metrics cost a cache hit? Starts two single-node servers, one with metrics (the
 * default: every request timed, /metrics served) and one with `metrics: false`, and drives
 * `GET /api?key=Tom` (a hit after the first) at both in alternating rounds. Prints the median
 * req/s of each and their ratio.
 *
 * Usage: bun scripts/bench/metrics.ts [--quick] [--fetch]
 *   --quick  shorter rounds
 *   --fetch  drive the load with a bounded-concurrency fetch loop of a fixed count, even when wrk is installed
 * Each server runs in its own process (this script with --serve), pinned to CPU 0 when taskset
 * exists; the load generator runs on CPU 1.
 */
import { Group } from "../../src/group/group.ts";
import { Registry } from "../../src/group/registry.ts";
import { httpTransport, PeerSet } from "../../src/index.ts";
import { nodeHandlers, startNode } from "../../src/node/server.ts";
import { NodeMetrics } from "../../src/observability/metrics/node-metrics.ts";
import { demoSource } from "../../src/sources/demo.ts";
import { spawnProcess } from "../../test/helpers/process.ts";
import { checkWrk, median, pinning, SERVER_CPU, wrk } from "./_lib.ts";

const ROUNDS = 5;
const argv = process.argv.slice(2);

if (argv[0] === "--serve") {
  // Child: one node, metrics on or off, wired as the CLI wires it.
  const on = argv[1] === "on";
  const metrics = on ? new NodeMetrics() : undefined;
  // A pool of one, as a CLI node without --peers has: each answer names the key's owner.
  const pool = new PeerSet({
    self: "http://127.0.0.1:8001",
    transports: [httpTransport()],
    onPeerRequest: metrics?.onPeerRequest,
  });
  const registry = new Registry();
  const getter = demoSource("scores");
  registry.add(
    new Group({ name: "scores", getter: metrics ? metrics.timeLoads("scores", getter) : getter, peers: pool }),
  );
  const node = startNode({ registry, peers: pool, port: 0, metrics: metrics ?? false });
  console.log(`listening on ${node.url}`);
} else {
  await bench();
}

async function bench(): Promise<void> {
  const unknown = argv.filter((a) => a !== "--quick" && a !== "--fetch");
  if (unknown.length) {
    console.error(`unknown argument ${unknown.join(" ")}\nusage: bun scripts/bench/metrics.ts [--quick] [--fetch]`);
    process.exit(2);
  }
  const quick = argv.includes("--quick");
  const useWrk = !argv.includes("--fetch") && Bun.which("wrk") !== null;
  const seconds = quick ? 1 : 3;
  const count = quick ? 5_000 : 20_000;
  const concurrency = 32;
  const pinned = pinning(SERVER_CPU).length > 0;

  const servers = await Promise.all((["on", "off"] as const).map(serve));
  try {
    const drive = async (url: string): Promise<number> => {
      if (useWrk) return checkWrk(url, await wrk({ url, seconds })).rps;
      return fetchLoop(url, count, concurrency);
    };
    for (const s of servers) await drive(s.url); // warm-up: JIT, caches, connections
    const rps: Record<"on" | "off", number[]> = { on: [], off: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so drift in the machine's speed falls on both alike.
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) rps[s.mode].push(await drive(s.url));
    }
    const on = median(rps.on);
    const off = median(rps.off);
    const how = useWrk ? `wrk -t1 -c64 -d${seconds}s` : `fetch loop, ${count} requests, ${concurrency} at a time`;
    console.log(
      `metrics cost on GET /api?key=Tom (cache hits), ${how}, median of ${ROUNDS} alternating rounds${pinned ? ", server on CPU 0, load on CPU 1" : ""}\n`,
    );
    console.log("| metrics | req/s (median) | rounds |");
    console.log("| --- | --- | --- |");
    console.log(`| on (default) | ${fmt(on)} | ${rps.on.map(fmt).join(", ")} |`);
    console.log(`| off (metrics: false) | ${fmt(off)} | ${rps.off.map(fmt).join(", ")} |`);
    console.log(`\nratio on/off: ${(on / off).toFixed(3)} (${describe(on, off)})`);
    await inProcess(quick ? 50_000 : 200_000);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** inProcess calls the node's handler directly (no sockets), so only the CPU cost of timing a request is left. */
async function inProcess(calls: number): Promise<void> {
  const handlers = (["on", "off"] as const).map((mode) => {
    const metrics = mode === "on" ? new NodeMetrics() : false;
    const pool = new PeerSet({ self: "http://127.0.0.1:8001", transports: [httpTransport()] });
    const registry = new Registry();
    registry.add(new Group({ name: "scores", getter: demoSource("scores"), peers: pool }));
    return { mode, main: nodeHandlers({ registry, peers: pool, metrics }).main };
  });
  const req = new Request("http://127.0.0.1:8001/api?key=Tom");
  const run = async (main: (r: Request) => Response | Promise<Response>) => {
    const start = performance.now();
    for (let i = 0; i < calls; i++) await main(req);
    return calls / ((performance.now() - start) / 1000);
  };
  for (const h of handlers) await run(h.main);
  const rate: Record<"on" | "off", number[]> = { on: [], off: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const h of round % 2 === 0 ? handlers : [...handlers].reverse()) rate[h.mode].push(await run(h.main));
  }
  const on = median(rate.on);
  const off = median(rate.off);
  const perCallNs = (1e9 / on - 1e9 / off).toFixed(0);
  console.log(
    `\nin process, the handler alone (${calls.toLocaleString("en-US")} calls of GET /api?key=Tom per round, no sockets): on ${fmt(on)}/s, off ${fmt(off)}/s, ratio ${(on / off).toFixed(3)}, about ${perCallNs} ns more per request with metrics`,
  );
}

function describe(on: number, off: number): string {
  const pct = Math.abs(on / off - 1) * 100;
  return on <= off
    ? `${pct.toFixed(1)}% fewer req/s with metrics`
    : `${pct.toFixed(1)}% more req/s with metrics: within the noise`;
}

/** serve runs this script with --serve in a process of its own, pinned to SERVER_CPU, and returns its /api URL. */
async function serve(mode: "on" | "off") {
  const cmd = [process.execPath, import.meta.path, "--serve", mode];
  const p = await spawnProcess(cmd, /listening on (\S+)/, { prefix: pinning(SERVER_CPU), stopSignal: "SIGKILL" });
  return { ...p, mode, url: `${p.match![1]}/api?key=Tom` };
}

/** fetchLoop sends count GETs with at most concurrency in flight and returns requests per second. */
async function fetchLoop(url: string, count: number, concurrency: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count / ((performance.now() - start) / 1000);
}

function fmt(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}
