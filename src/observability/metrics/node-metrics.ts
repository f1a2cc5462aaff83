import type { PeerObserver, RequestOutcome } from "../../cluster/observe.ts";
import { isNotFound } from "../../core/errors.ts";
import type { CacheStats } from "../../group/caches.ts";
import type { Getter } from "../../group/loader.ts";
import type { Registry } from "../../group/registry.ts";
import type { GroupStats } from "../../group/results.ts";
import {
  CONTENT_TYPE,
  Counter,
  type CounterChild,
  Exposition,
  formatLabels,
  Histogram,
  type HistogramChild,
} from "./prometheus.ts";

/** MetricsSource is what /metrics reads: the groups, and the cluster through a small structural view. */
export interface MetricsSource {
  registry: Registry;
  shares?: () => Map<string, number>;
  cluster?: {
    peers(): string[];
    readonly changes: number;
    readonly handoff: { peeks: number; peekHits: number; peekErrors: number };
    health(): Map<string, { down: boolean }>;
  };
}

type Handler = (req: Request) => Response | Promise<Response>;

/** ROUTES are the values of the `route` label: a fixed set, so a scanner probing paths cannot grow the series. */
export const ROUTES = ["api", "stats", "metrics", "healthz", "readyz", "peer", "status", "other"] as const;

/** Route is one value of the `route` label. */
export type Route = (typeof ROUTES)[number];

/** NodeMetricsOptions are the clocks NodeMetrics reads; tests pass fakes. */
export interface NodeMetricsOptions {
  /** now is the wall clock in Unix ms. */
  now?: () => number;
  /** residentMemory is the process's resident set in bytes. */
  residentMemory?: () => number;
}

/**
 * The group counters as Prometheus names: each GroupStats field, so a new field fails to compile until it is named
 * here.
 */
const GROUP_COUNTERS: Record<keyof GroupStats, [name: string, help: string]> = {
  gets: ["geecache_gets_total", "Gets of a key, from the API, a library call or a peer."],
  // geecache_cache_hits_total and geecache_peer_errors_total are taken by the per-cache and per-peer series.
  cacheHits: ["geecache_group_cache_hits_total", "Gets answered from the main or hot cache."],
  peerLoads: ["geecache_peer_loads_total", "Values fetched from the peer that owns the key."],
  peerErrors: [
    "geecache_group_peer_errors_total",
    "Peer requests of the group that failed (a get then loads locally).",
  ],
  loads: ["geecache_loads_total", "Gets that missed the cache."],
  loadsDeduped: ["geecache_loads_deduped_total", "Loads left after concurrent gets of one key were merged."],
  localLoads: ["geecache_local_loads_total", "Successful calls of the group's loader."],
  localLoadErrs: ["geecache_local_load_errors_total", "Failed calls of the group's loader, not found included."],
  serverRequests: ["geecache_server_requests_total", "Gets that came from other peers."],
};

const CACHE_SERIES: Array<[field: keyof CacheStats, name: string, type: "counter" | "gauge", help: string]> = [
  ["bytes", "geecache_cache_bytes", "gauge", "Bytes held by the cache (keys and values)."],
  ["items", "geecache_cache_items", "gauge", "Entries in the cache."],
  ["gets", "geecache_cache_gets_total", "counter", "Lookups in the cache."],
  ["hits", "geecache_cache_hits_total", "counter", "Lookups that found a live entry."],
  ["evictions", "geecache_cache_evictions_total", "counter", "Entries dropped to stay within the budget."],
];

interface PeerSeries {
  ok: HistogramChild;
  not_found: HistogramChild;
  error: HistogramChild;
  errors: CounterChild;
  lastErrorAt: number; // Unix ms of the last failure; 0 = none yet
}

/**
 * NodeMetrics holds one node's timings (HTTP routes, peer requests, loader calls) and renders
 * them, with the groups' counters read at scrape time, as the Prometheus text format. The core
 * does not know it: the server wraps handlers, the pool takes `onPeerRequest`, the CLI wraps the
 * loader with `timeLoads`.
 */
