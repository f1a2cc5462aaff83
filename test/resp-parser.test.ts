import { describe, expect, test } from "bun:test";
import { MAX_INLINE_BYTES, RespParser, RespProtocolError } from "../src/node/resp/parser.ts";

/** parse feeds the chunks in order and answers every command as strings. */
function parse(chunks: readonly string[], maxFrameBytes = 1024 * 1024): string[][] {
  const parser = new RespParser(maxFrameBytes);
  const out: string[][] = [];
  for (const c of chunks)
    parser.feed(Buffer.from(c, "latin1"), (args) => {
      out.push(args.map((a) => a.toString("latin1")));
      return true;
    });
  return out;
}

/** splits are every way to cut text in two. */
function splits(text: string): string[][] {
  return Array.from({ length: text.length - 1 }, (_, i) => [text.slice(0, i + 1), text.slice(i + 1)]);
}

describe("RespParser", () => {
  test.each([
    { name: "one array", chunks: ["*2\r\n$3\r\nGET\r\n$3\r\nTom\r\n"], want: [["GET", "Tom"]] },
    { name: "inline PING, as redis-cli and telnet send it", chunks: ["PING\r\n"], want: [["PING"]] },
    { name: "inline with LF only and extra spaces", chunks: ["  GET   Tom \n"], want: [["GET", "Tom"]] },
    {
      name: "a bulk string with CRLF inside",
      chunks: ["*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\na\r\nb\r\n\r\n"],
      want: [["SET", "k", "a\r\nb\r\n"]],
    },
    { name: "an empty bulk string", chunks: ["*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"], want: [["ECHO", ""]] },
    {
      name: "a pipeline in one read",
      chunks: ["*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\nPING\r\n"],
      want: [["PING"], ["GET", "a"], ["PING"]],
    },
    { name: "empty lines and *0 are skipped", chunks: ["\r\n*0\r\nPING\r\n"], want: [["PING"]] },
    { name: "one byte at a time", chunks: [..."*2\r\n$3\r\nGET\r\n$3\r\nTom\r\n"], want: [["GET", "Tom"]] },
  ])("$name", ({ chunks, want }) => {
    expect(parse(chunks)).toEqual(want as unknown as string[][]);
  });

  test("every split of a frame in two reads gives the same command", () => {
    const frame = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nv\r\nlu\r\n";
    for (const chunks of splits(frame)) expect(parse(chunks)).toEqual([["SET", "key", "v\r\nlu"]]);
  });

  test("a large value over many reads, and the command after it in the last read", () => {
    const value = "x".repeat(200_000);
    const frame = `*2\r\n$4\r\nECHO\r\n$${value.length}\r\n${value}\r\n*1\r\n$4\r\nPING\r\n`;
    const chunks = frame.match(/[\s\S]{1,4096}/g)!;
    expect(parse(chunks)).toEqual([["ECHO", value], ["PING"]]);
  });

  test("commands before a malformed frame are answered; the frame throws", () => {
    const parser = new RespParser(1024);
    const seen: string[] = [];
    const feed = () =>
      parser.feed(Buffer.from("PING\r\n*1\r\n+x\r\n"), (args) => {
        seen.push(args[0]!.toString());
        return true;
      });
    expect(feed).toThrow(new RespProtocolError("Protocol error: expected '$', got '+'"));
    expect(seen).toEqual(["PING"]);
  });

  test("onCommand returning false stops the read (QUIT)", () => {
    const parser = new RespParser(1024);
    const seen: string[] = [];
    const found = parser.feed(Buffer.from("QUIT\r\nPING\r\n"), (args) => {
      seen.push(args[0]!.toString());
      return false;
    });
    expect({ found, seen }).toEqual({ found: 1, seen: ["QUIT"] });
  });

  test.each([
    { name: "bad multibulk length", input: "*x\r\n", message: "Protocol error: invalid multibulk length" },
    { name: "bad bulk length", input: "*1\r\n$-5\r\n", message: "Protocol error: invalid bulk length" },
    { name: "bulk over the frame limit", input: "*1\r\n$5000\r\n", message: "Protocol error: invalid bulk length" },
    {
      name: "missing CRLF after a bulk",
      input: "*1\r\n$2\r\nabcd\r\n",
      message: "Protocol error: expected CRLF after bulk",
    },
    {
      name: "an inline line without end past 64 KiB",
      input: "G".repeat(MAX_INLINE_BYTES + 1),
      message: "Protocol error: too big inline request",
    },
  ])("$name", ({ input, message }) => {
    expect(() => parse([input], 1024)).toThrow(new RespProtocolError(message));
  });

  test("a frame declared past the limit throws at once; one that grows past it over reads throws then", () => {
    expect(() => parse(["*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000\r\n"], 1024)).toThrow(
      new RespProtocolError("Protocol error: frame too large"),
    );
    const parser = new RespParser(1024);
    const element = `$20\r\n${"a".repeat(20)}\r\n`; // 27 bytes
    parser.feed(Buffer.from(`*100\r\n${element.repeat(30)}`), () => true);
    expect(parser.pending).toBe(6 + 27 * 30);
    expect(() => parser.feed(Buffer.from(element.repeat(10)), () => true)).toThrow(RespProtocolError);
  });
});
