// The access log: one JSON line per request, token-like query values hidden, only when asked for.
import { describe, expect, test } from "bun:test";
import { accessLogged, redactedPath } from "../src/observability/access-log.ts";
import { requireBinary, spawnNode } from "./helpers/process.ts";

describe("redactedPath", () => {
  test.each<[string, string]>([
    ["http://n/api?key=Tom", "/api?key=Tom"],
    ["http://n/api?key=Tom&token=abc", "/api?key=Tom&token=***"],
    [
      "http://n/api?access_token=a&api_key=b&apikey=c&password=d&sig=e",
      "/api?access_token=***&api_key=***&apikey=***&password=***&sig=***",
    ],
    ["http://n/api?Authorization=x&%74oken=y", "/api?Authorization=***&%74oken=***"],
    ["http://n/api?key=token&group=g", "/api?key=token&group=g"], // a value is never matched, only names
    ["http://n/_geecache/scores/Tom", "/_geecache/scores/Tom"],
    ["http://n", "/"],
    ["http://n/api?flag&%zz=1", "/api?flag&%zz=1"],
  ])("%s", (url, want) => expect(redactedPath(url)).toBe(want));
});

describe("accessLogged (in process)", () => {
  const server = { requestIP: () => ({ address: "10.0.0.7" }) };
  const logged = (handler: (req: Request) => Response | Promise<Response>) => {
    const lines: string[] = [];
    const fetch = accessLogged(handler, (l) => lines.push(l), ["/_geecache/"]);
    return { fetch, lines, parsed: () => lines.map((l) => JSON.parse(l)) };
  };

  test("one line per request in the JSON log shape; the body still reaches the client", async () => {
    const { fetch, lines, parsed } = logged(async () => new Response("hello"));
    const res = await fetch(new Request("http://n/api?key=Tom&token=s3cret"), server);
    expect(await res.text()).toBe("hello");
    expect(lines.length).toBe(1);
    expect(lines[0]!.endsWith("}\n")).toBe(true);
    expect(lines[0]).not.toContain("s3cret");
    expect(parsed()[0]).toEqual({
      time: expect.any(String),
      level: "info",
      tag: "access",
      message: "GET /api?key=Tom&token=*** 200",
      fields: {
        method: "GET",
        path: "/api?key=Tom&token=***",
        status: 200,
        bytes: 5,
        duration_ms: expect.any(Number),
        remote: "10.0.0.7",
        peer: false,
      },
    });
  });

  test.each<{
    name: string;
    req: Request;
    handler: () => Response;
    want: { status: number; bytes: number; peer: boolean };
  }>([
    {
      name: "a peer route",
      req: new Request("http://n/_geecache/scores/Tom"),
      handler: () => new Response(new Uint8Array(7)),
      want: { status: 200, bytes: 7, peer: true },
    },
    {
      name: "a 204",
      req: new Request("http://n/api?key=a", { method: "PUT", body: "v" }),
      handler: () => new Response(null, { status: 204 }),
      want: { status: 204, bytes: 0, peer: false },
    },
    {
      name: "a HEAD",
      req: new Request("http://n/healthz", { method: "HEAD" }),
      handler: () => new Response("ok\n"),
      want: { status: 200, bytes: 0, peer: false },
    },
    {
      name: "a declared length",
      req: new Request("http://n/metrics"),
      handler: () => new Response("abc", { headers: { "content-length": "3" } }),
      want: { status: 200, bytes: 3, peer: false },
    },
  ])("$name", async ({ req, handler, want }) => {
    const { fetch, parsed } = logged(handler);
    await fetch(req, server);
    const { status, bytes, peer } = parsed()[0].fields;
    expect({ status, bytes, peer }).toEqual(want);
  });

  test("a handler that throws is logged as 500 and the error goes on to Bun", async () => {
    const { fetch, parsed } = logged(() => {
      throw new Error("boom");
    });
    expect(() => fetch(new Request("http://n/x"), server)).toThrow("boom");
    await Bun.sleep(0);
    expect(parsed().map((l) => l.fields.status)).toEqual([500]);
  });
});

describe("geecache --access-log (dist/geecache)", () => {
  test("each request is one JSON line on stdout, also with --log-format=pretty; none without the flag", async () => {
    requireBinary();
    await using node = await spawnNode(["--port=0", "--access-log"]);
    await (await fetch(`${node.url}/api?key=Tom`)).text();
    await (await fetch(`${node.url}/api?key=w&api_token=hidden`, { method: "PUT", body: "v" })).text();
    await (await fetch(`${node.url}/_geecache/scores/Tom`)).arrayBuffer();
    await node.stdout.wait(/"tag":"access".*\/_geecache\/scores\/Tom/, 5000);
    const access = node.stdout.text
      .split("\n")
      .filter((l) => l.includes('"tag":"access"'))
      .map((l) => JSON.parse(l).fields);
    expect(access.map(({ duration_ms, ...rest }) => ({ ...rest, timed: typeof duration_ms }))).toEqual([
      { method: "GET", path: "/api?key=Tom", status: 200, bytes: 3, remote: "127.0.0.1", peer: false, timed: "number" },
      {
        method: "PUT",
        path: "/api?key=w&api_token=***",
        status: 204,
        bytes: 0,
        remote: "127.0.0.1",
        peer: false,
        timed: "number",
      },
      {
        method: "GET",
        path: "/_geecache/scores/Tom",
        status: 200,
        bytes: 14,
        remote: "127.0.0.1",
        peer: true,
        timed: "number",
      },
    ]);
    expect(node.stdout.text).not.toContain("hidden");

    await using quiet = await spawnNode(["--port=0"]);
    await (await fetch(`${quiet.url}/api?key=Tom`)).text();
    await (await fetch(`${quiet.url}/healthz`)).text(); // answered after the first request's line would be written
    expect(quiet.stdout.text).not.toContain('"tag":"access"');
  });
});
