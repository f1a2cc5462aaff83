import { json } from "../../core/responses.ts";
import type { Registry } from "../../group/registry.ts";
import type { NodeMetrics } from "../metrics/node-metrics.ts";
import type { SnapshotFigures } from "../metrics/snapshot-metrics.ts";
import type { WorkerFigures } from "../metrics/worker-metrics.ts";
import { LoadHistory, type LoadSample } from "./load-history.ts";
// `type: "text"` makes the page and its script strings that `bun build --compile` embeds in the binary.
import pageBundle from "./page.html" with { type: "text" };
import pageScript from "./page.js" with { type: "text" };

const PAGE = (pageBundle as unknown as string).replace(
  "/* page.js is put here by node-status.ts */\n",
  () => pageScript as unknown as string,
);
const PAGE_HEADERS = { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" };

/** SAMPLE_INTERVAL is how often (ms) the server adds a point to the load history. */
export const SAMPLE_INTERVAL = 2000;
/** PEER_DOWN_WINDOW: a peer that failed a request within this many ms is shown as down. */
export const PEER_DOWN_WINDOW = 30_000;

/** NodeStatusOptions are what the status routes read. */
export interface NodeStatusOptions {
  registry: Registry;
  pool?: {
    self: string;
    peers(): string[];
    /** listed is every node of the cluster, those the ring leaves out (down, leaving) too. */
    listed?(): string[];
    shares(): Map<string, number>;
    health?(): Map<string, { down: boolean; since: number | null }>;
    readonly changes?: number;
    readonly handoff?: { peeks: number; peekHits: number; peekErrors: number };
  };
  /** metrics, when on, tell which peers failed lately. */
  metrics?: NodeMetrics;
  /** source is "ok", or "error: why" when the loader's source could not be set up. */
  source?: string;
  /** snapshot gives the last snapshot save's and load's figures (--snapshot). */
  snapshot?: () => SnapshotFigures;
  /** workers gives each worker's counters (--workers above 1). */
  workers?: () => WorkerFigures[] | undefined;
  now?: () => number;
}

/** PeerState is a node as the status page shows it. */
export interface PeerState {
  url: string;
  /** share is the fraction of the key space the node owns. */
  share: number;
  /** state: self; down = a request failed in the last PEER_DOWN_WINDOW ms; unknown = metrics are off. */
  state: "self" | "up" | "down" | "unknown";
  errors: number;
  lastErrorAt: number | null;
}

/** StatusReport is the body of `GET /status.json`. */
export interface StatusReport {
  self: string | null;
  now: number;
  startedAt: number;
  ready: boolean;
  peers: PeerState[];
  groups: Array<{
    name: string;
    gets: number;
    cacheHits: number;
    /** hitRatio is cacheHits / gets, null before the first get. */
    hitRatio: number | null;
    loads: number;
    localLoads: number;
    peerLoads: number;
    items: number;
    bytes: { main: number; hot: number; budget: number };
  }>;
  history: { intervalMs: number; samples: LoadSample[] };
  /** membership counts the changes of membership applied, and the handoff peeks (null without a cluster). */
  membership: { changes: number; handoff: { peeks: number; peekHits: number; peekErrors: number } } | null;
  /** snapshot is what the last snapshot save and load did (null without --snapshot). */
  snapshot: SnapshotFigures | null;
  /** workers are each worker's counters (null on one worker). */
  workers: WorkerFigures[] | null;
}

/**
 * NodeStatus is the state behind `/readyz`, `/status.json` and the status page `/`: whether the
 * node listens, its source, and a short history of gets and loads per second that the server
 * feeds with `sample()` every SAMPLE_INTERVAL.
 */
export class NodeStatus {
  /** listening is set by the server once every port is open, and cleared when it stops. */
  listening = false;
  /** draining is set when the node is leaving: it still serves, but is no longer ready. */
  draining = false;
  /** joining is set while a starting node tells its peers it is back: not ready until they route its keys to it. */
  joining = false;
  readonly source: string;
  readonly history = new LoadHistory();
  readonly startedAt: number;
  readonly #options: NodeStatusOptions;
  readonly #now: () => number;

  constructor(options: NodeStatusOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.source = options.source ?? "ok";
    this.startedAt = this.#now();
  }

  /** sample adds the groups' current totals to the history. */
  sample(): void {
    let gets = 0;
    let loads = 0;
    for (const g of this.#options.registry.groups()) {
      const s = g.stats();
      gets += s.gets;
      loads += s.loads;
    }
    this.history.record(this.#now(), gets, loads);
  }

  /** ready is true when the node listens and its source works. */
  get ready(): boolean {
    return this.listening && !this.draining && !this.joining && this.source === "ok";
  }

  /** healthz answers `GET /healthz`: the process is alive. */
  healthz = (): Response => json(200, { status: "ok" });

  /** readyz answers `GET /readyz`: 200 when ready, 503 when not, with what was checked. */
  readyz = (): Response =>
    json(this.ready ? 200 : 503, {
      status: this.ready ? "ready" : this.draining ? "draining" : this.joining ? "joining" : "not ready",
      listening: this.listening,
      draining: this.draining,
      source: this.source,
      peers: this.#options.pool?.peers().length ?? 1,
      // A down peer does not make this node unready: it serves that peer's keys itself.
      peersDown: [...(this.#options.pool?.health?.() ?? [])].filter(([, h]) => h.down).length,
    });

  /** page answers `GET /` with the status page (HTML that polls /status.json). */
  page = (req: Request): Response => {
    if (req.method !== "GET" && req.method !== "HEAD")
      return new Response("use GET\n", { status: 405, headers: { allow: "GET, HEAD" } });
    return new Response(PAGE, { headers: PAGE_HEADERS });
  };

  /** statusJson answers `GET /status.json` with a StatusReport. */
  statusJson = (): Response => json(200, this.report(), { "cache-control": "no-store" });

  /** report builds what /status.json sends. */
  report(): StatusReport {
    const { registry, pool, metrics } = this.#options;
    const now = this.#now();
    const shares = pool?.shares() ?? new Map<string, number>();
    const urls = pool?.listed?.() ?? pool?.peers() ?? [];
    const health = pool?.health?.();
    const peers = urls.map((url): PeerState => {
      const share = shares.get(url) ?? 0;
      if (url === pool?.self) return { url, share, state: "self", errors: 0, lastErrorAt: null };
      const marked = health?.get(url);
      if (!metrics)
        return { url, share, state: marked ? (marked.down ? "down" : "up") : "unknown", errors: 0, lastErrorAt: null };
      const h = metrics.peerHealth(url);
      const down = marked ? marked.down : h.lastErrorAt !== undefined && now - h.lastErrorAt < PEER_DOWN_WINDOW;
      return { url, share, state: down ? "down" : "up", errors: h.errors, lastErrorAt: h.lastErrorAt ?? null };
    });
    const groups = registry.groups().map((g) => {
      const s = g.stats();
      const c = g.cacheStats();
      return {
        name: g.name,
        gets: s.gets,
        cacheHits: s.cacheHits,
        hitRatio: s.gets > 0 ? s.cacheHits / s.gets : null,
        loads: s.loads,
        localLoads: s.localLoads,
        peerLoads: s.peerLoads,
        items: c.main.items + c.hot.items,
        bytes: { main: c.main.bytes, hot: c.hot.bytes, budget: g.cacheBytes },
      };
    });
    return {
      self: pool?.self ?? null,
      now,
      startedAt: this.startedAt,
      ready: this.ready,
      peers,
      groups,
      history: { intervalMs: SAMPLE_INTERVAL, samples: this.history.samples() },
      membership: pool
        ? { changes: pool.changes ?? 0, handoff: { ...(pool.handoff ?? { peeks: 0, peekHits: 0, peekErrors: 0 }) } }
        : null,
      snapshot: this.#options.snapshot?.() ?? null,
      workers: this.#options.workers?.() ?? null,
    };
  }
}
