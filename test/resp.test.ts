// The RESP listener of dist/geecache through Debian's redis-cli: every command, --pipe, AUTH, and
// each bad input answered as Redis answers it, followed by a working command.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type RunningNode, spawnNode } from "./helpers/process.ts";
import { lines, REDIS_CLI, raw, redisCli, respUrl } from "./helpers/resp.ts";
import { until } from "./helpers/until.ts";

if (!REDIS_CLI)
  console.log("skipping RESP tests: redis-cli is not installed (apt-get install redis-tools; .ci/setup.d/redis.sh)");

describe.skipIf(!REDIS_CLI)("RESP through redis-cli", () => {
  let node: RunningNode;
  let url: string;
  const cli = async (...args: string[]) => (await redisCli(url, ["--no-raw", ...args])).out.trimEnd();

  beforeAll(async () => {
    node = await spawnNode([
      "--port=0",
      "--resp-port=0",
      "--max-value-bytes=1KiB",
      "--max-key-bytes=64",
      "--max-batch-keys=5",
      "--resp-timeout=1s",
      "--resp-max-clients=3",
    ]);
    url = respUrl(node);
  });
  afterAll(() => node?.stop());

  test.each<[string[], string]>([
    [["PING"], "PONG"],
    [["PING", "hello"], '"hello"'],
    [["ECHO", "a b"], '"a b"'],
    [["GET", "Tom"], '"630"'],
    [["GET", "nobody"], "(nil)"],
    [["GET", "scores:Tom"], '"630"'], // group:key names a group of the node
    [["GET", "other:Tom"], "(nil)"], // no group "other": the whole string is a key of the first group
    [["SET", "w1", "v1"], "OK"],
    [["GET", "w1"], '"v1"'],
    [["SET", "w2", "v2", "EX", "100"], "OK"],
    [["TTL", "w2"], "(integer) 100"],
    [["TTL", "w1"], "(integer) -1"],
    [["TTL", "nobody"], "(integer) -2"],
    [["PTTL", "nobody"], "(integer) -2"],
    [["SET", "w3", "v3", "PX", "100000"], "OK"],
    [["MGET", "Tom", "w1", "nobody", "scores:Jack"], '1) "630"\n2) "v1"\n3) (nil)\n4) "589"'],
    [["EXISTS", "Tom", "w1", "nobody", "Tom"], "(integer) 3"],
    [["DEL", "w1", "never-there"], "(integer) 2"], // DEL answers the keys given: an invalidation cannot count
    [["GET", "w1"], "(nil)"],
    [["UNLINK", "w3"], "(integer) 1"],
    [["SELECT", "0"], "OK"],
    [["SELECT", "1"], "(error) ERR DB index is out of range"],
    [["HELLO", "3"], "(error) NOPROTO sorry, this protocol version is not supported"],
    [["CLIENT", "SETINFO", "lib-name", "x"], "OK"],
    [["COMMAND", "DOCS"], "(empty array)"],
    [["COMMAND", "COUNT"], "(integer) 18"],
    [
      ["AUTH", "x"],
      expect.stringContaining("(error) ERR AUTH <password> called without any password configured") as never,
    ],
    [["SET", "k", "v", "NX"], "(error) ERR syntax error"],
    [["SET", "k", "v", "EX", "0"], "(error) ERR invalid expire time in 'set' command"],
    [["GET"], "(error) ERR wrong number of arguments for 'get' command"],
    [["FOO", "a", "b"], "(error) ERR unknown command 'FOO', with args beginning with: 'a' 'b'"],
    [["SET", "big", "x".repeat(1025)], "(error) ERR value is 1025 bytes, over the limit of 1024 (--max-value-bytes)"],
    [["GET", "k".repeat(65)], "(error) ERR key is 65 bytes, over the limit of 64 (--max-key-bytes)"],
    [["MGET", "a", "b", "c", "d", "e", "f"], "(error) ERR too many keys: 6, over the limit of 5 (--max-batch-keys)"],
  ])("%j", async (args, want) => {
    expect(await cli(...args)).toEqual(want);
  });

  test("HELLO 2, CLIENT SETNAME and GETNAME on one connection", async () => {
    const out = await redisCli(url, ["--no-raw"], "HELLO 2\nCLIENT SETNAME app\nCLIENT GETNAME\nDBSIZE\n");
    expect(out.out).toContain(' 1) "server"\n 2) "redis"');
    expect(out.out).toContain('"app"');
    expect(out.out).toMatch(/\(integer\) \d+\n$/);
  });

  test("INFO has the five sections with real figures", async () => {
    const info = (await redisCli(url, ["INFO"])).out;
    for (const section of ["# Server", "# Clients", "# Memory", "# Stats", "# Keyspace"])
      expect(info).toContain(section);
    expect(info).toContain(`tcp_port:${new URL(url).port}`);
    expect(info).toMatch(/connected_clients:[1-3]\r\n/);
    expect(info).toMatch(/keyspace_hits:[1-9]\d*\r\n/);
    expect(info).toMatch(/db0:keys=[1-9]\d*,/);
    expect((await redisCli(url, ["INFO", "clients"])).out).not.toContain("# Server");
  });

  test("--pipe: 1000 SETs then GETs, inline and RESP mixed, answered in order", async () => {
    let input = "";
    for (let i = 0; i < 500; i++) input += `SET pipe-${i} value-${i}\r\n`;
    for (let i = 0; i < 500; i++) input += `*2\r\n$3\r\nGET\r\n$${`pipe-${i}`.length}\r\npipe-${i}\r\n`;
    const out = await redisCli(url, ["--pipe"], input);
    expect(out.out).toContain("errors: 0, replies: 1000");
    expect(await cli("GET", "pipe-499")).toBe('"value-499"');
  });

  test("an unknown command keeps the connection open: PING after it on the same one", async () => {
    const r = await raw(url, ["NOPE x\r\n", "PING\r\n"], lines(2));
    expect(r).toEqual({
      text: "-ERR unknown command 'NOPE', with args beginning with: 'x' \r\n+PONG\r\n",
      closed: false,
    });
  });

  test("pipelined writes are read by the commands after them, in one read", async () => {
    const r = await raw(url, ["SET o 1\r\nGET o\r\nSET o 2\r\nGET o\r\nDEL o\r\nGET o\r\n"], lines(8));
    expect(r.text).toBe("+OK\r\n$1\r\n1\r\n+OK\r\n$1\r\n2\r\n:1\r\n$-1\r\n");
  });

  test("a malformed frame is one -ERR line and closes; a new connection works", async () => {
    const r = await raw(url, ["PING\r\n*1\r\n+oops\r\n"], () => false);
    expect(r).toEqual({ text: "+PONG\r\n-ERR Protocol error: expected '$', got '+'\r\n", closed: true });
    expect(await cli("PING")).toBe("PONG");
  });

  test("a frame past the frame limit closes without being buffered", async () => {
    const r = await raw(url, ["*2\r\n$3\r\nGET\r\n$999999999\r\n"], () => false);
    expect(r).toEqual({ text: "-ERR Protocol error: invalid bulk length\r\n", closed: true });
    expect(await cli("GET", "Tom")).toBe('"630"');
  });

  test("half a frame is cut off after --resp-timeout; a new connection works", async () => {
    const start = performance.now();
    const r = await raw(url, ["*2\r\n$3\r\nGET\r\n$3\r\nTo"], () => false);
    expect(r).toEqual({ text: "", closed: true });
    expect(performance.now() - start).toBeGreaterThan(900);
    expect(await cli("PING")).toBe("PONG");
  });

  test("QUIT answers OK and closes, after the replies before it", async () => {
    expect(await raw(url, ["PING\r\nQUIT\r\nPING\r\n"], () => false)).toEqual({
      text: "+PONG\r\n+OK\r\n",
      closed: true,
    });
  });

  test("past --resp-max-clients a connection is refused with one line; a new one works once one closes", async () => {
    const held = await Promise.all(
      [1, 2, 3].map(() =>
        Bun.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port), socket: { data() {} } }),
      ),
    );
    try {
      expect(await raw(url, [], () => false)).toEqual({ text: "-ERR max number of clients reached\r\n", closed: true });
    } finally {
      for (const s of held) s.end();
    }
    // The server sees the held connections close a little after they are ended.
    await until("a fourth connection to be served", async () => (await cli("PING")) === "PONG");
  });

  test("/metrics counts commands, errors and connections", async () => {
    const body = await (await fetch(`${node.url}/metrics`)).text();
    expect(body).toMatch(/^geecache_resp_commands_total\{command="get"\} [1-9]\d*$/m);
    expect(body).toMatch(/^geecache_resp_errors_total\{command="unknown"\} [1-9]\d*$/m);
    expect(body).toMatch(/^geecache_resp_errors_total\{command="protocol"\} [1-9]\d*$/m);
    expect(body).toMatch(/^geecache_resp_connections_total [1-9]\d*$/m);
    expect(body).toMatch(/^geecache_resp_rejected_connections_total [1-9]\d*$/m);
  });
});
