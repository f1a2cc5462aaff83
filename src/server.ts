import { apiHandler, statsHandler } from "./api.ts";
import type { HttpPool } from "./http-pool.ts";
import { DEFAULT_MAX_VALUE_BYTES } from "./limits.ts";
import type { Registry } from "./registry.ts";
import { json, pathOf, text } from "./responses.ts";

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
}

/** DEFAULT_SWEEP_INTERVAL: each group sweeps a bounded slice of its caches once a second. */
export const DEFAULT_SWEEP_INTERVAL = 1000;

/** Handler is what every route is: a function of a Request. */
export type Handler = (req: Request) => Response | Promise<Response>;

/** nodeHandlers builds the node's two handlers: `main` (peer routes and API) and `api` (API routes only). */
export function nodeHandlers(options: NodeOptions): { main: Handler; api: Handler } {
  const { registry, pool } = options;
  const api = apiHandler({
    registry,
    owner: pool ? (k) => pool.owner(k) : undefined,
    maxKeyBytes: options.maxKeyBytes,
    maxValueBytes: options.maxValueBytes,
    apiToken: options.apiToken,
    apiReadToken: options.apiReadToken,
  });
  const stats = statsHandler({ registry, self: pool?.self, peers: pool ? () => pool.peers() : undefined });
  const peer = pool?.handler(registry);
  const basePath = pool?.basePath;
  const healthz = () => json(200, { status: "ok" });

  const apiRoutes = (req: Request, path: string): Response | Promise<Response> => {
    if (path === "/api") return api(req);
    if (path === "/stats") return stats(req);
    if (path === "/healthz") return healthz();
    return text(404, `no route ${path}`);
  };
  return {
    main: (req) => {
      const path = pathOf(req.url);
      if (peer && basePath && path.startsWith(basePath)) return peer(req);
      return apiRoutes(req, path);
    },
    api: (req) => apiRoutes(req, pathOf(req.url)),
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
  const second = options.apiPort !== undefined && options.apiPort !== main.port ? serve(options.apiPort, handlers.api) : undefined;
  const interval = options.sweepInterval ?? DEFAULT_SWEEP_INTERVAL;
  const sweeper = interval > 0 ? setInterval(() => options.registry.groups().forEach((g) => g.sweep()), interval) : undefined;
  sweeper?.unref();
  const urlOf = (s: { url: URL }) => s.url.href.replace(/\/$/, "");
  return {
    url: urlOf(main),
    apiUrl: urlOf(second ?? main),
    async stop() {
      clearInterval(sweeper);
      await Promise.all([main.stop(), second?.stop()]);
    },
  };
}
