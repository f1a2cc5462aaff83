import { describe, expect, test } from "bun:test";
import { resolveConfig } from "../src/cli/config.ts";

// --hot-cache-ratio is an advanced flag (the benchmarks set 0 and 1); config.test.ts covers the rest.
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
    expect(() => resolveConfig({ "hot-cache-ratio": v }, {})).toThrow(`--hot-cache-ratio accepts a number from 0 to 1 such as 0.1, got ${JSON.stringify(v)}`);
  });
});
