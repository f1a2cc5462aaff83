import { describe, expect, test } from "bun:test";
import { type Config, resolveConfig } from "../src/cli/config.ts";
import { GeeCacheError } from "../src/core/errors.ts";

/** DEFAULT is the config of a node started with no flags and an empty environment. */
const DEFAULT: Config = {
  port: 8001,
  host: "127.0.0.1",
  peers: [],
  peersFile: undefined,
  peersFileInterval: 1000,
  peersDns: undefined,
  dnsServer: undefined,
  dnsInterval: 5000,
  drain: 5000,
  hotTtl: 5000,
  copies: 1,
  handoffWindow: 60_000,
  handoverBytes: 256 * 1024 * 1024,
  snapshotInterval: 0,
  workers: 1,
  respPort: undefined,
  respMaxClients: 10_000,
  respTimeout: 30_000,
  admission: "tinylfu",
  self: "http://127.0.0.1:8001",
  grpcPort: undefined,
  api: false,
  apiPort: 9999,
  group: "scores",
  cacheBytes: 64 * 1024 * 1024,
  source: "demo",
  query: undefined,
  hash: "wyhash",
  replicas: 50,
  basePath: "/_geecache/",
  peerTimeout: 2000,
  maxKeyBytes: 4096,
  maxValueBytes: 1024 * 1024,
  maxBatchKeys: 1000,
  ttl: 0,
  stale: 0,
  token: undefined,
  apiToken: undefined,
  apiReadToken: undefined,
  protectedMode: true,
  tls: undefined,
  tlsCa: undefined,
  logLevel: "info",
  logFormat: "pretty",
  accessLog: false,
  metrics: true,
  groups: [
    {
      name: "scores",
      source: "demo",
      query: undefined,
      cacheBytes: 64 * 1024 * 1024,
      ttl: 0,
      stale: 0,
      hotTtl: 5000,
      admission: "tinylfu",
    },
  ],
};

