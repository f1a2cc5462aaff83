import type { ConsolaInstance } from "consola";
import type { Registry } from "../../group/registry.ts";
import type { NodeConfig } from "../config.ts";
import type { RunningNode } from "../server.ts";
import { WorkerPool } from "./pool.ts";

/** COPIES_SHARE is the share of a group's --cache-bytes that a node on several workers gives their copies. */
const COPIES_SHARE = 1 / 8;

/** copiesBudget is the share of a group's budget its node's worker threads keep copies in (none on one worker). */
export function copiesBudget(bytes: number, workers: number): number {
  return workers > 1 ? Math.floor(bytes * COPIES_SHARE) : 0;
}

/** StartWorkers are what a node's worker threads are started from. */
export interface StartWorkers {
  config: NodeConfig;
  node: RunningNode;
  registry: Registry;
  owns(key: string): boolean;
  /** shared counts the main thread's requests (startNode's `shared`). */
  shared: { requests: number };
  entry: string | URL | undefined;
  log: ConsolaInstance;
}

/**
 * startWorkers starts the config's worker threads (--workers - 1 of them) on the node's ports: each group tells the
 * pool of its changes, and the threads share the copies' part of the budget. It resolves once every thread listens.
 */
export async function startWorkers(s: StartWorkers): Promise<WorkerPool> {
  const { config, node, registry } = s;
  if (!s.entry) throw new Error("--workers above 1 needs the entry module of the worker threads");
  const portOf = (url: string) => Number(new URL(url).port);
  const budget = config.groups.reduce((n, g) => n + g.cacheBytes, 0);
  const pool = new WorkerPool({
    count: config.workers,
    entry: s.entry,
    init: {
      host: config.host,
      port: portOf(node.url),
      apiPort: node.apiUrl !== node.url ? portOf(node.apiUrl) : undefined,
      tls: config.tls,
      apiReadToken: config.apiReadToken,
      copies: !config.accessLog, // with an access log, the main thread answers (and logs) every request
      copyBytes: Math.floor(copiesBudget(budget, config.workers) / (config.workers - 1)),
      // The largest body any route takes: a value (PUT, a peer's write or handover) or a batch of keys.
      maxBodyBytes: Math.max(config.maxValueBytes, config.maxBatchKeys * config.maxKeyBytes) + 64 * 1024,
    },
    registry,
    owns: s.owns,
    handle: (req, ip, api) => node.serve(req, ip, api),
    mainRequests: () => s.shared.requests,
    log: s.log,
  });
  for (const g of registry.groups()) g.onChange = (key) => pool.changed(key);
  await pool.start();
  return pool;
}
