// Scenario: a node joins a --peers-dns cluster and the keys that move to it are first asked 1 s,
// 8 s and 30 s (--quick: 1 s and 8 s) after the ring settles, at --dns-interval=1s and 5s (--quick:
// 1s). Goal: the origin loads at most 10% of the moved keys asked at each time: the new owner
// takes them from their previous owners (handoff), which it asks until the ring has been stable
// for --handoff-window (60 s).

import { startDns } from "../../test/helpers/dns.ts";
import { until } from "../../test/helpers/until.ts";
import { table } from "../bench/_lib.ts";
import { startChaosCluster } from "./_cluster.ts";
import { apiGet, type Cleanup, keyNames, owners, request } from "./_lib.ts";
import { Origin } from "./_origin.ts";

const JOIN_HOSTS = ["127.0.5.1", "127.0.5.2", "127.0.5.3", "127.0.5.4"];
const NAME = "geecache-join.test";
const KEYS = 600;
/** JOIN_GOAL is the most origin loads a batch of moved keys may cost, as a share of the batch. */
export const JOIN_GOAL = 0.1;

/** JoinRow is one batch of moved keys, first asked `afterMs` after the ring settled. */
export interface JoinRow {
  dnsInterval: string;
  afterMs: number;
  keys: number;
  loads: number;
}

async function ringOf(url: string): Promise<string[]> {
  const a = await request(`${url}/stats`, {}, 1000);
  return a.status === 200 ? (JSON.parse(a.body) as { peers: string[] }).peers : [];
}

/** runJoin runs the join at each DNS interval and returns one row per (interval, time) batch. */
export async function runJoin(quick: boolean, cleanup: Cleanup): Promise<JoinRow[]> {
  const rows: JoinRow[] = [];
  for (const dnsInterval of quick ? ["1s"] : ["1s", "5s"]) {
    const origin = new Origin();
    cleanup.add(`stop the join origin (${dnsInterval})`, () => origin[Symbol.dispose]());
    const dns = await startDns(JOIN_HOSTS.slice(0, 3).map((h): [string, string] => [h, NAME]));
    cleanup.add(`stop the join dnsmasq (${dnsInterval})`, () => dns.stop());
    const flags = (urls: readonly string[]) => [
      `--peers-dns=${NAME}:${new URL(urls[0]!).port}`,
      `--dns-server=${dns.server}`,
      `--dns-interval=${dnsInterval}`,
    ];
    // All four start; the fourth is not in DNS yet, so the three do not route to it.
    const nodes = await startChaosCluster({
      hosts: JOIN_HOSTS,
      args: [`--source=${origin.source}`],
      defaults: true,
      discovery: flags,
      cleanup,
    });
    const urls = nodes.map((n) => n.url);
    await until("the three to list each other", async () => (await ringOf(urls[0]!)).length === 3, {
      timeoutMs: 20_000,
    });
    const keys = keyNames("j", KEYS);
    for (const k of keys) await apiGet(urls[0]!, k); // cached at their owners among the three
    const before = owners(urls.slice(0, 3), keys);
    const after = owners(urls, keys);
    const moved = keys.filter((k) => before.get(k) !== after.get(k));
    await dns.setHosts(JOIN_HOSTS.map((h): [string, string] => [h, NAME]));
    await until(
      "every node to list the fourth",
      async () => (await Promise.all(urls.map(ringOf))).every((r) => r.length === 4),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const settled = performance.now();
    const times = quick ? [1000, 8000] : [1000, 8000, 30_000];
    const batches = times.map((_, i) => moved.filter((_, j) => j % times.length === i));
    for (const [i, afterMs] of times.entries()) {
      await Bun.sleep(Math.max(0, settled + afterMs - performance.now()));
      const batch = batches[i]!;
      const loads = batch.reduce((n, k) => n + origin.loads(k), 0);
      for (const [j, k] of batch.entries()) await apiGet(urls[j % 3]!, k); // through the three old nodes
      const loaded = batch.reduce((n, k) => n + origin.loads(k), 0) - loads;
      rows.push({ dnsInterval, afterMs, keys: batch.length, loads: loaded });
    }
    await Promise.all(nodes.map((n) => n.kill()));
    await dns.stop();
    origin[Symbol.dispose]();
  }
  return rows;
}

/** reportJoin is the scenario's markdown table, with its goal. */
export function reportJoin(rows: readonly JoinRow[]): string {
  return [
    "### A node joins a --peers-dns cluster (default flags but --dns-interval; moved keys first asked after the ring settles)",
    `Goal: origin loads <= ${JOIN_GOAL * 100}% of the moved keys asked at each time.`,
    table(
      ["--dns-interval", "first asked", "moved keys asked", "origin loads"],
      rows.map((r) => [
        r.dnsInterval,
        `${r.afterMs / 1000} s after`,
        String(r.keys),
        `${r.loads} (${r.keys ? ((100 * r.loads) / r.keys).toFixed(1) : "0"}%)`,
      ]),
    ),
  ].join("\n");
}
