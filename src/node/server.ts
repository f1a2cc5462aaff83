import type { PeerGroups } from "../cluster/peer-service.ts";
import type { PeerSet } from "../cluster/peer-set.ts";
import type { Handler, PeerRoutes } from "../cluster/transport.ts";
import { ERROR_CODE_HEADER, pathOf, text } from "../core/responses.ts";
import type { Registry } from "../group/registry.ts";
import { accessLogged, type ServerFetch, writeStdout } from "../observability/access-log.ts";
import { NodeMetrics, type Route } from "../observability/metrics/node-metrics.ts";
import type { SnapshotFigures } from "../observability/metrics/snapshot-metrics.ts";
import type { WorkerFigures } from "../observability/metrics/worker-metrics.ts";
import { clusterJson } from "../observability/status/cluster-view.ts";
import { lookupHandler } from "../observability/status/lookup.ts";
import { NodeStatus, SAMPLE_INTERVAL } from "../observability/status/node-status.ts";
import { BOOT_HEADER } from "../transport/http/headers.ts";
import { type ApiOptions, apiHandler, statsHandler } from "./api.ts";
import { batchApiHandler } from "./batch-api.ts";
import { guarded, type Protection } from "./protected-mode.ts";

/** NodeOptions describes one geecache node: its groups, its peers and where it listens. */
export interface NodeOptions {
  registry: Registry;
  /** peerGroups answer the peer routes (default: registry); a node's also hears its peers' announcements. */
  peerGroups?: PeerGroups;
  /** snapshot says what the last snapshot save and load did, for /stats and /metrics (--snapshot). */
  snapshot?: () => SnapshotFigures;
  /** bootId names this process on /healthz (x-geecache-boot), as its answers to peers do. */
  bootId?: string;
  /** peers is the node's cluster; the peer routes of its transports are served on the main listener. */
  peers?: PeerSet;
  host?: string;
  /** port of the main listener (peer routes and API); 0 picks a free one. */
  port?: number;
  /** apiPort, when set and different from port, opens a second listener with the API routes only. */
  apiPort?: number;
  /** shared: the listeners share their ports with the node's worker threads (reusePort); each request is counted. */
  shared?: { requests: number };
  /** workers are the counters of each worker, for /stats. */
  workers?: () => WorkerFigures[] | undefined;
  maxKeyBytes?: number;
  /** maxValueBytes bounds a written value (default 1 MiB); a larger body of any size gets the API's one-line 413. */
  maxValueBytes?: number;
  /** maxBatchKeys is the most keys one `POST /api/batch` may ask for (default DEFAULT_MAX_BATCH_KEYS). */
  maxBatchKeys?: number;
  /** apiToken guards the API's writes, apiReadToken its reads. */
  apiToken?: string;
  apiReadToken?: string;
  /** tls makes every listener https: PEM certificate chain and key. */
  tls?: { cert: string; key: string };
  /**
   * protection, when set, refuses writes and peer requests from other hosts (protected mode: see protected-mode.ts).
   */
  protection?: Protection;
  /** accessLog writes one JSON line per request (access-log.ts): true on standard output, or to the function given. */
  accessLog?: boolean | ((line: string) => void);
  /** sweepInterval is how often (ms) each group frees a little of its expired memory; 0 = never. */
  sweepInterval?: number;
  /**
   * metrics collects the timings behind `GET /metrics` (default: a new NodeMetrics; pass the CLI's to include loader
   * and peer timings); false turns /metrics and request timing off.
   */
  metrics?: NodeMetrics | false;
  /** source is what /readyz reports of the loader's source: "ok" (default), or "error: why" (then not ready). */
  source?: string;
  /** onWriteFailed is told of each API write that could not reach the key's owner or some copy holders (logged). */
  onWriteFailed?: ApiOptions["onWriteFailed"];
}

/**
 * MAX_REQUEST_BODY is Bun's own body limit, set out of reach: every handler reads a body with readBody, which counts
 * its bytes as they arrive and answers one line of 413 past the route's own limit (Bun would answer an empty one),
 * and Bun does not buffer a body that no handler reads.
 */
