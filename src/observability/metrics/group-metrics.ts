import type { CacheStats } from "../../group/caches.ts";
import type { Registry } from "../../group/registry.ts";
import type { GroupStats } from "../../group/results.ts";
import { type Exposition, formatLabels } from "./prometheus.ts";

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

/**
 * writeGroupMetrics writes the families of registry's groups to out, read now: each GroupStats counter, each cache's
 * (main and hot) series and each group's budget, one sample per group (and cache).
 */
export function writeGroupMetrics(out: Exposition, registry: Registry): void {
  const groups = registry.groups();
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
}
