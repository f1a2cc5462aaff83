// GeeCacheClient against real processes of the binary: a 3-node cluster, one node killed with
// SIGKILL mid-test; and the client bundled for Node and run there.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { GeeCacheClient, GeeCacheClientError } from "geecache/client";
import { type ProcessCluster, spawnCluster, spawnNode } from "./helpers/process.ts";

/** counted is a fetch that records each URL it was asked for. */
function counted(): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  const f = ((input: string | URL | Request, init?: RequestInit) => {
    urls.push(String(input));
    return fetch(input, init);
  }) as typeof fetch;
  return { fetch: f, urls };
}

async function rejection(p: Promise<unknown>): Promise<{ name: string; status: number; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GeeCacheClientError)) throw new Error(`expected a GeeCacheClientError, got ${String(err)}`);
  return { name: err.name, status: err.status, message: err.message };
}

let cluster: ProcessCluster;
beforeAll(async () => {
  cluster = await spawnCluster(3);
});
afterAll(() => cluster?.stop());

describe("GeeCacheClient on a 3-node cluster", () => {
  test("get, getText, set with ttl, remove and binary values", async () => {
    const client = new GeeCacheClient({ urls: cluster.nodes.map((n) => n.url) });
    expect(await client.getText("Tom")).toBe("630");
    expect(await client.get("nobody")).toBeUndefined();
    expect(await client.set("client-a", "1", { ttl: "1h" })).toEqual({ failedPeers: [] });
    expect(await client.getText("client-a")).toBe("1");
    const bytes = new Uint8Array([0xff, 0x00, 0x01]);
    await client.set("client-bin", bytes, { ttl: 60_000 });
    expect(await client.get("client-bin")).toEqual(bytes);
    expect(await client.remove("client-a")).toEqual({ failedPeers: [] });
    for (let i = 0; i < 3; i++) expect(await client.get("client-a")).toBeUndefined(); // gone on every node
  });

  test("getMany: one POST /api/batch, found keys only, base64 values decoded", async () => {
    const c = counted();
    const client = new GeeCacheClient({ urls: cluster.nodes.map((n) => n.url), fetch: c.fetch });
    await client.set("many-bin", new Uint8Array([0xfe, 0xff]));
    c.urls.length = 0;
    const got = await client.getMany(["Tom", "Jack", "nobody", "many-bin", "Tom"]);
    expect([...got.keys()]).toEqual(["Tom", "Jack", "many-bin"]);
    expect([new TextDecoder().decode(got.get("Tom")), got.get("many-bin")]).toEqual([
      "630",
      new Uint8Array([0xfe, 0xff]),
    ]);
    expect(c.urls.map((u) => new URL(u).pathname)).toEqual(["/api/batch"]);
  });

  test("a 4xx is thrown at once with the node's message, never retried elsewhere", async () => {
    const c = counted();
    const client = new GeeCacheClient({ urls: cluster.nodes.map((n) => n.url), fetch: c.fetch });
    expect(await rejection(client.get("k".repeat(5000)))).toEqual({
      name: "GeeCacheClientError",
      status: 414,
      message: "key is longer than the limit of 4096 bytes",
    });
    expect(await rejection(client.set("k", "v", { ttl: "30" }))).toEqual({
      name: "GeeCacheClientError",
      status: 400,
      message: "&ttl=30: add a unit, e.g. 30s or 500ms",
    });
    expect(await rejection(client.get("Tom", { group: "nope" }))).toEqual({
      name: "GeeCacheClientError",
      status: 404,
      message: "no such group: nope",
    });
    expect(c.urls.length).toBe(3);
  });

  test("bad options are refused at construction", () => {
    expect(() => new GeeCacheClient({ urls: [] })).toThrow(TypeError);
    expect(() => new GeeCacheClient({ urls: ["localhost:8001"] })).toThrow(TypeError);
    expect(() => new GeeCacheClient({ urls: "http://127.0.0.1:1", timeout: 0 })).toThrow(RangeError);
  });

  // Last in this describe: it kills node 1.
  test("a node killed with SIGKILL is skipped: every call still answers, starting points rotate", async () => {
    const c = counted();
    const client = new GeeCacheClient({ urls: cluster.nodes.map((n) => n.url), fetch: c.fetch, timeout: 2000 });
    await client.set("before-kill", "v");
    const dead = cluster.nodes[1]!;
    await dead.stop("SIGKILL");
    c.urls.length = 0;
    const answers: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) answers.push(await client.getText("Tom"));
    expect(answers).toEqual(Array(6).fill("630"));
    const tried = c.urls.map((u) => new URL(u).origin);
    // 6 calls from rotating starts: 2 of them start at the dead node and go on to the next.
    expect(tried.filter((u) => u === dead.url).length).toBe(2);
    expect(tried.length).toBe(8);
    const many = await client.getMany(["Tom", "Jack", "Sam"]);
    expect([...many.keys()]).toEqual(["Tom", "Jack", "Sam"]);
  });
});

