import type { TransportClient } from "../../cluster/transport.ts";
import { plainError } from "../../core/plain-error.ts";
import { json } from "../../core/responses.ts";
import { formatDuration } from "../../core/units.ts";
import type { StatusReport } from "./node-status.ts";

/** CLUSTER_PEER_TIMEOUT is how long (ms) /cluster.json waits for one peer's /status.json. */
export const CLUSTER_PEER_TIMEOUT = 1000;

/** ClusterViewOptions are what /cluster.json reads: this node's report and the peers to ask. */
export interface ClusterViewOptions {
  /** local is this node's own report (it is not fetched over the network). */
  local: () => StatusReport;
  /** peers lists the ring's nodes, this one included. */
  peers: () => string[];
  self: () => string;
  /** client is the peer client of a node on the ring (its transport's status question, when it has one). */
  client: (url: string) => Pick<TransportClient, "status"> | undefined;
  /** timeout (ms) bounds each peer's answer. */
  timeout?: number;
}

/** Totals add up gets, hits and memory over groups or nodes. */
export interface Totals {
  gets: number;
  cacheHits: number;
  /** hitRatio is cacheHits / gets, null before the first get. */
  hitRatio: number | null;
  items: number;
  bytes: number;
  budget: number;
}

/** ClusterNode is one node's totals, or why they are missing. */
export type ClusterNode =
  | ({ url: string; ok: true; self: boolean; ready: boolean } & Totals)
  | { url: string; ok: false; self: false; error: string };

/**
 * ClusterReport is the body of `GET /cluster.json`: every node's totals, the sum over those that answered, and per
 * group.
 */
export interface ClusterReport {
  self: string;
  nodes: ClusterNode[];
  /** answered counts the nodes in totals; the others are listed with ok false and an error. */
  answered: number;
  totals: Totals;
  groups: Array<{ name: string } & Totals>;
}

/** totalsOf sums the groups of one report. */
export function totalsOf(groups: StatusReport["groups"]): Totals {
  const t = { gets: 0, cacheHits: 0, hitRatio: null as number | null, items: 0, bytes: 0, budget: 0 };
  for (const g of groups) {
    t.gets += g.gets;
    t.cacheHits += g.cacheHits;
    t.items += g.items;
    t.bytes += g.bytes.main + g.bytes.hot;
    t.budget += g.bytes.budget;
  }
  t.hitRatio = t.gets > 0 ? t.cacheHits / t.gets : null;
  return t;
}

/**
 * clusterJson answers `GET /cluster.json`: it asks every peer's status through its peer client at
 * once (each within the timeout), adds this node's own report, and sums gets, hits and memory per
 * node, per group and over the cluster. A peer that does not answer, or whose transport cannot ask
 * (gRPC: its status is on its HTTP port), is listed with the reason and left out of the sums.
 */
export function clusterJson(options: ClusterViewOptions): (req: Request) => Promise<Response> {
  const timeout = options.timeout ?? CLUSTER_PEER_TIMEOUT;
  const ask = async (url: string): Promise<Answer> => {
    const client = options.client(url);
    if (!client?.status) return { url, error: "not an http(s) peer: its status is served on its HTTP port" };
    const signal = AbortSignal.timeout(timeout);
    try {
      return { url, report: (await client.status(signal)) as StatusReport };
    } catch (err) {
      return {
        url,
        error: signal.aborted ? `no answer within ${formatDuration(timeout)}` : plainError(err, { peer: url }),
      };
    }
  };
  return async () => {
    const self = options.self();
    const peers = options.peers();
    const answers = await Promise.all(
      (peers.length ? peers : [self]).map((url): Answer | Promise<Answer> =>
        url === self ? { url, report: options.local() } : ask(url),
      ),
    );
    const nodes = answers.map(
      ({ url, report, error }): ClusterNode =>
        report
          ? { url, ok: true, self: url === self, ready: report.ready, ...totalsOf(report.groups) }
          : { url, ok: false, self: false, error: error ?? "no answer" },
    );
    const byGroup = new Map<string, StatusReport["groups"]>();
    for (const a of answers)
      for (const g of a.report?.groups ?? []) byGroup.set(g.name, [...(byGroup.get(g.name) ?? []), g]);
    const answered = nodes.flatMap((n) => (n.ok ? [n] : []));
    const body: ClusterReport = {
      self,
      nodes,
      answered: answered.length,
      totals: sum(answered),
      groups: [...byGroup].map(([name, gs]) => ({ name, ...totalsOf(gs) })),
    };
    return json(200, body, { "cache-control": "no-store" });
  };
}

interface Answer {
  url: string;
  report?: StatusReport;
  error?: string;
}

function sum(list: Totals[]): Totals {
  const t = { gets: 0, cacheHits: 0, hitRatio: null as number | null, items: 0, bytes: 0, budget: 0 };
  for (const n of list) {
    t.gets += n.gets;
    t.cacheHits += n.cacheHits;
    t.items += n.items;
    t.bytes += n.bytes;
    t.budget += n.budget;
  }
  t.hitRatio = t.gets > 0 ? t.cacheHits / t.gets : null;
  return t;
}
