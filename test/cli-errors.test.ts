// How the real binary refuses what it cannot use: durations without a unit, positional arguments,
// start-up errors (one line, exit 2), a node missing from its own --peers, one-line API errors.

import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../src/cli/config.ts";
import { runCli, spawnNode } from "./helpers/process.ts";

const DURATION_FLAGS = [
  "ttl",
  "stale",
  "peer-timeout",
  "source-timeout",
  "peers-file-interval",
  "dns-interval",
  "drain",
];

describe("durations need a unit", () => {
  for (const flag of DURATION_FLAGS) {
    test(`--${flag}=30 exits 2 with one line`, async () => {
      const r = await runCli([`--${flag}=30`]);
      expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({
        code: 2,
        stderr: `geecache: --${flag}=30: add a unit, e.g. 30s or 500ms\n`,
        stdout: "",
      });
    });
  }

  test("GEECACHE_TTL=1.5 is refused the same way", async () => {
    const r = await runCli([], { env: { GEECACHE_TTL: "1.5" } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: "geecache: --ttl=1.5: add a unit, e.g. 30s or 500ms\n",
    });
  });

  test("0 stays allowed as off, and units are read", () => {
    const c = resolveConfig({ ttl: "0", stale: "0", drain: "0", "peer-timeout": "250ms", "source-timeout": "2s" }, {});
    expect([c.ttl, c.stale, c.drain, c.peerTimeout, c.sourceTimeout]).toEqual([0, 0, 0, 250, 2000]);
  });
});

describe("positional arguments are refused with a hint", () => {
  const cases = [
    { args: ["port=18001"], line: 'unexpected argument "port=18001": did you mean --port=18001?' },
    { args: ["--api", "ttl=5s"], line: 'unexpected argument "ttl=5s": did you mean --ttl=5s?' },
    { args: ["serve"], line: 'unexpected argument "serve": geecache takes --flags only (see --help)' },
  ];
  for (const c of cases) {
    test(`geecache ${c.args.join(" ")}`, async () => {
      const r = await runCli(c.args);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: `geecache: ${c.line}\n` });
    });
  }
});