/** BAD are flag and environment values that must be refused, with the flag the message must start with. */
const BAD: { args: Record<string, unknown>; env?: Record<string, string>; flag: string }[] = [
  { args: { port: "abc" }, flag: "--port" },
  { args: { port: "65536" }, flag: "--port" },
  { args: { port: "-1" }, flag: "--port" },
  { args: { port: "80.5" }, flag: "--port" },
  { args: {}, env: { GEECACHE_PORT: "http" }, flag: "--port" },
  { args: { host: "" }, flag: "--host" },
  { args: { "api-port": "99999" }, flag: "--api-port" },
  { args: { api: "maybe" }, flag: "--api" },
  { args: { metrics: "maybe" }, flag: "--metrics" },
  { args: { "cache-bytes": "lots" }, flag: "--cache-bytes" },
  { args: { "cache-bytes": "-5" }, flag: "--cache-bytes" },
  { args: { "cache-bytes": "5XB" }, flag: "--cache-bytes" },
  { args: { "max-key-bytes": "0" }, flag: "--max-key-bytes" },
  { args: { "max-value-bytes": "0" }, flag: "--max-value-bytes" },
  { args: { ttl: "a while" }, flag: "--ttl" },
  { args: { stale: "-1s" }, flag: "--stale" },
  { args: { token: "has space" }, flag: "--token" },
  { args: { "api-token": "" }, flag: "--api-token" },
  { args: { "protected-mode": "maybe" }, flag: "--protected-mode" },
  { args: { "tls-cert": "/nonexistent/cert.pem" }, flag: "--tls-cert" },
  { args: { "tls-cert": "/nonexistent/cert.pem", "tls-key": "/nonexistent/key.pem" }, flag: "--tls-cert" },
  { args: { hash: "md5" }, flag: "--hash" },
  { args: { admission: "lfu" }, flag: "--admission" },
  { args: { replicas: "0" }, flag: "--replicas" },
  { args: { replicas: "10001" }, flag: "--replicas" },
  { args: { replicas: "many" }, flag: "--replicas" },
  { args: { "peer-timeout": "0" }, flag: "--peer-timeout" },
  { args: { "peer-timeout": "soon" }, flag: "--peer-timeout" },
  { args: { "peer-timeout": "-1s" }, flag: "--peer-timeout" },
  { args: { "log-level": "verbose" }, flag: "--log-level" },
  { args: { "log-format": "xml" }, flag: "--log-format" },
  { args: { "base-path": "_geecache/" }, flag: "--base-path" },
  { args: { "base-path": "/_geecache" }, flag: "--base-path" },
  { args: { "base-path": "/a?b/" }, flag: "--base-path" },
  { args: { group: "" }, env: { GEECACHE_GROUP: "" }, flag: "--group" },
  { args: { group: "has space" }, flag: "--group" },
  { args: { group: "a/b" }, flag: "--group" },
  { args: { group: "x".repeat(129) }, flag: "--group" },
  { args: { source: "nope" }, flag: "--source" },
  { args: { source: "sqlite:" }, flag: "--source" },
  { args: { source: "postgres://db" }, flag: "--source" },
  { args: { peers: "http://127.0.0.1:8001/path" }, flag: "--peers" },
  { args: { peers: "http://127.0.0.1:8001/?q=1" }, flag: "--peers" },
  { args: { peers: "ftp://127.0.0.1:8001" }, flag: "--peers" },
  { args: { peers: "not a url" }, flag: "--peers" },
  { args: { peers: "8001,70000" }, flag: "--peers" },
  { args: { peers: "0" }, flag: "--peers" },
  { args: { self: "http://10.0.0.1:8001/x" }, flag: "--self" },
  { args: { "no-such-flag": "1" }, flag: "--no-such-flag" },
  { args: { prot: "8001" }, flag: "--prot" },
  { args: { "grpc-port": "abc" }, flag: "--grpc-port" },
  { args: { peers: "grpc://127.0.0.1:9001,grpc://127.0.0.1:9002" }, flag: "--grpc-port" },
  { args: { "peers-dns": "svc.test", host: "0.0.0.0" }, flag: "--peers-dns" },
  { args: { "peers-dns": "svc.test", peers: "8001" }, flag: "--peers-dns" },
  { args: { "peers-dns": "bad name!" }, flag: "--peers-dns" },
  { args: { "peers-dns": "a", "peers-srv": "b" }, flag: "--peers-srv" },
  { args: { "dns-server": "dns.example" }, flag: "--dns-server" },
  { args: { "dns-interval": "10ms" }, flag: "--dns-interval" },
  { args: { copies: "0" }, flag: "--copies" },
  { args: { "hot-ttl": "soon" }, flag: "--hot-ttl" },
  { args: { "grpc-port": "65536" }, flag: "--grpc-port" },
];

