// Scenario: a rolling restart under the default flags. Three nodes (no --copies, the default drain and
// handoff) have cached keys and taken writes; each in turn gets SIGTERM, is started again on its
// address and is back once its /readyz answers 200, while readers and writers keep going through
// the nodes a load balancer would send them to (every node but the one stopping). Goal: no
// acknowledged write lost, no request failed, and the origin loads at most 5% of the cached keys.

import { startDns } from "../../test/helpers/dns.ts";
import { until } from "../../test/helpers/until.ts";
import { table } from "../bench/_lib.ts";
import { type ChaosNode, restart, startChaosCluster } from "./_cluster.ts";
import { apiGet, apiPut, type Cleanup, keyNames, request } from "./_lib.ts";
import { Origin } from "./_origin.ts";

/** ROLLING_HOSTS are the nodes' addresses (apart from the other scenarios' cluster). */
const ROLLING_HOSTS = ["127.0.2.1", "127.0.2.2", "127.0.2.3"];
/** ROLLING_DNS_HOSTS and ROLLING_NAME are the nodes of the --peers-dns run and the name whose A records they are. */
const ROLLING_DNS_HOSTS = ["127.0.3.1", "127.0.3.2", "127.0.3.3"];
const ROLLING_NAME = "geecache-rolling.test";
/** READ_KEYS are cached by reads before the roll; WRITE_KEYS are written before and during it. */
const READ_KEYS = 300;
const WRITE_KEYS = 100;
/** ORIGIN_GOAL is the most origin loads the roll may cost, as a share of the cached keys. */
export const ORIGIN_GOAL = 0.05;

/** RollingResult is what a rolling restart measured. */
export interface RollingResult {
  discovery: string;
  cached: number;
  requests: number;
  failed: number;
  writes: number;
  acked: number;
  /** lost are written keys whose last acknowledged value (or a later attempt) a node did not serve after the roll. */
  lost: string[];
  /** staleReads counts reads during the roll that returned a value older than the last acknowledged write. */
  staleReads: number;
  originLoads: number;
  seconds: number;
  examples: string[];
}

/**
 * runRolling starts its own cluster with the default flags (static --peers, or --peers-dns against
 * a dnsmasq that answers the nodes' addresses) and restarts each node in turn under load.
 */
