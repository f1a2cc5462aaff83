import type { ArgsDef } from "citty";
import { DEFAULTS as D } from "./defaults.ts";

/** FLAGS are the command line of `geecache`; each is also read from GEECACHE_<NAME> (e.g. GEECACHE_CACHE_BYTES). */
export const FLAGS = {
  port: {
    type: "string",
    description: `Port of the node: peer routes and API (default ${D.port}; 0 picks a free port)`,
    valueHint: "8001",
  },
  host: {
    type: "string",
    description: `Address to listen on (default ${D.host}; 0.0.0.0 for every interface)`,
    valueHint: "127.0.0.1",
  },
  peers: {
    type: "string",
    description:
      "Comma-separated URLs of every node, this one included; a bare port means http://127.0.0.1:PORT (default: none, a single node)",
    valueHint: "8001,8002,8003",
  },
  "peers-file": {
    type: "string",
    description: `File listing every node (URLs or bare ports, comma- or line-separated), read again every --peers-file-interval: membership changes without a restart`,
    valueHint: "peers.txt",
  },
  "peers-file-interval": {
    type: "string",
    description: `How often --peers-file is read again (default ${D["peers-file-interval"]})`,
    valueHint: D["peers-file-interval"],
  },
  "peers-dns": {
    type: "string",
    description:
      "DNS name whose A/AAAA records are the nodes (a Kubernetes headless Service); each address becomes http://ADDR:PORT (PORT = --port, or NAME:PORT), or grpc://ADDR:GRPC_PORT with --grpc-port",
    valueHint: "geecache-peers.ns.svc",
  },
  "peers-srv": {
    type: "string",
    description:
      "DNS name whose SRV records are the nodes; each record's target host name is the peer's identity (stable StatefulSet pod names)",
    valueHint: "_http._tcp.geecache",
  },
  "dns-server": {
    type: "string",
    description: "Send --peers-dns/--peers-srv queries to this server instead of the system's resolver",
    valueHint: "10.0.0.10:53",
  },
  "dns-interval": {
    type: "string",
    description: `How often --peers-dns/--peers-srv is resolved again; a change is applied once seen twice in a row (default ${D["dns-interval"]})`,
    valueHint: D["dns-interval"],
  },
  drain: {
    type: "string",
    description: `On SIGTERM, answer /readyz 503 but keep serving this long before stopping, so peers and load balancers drop the node (default ${D.drain})`,
    valueHint: D.drain,
  },
  "grpc-port": {
    type: "string",
    description:
      "Also serve the gRPC peer service (geecachepb.GroupCache) on this port; grpc:// peers are spoken to over gRPC (default: off)",
    valueHint: "9001",
  },
  self: {
    type: "string",
    description:
      "This node's URL exactly as the peers list it (default http://HOST:PORT; with --port=0 the port it got)",
    valueHint: "http://10.0.0.1:8001",
  },
  api: { type: "boolean", description: "Also serve the API on --api-port (the peer port can then stay private)" },
  "api-port": {
    type: "string",
    description: `Port of the API listener opened by --api (default ${D["api-port"]})`,
    valueHint: "9999",
  },
  group: {
    type: "string",
    description: `Name of the cache group, and of the table the source reads (default ${D.group})`,
    valueHint: "scores",
  },
  "cache-bytes": {
    type: "string",
    description: `Memory budget of the group: bytes, or 512KiB, 64MiB, 1GiB (default ${D["cache-bytes"]})`,
    valueHint: "64MiB",
  },
  source: {
    type: "string",
    description: `Where values come from on a miss: demo (in-memory SQLite with Tom, Jack, Sam), sqlite:PATH, postgres://USER:PASSWORD@HOST:PORT/DB (table = group), or an origin http(s)://HOST/PATH/{key} (the key, URL-encoded, replaces {key}) (default ${D.source})`,
    valueHint: "demo",
  },
  query: {
    type: "string",
    description:
      "SQL that reads one value, with the key as its one parameter: ? for SQLite, $1 for PostgreSQL (default SELECT value FROM <group> WHERE key = ?)",
  },
  "pool-size": {
    type: "string",
    description: `Most connections a postgres:// source keeps open (default ${D["pool-size"]})`,
    valueHint: "10",
  },
  "source-timeout": {
    type: "string",
    description: `Time limit of one request to an http(s):// origin, and of opening a PostgreSQL connection: 500ms, 5s (default ${D["source-timeout"]})`,
    valueHint: "5s",
  },
  hash: {
    type: "string",
    description: `Hash of the ring: wyhash, or crc32 to route as Go GeeCache and groupcache do (default ${D.hash})`,
    valueHint: "wyhash",
  },
  replicas: {
    type: "string",
    description: `Virtual nodes per peer on the ring (default ${D.replicas})`,
    valueHint: "50",
  },
  "base-path": {
    type: "string",
    description: `Path prefix of the peer routes (default ${D["base-path"]}; /_groupcache/ for groupcache peers)`,
    valueHint: "/_geecache/",
  },
  "peer-timeout": {
    type: "string",
    description: `Time limit of one peer request: 500ms, 2s, 1m (default ${D["peer-timeout"]})`,
    valueHint: "2s",
  },
  "max-key-bytes": {
    type: "string",
    description: `Longest key the API accepts, in bytes (default ${D["max-key-bytes"]})`,
    valueHint: "4KiB",
  },
  "max-batch-keys": {
    type: "string",
    description: `Most keys one POST /api/batch may ask for (default ${D["max-batch-keys"]})`,
    valueHint: D["max-batch-keys"],
  },
  ttl: {
    type: "string",
    description: "How long a loaded value lives: 30s, 5m, 1h; 0 = forever (default 0)",
    valueHint: "0",
  },
  stale: {
    type: "string",
    description:
      "Serve a value up to this long past its TTL while one background load refreshes it: 10s, 1m; 0 = off (default 0)",
    valueHint: "0",
  },
  "max-value-bytes": {
    type: "string",
    description: `Largest value a PUT may write, in bytes or 512KiB, 1MiB (default ${D["max-value-bytes"]})`,
    valueHint: "1MiB",
  },
  token: {
    type: "string",
    description: "Shared secret of the peers; required on peer routes (prefer GEECACHE_TOKEN: flags show in ps)",
    valueHint: "secret",
  },
  "api-token": {
    type: "string",
    description: "Bearer token that PUT and DELETE on /api require (default: none, writes open)",
    valueHint: "secret",
  },
  "api-read-token": {
    type: "string",
    description: "Bearer token that GET on /api requires (default: none, reads open)",
    valueHint: "secret",
  },
  "tls-cert": {
    type: "string",
    description: "PEM certificate (chain) file: serve https on every port (needs --tls-key)",
    valueHint: "cert.pem",
  },
  "tls-key": { type: "string", description: "PEM private key file for --tls-cert", valueHint: "key.pem" },
  "tls-ca": {
    type: "string",
    description: "PEM file of the CA that signed the peers' certificates (for https:// peers with a private CA)",
    valueHint: "ca.pem",
  },
  metrics: {
    type: "boolean",
    description:
      "Serve Prometheus metrics on /metrics and time every request; --no-metrics turns both off (default on)",
  },
  copies: {
    type: "string",
    description: `On how many nodes a written value (PUT) lives: its owner and the next nodes of the ring; with 2 a write survives the loss of any one node (default ${D.copies})`,
    valueHint: D.copies,
  },
  "hot-ttl": {
    type: "string",
    description: `Longest time a copy of another node's key is served here (hot copies, and values loaded while their owner was down); bounds how long two nodes can disagree (default ${D["hot-ttl"]})`,
    valueHint: D["hot-ttl"],
  },
  "hot-qps": {
    type: "string",
    description: `Keep a hot copy of a value fetched from a peer when its owner reports at least this many requests per second for the key (minute_qps); 0 = the coin of --hot-cache-ratio for every key (default ${D["hot-qps"]}: with the 5s --hot-ttl a copy then serves ~5 gets; lower thresholds churn the hot cache, higher ones leave it part empty: scripts/bench/hot-qps.ts)`,
    valueHint: D["hot-qps"],
  },
  "hot-cache-ratio": {
    type: "string",
    description: `Advanced: chance, 0 to 1, that a value fetched from a peer whose owner reports no rate (Go GeeCache, groupcache) is kept in the hot cache; 0 turns the hot cache off (default ${D["hot-cache-ratio"]}, as groupcache)`,
    valueHint: "0.1",
  },
  admission: {
    type: "string",
    description: `Main cache policy: tinylfu (W-TinyLFU: a new key must be asked for more often than the keys it would push out) or lru (default ${D.admission})`,
    valueHint: D.admission,
  },
  config: {
    type: "string",
    description:
      "TOML file of settings (the flags' names with _) and [[group]] tables, one per cache group; flags and GEECACHE_* variables override it",
    valueHint: "geecache.toml",
  },
  "log-level": {
    type: "string",
    description: `silent, error, warn, info or debug (debug logs every load) (default ${D["log-level"]})`,
    valueHint: "info",
  },
  "log-format": {
    type: "string",
    description: `pretty or json (one JSON object a line) (default ${D["log-format"]})`,
    valueHint: "pretty",
  },
} as const satisfies ArgsDef;

/** FlagName is the name of one flag. */
export type FlagName = keyof typeof FLAGS;

/** envName is the environment variable that stands in for a flag: `cache-bytes` → GEECACHE_CACHE_BYTES. */
export function envName(flag: string): string {
  return `GEECACHE_${flag.toUpperCase().replaceAll("-", "_")}`;
}