test("no node reachable: a GeeCacheClientError with status 0", async () => {
  await using node = await spawnNode(["--port=0"]);
  const url = node.url;
  await node.stop("SIGKILL");
  const client = new GeeCacheClient({ urls: [url, url], timeout: 1000 });
  const err = await rejection(client.get("Tom"));
  expect([err.status, err.message.startsWith(`${url} could not be reached`)]).toEqual([0, true]);
});

test("token: sent as Bearer; without it the node's 401 line", async () => {
  await using node = await spawnNode(["--port=0", "--api-token=w-secret", "--api-read-token=w-secret"]);
  expect(await rejection(new GeeCacheClient({ urls: node.url }).getText("Tom"))).toEqual({
    name: "GeeCacheClientError",
    status: 401,
    message: "reading needs the API token: Authorization: Bearer <token>",
  });
  const client = new GeeCacheClient({ urls: node.url, token: "w-secret" });
  expect(await client.getText("Tom")).toBe("630");
  await client.set("t", "1");
  expect(await client.getMany(["t", "Sam"])).toEqual(
    new Map([
      ["t", new TextEncoder().encode("1")],
      ["Sam", new TextEncoder().encode("567")],
    ]),
  );
});

test("runs under Node 20: bundled with bun build --target=node", async () => {
  const dir = mkdtempSync(join(tmpdir(), "geecache-client-node-"));
  try {
    const bundle = join(dir, "client.mjs");
    const built = Bun.spawnSync(
      [
        process.execPath,
        "build",
        resolve(import.meta.dir, "../src/client/index.ts"),
        "--target=node",
        `--outfile=${bundle}`,
      ],
      { stderr: "pipe", stdout: "pipe" },
    );
    expect(built.exitCode).toBe(0);
    await using node = await spawnNode(["--port=0"]);
    const script = join(dir, "use.mjs");
    await Bun.write(
      script,
      `
      import { GeeCacheClient, GeeCacheClientError } from "./client.mjs";
      const c = new GeeCacheClient({ urls: ["http://127.0.0.1:1", ${JSON.stringify(node.url)}], timeout: 2000 });
      await c.set("n", "node20", { ttl: "1m" });
      const many = await c.getMany(["Tom", "n", "nobody"]);
      let status = 0;
      try { await c.get("x".repeat(5000)); } catch (e) { status = e instanceof GeeCacheClientError ? e.status : -1; }
      console.log(JSON.stringify({ version: process.version.split(".")[0], tom: await c.getText("Tom"), none: await c.get("nobody") ?? null, many: [...many.keys()], status }));
    `,
    );
    const run = Bun.spawnSync(["node", script], { stdout: "pipe", stderr: "pipe", timeout: 20_000 });
    expect(run.stderr.toString()).toBe("");
    expect(JSON.parse(run.stdout.toString())).toEqual({
      version: "v20",
      tom: "630",
      none: null,
      many: ["Tom", "n"],
      status: 414,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