export async function runRolling(
  quick: boolean,
  cleanup: Cleanup,
  discovery: "static" | "dns" = "static",
): Promise<RollingResult> {
  const origin = new Origin();
  cleanup.add("stop the rolling origin", () => origin[Symbol.dispose]());
  const hosts = discovery === "dns" ? ROLLING_DNS_HOSTS : ROLLING_HOSTS;
  let dnsFlags: ((urls: readonly string[]) => string[]) | undefined;
  if (discovery === "dns") {
    const dns = await startDns(hosts.map((h): [string, string] => [h, ROLLING_NAME]));
    cleanup.add("stop the rolling dnsmasq", () => dns.stop());
    dnsFlags = (urls) => [`--peers-dns=${ROLLING_NAME}:${new URL(urls[0]!).port}`, `--dns-server=${dns.server}`];
  }
  const nodes = await startChaosCluster({
    hosts,
    args: [`--source=${origin.source}`],
    defaults: true,
    discovery: dnsFlags,
    cleanup,
  });
  const up = new Set<ChaosNode>(nodes); // where a load balancer sends requests: not a node that is stopping
  const pick = (n: number) => [...up][n % up.size]!.url;
  const readKeys = keyNames("r", READ_KEYS);
  const writeKeys = keyNames("w", WRITE_KEYS);
  // Each write attempt, in the order they started (startedAt), with when it was answered 2xx (ackedAt).
  type Attempt = { value: string; startedAt: number; ackedAt?: number };
  const tries = new Map(writeKeys.map((k) => [k, [] as Attempt[]]));
  /**
   * allowed is what a read of key begun at `from` may serve: the last write acknowledged by then, a later one, or an
   * earlier one still unanswered when that one started (the two writers' PUTs of one key may overlap, and the owner
   * may take overlapping writes in either order).
   */
  const allowed = (key: string, from = Number.POSITIVE_INFINITY) => {
    const t = tries.get(key)!;
    const last = t.findLastIndex((x) => x.ackedAt !== undefined && x.ackedAt <= from);
    if (last < 0) return undefined;
    const overlapping = t.slice(0, last).filter((x) => x.ackedAt === undefined || x.ackedAt > t[last]!.startedAt);
    return new Set([...overlapping, ...t.slice(last)].map((x) => x.value));
  };
  let writes = 0;
  const examples: string[] = [];
  let phase = "warm-up";
  const put = async (key: string) => {
    const attempt: Attempt = { value: `${key}=w${writes++}`, startedAt: performance.now() };
    tries.get(key)!.push(attempt);
    const base = pick(writes);
    const a = await apiPut(base, key, attempt.value);
    if (a.status >= 200 && a.status < 300) attempt.ackedAt = performance.now();
    else if (examples.length < 8)
      examples.push(`PUT ${key} via ${base} during ${phase}: ${a.status} ${a.body.slice(0, 120)}`);
  };
  for (const [i, k] of readKeys.entries()) await apiGet(pick(i), k);
  for (const k of writeKeys) await put(k);
  const loadsBefore = origin.loads();

  let requests = 0;
  let failed = 0;
  let staleReads = 0;
  let rolling = true;
  const reader = async (w: number) => {
    for (let n = w; rolling; n += 7) {
      const key = n % 3 === 0 ? writeKeys[n % WRITE_KEYS]! : readKeys[n % READ_KEYS]!;
      const start = performance.now();
      const a = await apiGet(pick(n), key);
      requests++;
      if (a.status !== 200) {
        failed++;
        if (examples.length < 5) examples.push(`GET ${key}: ${a.status} ${a.body.slice(0, 100)}`);
      } else if (key.startsWith("w") && !allowed(key, start)?.has(a.body)) {
        staleReads++;
        if (examples.length < 5)
          examples.push(
            `GET ${key} via ${pick(n)} during ${phase}: ${a.body} after ${[...(allowed(key, start) ?? [])][0]}`,
          );
      }
    }
  };
  const writer = async (w: number) => {
    for (let n = w; rolling; n += 3) await put(writeKeys[n % WRITE_KEYS]!);
  };
  const started = performance.now();
  const load = Promise.all([0, 1, 2, 3].map(reader).concat([0, 1].map(writer)));
  for (const node of nodes) {
    up.delete(node); // the load balancer stops sending to it
    phase = `${node.url} stopping`;
    await node.terminate();
    phase = `${node.url} starting`;
    await restart(node);
    await until(
      "the restarted node to be ready",
      async () => (await request(`${node.url}/readyz`, {}, 1000)).status === 200,
      {
        timeoutMs: 10_000,
      },
    );
    up.add(node);
    phase = `${node.url} back`;
    if (quick) await Bun.sleep(200);
  }
  rolling = false;
  await load;
  const seconds = (performance.now() - started) / 1000;
  const originLoads = origin.loads() - loadsBefore;
  const lost: string[] = [];
  for (const key of writeKeys)
    for (const node of nodes) {
      const a = await apiGet(node.url, key);
      const ok = allowed(key);
      if (ok && !ok.has(a.body)) {
        lost.push(key);
        if (examples.length < 8)
          examples.push(`${key} via ${node.url}: served ${a.body}, last acknowledged ${[...ok][0]}`);
        break;
      }
    }
  const acked = [...tries.values()].flat().filter((t) => t.ackedAt !== undefined).length;
  return {
    discovery,
    cached: READ_KEYS + WRITE_KEYS,
    requests,
    failed,
    writes,
    acked,
    lost,
    staleReads,
    originLoads,
    seconds,
    examples,
  };
}

/** reportRolling is the scenario's markdown table, with its goal. */
export function reportRolling(r: RollingResult): string {
  const share = r.originLoads / r.cached;
  return [
    `### Rolling restart, default flags, ${r.discovery === "dns" ? "--peers-dns" : "static --peers"} (each of 3 nodes SIGTERMed, restarted, back at /readyz 200; reads and writes throughout)`,
    `Goal: 0 acknowledged writes lost, 0 failed requests, origin loads <= ${ORIGIN_GOAL * 100}% of the cached keys.`,
    table(
      ["cached keys", "requests", "failed", "stale reads", "writes", "acknowledged", "lost", "origin loads", "seconds"],
      [
        [
          String(r.cached),
          String(r.requests),
          String(r.failed),
          String(r.staleReads),
          String(r.writes),
          String(r.acked),
          String(r.lost.length),
          `${r.originLoads} (${(share * 100).toFixed(1)}%)`,
          r.seconds.toFixed(1),
        ],
      ],
    ),
    ...r.examples.map((e) => `- ${e}`),
  ].join("\n");
}