export class NodeMetrics {
  /** startedAt is when the node began, in Unix ms. */
  readonly startedAt: number;
  readonly #now: () => number;
  readonly #rss: () => number;
  readonly #http = new Histogram(
    "geecache_http_request_duration_seconds",
    "Time to answer an HTTP request, until the response headers.",
    ["route", "status"],
  );
  readonly #peer = new Histogram(
    "geecache_peer_request_duration_seconds",
    "Time of one request to a peer, body included.",
    ["peer", "outcome"],
  );
  readonly #load = new Histogram("geecache_load_duration_seconds", "Time of one call of a group's loader.", [
    "group",
    "outcome",
  ]);
  readonly #peerErrors = new Counter(
    "geecache_peer_errors_total",
    "Requests to a peer that failed (timeouts, refused connections, bad answers).",
    ["peer"],
  );
  readonly #peers = new Map<string, PeerSeries>();

  constructor(options: NodeMetricsOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#rss = options.residentMemory ?? (() => process.memoryUsage.rss());
    this.startedAt = this.#now();
  }

  /** timeRoute wraps handler so every answer is timed under route and its status; a throw counts as a 500. */
  timeRoute(route: Route, handler: Handler): Handler {
    const byStatus = new Map<number, HistogramChild>(); // children resolved once per status
    const http = this.#http;
    let lastStatus = 0; // the status seen last and its child: most answers repeat it, and skip the map
    let last: HistogramChild | undefined;
    const record = (status: number, start: number) => {
      const seconds = (performance.now() - start) / 1000;
      if (status !== lastStatus) {
        let child = byStatus.get(status);
        if (!child) byStatus.set(status, (child = http.child(route, String(status))));
        lastStatus = status;
        last = child;
      }
      last!.observe(seconds);
    };
    return (req) => {
      const start = performance.now();
      let out: Response | Promise<Response>;
      try {
        out = handler(req);
      } catch (err) {
        record(500, start);
        throw err;
      }
      if (out instanceof Response) {
        record(out.status, start);
        return out;
      }
      // A side reaction, not a chained promise: the response reaches Bun without an extra hop.
      out.then(
        (res) => record(res.status, start),
        () => record(500, start),
      );
      return out;
    };
  }

  /**
   * onPeerRequest is the PeerSet's observer (PeerSetOptions.onPeerRequest): it times requests and counts failures
   * per peer.
   */
  readonly onPeerRequest: PeerObserver = (peer, outcome, seconds) => {
    const s = this.#peerSeries(peer);
    s[outcome].observe(seconds);
    if (outcome === "error") {
      s.errors.inc();
      s.lastErrorAt = this.#now();
    }
  };

  /**
   * timeLoads wraps a group's loader so each call is timed as ok, not_found (undefined, null or notFound()) or error.
   */
  timeLoads(group: string, getter: Getter): Getter {
    const child = (o: RequestOutcome) => this.#load.child(group, o);
    const ok = child("ok");
    const notFound = child("not_found");
    const error = child("error");
    return async (key, ctx) => {
      const start = performance.now();
      try {
        const v = await getter(key, ctx);
        (v === undefined || v === null ? notFound : ok).observe((performance.now() - start) / 1000);
        return v;
      } catch (err) {
        (isNotFound(err) ? notFound : error).observe((performance.now() - start) / 1000);
        throw err;
      }
    };
  }

  /** peerHealth tells how many requests to peer failed and when the last one did (Unix ms; undefined = never). */
  peerHealth(peer: string): { errors: number; lastErrorAt: number | undefined } {
    const s = this.#peers.get(peer);
    return { errors: s?.errors.value ?? 0, lastErrorAt: s && s.lastErrorAt > 0 ? s.lastErrorAt : undefined };
  }

  /** handler answers `GET /metrics` with `render(source)`. */
  handler(source: MetricsSource): Handler {
    return (req) => {
      if (req.method !== "GET" && req.method !== "HEAD")
        return new Response("use GET\n", { status: 405, headers: { allow: "GET, HEAD" } });
      return new Response(this.render(source), { headers: { "content-type": CONTENT_TYPE } });
    };
  }

  /**
   * render is the body of `GET /metrics`: the registry's groups and caches, the timings, the peers' shares and the
   * process.
   */
  render(source: MetricsSource): string {
    const out = new Exposition();
    const groups = source.registry.groups();
    const labels = groups.map((g) => formatLabels(["group"], [g.name]));
    const stats = groups.map((g) => g.stats());
    for (const field of Object.keys(GROUP_COUNTERS) as Array<keyof GroupStats>) {
      const [name, help] = GROUP_COUNTERS[field];
      out.family(name, "counter", help);
      stats.forEach((s, i) => out.sample(name, labels[i]!, s[field]));
    }
    const caches = groups.map((g) => g.cacheStats());
    for (const [field, name, type, help] of CACHE_SERIES) {
      out.family(name, type, help);
      caches.forEach((c, i) => {
        for (const which of ["main", "hot"] as const)
          out.sample(name, formatLabels(["group", "cache"], [groups[i]!.name, which]), c[which][field]);
      });
    }
    out.family("geecache_cache_budget_bytes", "gauge", "Memory budget of a group, shared by its main and hot caches.");
    groups.forEach((g, i) => out.sample("geecache_cache_budget_bytes", labels[i]!, g.cacheBytes));

    this.#http.write(out);
    this.#load.write(out);
    this.#peer.write(out);
    this.#peerErrors.write(out);
    const shares = source.shares?.();
    if (shares && shares.size > 0) {
      out.family(
        "geecache_peer_key_share_ratio",
        "gauge",
        "Fraction of the key space each node owns on the hash ring.",
      );
      for (const [peer, share] of shares)
        out.sample("geecache_peer_key_share_ratio", formatLabels(["peer"], [peer]), share);
    }

    const cluster = source.cluster;
    if (cluster) {
      out
        .family("geecache_peers", "gauge", "Nodes on this node's hash ring, itself included.")
        .sample("geecache_peers", "", cluster.peers().length);
      out
        .family("geecache_membership_changes_total", "counter", "Changes of membership applied (nodes joined or left).")
        .sample("geecache_membership_changes_total", "", cluster.changes);
      const health = cluster.health();
      if (health.size > 0) {
        out.family(
          "geecache_peer_up",
          "gauge",
          "1 while a peer answers, 0 while it is marked down after failures in a row.",
        );
        for (const [peer, h] of health) out.sample("geecache_peer_up", formatLabels(["peer"], [peer]), h.down ? 0 : 1);
      }
      out.family(
        "geecache_handoff_peeks_total",
        "counter",
        "Peeks a new owner made at a key's previous owner before loading, by result.",
      );
      const { peeks, peekHits, peekErrors } = cluster.handoff;
      out.sample("geecache_handoff_peeks_total", formatLabels(["result"], ["hit"]), peekHits);
      out.sample("geecache_handoff_peeks_total", formatLabels(["result"], ["miss"]), peeks - peekHits - peekErrors);
      out.sample("geecache_handoff_peeks_total", formatLabels(["result"], ["error"]), peekErrors);
    }

    const now = this.#now();
    out
      .family("geecache_process_start_time_seconds", "gauge", "Start time of the node since the Unix epoch.")
      .sample("geecache_process_start_time_seconds", "", this.startedAt / 1000);
    out
      .family("geecache_process_uptime_seconds", "gauge", "Time since the node started.")
      .sample("geecache_process_uptime_seconds", "", Math.max(0, now - this.startedAt) / 1000);
    out
      .family("geecache_process_resident_memory_bytes", "gauge", "Resident memory of the process.")
      .sample("geecache_process_resident_memory_bytes", "", this.#rss());
    return out.text();
  }

  #peerSeries(peer: string): PeerSeries {
    let s = this.#peers.get(peer);
    if (!s) {
      s = {
        ok: this.#peer.child(peer, "ok"),
        not_found: this.#peer.child(peer, "not_found"),
        error: this.#peer.child(peer, "error"),
        errors: this.#peerErrors.child(peer),
        lastErrorAt: 0,
      };
      this.#peers.set(peer, s);
    }
    return s;
  }
}