describe("resolveConfig", () => {
  test("no flags and no environment give the defaults", () => {
    expect(resolveConfig({}, {})).toEqual(DEFAULT);
  });

  test("citty's positional list and camelCase twins are not unknown flags", () => {
    expect(resolveConfig({ _: [], "api-port": "9000", apiPort: "9000" }, {})).toEqual({ ...DEFAULT, apiPort: 9000 });
  });

  test.each<{ name: string; args: Record<string, unknown>; env: Record<string, string>; want: Partial<Config> }>([
    {
      name: "GEECACHE_PORT without --port",
      args: {},
      env: { GEECACHE_PORT: "8100" },
      want: { port: 8100, self: "http://127.0.0.1:8100" },
    },
    {
      name: "--port over GEECACHE_PORT",
      args: { port: "8200" },
      env: { GEECACHE_PORT: "8100" },
      want: { port: 8200, self: "http://127.0.0.1:8200" },
    },
    {
      name: "GEECACHE_CACHE_BYTES without --cache-bytes",
      args: {},
      env: { GEECACHE_CACHE_BYTES: "1GiB" },
      want: { cacheBytes: 1024 ** 3 },
    },
    {
      name: "--cache-bytes over GEECACHE_CACHE_BYTES",
      args: { "cache-bytes": "512KiB" },
      env: { GEECACHE_CACHE_BYTES: "1GiB" },
      want: { cacheBytes: 512 * 1024 },
    },
    {
      name: "GEECACHE_PEERS without --peers",
      args: {},
      env: { GEECACHE_PEERS: "8001,8002" },
      want: { peers: ["http://127.0.0.1:8001", "http://127.0.0.1:8002"] },
    },
    {
      name: "--peers over GEECACHE_PEERS",
      args: { peers: "9001" },
      env: { GEECACHE_PEERS: "8001,8002" },
      want: { peers: ["http://127.0.0.1:9001"] },
    },
    {
      name: "other GEECACHE_ variables",
      args: {},
      env: { GEECACHE_HASH: "crc32", GEECACHE_LOG_LEVEL: "debug", GEECACHE_PEER_TIMEOUT: "500ms" },
      want: { hash: "crc32", logLevel: "debug", peerTimeout: 500 },
    },
    {
      name: "bare ports are local URLs",
      args: { peers: "8001,8002" },
      env: {},
      want: { peers: ["http://127.0.0.1:8001", "http://127.0.0.1:8002"] },
    },
    {
      name: "URLs are normalised to their origin",
      args: { peers: " http://LOCALHOST:8001/ , https://cache.example:443 ,http://10.0.0.2:80,," },
      env: {},
      want: { peers: ["http://localhost:8001", "https://cache.example", "http://10.0.0.2"] },
    },
    {
      name: "--protected-mode=no, and GEECACHE_PROTECTED_MODE=yes",
      args: { "protected-mode": "no" },
      env: { GEECACHE_PROTECTED_MODE: "yes" },
      want: { protectedMode: false },
    },
    {
      name: "--self is normalised",
      args: { self: "http://10.0.0.1:8001/" },
      env: {},
      want: { self: "http://10.0.0.1:8001" },
    },
    {
      name: "--host 0.0.0.0 makes self local",
      args: { host: "0.0.0.0", port: "8005" },
      env: {},
      want: { host: "0.0.0.0", port: 8005, self: "http://127.0.0.1:8005" },
    },
    {
      name: "--api as citty's boolean",
      args: { api: true, "api-port": "9100" },
      env: {},
      want: { api: true, apiPort: 9100 },
    },
    { name: "GEECACHE_API=1", args: {}, env: { GEECACHE_API: "1" }, want: { api: true } },
    { name: "--api=false", args: { api: false }, env: { GEECACHE_API: "true" }, want: { api: false } },
    { name: "--no-metrics", args: { metrics: false }, env: {}, want: { metrics: false } },
    { name: "GEECACHE_METRICS=0", args: {}, env: { GEECACHE_METRICS: "0" }, want: { metrics: false } },
    {
      name: "sizes and durations",
      args: { "cache-bytes": "10MB", "max-key-bytes": "256", "peer-timeout": "1m" },
      env: {},
      want: { cacheBytes: 10_000_000, maxKeyBytes: 256, peerTimeout: 60_000 },
    },
    {
      name: "durations and tokens",
      args: { ttl: "5m", stale: "30s", token: "s3cret", "api-token": "w", "api-read-token": "r" },
      env: {},
      want: { ttl: 300_000, stale: 30_000, token: "s3cret", apiToken: "w", apiReadToken: "r" },
    },
    { name: "--cache-bytes 0 caches nothing", args: { "cache-bytes": "0" }, env: {}, want: { cacheBytes: 0 } },
    { name: "--port 0 picks a free port", args: { port: "0" }, env: {}, want: { port: 0, self: undefined } },
    {
      name: "--peers-dns with a port, a DNS server and a concrete --host",
      args: {
        "peers-dns": "svc.test:9000",
        "dns-server": "127.0.0.1:5353",
        "dns-interval": "1s",
        host: "10.0.0.5",
        copies: "2",
        "hot-ttl": "2s",
        drain: "0",
      },
      env: {},
      want: {
        peersDns: { name: "svc.test", port: 9000, srv: false },
        dnsServer: "127.0.0.1:5353",
        dnsInterval: 1000,
        host: "10.0.0.5",
        self: "http://10.0.0.5:8001",
        copies: 2,
        hotTtl: 2000,
        drain: 0,
      },
    },
    {
      name: "--peers-srv",
      args: { "peers-srv": "_g._tcp.svc", self: "http://pod-0.svc:8001" },
      env: {},
      want: { peersDns: { name: "_g._tcp.svc", port: undefined, srv: true }, self: "http://pod-0.svc:8001" },
    },
    {
      name: "--grpc-port alone: self is the gRPC URL",
      args: { "grpc-port": "9001" },
      env: {},
      want: { grpcPort: 9001, self: "grpc://127.0.0.1:9001" },
    },
    {
      name: "--grpc-port with grpc:// peers",
      args: { "grpc-port": "9001", peers: "grpc://127.0.0.1:9001,grpc://127.0.0.1:9002" },
      env: {},
      want: {
        grpcPort: 9001,
        peers: ["grpc://127.0.0.1:9001", "grpc://127.0.0.1:9002"],
        self: "grpc://127.0.0.1:9001",
      },
    },
    {
      name: "--grpc-port with http:// peers keeps an HTTP self",
      args: { "grpc-port": "9001", peers: "8001,8002" },
      env: {},
      want: {
        grpcPort: 9001,
        peers: ["http://127.0.0.1:8001", "http://127.0.0.1:8002"],
        self: "http://127.0.0.1:8001",
      },
    },
    {
      name: "--grpc-port 0: self once listening",
      args: { "grpc-port": "0" },
      env: {},
      want: { grpcPort: 0, self: undefined },
    },
    {
      name: "GEECACHE_GRPC_PORT",
      args: {},
      env: { GEECACHE_GRPC_PORT: "9005" },
      want: { grpcPort: 9005, self: "grpc://127.0.0.1:9005" },
    },
    {
      name: "the rest of the flags",
      args: {
        group: "users.v2",
        source: "sqlite:./data.db",
        query: "SELECT v FROM t WHERE k = ?",
        hash: "crc32",
        replicas: "3",
        "base-path": "/_groupcache/",
        "log-level": "silent",
        "log-format": "json",
      },
      env: {},
      want: {
        group: "users.v2",
        source: "sqlite:./data.db",
        query: "SELECT v FROM t WHERE k = ?",
        hash: "crc32",
        replicas: 3,
        basePath: "/_groupcache/",
        logLevel: "silent",
        logFormat: "json",
      },
    },
  ])("$name", ({ args, env, want }) => {
    // groups mirror the group flags; test/config-file.test.ts checks them.
    const { groups: _, ...got } = resolveConfig(args, env);
    const { groups: __, ...expected } = { ...DEFAULT, ...want };
    expect(got).toEqual(expected);
  });

  test.each(BAD.map((c) => ({ ...c, label: JSON.stringify({ ...c.args, ...c.env }) })))(
    "$label is an error naming $flag",
    ({ args, env, flag }) => {
      let thrown: unknown;
      try {
        resolveConfig(args, env ?? {});
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(GeeCacheError);
      const e = thrown as GeeCacheError;
      expect({ code: e.code, flag: e.message.split(" ", 1)[0] }).toEqual({ code: "INVALID_ARGUMENT", flag });
    },
  );

  test("an unknown flag says so", () => {
    expect(() => resolveConfig({ verbose: true }, {})).toThrow("--verbose is not a geecache flag (see --help)");
  });

  test("a bad value is quoted in the message", () => {
    expect(() => resolveConfig({ hash: "md5" }, {})).toThrow('--hash accepts wyhash or crc32, got "md5"');
    expect(() => resolveConfig({ peers: "ftp://h:1" }, {})).toThrow(
      '--peers must look like http://host:port (or https://, grpc://, grpcs://), got "ftp://h:1"',
    );
    expect(() => resolveConfig({ peers: "http://h:1/p" }, {})).toThrow(
      '--peers must look like http://host:port (or https://, grpc://, grpcs://) with no path, query or credentials, got "http://h:1/p"',
    );
  });
});