export const MAX_REQUEST_BODY = Number.MAX_SAFE_INTEGER;
/** DEFAULT_SWEEP_INTERVAL: each group sweeps a bounded slice of its caches once a second. */
export const DEFAULT_SWEEP_INTERVAL = 1000;
/** DEFAULT_HOST is where a node listens unless told otherwise: loopback only. */
export const DEFAULT_HOST = "127.0.0.1";
/** DEFAULT_PORT is the CLI's main port, as in GeeCache's quick start. */
export const DEFAULT_PORT = 8001;
/** DEFAULT_API_PORT is the port of the CLI's --api listener, as in GeeCache's quick start. */
export const DEFAULT_API_PORT = 9999;

export type { Handler } from "../cluster/transport.ts";

/**
 * nodeHandlers builds the node's two handlers, `main` (peer routes and API) and `api` (API routes only), and the
 * `status` they share.
 */
export function nodeHandlers(options: NodeOptions): {
  main: Handler;
  api: Handler;
  status: NodeStatus;
  /** peerPrefixes are the paths under which main answers peers. */
  peerPrefixes: string[];
} {
  const { registry } = options;
  const { peers } = options;
  const metrics = options.metrics === false ? undefined : (options.metrics ?? new NodeMetrics());
  const timed = (route: Route, h: Handler): Handler => (metrics ? metrics.timeRoute(route, h) : h);
  const { source, snapshot, workers } = options;
  const status = new NodeStatus({ registry, pool: peers, metrics, source, snapshot, workers });
  const api = timed(
    "api",
    apiHandler({
      registry,
      owner: peers ? (k) => peers.owner(k) : undefined,
      self: peers ? () => peers.self : undefined,
      maxKeyBytes: options.maxKeyBytes,
      maxValueBytes: options.maxValueBytes,
      apiToken: options.apiToken,
      apiReadToken: options.apiReadToken,
      onWriteFailed: options.onWriteFailed,
    }),
  );
  const batch = timed(
    "api",
    batchApiHandler({
      registry,
      maxBatchKeys: options.maxBatchKeys,
      maxKeyBytes: options.maxKeyBytes,
      apiReadToken: options.apiReadToken,
    }),
  );
  const stats = timed(
    "stats",
    statsHandler({ registry, cluster: peers, snapshot: options.snapshot, workers: options.workers }),
  );
  const groups = options.peerGroups ?? registry;
  const routes: PeerRoutes[] = (peers?.transports ?? []).flatMap((t) => (t.routes ? [t.routes(groups)] : []));
  const peerRoutes = routes.map((r) => ({ prefix: r.prefix, handler: timed("peer", r.handler) }));
  const peer = peerRoutes.length === 1 ? peerRoutes[0] : undefined; // the usual case, without a loop
  // A geecache node's /healthz carries its boot id: peers' probes learn from it that it speaks the extensions.
  const boot = options.bootId ?? peers?.transports.find((t) => t.bootId !== undefined)?.bootId;
  const healthz = timed(
    "healthz",
    boot === undefined
      ? status.healthz
      : () => {
          const res = status.healthz();
          res.headers.set(BOOT_HEADER, boot);
          return res;
        },
  );
  const readyz = timed("readyz", status.readyz);
  const page = timed("status", status.page);
  const statusJson = timed("status", status.statusJson);
  const clusterView = timed(
    "status",
    clusterJson({
      local: () => status.report(),
      peers: () => peers?.listed() ?? [],
      self: () => peers?.self ?? "",
      client: (url) => peers?.peer(url),
    }),
  );
  const lookup = timed(
    "status",
    lookupHandler({
      registry,
      owner: peers ? (k) => peers.owner(k) : undefined,
      self: () => peers?.self ?? "",
      client: (url) => peers?.peer(url),
      readToken: options.apiReadToken,
      maxKeyBytes: options.maxKeyBytes,
    }),
  );
  const metricsRoute =
    metrics &&
    timed(
      "metrics",
      metrics.handler({
        registry,
        shares: peers && (() => peers.shares()),
        cluster: peers,
        snapshot: options.snapshot,
        workers: options.workers,
      }),
    );
  const notFound = timed("other", (req) =>
    text(404, `no route ${pathOf(req.url)}`, { [ERROR_CODE_HEADER]: "NO_ROUTE" }),
  );

  const apiRoutes = (req: Request, path: string): Response | Promise<Response> => {
    if (path === "/api") return api(req);
    if (path === "/api/batch") return batch(req);
    if (path === "/stats") return stats(req);
    if (path === "/healthz") return healthz(req);
    if (path === "/readyz") return readyz(req);
    if (path === "/metrics" && metricsRoute) return metricsRoute(req);
    if (path === "/") return page(req);
    if (path === "/status.json") return statusJson(req);
    if (path === "/cluster.json") return clusterView(req);
    if (path === "/status/lookup") return lookup(req);
    return notFound(req);
  };
  return {
    main: (req) => {
      const path = pathOf(req.url);
      if (peer) {
        if (path.startsWith(peer.prefix)) return peer.handler(req);
      } else {
        for (const r of peerRoutes) if (path.startsWith(r.prefix)) return r.handler(req);
      }
      return apiRoutes(req, path);
    },
    api: (req) => apiRoutes(req, pathOf(req.url)),
    status,
    peerPrefixes: peerRoutes.map((r) => r.prefix),
  };
}

