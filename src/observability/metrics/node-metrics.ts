import type { PeerObserver, RequestOutcome } from "../../cluster/observe.ts";
import { isNotFound } from "../../core/errors.ts";
import type { Getter } from "../../group/loader.ts";
import type { Registry } from "../../group/registry.ts";
import { writeGroupMetrics } from "./group-metrics.ts";
import {
  BUILD_INFO,
  type BuildInfo,
  type ProcessReading,
  readProcess,
  writeProcessMetrics,
} from "./process-metrics.ts";
import {
  CONTENT_TYPE,
  Counter,
  type CounterChild,
  Exposition,
  formatLabels,
  Histogram,
  type HistogramChild,
} from "./prometheus.ts";
import { RespMetrics } from "./resp-metrics.ts";
import { type SnapshotFigures, writeSnapshotMetrics } from "./snapshot-metrics.ts";
import { type WorkerFigures, writeWorkerMetrics } from "./worker-metrics.ts";

/** MetricsSource is what /metrics reads: the groups, and the cluster through a small structural view. */
export interface MetricsSource {
  registry: Registry;
  /** snapshot gives the last snapshot save's and load's figures (--snapshot). */
  snapshot?: () => SnapshotFigures;
  /** workers gives each worker's counters (--workers above 1). */
  workers?: () => WorkerFigures[] | undefined;
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
  /**
   * readProcess reads the process's figures at each scrape (default: readProcess, from /proc/self where there is one).
   */
  readProcess?: () => ProcessReading;
  /** build labels geecache_build_info (default: this build's). */
  build?: BuildInfo;
}

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
  readonly #readProcess: () => ProcessReading;
  readonly #build: BuildInfo;
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
  /** resp counts the RESP listener's commands and connections (written only while one runs). */
  readonly resp = new RespMetrics();

  constructor(options: NodeMetricsOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#readProcess = options.readProcess ?? readProcess;
    this.#build = options.build ?? BUILD_INFO;
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
    writeGroupMetrics(out, source.registry);

    this.#http.write(out);
    this.#load.write(out);
    this.#peer.write(out);
    this.#peerErrors.write(out);
    this.resp.write(out);
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

    if (source.snapshot) writeSnapshotMetrics(out, source.snapshot());
    const workers = source.workers?.();
    if (workers) writeWorkerMetrics(out, workers);
    writeProcessMetrics(out, this.startedAt, this.#readProcess(), this.#build);
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
