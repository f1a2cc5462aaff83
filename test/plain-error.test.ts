// plainError: network failures in our own words, the detail once.
import { describe, expect, test } from "bun:test";
import { GeeCacheError } from "../src/core/errors.ts";
import { plainError } from "../src/core/plain-error.ts";
import { requireBinary, spawnNode } from "./helpers/process.ts";

const coded = (code: string, message = `${code}: Unable to connect. Is the computer able to access the url?`) =>
  Object.assign(new TypeError(message), { code });

describe("plainError", () => {
  test.each<{ name: string; err: unknown; options?: Parameters<typeof plainError>[1]; want: string }>([
    { name: "Bun fetch ECONNREFUSED", err: coded("ECONNREFUSED"), want: "connection refused" },
    { name: "node:net ConnectionRefused", err: coded("ConnectionRefused"), want: "connection refused" },
    {
      name: "Bun.SQL refused",
      err: coded("ERR_POSTGRES_CONNECTION_REFUSED", "Failed to connect"),
      want: "connection refused",
    },
    {
      name: "reset",
      err: coded("ECONNRESET", "ECONNRESET: The socket connection was closed unexpectedly"),
      want: "connection reset by peer",
    },
    { name: "host not found", err: coded("ENOTFOUND", "getaddrinfo ENOTFOUND x.invalid"), want: "host not found" },
    { name: "ETIMEDOUT without a bound", err: coded("ETIMEDOUT"), want: "timed out" },
    {
      name: "a TimeoutError with its bound",
      err: new DOMException("The operation timed out.", "TimeoutError"),
      options: { timeout: 2000 },
      want: "timed out after 2s",
    },
    {
      name: "a code found on the cause",
      err: new Error("fetch failed", { cause: coded("ECONNREFUSED") }),
      want: "connection refused",
    },
    { name: "an unknown error keeps its message", err: new Error("boom"), want: "boom" },
    { name: "not an Error", err: "plain text", want: "plain text" },
    {
      name: "a GeeCacheError is ours already, its cause is not looked at",
      err: new GeeCacheError("PEER_FAILED", "peer http://b: connection refused", { cause: coded("ECONNREFUSED") }),
      want: "peer http://b: connection refused",
    },
    {
      name: "the peer named by the caller is dropped from the start",
      err: new GeeCacheError("PEER_FAILED", "peer http://b: connection refused"),
      options: { peer: "http://b" },
      want: "connection refused",
    },
    {
      name: "the peer dropped before a verb",
      err: new GeeCacheError("PEER_FAILED", "peer http://b answered 500: boom"),
      options: { peer: "http://b" },
      want: "answered 500: boom",
    },
    {
      name: "another peer's message is kept whole",
      err: new GeeCacheError("PEER_FAILED", "peer http://bb: connection refused"),
      options: { peer: "http://b" },
      want: "peer http://bb: connection refused",
    },
  ])("$name", ({ err, options, want }) => {
    expect(plainError(err, options)).toBe(want);
  });

  test("a real refused connection (a closed port) reads 'connection refused'", async () => {
    const server = Bun.serve({ port: 0, fetch: () => new Response("") });
    const url = server.url.href;
    await server.stop(true);
    const err = await fetch(url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(plainError(err)).toBe("connection refused");
  });
});

describe("a node whose peer refuses connections (dist/geecache)", () => {
  test("the refused writes' bodies and the log lines say 'connection refused' once, never Bun's 'Is the computer able'", async () => {
    requireBinary();
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const dead = `http://127.0.0.1:${closed.port}`;
    await closed.stop(true);
    await using node = await spawnNode(["--port=0", `--peers=${dead}`, "--hot-cache-ratio=0", "--log-format=json"]);
    const answers: { status: number; owner: string | null; body: string }[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${node.url}/api?key=k${i}`, { method: "PUT", body: "v" });
      answers.push({ status: res.status, owner: res.headers.get("x-geecache-owner"), body: await res.text() });
    }
    await node.stdout.wait(/is down after/, 5000);
    // Before the dead peer is out of the ring its keys' writes answer 502; after, they land on this
    // node (its stand-in) and answer 200 naming the peer that could not be told. Either way: refused.
    const refused = answers.filter((a) => a.status !== 204);
    expect(refused.length).toBeGreaterThan(0);
    const ownerFailed = answers.find((a) => a.status === 502);
    if (ownerFailed) expect(ownerFailed.body).toBe(`the owner ${dead} could not be reached: connection refused\n`);
    for (const a of refused) {
      expect(a.body.split("connection refused").length - 1).toBe(1);
      expect(a.body).not.toContain("Is the computer able");
      expect(a.body).not.toContain("ECONNREFUSED");
    }
    const log = node.stdout.text + node.stderr.text;
    expect(log).toContain(`peer ${dead} is down after 3 failed requests in a row (last: connection refused)`);
    expect(log).not.toContain("Is the computer able");
    expect(log).not.toContain("ECONNREFUSED");
  }, 15_000);
});
