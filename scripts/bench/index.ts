/**
 * Runs every benchmark in scripts/bench/ in turn, after building dist/geecache from the current
 * source, and passes `--quick` through: `npm run bench` or `npm run bench -- --quick`.
 * Usage: bun scripts/bench/index.ts [--quick] [--only=http,cluster]
 * Each script prints its own markdown table; a failing one is reported and the rest still run.
 */
import { join } from "node:path";
import { ROOT } from "./_lib.ts";

/** BENCHES are run in this order: the in-process ones, then those that spawn the binary. */
export const BENCHES = [
  "lru",
  "hit-ratio",
  "http",
  "metrics",
  "cluster",
  "grpc",
  "batch",
  "copies",
  "hot-qps",
  "stampede",
  "memory",
  "memory-churn",
  "snapshot",
  "purge",
  "resp",
  "startup",
] as const;

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const only = argv
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");
const unknown = argv.filter((a) => a !== "--quick" && !a.startsWith("--only="));
const unknownBench = only?.filter((b) => !(BENCHES as readonly string[]).includes(b)) ?? [];
if (unknown.length || unknownBench.length) {
  console.error(`unknown ${unknown.length ? `argument ${unknown.join(" ")}` : `benchmark ${unknownBench.join(", ")}`}`);
  console.error(`usage: bun scripts/bench/index.ts [--quick] [--only=${BENCHES.join(",")}]`);
  process.exit(2);
}

async function run(cmd: string[]): Promise<number> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  return proc.exited;
}

const started = performance.now();
if ((await run([process.execPath, join(ROOT, "scripts/build.ts")])) !== 0) {
  console.error("building dist/geecache failed");
  process.exit(1);
}
const failed: string[] = [];
for (const name of BENCHES) {
  if (only && !only.includes(name)) continue;
  console.log(`\n## ${name}: bun scripts/bench/${name}.ts${quick ? " --quick" : ""}\n`);
  const code = await run([process.execPath, join(import.meta.dir, `${name}.ts`), ...(quick ? ["--quick"] : [])]);
  if (code !== 0) failed.push(`${name} (exit ${code})`);
}
console.log(
  `\nAll benchmarks ran in ${((performance.now() - started) / 1000).toFixed(0)} s${failed.length ? `; failed: ${failed.join(", ")}` : ""}.`,
);
if (failed.length) process.exit(1);
