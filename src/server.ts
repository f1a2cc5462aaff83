import { apiHandler, statsHandler } from "./api.ts";
import type { HttpPool } from "./http-pool.ts";
import { DEFAULT_MAX_VALUE_BYTES } from "./limits.ts";
import { NodeMetrics, type Route } from "./metrics/node-metrics.ts";
import type { Registry } from "./registry.ts";
import { pathOf, text } from "./responses.ts";
import { NodeStatus, SAMPLE_INTERVAL } from "./status/node-status.ts";

/** NodeOptions describes one geecache node: its groups, its peers and where it listens. */
export interface NodeOptions {
  registry: Registry;
  pool?: HttpPool;
  host?: string;
  /** port of the main listener (peer routes and API); 0 picks a free one. */
  port?: number;
  /** apiPort, when set and different from port, opens a second listener with the API routes only. */
  apiPort?: number;
  maxKeyBytes?: number;
  /** maxValueBytes bounds a written value (default 1 MiB); request bodies are capped just above it. */
  maxValueBytes?: number;
  /** apiToken guards the API's writes, apiReadToken its reads. */
  apiToken?: string;
  apiReadToken?: string;
  /** tls makes every listener https: PEM certificate chain and key. */
  tls?: { cert: string; key: string };
  /** sweepInterval is how often (ms) each group frees a little of its expired memory; 0 = never. */
  sweepInterval?: number;
  /** metrics collects the timings behind `GET /metrics` (default: a new NodeMetrics; pass the CLI's to include loader and peer timings); false turns /metrics and request timing off. */
  metrics?: NodeMetrics | false;
  /** source is what /readyz reports of the loader's source: "ok" (default) or "error: why" (then the node is not ready). */
  source?: string;
}

/** DEFAULT_SWEEP_INTERVAL: each group sweeps a bounded slice of its caches once a second. */
export const DEFAULT_SWEEP_INTERVAL = 1000;

/** Handler is what every route is: a function of a Request. */
export type Handler = (req: Request) => Response | Promise<Response>;

/** nodeHandlers builds the node's two handlers, `main` (peer routes and API) and `api` (API routes only), and the `status` they share. */
export function nodeHandlers(options: NodeOptions): { main: Handler; api: Handler; status: NodeStatus } {
  const { registry, pool } = options;
  const metrics = options.metrics === false ? undefined : (options.metrics ?? new NodeMetrics());
  const timed = (route: Route, h: Handler): Handler => (metrics ? metrics.timeRoute(route, h) : h);
  const status = new NodeStatus({ registry, pool, metrics, source: options.source });
  const api = timed("api", apiHandler({
    registry,
    owner: pool ? (k) => pool.owner(k) : undefined,
    maxKeyBytes: options.maxKeyBytes,
    maxValueBytes: options.maxValueBytes,
    apiToken: options.apiToken,
    apiReadToken: options.apiReadToken,
  }));
  const stats = timed("stats", statsHandler({ registry, self: pool?.self, peers: pool ? () => pool.peers() : undefined }));
  const peer = pool && timed("peer", pool.handler(registry));
  const basePath = pool?.basePath;
  const healthz = timed("healthz", status.healthz);
  const readyz = timed("readyz", status.readyz);
  const page = timed("status", status.page);
  const statusJson = timed("status", status.statusJson);
  const metricsRoute = metrics && timed("metrics", metrics.handler({ registry, shares: pool && (() => pool.shares()) }));
  const notFound = timed("other", (req) => text(404, `no route ${pathOf(req.url)}`));

  const apiRoutes = (req: Request, path: string): Response | Promise<Response> => {
    if (path === "/api") return api(req);
    if (path === "/stats") return stats(req);
    if (path === "/healthz") return healthz(req);
    if (path === "/readyz") return readyz(req);
    if (path === "/metrics" && metricsRoute) return metricsRoute(req);
    if (path === "/") return page(req);
    if (path === "/status.json") return statusJson(req);
    return notFound(req);
  };
  return {
    main: (req) => {
      const path = pathOf(req.url);
      if (peer && basePath && path.startsWith(basePath)) return peer(req);
      return apiRoutes(req, path);
    },
    api: (req) => apiRoutes(req, pathOf(req.url)),
    status,
  };
}

/** RunningNode is a started node. */
export interface RunningNode {
  /** url of the main listener. */
  url: string;
  /** apiUrl of the API listener (the main one when there is no second). */
  apiUrl: string;
  /** stop stops accepting, lets in-flight requests finish, then resolves. */
  stop(): Promise<void>;
}

/** startNode listens with Bun.serve: the only place in geecache that does. */
export function startNode(options: NodeOptions): RunningNode {
  const handlers = nodeHandlers(options);
  const maxRequestBodySize = (options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES) + 64 * 1024;
  const serve = (port: number, fetch: Handler) =>
    Bun.serve({
      hostname: options.host ?? "127.0.0.1",
      port,
      fetch,
      tls: options.tls,
      maxRequestBodySize,
      error: (err) => text(500, `internal error: ${err.message}`),
    });
  const main = serve(options.port ?? 0, handlers.main);
  let second: ReturnType<typeof serve> | undefined;
  try {
    second = options.apiPort !== undefined && options.apiPort !== main.port ? serve(options.apiPort, handlers.api) : undefined;
  } catch (err) {
    void main.stop(true); // do not keep the first port open for a node that failed to start
    throw err;
  }
  const interval = options.sweepInterval ?? DEFAULT_SWEEP_INTERVAL;
  const sweeper = interval > 0 ? setInterval(() => options.registry.groups().forEach((g) => g.sweep()), interval) : undefined;
  sweeper?.unref();
  const status = handlers.status;
  status.listening = true;
  status.sample();
  const sampler = setInterval(() => status.sample(), SAMPLE_INTERVAL);
  sampler.unref();
  const urlOf = (s: { url: URL }) => s.url.href.replace(/\/$/, "");
  return {
    url: urlOf(main),
    apiUrl: urlOf(second ?? main),
    async stop() {
      clearInterval(sweeper);
      clearInterval(sampler);
      status.listening = false; // /readyz says 503 while in-flight requests finish
      await Promise.all([main.stop(), second?.stop()]);
    },
  };
}
