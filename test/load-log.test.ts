import { describe, expect, test } from "bun:test";
import { notFound } from "../src/core/errors.ts";
import { loggedLoads } from "../src/observability/load-log.ts";
import { createLogger, type LoggerOptions } from "../src/observability/log.ts";
import { until } from "./helpers/until.ts";

/**
 * setup wraps a loader that fails for keys starting with "bad" and finds nothing for "none"; the clock is a variable.
 */
function setup(level: LoggerOptions["level"], failureInterval = 10_000) {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const log = createLogger({ level, format: "json", write: (l) => void lines.push(JSON.parse(l)) });
  const clock = { now: 1_000_000 };
  const loads = loggedLoads(
    log,
    "scores",
    (key) => {
      if (key.startsWith("bad")) throw new Error(`db down for ${key}`);
      if (key === "none") throw notFound(`no ${key}`);
      if (key === "undef") return undefined;
      return "630";
    },
    { source: "demo", failureInterval, now: () => clock.now },
  );
  const get = (key: string) => Promise.resolve(loads.getter(key, { group: "scores" })).catch(() => "threw");
  return { lines, clock, loads, get };
}

describe("loggedLoads", () => {
  test("debug: a line before each load and one with its outcome and duration", async () => {
    const { lines, get, loads } = setup("debug", 60_000);
    for (const k of ["Tom", "none", "undef", "bad1"]) await get(k);
    loads.flush();
    const shown = lines.map((l) => ({
      level: l.level,
      message: l.message.replace(/\d+(\.\d+)?ms/, "Nms"),
      fields: { ...l.fields, duration_ms: typeof l.fields?.duration_ms } as Record<string, unknown>,
    }));
    expect(shown).toEqual([
      {
        level: "debug",
        message: 'loading scores/"Tom" from demo',
        fields: { group: "scores", key: "Tom", duration_ms: "undefined" },
      },
      {
        level: "debug",
        message: 'load scores/"Tom" ok Nms',
        fields: { group: "scores", key: "Tom", status: "ok", duration_ms: "number" },
      },
      {
        level: "debug",
        message: 'loading scores/"none" from demo',
        fields: { group: "scores", key: "none", duration_ms: "undefined" },
      },
      {
        level: "debug",
        message: 'load scores/"none" not_found Nms',
        fields: { group: "scores", key: "none", status: "not_found", duration_ms: "number" },
      },
      {
        level: "debug",
        message: 'loading scores/"undef" from demo',
        fields: { group: "scores", key: "undef", duration_ms: "undefined" },
      },
      {
        level: "debug",
        message: 'load scores/"undef" not_found Nms',
        fields: { group: "scores", key: "undef", status: "not_found", duration_ms: "number" },
      },
      {
        level: "debug",
        message: 'loading scores/"bad1" from demo',
        fields: { group: "scores", key: "bad1", duration_ms: "undefined" },
      },
      {
        level: "debug",
        message: 'load scores/"bad1" error: db down for bad1 (Nms)',
        fields: { group: "scores", key: "bad1", status: "error", error: "db down for bad1", duration_ms: "number" },
      },
      {
        level: "warn",
        message: 'source of group scores failed 1 load; last: key "bad1": db down for bad1',
        fields: {
          group: "scores",
          key: "bad1",
          status: "error",
          error: "db down for bad1",
          failed_keys: 1,
          duration_ms: "undefined",
        },
      },
    ]);
  });

  test("info: no load lines, source failures at most once per interval with the count since the last line", async () => {
    const { lines, clock, get, loads } = setup("info", 10_000);
    await get("Tom");
    await get("bad1"); // the first failure is written at once
    for (let i = 2; i <= 5; i++) {
      clock.now += 1000;
      await get(`bad${i}`); // counted, not written
    }
    await get("none"); // not found is no failure
    expect(lines.length).toBe(1);
    clock.now += 6000; // 10 s after the first line
    await get("bad6");
    loads.flush(); // nothing pending: no line
    clock.now += 1000;
    await get("bad7");
    loads.flush(); // as the node exits
    expect(lines.map((l) => [l.level, l.message, l.fields?.failed_keys])).toEqual([
      ["warn", 'source of group scores failed 1 load; last: key "bad1": db down for bad1', 1],
      ["warn", 'source of group scores failed 5 loads in 10s; last: key "bad6": db down for bad6', 5],
      ["warn", 'source of group scores failed 1 load in 1s; last: key "bad7": db down for bad7', 1],
    ]);
  });

  test("a pending count is written by a timer when the interval ends", async () => {
    const { lines, get } = setup("info", 50); // real time: the timer waits 50 ms of the fake clock, which stands still
    await get("bad1");
    await get("bad2");
    expect(lines.length).toBe(1);
    await until("the timer to write the pending count", () => lines.length >= 2, { timeoutMs: 2000, intervalMs: 10 });
    expect(lines.map((l) => l.fields?.failed_keys)).toEqual([1, 1]);
  });
});
