/**
 * Benchmark: start-up. The time from exec of `dist/geecache --port=P` to its first 200 on
 * /healthz, against the bare Bun.serve script started with `bun` (the least a Bun server takes
 * here); alternating, each start a fresh process on a fresh port, pinned to one core.
 * Usage: bun scripts/bench/startup.ts [--quick]
 * Target: median <= 80 ms.
 */
import { childEnv, requireBinary } from "../../test/helpers/process.ts";
import {
  BARE_SERVER,
  BINARY,
  fmt,
  footer,
  freePorts,
  parseArgs,
  pinned,
  ratio,
  SERVER_CPU,
  summarize,
  table,
  verdict,
} from "./_lib.ts";

/** TARGET_MS is the start-up target. */
export const TARGET_MS = 80;
const DEADLINE_MS = 5000;

const { quick } = parseArgs("bun scripts/bench/startup.ts [--quick]");
const starts = quick ? 8 : 20;
const binary = requireBinary(BINARY);

/**
 * startMs spawns cmd (built for port) and polls /healthz with no pause until a 200; it returns the ms from spawn to
 * that answer.
 */
async function startMs(cmd: (port: number) => string[]): Promise<number> {
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}/healthz`;
  const t0 = performance.now();
  const proc = Bun.spawn(pinned(SERVER_CPU, cmd(port!)), {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    env: childEnv({ GEECACHE_DRAIN: "0" }),
  });
  try {
    for (let i = 0; i < 1_000_000; i++) {
      if (performance.now() - t0 > DEADLINE_MS || proc.exitCode !== null) break;
      const ok = await fetch(url).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return performance.now() - t0;
    }
    throw new Error(
      `${cmd(port!).join(" ")} did not answer 200 on /healthz within ${DEADLINE_MS} ms: ${await new Response(proc.stderr).text()}`,
    );
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

const cases = {
  geecache: (port: number) => [binary, `--port=${port}`, "--log-level=warn"],
  bare: (port: number) => [process.execPath, BARE_SERVER, `--port=${port}`, "--mode=origin"],
};
const ms: Record<keyof typeof cases, number[]> = { geecache: [], bare: [] };
for (const c of Object.values(cases)) await startMs(c); // untimed: page cache, first-run costs
for (let i = 0; i < starts; i++) {
  const order = i % 2 ? (["bare", "geecache"] as const) : (["geecache", "bare"] as const);
  for (const name of order) ms[name].push(await startMs(cases[name]));
}

const g = summarize(ms.geecache);
const b = summarize(ms.bare);
console.log("### startup.ts: exec to the first 200 on /healthz\n");
console.log(
  table(
    ["process", "ms median", "min", "max", "ratio to bare"],
    [
      ["dist/geecache --port=P", fmt(g.median), fmt(g.min), fmt(g.max), ratio(g.median, b.median)],
      ["bun _bare-server.ts (Bun.serve + Map)", fmt(b.median), fmt(b.min), fmt(b.max), "1.00x"],
    ],
  ),
);
console.log(
  `\nTarget geecache median <= ${TARGET_MS} ms: ${verdict(g.median <= TARGET_MS)}. ` +
    footer(`${starts} alternating starts each, /healthz polled without pause`, false),
);
