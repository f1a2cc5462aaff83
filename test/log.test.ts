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
    {
      name: "a fields object",
      args: ["load", { key: "Tom", ms: 3 }],
      want: { message: "load", fields: { key: "Tom", ms: 3 } },
    },
    {
      name: "several extra arguments",
      args: ["load", "Tom", 3],
      want: { message: "load", fields: { args: ["Tom", 3] } },
    },
    {
      name: "a non-plain extra argument",
      args: ["load", [1, 2]],
      want: { message: "load", fields: { args: [[1, 2]] } },
    },
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

describe("createLogger pretty", () => {
  test("one line per call: HH:MM:SS.mmm, the level, the message; fields stay out", () => {
    const out: Array<[string, string]> = [];
    const log = createLogger({
      level: "debug",
      format: "pretty",
      write: (line, level) => void out.push([line, level]),
    });
    log.info("listening on http://127.0.0.1:8001");
    log.warn("peer http://127.0.0.1:8002 is down", { peer: "http://127.0.0.1:8002" });
    log.debug('load scores/"Tom" ok 1.2 ms', { key: "Tom" });
    expect(out.map(([line, level]) => [line.replace(/^\d\d:\d\d:\d\d\.\d{3} /, "T "), level])).toEqual([
      ["T INFO  listening on http://127.0.0.1:8001\n", "info"],
      ["T WARN  peer http://127.0.0.1:8002 is down\n", "warn"],
      ['T DEBUG load scores/"Tom" ok 1.2 ms\n', "debug"],
    ]);
  });
});

describe("createLogger secrets", () => {
  test.each(["json", "pretty"] as const)(
    "%s: tokens and URL passwords never appear, in the message or the fields",
    (format) => {
      const out: string[] = [];
      const log = createLogger({
        level: "info",
        format,
        secrets: ['tok"en-1', "hunter2"],
        write: (line) => void out.push(line),
      });
      log.warn('bad request with tok"en-1 from postgres://app:hunter2@db:5432/x', {
        error: "auth hunter2 failed",
        url: "http://u:p4ss@h/?password=abc&x=1",
      });
      const text = out.join("");
      for (const secret of ["tok", "hunter2", "p4ss", "abc"]) expect(text).not.toContain(secret);
      expect(text).toContain("postgres://app:***@db:5432/x");
    },
  );
});
