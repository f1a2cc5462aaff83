import { apiHandler, statsHandler } from "./api.ts";
import type { HttpPool } from "./http-pool.ts";
import type { Registry } from "./registry.ts";
import { json, text } from "./responses.ts";

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
  tls?: { cert: string; key: string };
}

/** Handler is what every route is: a function of a Request. */
export type Handler = (req: Request) => Response | Promise<Response>;

/** nodeHandlers builds the node's two handlers: `main` (peer routes and API) and `api` (API routes only). */
export function nodeHandlers(options: NodeOptions): { main: Handler; api: Handler } {
  const { registry, pool } = options;
  const api = apiHandler({ registry, owner: pool ? (k) => pool.owner(k) : undefined, maxKeyBytes: options.maxKeyBytes });
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
  const serve = (port: number, fetch: Handler) =>
    Bun.serve({
      hostname: options.host ?? "127.0.0.1",
      port,
      fetch,
      tls: options.tls,
      error: (err) => text(500, `internal error: ${err.message}`),
    });
  const main = serve(options.port ?? 0, handlers.main);
  const second = options.apiPort !== undefined && options.apiPort !== main.port ? serve(options.apiPort, handlers.api) : undefined;
  const urlOf = (s: { url: URL }) => s.url.href.replace(/\/$/, "");
  return {
    url: urlOf(main),
    apiUrl: urlOf(second ?? main),
    async stop() {
      await Promise.all([main.stop(), second?.stop()]);
    },
  };
}

/** pathOf returns the path of a request URL without building a URL object. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}
