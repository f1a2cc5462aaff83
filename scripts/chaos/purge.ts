// Scenario: a purge while reads of the group run on every node. Three nodes with the default flags
// cache every key at the origin's version 0; readers keep reading every key through every node;
// the origin moves to version 1 and the group is purged through one node. Goal: once the purge has
// answered 2xx, no read that began afterwards returns a version-0 value.
import { table } from "../bench/_lib.ts";
import { startChaosCluster } from "./_cluster.ts";
import { apiGet, type Cleanup, keyNames, request } from "./_lib.ts";
import { Origin } from "./_origin.ts";

/** PURGE_HOSTS are the nodes' addresses (apart from the other scenarios' clusters). */
const PURGE_HOSTS = ["127.0.4.1", "127.0.4.2", "127.0.4.3"];
const KEYS = 200;
const READERS = 6;

/** PurgeResult is what the purge scenario measured. */
export interface PurgeResult {
  status: number;
  /** purgeMs is how long the purge took to answer. */
  purgeMs: number;
  readsAfter: number;
  /** staleAfter counts reads begun after the 2xx that returned a value loaded before the purge. */
  staleAfter: number;
  failed: number;
  examples: string[];
}

/** runPurge starts its own cluster (default flags) and purges the group under reads through every node. */
export async function runPurge(quick: boolean, cleanup: Cleanup): Promise<PurgeResult> {
  const origin = new Origin();
  cleanup.add("stop the purge origin", () => origin[Symbol.dispose]());
  const nodes = await startChaosCluster({
    hosts: PURGE_HOSTS,
    args: [`--source=${origin.source}`],
    defaults: true,
    cleanup,
  });
  const keys = keyNames("g", KEYS);
  for (const n of nodes) for (const k of keys) await apiGet(n.url, k); // every key cached (owners and hot copies)
  let purgedAt = Number.POSITIVE_INFINITY;
  let reading = true;
  let readsAfter = 0;
  let staleAfter = 0;
  let failed = 0;
  const examples: string[] = [];
  const reader = async (w: number) => {
    for (let i = w; reading; i += READERS) {
      const node = nodes[i % nodes.length]!;
      const key = keys[i % KEYS]!;
      const start = performance.now();
      const a = await apiGet(node.url, key);
      if (a.status !== 200) failed++;
      if (start < purgedAt) continue;
      readsAfter++;
      if (a.body.endsWith("@v0")) {
        staleAfter++;
        if (examples.length < 5) examples.push(`${key} via ${node.url}: ${a.body} after the purge`);
      }
    }
  };
  const readers = Array.from({ length: READERS }, (_, w) => reader(w));
  await Bun.sleep(quick ? 300 : 1000); // reads under way before the purge
  origin.version = 1;
  const start = performance.now();
  const res = await request(`${nodes[1]!.url}/api?group=scores&all=true`, { method: "DELETE" });
  purgedAt = performance.now();
  await Bun.sleep(quick ? 1000 : 3000); // reads after it
  reading = false;
  await Promise.all(readers);
  return { status: res.status, purgeMs: purgedAt - start, readsAfter, staleAfter, failed, examples };
}

/** reportPurge is the scenario's markdown table, with its goal. */
export function reportPurge(r: PurgeResult): string {
  return [
    "### Purge under reads, default flags (3 nodes, every key cached; the origin changes, the group is purged through one node)",
    "Goal: a 2xx, and no read begun after it returns a value from before the purge.",
    table(
      ["answer", "purge took", "reads after it", "old values after it", "failed reads"],
      [[String(r.status), `${r.purgeMs.toFixed(1)} ms`, String(r.readsAfter), String(r.staleAfter), String(r.failed)]],
    ),
    ...r.examples.map((e) => `- ${e}`),
  ].join("\n");
}