describe("start-up errors exit 2 with one line", () => {
  test("a missing sqlite: file", async () => {
    const r = await runCli(["--source=sqlite:/nonexistent/scores.db", "--port=0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^geecache: --source sqlite:\/nonexistent\/scores\.db: [^\n]*\n$/);
  });

  test("a port in use", async () => {
    await using node = await spawnNode(["--port=0"]);
    const r = await runCli([`--port=${new URL(node.url).port}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^geecache: cannot listen on 127\.0\.0\.1:\d+: [^\n]*\n$/);
  });

  test("a port held by a geecache node that is draining says so", async () => {
    // A node with peers drains on SIGTERM (alone it would stop at once): /readyz answers 503 "draining".
    await using node = await spawnNode(["--port=0", "--peers=http://127.0.0.1:1", "--drain=30s"]);
    // An answer comes after the turn that logged "listening on", in which the node set its signal handlers.
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    node.proc.kill("SIGTERM");
    // Durations meant for people read as they are written: 30s, not 30000 ms (the fields keep ms).
    await node.stdout.wait(/SIGTERM: draining for 30s \(/, 5000);
    const port = new URL(node.url).port;
    const r = await runCli([`--port=${port}`]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: `geecache: port ${port} is held by a geecache node that is draining (it stops within --drain)\n`,
    });
    await node.stop("SIGKILL");
  });
});

test("a node missing from its own --peers logs a warning and is still on the ring", async () => {
  await using node = await spawnNode(["--port=0", "--peers=http://127.0.0.1:1"]);
  const out = node.stdout.text + node.stderr.text;
  expect(out).toMatch(/--peers does not list this node \(http:\/\/127\.0\.0\.1:\d+\); it is on the ring anyway/);
  const stats = (await (await fetch(`${node.url}/stats`)).json()) as { peers: string[] };
  expect(stats.peers.toSorted()).toEqual([node.url, "http://127.0.0.1:1"].toSorted());
});

test("a single node without --peers logs no such warning", async () => {
  await using node = await spawnNode(["--port=0"]);
  expect(node.stdout.text + node.stderr.text).not.toContain("does not list this node");
});

describe("the API answers one line of text", () => {
  test("&ttl=30, a 2 MB PUT, 16 MB PUT, a chunked 20 MB PUT", async () => {
    const dir = mkdtempSync(join(tmpdir(), "geecache-polish-"));
    try {
      const db = new Database(join(dir, "s.db"), { create: true });
      db.run("CREATE TABLE scores (key TEXT PRIMARY KEY, value TEXT)");
      db.close();
      await using node = await spawnNode(["--port=0", `--source=sqlite:${join(dir, "s.db")}`]);
      const put = async (query: string, body: RequestInit["body"]) => {
        const res = await fetch(`${node.url}/api?key=k${query}`, { method: "PUT", body });
        return { status: res.status, body: await res.text() };
      };
      expect(await put("&ttl=30", "v")).toEqual({ status: 400, body: "&ttl=30: add a unit, e.g. 30s or 500ms\n" });
      expect(await put("&ttl=30s", "v")).toEqual({ status: 204, body: "" });
      expect(await put("", new Uint8Array(2_000_000))).toEqual({
        status: 413,
        body: "body is 2000000 bytes, over the limit of 1048576\n",
      });
      expect(await put("", new Uint8Array(16 * 1024 * 1024))).toEqual({
        status: 413,
        body: "body is 16777216 bytes, over the limit of 1048576\n",
      });
      const chunks = new ReadableStream<Uint8Array>({
        pull(c) {
          c.enqueue(new Uint8Array(1 << 20));
          if (++sent === 20) c.close();
        },
      });
      let sent = 0;
      expect(await put("", chunks)).toEqual({ status: 413, body: "body is over the limit of 1048576 bytes\n" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("bodies of any size get our one line of 413 (a 113 MB chunked PUT, a 20 MB one); no body is 400, Content-Length: 0 an empty value", async () => {
    await using node = await spawnNode(["--port=0"]);
    const put = async (key: string, body: RequestInit["body"]) => {
      const res = await fetch(`${node.url}/api?key=${key}`, { method: "PUT", body });
      return { status: res.status, body: await res.text() };
    };
    let sent = 0;
    const chunked = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(1 << 20));
        if (++sent === 113) c.close();
      },
    });
    // Both were past Bun's own limit (16 x --max-value-bytes, then 128 MiB by default), which answered an empty 413.
    expect(await put("chunked", chunked)).toEqual({ status: 413, body: "body is over the limit of 1048576 bytes\n" });
    expect(await put("big", new Uint8Array(20_000_000))).toEqual({
      status: 413,
      body: "body is 20000000 bytes, over the limit of 1048576\n",
    });
    const host = new URL(node.url).host;
    const noBody = await rawRequest(
      node.url,
      `PUT /api?key=none HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    expect(noBody).toMatch(
      /^HTTP\/1\.1 400 [\s\S]*\r\n\r\nno value: send it as the request body, e.g\. curl --data-binary @file or -d value\n$/,
    );
    const empty = await rawRequest(
      node.url,
      `PUT /api?key=empty HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    expect(empty).toMatch(/^HTTP\/1\.1 204 /);
    const after = await fetch(`${node.url}/api?key=empty`);
    expect({
      status: after.status,
      body: await after.text(),
      health: (await fetch(`${node.url}/healthz`)).status,
    }).toEqual({ status: 200, body: "", health: 200 });
  }, 30_000);

  test("what Bun answers itself: 431 with an empty body for headers over 16 KiB", async () => {
    await using node = await spawnNode(["--port=0"]);
    const res = await fetch(`${node.url}/api?key=Tom`, { headers: { "x-big": "a".repeat(17 * 1024) } });
    expect({ status: res.status, body: await res.text() }).toEqual({ status: 431, body: "" });
  });
});

/** rawRequest writes request as is to the node at url and returns all it answers until it closes. */
async function rawRequest(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const done = Promise.withResolvers<string>();
  let got = "";
  await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      open: (s) => void s.write(request),
      data: (_, chunk) => void (got += chunk.toString()),
      close: () => done.resolve(got),
      error: (_, err) => done.reject(err),
    },
  });
  return done.promise;
}
