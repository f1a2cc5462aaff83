/**
 * Benchmark: a single node's warm restart with --snapshot. The compiled node is filled with
 * 256 MiB of 4 KiB values (--quick: 64 MiB) through PUT /api, then SIGTERMed: it saves its snapshot
 * (the time comes from its log line), while this script samples its peak RSS (VmHWM, reset with
 * /proc/PID/clear_refs just before the signal) against the RSS before. Then a new node loads the
 * snapshot; its load time comes from its log line, and every key is read back to count origin loads.
 * Usage: bun scripts/bench/snapshot.ts [--quick]. Goals: save <= 1.5 s, load <= 1.5 s, peak RSS while
 * saving <= 1.1 x before, origin loads after the restart <= 1% of the keys.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnNode } from "../../test/helpers/process.ts";
import { BINARY, fmt, freePorts, parseArgs, procStatusMiB, table, tempDir, verdict } from "./_lib.ts";

const { quick } = parseArgs("bun scripts/bench/snapshot.ts [--quick]");
const VALUE = 4096;
const BUDGET_MIB = quick ? 64 : 256;
const KEYS = Math.floor((BUDGET_MIB * 1024 * 1024) / VALUE) - 64; // what fits, with room for the keys' own bytes
const PARALLEL = 32;

let originLoads = 0;
const origin = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => {
    originLoads++;
    return new Response("x".repeat(VALUE));
  },
});
using dir = tempDir("geecache-snapbench-");
const path = join(dir.path, "snapshot");
const [port] = (await freePorts(1)) as [number];
const args = [
  `--port=${port}`,
  `--cache-bytes=${BUDGET_MIB + 16}MiB`,
  `--snapshot=${path}`,
  `--source=http://127.0.0.1:${origin.port}/{key}`,
  "--admission=lru",
];
const value = new Uint8Array(VALUE).map((_, i) => 97 + (i % 26));
const keys = Array.from({ length: KEYS }, (_, i) => `key-${i}`);

const a = await spawnNode(args, { binary: BINARY });
let next = 0;
const fill = async () => {
  while (next < keys.length) {
    const k = keys[next++]!;
    const res = await fetch(`${a.url}/api?key=${k}`, { method: "PUT", body: value });
    if (res.status !== 204) throw new Error(`PUT ${k}: ${res.status} ${await res.text()}`);
  }
};
await Promise.all(Array.from({ length: PARALLEL }, fill));
const pid = a.proc.pid;
Bun.gc(true);
await Bun.sleep(500); // let the node's pacer settle after the fill
const rssBefore = procStatusMiB(pid, "VmRSS");
writeFileSync(`/proc/${pid}/clear_refs`, "5"); // VmHWM starts again from the RSS now
let peak = rssBefore;
const sampler = setInterval(() => {
  try {
    peak = Math.max(peak, procStatusMiB(pid, "VmHWM"));
  } catch {
    // the process has exited
  }
}, 5);
const code = await a.stop("SIGTERM");
clearInterval(sampler);
const saved = a.stdout.text.match(/saved (\d+) entries \(([^)]+)\) in ([\d.]+)(ms|s)/);
if (code !== 0 || !saved)
  throw new Error(`the node did not save its snapshot (exit ${code}):\n${a.stdout.text}${a.stderr.text}`);
const saveMs = Number(saved[3]) * (saved[4] === "s" ? 1000 : 1);

const loadsBefore = originLoads;
const b = await spawnNode(args, { binary: BINARY, startTimeoutMs: 30_000 });
const loaded = b.stdout.text.match(/loaded (\d+) entries \(([^)]+)\) of \d+ groups in ([\d.]+)(ms|s)/);
const loadMs = loaded ? Number(loaded[3]) * (loaded[4] === "s" ? 1000 : 1) : Number.NaN;
next = 0;
const read = async () => {
  while (next < keys.length) {
    const k = keys[next++]!;
    await (await fetch(`${b.url}/api?key=${k}`)).arrayBuffer();
  }
};
await Promise.all(Array.from({ length: PARALLEL }, read));
const reloaded = originLoads - loadsBefore;
await b.stop("SIGKILL");
origin.stop(true);

const rows = [
  ["save", `${fmt(saveMs)} ms`, "<= 1500 ms", verdict(saveMs <= 1500)],
  ["load", `${fmt(loadMs)} ms`, "<= 1500 ms", verdict(loadMs <= 1500)],
  [
    "peak RSS while saving / RSS before",
    `${fmt(peak)} / ${fmt(rssBefore)} MiB = ${(peak / rssBefore).toFixed(2)}x`,
    "<= 1.10x",
    verdict(peak / rssBefore <= 1.1),
  ],
  [
    "origin loads after the restart",
    `${reloaded} of ${KEYS} (${((100 * reloaded) / KEYS).toFixed(2)}%)`,
    "<= 1%",
    verdict(reloaded <= KEYS / 100),
  ],
];
console.log(
  `## --snapshot: ${KEYS} values of ${VALUE} B (${BUDGET_MIB} MiB), saved on SIGTERM and loaded on start (${saved[1]} entries, ${saved[2]})\n`,
);
console.log(table(["what", "measured", "goal", ""], rows));
