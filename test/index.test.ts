import { describe, expect, test } from "bun:test";
import pkg from "../package.json" with { type: "json" };

// The public API: adding or dropping an export is a deliberate change to this list.
const EXPORTS = [
  "ByteView",
  "DEFAULT_ADMISSION",
  "DEFAULT_API_PORT",
  "DEFAULT_BASE_PATH",
  "DEFAULT_CACHE_BYTES",
  "DEFAULT_CONNECT_TIMEOUT",
  "DEFAULT_GC_CHECK_INTERVAL",
  "DEFAULT_HOST",
  "DEFAULT_HOT_CACHE_RATIO",
  "DEFAULT_HOT_QPS",
  "DEFAULT_HTTP_TIMEOUT",
  "DEFAULT_MAX_KEY_BYTES",
  "DEFAULT_MAX_VALUE_BYTES",
  "DEFAULT_PEER_TIMEOUT",
  "DEFAULT_POOL_SIZE",
  "DEFAULT_PORT",
  "DEFAULT_REPLICAS",
  "DEFAULT_SWEEP_INTERVAL",
  "DEMO_ROWS",
  "GROUP_NAME",
  "GcPacer",
  "GeeCacheError",
  "Group",
  "HttpPeer",
  "LRU",
  "MAX_KEY_BYTES",
  "MAX_KEY_LENGTH",
  "NodeMetrics",
  "PEER_SCHEMES",
  "PeerService",
  "PeerSet",
  "Registry",
  "Ring",
  "SingleFlight",
  "TinyLFU",
  "apiHandler",
  "bearerMatches",
  "crc32",
  "decodeResponse",
  "demoSource",
  "encodeResponse",
  "formatBytes",
  "grpcTransport",
  "httpSource",
  "httpStatus",
  "httpTransport",
  "isNotFound",
  "nodeHandlers",
  "notFound",
  "observePeer",
  "parseBytes",
  "parseDuration",
  "peerRoutes",
  "peerUrl",
  "postgresSource",
  "sqliteSource",
  "startNode",
  "staticPeers",
  "statsHandler",
  "wyhash",
];

describe("src/index.ts", () => {
  test("runtime export names", async () => {
    expect(Object.keys(await import("../src/index.ts")).sort()).toEqual(EXPORTS);
  });

  test('package.json exports["."] is src/index.ts built for Bun (scripts/build.ts), with its types', () => {
    expect(pkg.exports["."]).toEqual({
      types: "./dist/lib/types/index.d.ts",
      bun: "./dist/lib/index.js",
      default: "./dist/lib/needs-bun.js",
    });
  });

  // In this checkout tsconfig.json's paths map "geecache" to the source; test/package.test.ts imports the built one.
  test('importing "geecache" by name resolves to the same module', async () => {
    const byName = await import("geecache");
    const byPath = await import("../src/index.ts");
    expect(Object.keys(byName).sort()).toEqual(EXPORTS);
    expect(byName.Group).toBe(byPath.Group);
  });
});
