import { describe, expect, test } from "bun:test";
import { createLogger, type LoggerOptions } from "../src/observability/log.ts";

/** jsonLogger returns a JSON logger and the lines it wrote, parsed, with the time checked and set aside. */
function jsonLogger(level: LoggerOptions["level"]) {
  const raw: string[] = [];
  const log = createLogger({ level, format: "json", write: (line) => raw.push(line) });
  const lines = () =>
    raw.map((line) => {
      expect(line.endsWith("\n") && line.indexOf("\n") === line.length - 1).toBe(true);
      const { time, ...rest } = JSON.parse(line) as { time: string };
      expect(new Date(time).toISOString()).toBe(time);
      return rest;
    });
  return { log, lines };
}

describe("createLogger json", () => {
  test("one JSON object a line with time, level, tag and message", () => {
    const { log, lines } = jsonLogger("info");
    log.info("listening on http://127.0.0.1:8001");
    log.warn("peer http://127.0.0.1:8002 is slow");
    log.error("cannot open the source");
    expect(lines()).toEqual([
      { level: "info", tag: "geecache", message: "listening on http://127.0.0.1:8001" },
      { level: "warn", tag: "geecache", message: "peer http://127.0.0.1:8002 is slow" },
      { level: "error", tag: "geecache", message: "cannot open the source" },
    ]);
  });

  test.each<{ name: string; args: unknown[]; want: Record<string, unknown> }>([
    { name: "a fields object", args: ["load", { key: "Tom", ms: 3 }], want: { message: "load", fields: { key: "Tom", ms: 3 } } },
    { name: "several extra arguments", args: ["load", "Tom", 3], want: { message: "load", fields: { args: ["Tom", 3] } } },
    { name: "a non-plain extra argument", args: ["load", [1, 2]], want: { message: "load", fields: { args: [[1, 2]] } } },
    { name: "an Error", args: [new Error("boom")], want: { message: "boom" } },
    { name: "a non-string message", args: [{ a: 1 }], want: { message: '{"a":1}' } },
  ])("$name", ({ args, want }) => {
    const { log, lines } = jsonLogger("info");
    log.info(...(args as [unknown, ...unknown[]]));
    expect(lines()).toEqual([{ level: "info", tag: "geecache", ...want }]);
  });

  test.each<{ level: LoggerOptions["level"]; written: string[] }>([
    { level: "silent", written: [] },
    { level: "error", written: ["error"] },
    { level: "warn", written: ["error", "warn"] },
    { level: "info", written: ["error", "warn", "info"] },
    { level: "debug", written: ["error", "warn", "info", "debug"] },
  ])("level $level writes $written", ({ level, written }) => {
    const { log, lines } = jsonLogger(level);
    log.error("e");
    log.warn("w");
    log.info("i");
    log.debug("d");
    expect(lines().map((l) => (l as { level: string }).level)).toEqual(written);
  });

  test("debug is not written at info", () => {
    const { log, lines } = jsonLogger("info");
    log.debug("load Tom", { key: "Tom" });
    log.info("done");
    expect(lines()).toEqual([{ level: "info", tag: "geecache", message: "done" }]);
  });
});
