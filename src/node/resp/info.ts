// INFO: the sections redis-cli and dashboards read (server, clients, memory, stats, keyspace),
// with the figures of this node's groups and process.

import type { Command, RespContext } from "./context.ts";
import { keysHeld } from "./data-commands.ts";
import { GEECACHE_VERSION, REDIS_VERSION } from "./session-commands.ts";
import { bulk } from "./writer.ts";

const SECTIONS = ["server", "clients", "memory", "stats", "keyspace"] as const;
type Section = (typeof SECTIONS)[number];

/** infoText is INFO's body for the sections asked for ("all", "default", "everything" or none: every one). */
export function infoText(ctx: RespContext, asked: readonly string[]): string {
  const wanted = asked.map((s) => s.toLowerCase());
  const all = wanted.length === 0 || wanted.some((s) => s === "all" || s === "default" || s === "everything");
  const lines: string[] = [];
  for (const section of SECTIONS) {
    if (!all && !wanted.includes(section)) continue;
    if (lines.length > 0) lines.push("");
    lines.push(`# ${section[0]!.toUpperCase()}${section.slice(1)}`);
    for (const [k, v] of Object.entries(figures(ctx, section))) lines.push(`${k}:${v}`);
  }
  return lines.length ? `${lines.join("\r\n")}\r\n` : "";
}

function figures(ctx: RespContext, section: Section): Record<string, string | number> {
  const groups = ctx.registry.groups();
  switch (section) {
    case "server": {
      const uptime = Math.floor((Date.now() - ctx.startedAt) / 1000);
      return {
        redis_version: REDIS_VERSION,
        geecache_version: GEECACHE_VERSION,
        redis_mode: "standalone",
        os: `${process.platform} ${process.arch}`,
        arch_bits: 64,
        process_id: process.pid,
        tcp_port: ctx.port,
        uptime_in_seconds: uptime,
        uptime_in_days: Math.floor(uptime / 86400),
        groups: ctx.registry.names().join(","),
      };
    }
    case "clients":
      return { connected_clients: ctx.metrics.connections, maxclients: ctx.maxClients };
    case "memory": {
      const m = process.memoryUsage();
      let cached = 0;
      for (const g of groups) {
        const c = g.cacheStats();
        cached += c.main.bytes + c.hot.bytes;
      }
      return {
        used_memory: m.heapUsed,
        used_memory_rss: m.rss,
        used_memory_dataset: cached,
        maxmemory: groups.reduce((n, g) => n + g.cacheBytes, 0),
        maxmemory_policy: "allkeys-lru",
      };
    }
    case "stats": {
      let hits = 0;
      let misses = 0;
      let evicted = 0;
      for (const g of groups) {
        const s = g.stats();
        hits += s.cacheHits;
        misses += s.loads;
        const c = g.cacheStats();
        evicted += c.main.evictions + c.hot.evictions;
      }
      return {
        total_connections_received: ctx.metrics.connectionsTotal,
        total_commands_processed: ctx.metrics.commandsTotal,
        rejected_connections: ctx.metrics.rejected,
        keyspace_hits: hits,
        keyspace_misses: misses,
        evicted_keys: evicted,
      };
    }
    case "keyspace": {
      const keys = keysHeld(ctx);
      return keys > 0 ? { db0: `keys=${keys},expires=0,avg_ttl=0` } : {};
    }
  }
}

/** info is the INFO command. */
export const info: Command = { arity: -1, run: (args, _client, ctx) => bulk(infoText(ctx, args.slice(1).map(String))) };
