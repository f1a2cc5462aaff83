import { describe, expect, test } from "bun:test";
import { FLAGS } from "../src/cli/flags.ts";
import { HELP_WIDTH, renderHelp, useColor, wrap } from "../src/cli/help.ts";
import { runCli } from "./helpers/process.ts";

const ESC = "\x1b";
const flagLine = (help: string, name: string) => new RegExp(`^  --${name}(=|$)`, "m").test(help);

describe("renderHelp", () => {
  for (const color of [false, true]) {
    test(`every line fits ${HELP_WIDTH} columns and every flag is listed (colour ${color ? "on" : "off"})`, () => {
      const help = renderHelp({ name: "geecache", version: "0.0.0", description: "A cache.", color });
      const plain = Bun.stripANSI(help);
      expect(plain.split("\n").filter((l) => l.length > HELP_WIDTH)).toEqual([]);
      expect(Object.keys(FLAGS).filter((name) => !flagLine(plain, name))).toEqual([]);
      expect(help.includes(ESC)).toBe(color);
    });
  }

  test("wrap breaks at spaces and cuts a word longer than a line", () => {
    expect(wrap("aa bb cc", 5, "")).toEqual(["aa bb", "cc"]);
    expect(wrap("abcdefgh", 5, " ")).toEqual([" abcd", " efgh"]);
    expect(wrap("  ", 5, "")).toEqual([]);
  });

  const colorCases: { isTTY: boolean | undefined; env: Record<string, string>; want: boolean }[] = [
    { isTTY: true, env: {}, want: true },
    { isTTY: false, env: {}, want: false },
    { isTTY: undefined, env: {}, want: false },
    { isTTY: true, env: { NO_COLOR: "1" }, want: false },
    { isTTY: true, env: { NO_COLOR: "" }, want: true },
    { isTTY: true, env: { TERM: "dumb" }, want: false },
  ];
  for (const c of colorCases) {
    test(`useColor(${c.isTTY}, ${JSON.stringify(c.env)}) is ${c.want}`, () =>
      expect(useColor(c.isTTY, c.env)).toBe(c.want));
  }
});

describe("geecache --help through the binary", () => {
  for (const args of [["--help"], ["-h"], ["--port=1", "--help"]]) {
    test(`${args.join(" ")} piped: exit 0, no line over ${HELP_WIDTH}, no ESC byte, every flag`, async () => {
      const r = await runCli(args, { env: { FORCE_COLOR: "1" } });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(r.stdout.split("\n").filter((l) => l.length > HELP_WIDTH)).toEqual([]);
      expect(r.stdout.includes(ESC)).toBe(false);
      expect(Object.keys(FLAGS).filter((name) => !flagLine(r.stdout, name))).toEqual([]);
    });
  }
});
