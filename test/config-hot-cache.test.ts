import { describe, expect, test } from "bun:test";
import { resolveConfig } from "../src/cli/config.ts";

// The hot cache's flags: --hot-cache-ratio (advanced: the benchmarks set 0 and 1) and --hot-qps;
// config.test.ts covers the rest.
describe("--hot-cache-ratio", () => {
  test.each<[string, Record<string, unknown>, Record<string, string>, number | undefined]>([
    ["unset leaves the Group default", {}, {}, undefined],
    ["0 turns the hot cache off", { "hot-cache-ratio": "0" }, {}, 0],
    ["1 keeps every peer fetch", { "hot-cache-ratio": "1" }, {}, 1],
    ["a fraction", { "hot-cache-ratio": "0.25" }, {}, 0.25],
    ["from the environment", {}, { GEECACHE_HOT_CACHE_RATIO: ".5" }, 0.5],
  ])("%s", (_, args, env, want) => {
    expect(resolveConfig(args, env).hotCacheRatio).toBe(want);
  });

  test.each(["1.5", "-0.1", "abc", "", "1e-1"])("refuses %p", (v) => {
    expect(() => resolveConfig({ "hot-cache-ratio": v }, {})).toThrow(
      `--hot-cache-ratio accepts a number from 0 to 1 such as 0.1, got ${JSON.stringify(v)}`,
    );
  });
});

describe("--hot-qps", () => {
  test.each<[string, Record<string, unknown>, Record<string, string>, number | undefined]>([
    ["unset leaves the Group default", {}, {}, undefined],
    ["0: the coin for every key", { "hot-qps": "0" }, {}, 0],
    ["a whole rate", { "hot-qps": "5" }, {}, 5],
    ["a fraction", { "hot-qps": "0.5" }, {}, 0.5],
    ["from the environment", {}, { GEECACHE_HOT_QPS: "2" }, 2],
    ["the flag wins over the environment", { "hot-qps": "3" }, { GEECACHE_HOT_QPS: "2" }, 3],
  ])("%s", (_, args, env, want) => {
    expect(resolveConfig(args, env).hotQps).toBe(want);
  });

  test.each(["-1", "abc", "", "1e3", "1/s"])("refuses %p", (v) => {
    expect(() => resolveConfig({ "hot-qps": v }, {})).toThrow(
      `--hot-qps accepts a rate in requests per second such as 1 or 0.5 (0 = the coin of --hot-cache-ratio alone), got ${JSON.stringify(v)}`,
    );
  });
});