/** RunningNode is a started node. */
export interface RunningNode {
  /** url of the main listener. */
  url: string;
  /** apiUrl of the API listener (the main one when there is no second). */
  apiUrl: string;
  /** drain makes /readyz answer 503 while every route keeps serving (a graceful leave's first step). */
  drain(): void;
  /** joining holds /readyz at 503 while on: the node is telling its peers it is back. */
  joining(on: boolean): void;
  /** stop stops accepting, lets in-flight requests finish, then resolves. */
  stop(): Promise<void>;
  /** serve answers a request a worker thread took (api: on the --api listener) from the client at ip. */
  serve(req: Request, ip: string, api: boolean): Response | Promise<Response>;
}

/** startNode listens with Bun.serve: the only place in geecache that does. */
export function startNode(options: NodeOptions): RunningNode {
  const handlers = nodeHandlers(options);
  const { protection, accessLog } = options;
  const write = accessLog === true ? writeStdout : accessLog || undefined;
  const wrapped = (fetch: Handler): ServerFetch => {
    const guardedFetch = protection ? guarded(protection, handlers.peerPrefixes, fetch) : fetch;
    return write ? accessLogged(guardedFetch, write, handlers.peerPrefixes) : guardedFetch;
  };
  const mainFetch = wrapped(handlers.main);
  const apiFetch = wrapped(handlers.api);
  const { shared } = options;
  const counted = (fetch: ServerFetch): ServerFetch =>
    shared ? (req, s) => (shared.requests++, fetch(req, s)) : fetch;
  const hostname = options.host ?? DEFAULT_HOST;
  const serve = (port: number, fetch: ServerFetch) => {
    // A port another process holds is refused, as on one worker: a bind without reusePort says so first.
    if (shared && port !== 0) void Bun.serve({ hostname, port, fetch: () => new Response() }).stop(true);
    return Bun.serve({
      hostname,
      port,
      reusePort: shared !== undefined,
      fetch: counted(fetch),
      tls: options.tls,
      maxRequestBodySize: MAX_REQUEST_BODY,
      error: (err) => text(500, `internal error: ${err.message}`),
    });
  };
  const main = serve(options.port ?? 0, mainFetch);
  let second: ReturnType<typeof serve> | undefined;
  try {
    second =
      options.apiPort !== undefined && options.apiPort !== main.port ? serve(options.apiPort, apiFetch) : undefined;
  } catch (err) {
    void main.stop(true); // do not keep the first port open for a node that failed to start
    throw err;
  }
  const interval = options.sweepInterval ?? DEFAULT_SWEEP_INTERVAL;
  const sweeper =
    interval > 0 ? setInterval(() => options.registry.groups().forEach((g) => g.sweep()), interval) : undefined;
  sweeper?.unref();
  const status = handlers.status;
  status.listening = true;
  status.sample();
  const sampler = setInterval(() => status.sample(), SAMPLE_INTERVAL);
  sampler.unref();
  const urlOf = (s: { url: URL }) => s.url.href.replace(/\/$/, "");
  // A node on port 0 learns its address only now: it is this node's name on the ring unless one was given.
  const { peers } = options;
  if (peers && peers.self === "") peers.setSelf(urlOf(main));
  return {
    url: urlOf(main),
    apiUrl: urlOf(second ?? main),
    drain() {
      status.draining = true;
    },
    joining(on) {
      status.joining = on;
    },
    serve(req, ip, api) {
      const from = { requestIP: () => ({ address: ip }) };
      return api && second ? apiFetch(req, from) : mainFetch(req, from);
    },
    async stop() {
      clearInterval(sweeper);
      clearInterval(sampler);
      status.listening = false; // /readyz says 503 while in-flight requests finish
      await Promise.all([main.stop(), second?.stop()]);
    },
  };
}
