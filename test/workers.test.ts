// One node on several workers (--workers): the threads share the ports, and the node's promises hold as with one:
// every write is seen by the next read on any connection, each key is loaded once, a dead thread is started again
// and loses nothing that was answered. Bad values of the flag are one line and exit 2.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpTransport, PeerSet } from "../src/index.ts";
import { Copies, Copy, SLOTS, slotOf } from "../src/node/workers/copies.ts";
import { cgroupQuota, cpuListSize, MAX_WORKERS, usableCores } from "../src/node/workers/cores.ts";
import { workersCount } from "../src/node/workers/settings.ts";
import { FAULT_ENV } from "../src/node/workers/worker.ts";
import { keyOwnedBy } from "./helpers/owned-keys.ts";
import { type RunningNode, runCli, spawnCluster, spawnNode } from "./helpers/process.ts";
import { until } from "./helpers/until.ts";

/** fresh asks on a new connection each time: the kernel spreads new connections over the workers. */
const fresh = (url: string, init: RequestInit = {}) =>
  fetch(url, { ...init, keepalive: false, headers: { ...(init.headers as object), connection: "close" } });
type Figures = { id: number; requests: number; copies: number; forwarded: number; restarts: number };
const stats = async (url: string) =>
  (await (await fetch(`${url}/stats`)).json()) as {
    workers?: Figures[];
    groups: Record<string, { stats: { gets: number; cacheHits: number } }>;
  };

describe("--workers values", () => {
  test("auto is the cores this process may use; numbers from 1 to 256", () => {
    expect(workersCount("auto", "workers", () => 6)).toBe(6);
    expect(workersCount("3", "workers")).toBe(3);
    expect(workersCount(String(MAX_WORKERS), "workers")).toBe(MAX_WORKERS);
  });

  for (const bad of ["0", "-1", "abc", "257", "1.5", ""]) {
    test(`--workers=${bad} is one line, exit 2`, async () => {
      const r = await runCli([`--workers=${bad}`, "--port=0"]);
      expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({
        code: 2,
        stderr: `geecache: --workers accepts auto or a whole number from 1 to 256, got ${JSON.stringify(bad)}\n`,
        stdout: "",
      });
    });
  }

  test("GEECACHE_WORKERS and a --config file are read the same way", async () => {
    const env = await runCli(["--port=0"], { env: { GEECACHE_WORKERS: "abc" } });
    expect([env.code, env.stderr]).toEqual([
      2,
      'geecache: --workers accepts auto or a whole number from 1 to 256, got "abc"\n',
    ]);
    const dir = mkdtempSync(join(tmpdir(), "geecache-workers-"));
    try {
      writeFileSync(join(dir, "node.toml"), "workers = 300\n");
      const file = await runCli([`--config=${join(dir, "node.toml")}`, "--port=0"]);
      expect(file.code).toBe(2);
      expect(file.stderr).toContain('node.toml:1: workers: accepts auto or a whole number from 1 to 256, got "300"');
      expect(file.stderr.trim().split("\n")).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a port another node on two workers holds is refused, as on one worker", async () => {
    await using first = await spawnNode(["--port=0", "--workers=2"]);
    const port = new URL(first.url).port;
    const second = await runCli([`--port=${port}`, "--workers=2"]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`^geecache: cannot listen on 127\\.0\\.0\\.1:${port}: .*\\n$`));
    expect((await fresh(`${first.url}/api?key=Tom`)).status).toBe(200);
  });

  test("the cores: the affinity list, then a cgroup CPU limit rounded up", () => {
    expect(cpuListSize("0-3,6,8-9")).toBe(7);
    expect(cpuListSize("junk")).toBe(0);
    expect(cgroupQuota("max 100000\n", undefined, undefined)).toBeUndefined();
    expect(cgroupQuota("250000 100000\n", undefined, undefined)).toBe(2.5);
    expect(cgroupQuota(undefined, "50000", "100000")).toBe(0.5);
    expect(cgroupQuota(undefined, "-1", "100000")).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), "geecache-cores-"));
    try {
      const status = join(dir, "status");
      const cpuMax = join(dir, "cpu.max");
      writeFileSync(status, "Name:\tgeecache\nCpus_allowed_list:\t0\n");
      writeFileSync(cpuMax, "max 100000\n");
      const paths = { status, cpuMax, quota: join(dir, "none") };
      expect(usableCores(paths)).toBe(1);
      writeFileSync(status, `Cpus_allowed_list:\t0-${navigator.hardwareConcurrency - 1}\n`);
      writeFileSync(cpuMax, "150000 100000\n");
      expect(usableCores(paths)).toBe(Math.min(2, navigator.hardwareConcurrency));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a worker's copies", () => {
  test("a copy is served only while its key's slot version, the ring's epoch and its expiry hold", () => {
    const versions = new SharedArrayBuffer((1 + SLOTS) * 4);
    const v = new Int32Array(versions);
    const copies = new Copies(versions, 1024);
    const keep = (url: string, key: string, expiresAt = 0) => {
      const slot = slotOf(key);
      const copy = new Copy(new Uint8Array([1, 2, 3]), new Headers(), "g", slot, v[1 + slot]!, v[0]!, expiresAt);
      copies.keep(url, copy);
    };
    const now = () => 1000;
    keep("/api?key=a", "a");
    keep("/api?key=b", "b");
    expect(copies.get("/api?key=a", now)?.body).toEqual(new Uint8Array([1, 2, 3]));
    Atomics.add(v, 1 + slotOf("a"), 1); // a write of a
    expect(copies.get("/api?key=a", now)).toBeUndefined();
    expect(copies.get("/api?key=b", now)).toBeDefined();
    Atomics.add(v, 0, 1); // a ring change or a purge
    expect(copies.get("/api?key=b", now)).toBeUndefined();
    keep("/api?key=c", "c", 1000);
    keep("/api?key=d", "d", 1001);
    expect([copies.get("/api?key=c", now), copies.get("/api?key=d", now)?.length]).toEqual([undefined, 3]);
    for (let i = 0; i < 100; i++) keep(`/api?key=k${i}`, `k${i}`);
    expect(copies.bytes).toBeLessThanOrEqual(1024);
  });
});

describe("a node on two workers", () => {
  let loads = 0;
  const origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const key = new URL(req.url).pathname.slice(1);
      if (key.startsWith("missing")) return new Response("no", { status: 404 });
      loads++;
      await Bun.sleep(20); // loads overlap, so the singleflight is what keeps them to one
      return new Response(`value-of-${key}`);
    },
  });
  let node: RunningNode;
  beforeAll(async () => {
    node = await spawnNode(["--port=0", "--workers=2", `--source=http://127.0.0.1:${origin.port}/{key}`]);
  });
  afterAll(async () => {
    await node?.stop();
    origin.stop(true);
  });

  test("both workers take requests, and the copies answer as the node does", async () => {
    for (let i = 0; i < 80; i++) {
      const res = await fresh(`${node.url}/api?key=spread`);
      expect([res.status, await res.text(), res.headers.get("x-geecache-cache") !== null]).toEqual([
        200,
        "value-of-spread",
        true,
      ]);
    }
    await until("both workers' counters", async () => {
      const w = (await stats(node.url)).workers ?? [];
      return w.length === 2 && w.every((x) => x.requests >= 10) && w[1]!.copies > 0;
    });
    const s = await stats(node.url);
    // Every get of the node is counted once in the group, wherever it was answered.
    expect(s.groups.scores!.stats.gets).toBeGreaterThanOrEqual(80);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    const copied = Number(metrics.match(/^geecache_worker_copy_hits_total\{worker="1"\} (\d+)$/m)?.[1]);
    expect(copied).toBeGreaterThan(0);
    expect(metrics).toMatch(/^geecache_worker_requests_total\{worker="0"\} [1-9]\d*$/m);
    const status = (await (await fetch(`${node.url}/status.json`)).json()) as { workers: Figures[] | null };
    expect(status.workers?.map((w) => w.id)).toEqual([0, 1]);
  });

  test("each key is loaded once, however many connections ask at once", async () => {
    loads = 0;
    const keys = Array.from({ length: 12 }, (_, i) => `once-${i}`);
    const answers = await Promise.all(
      keys.flatMap((k) => Array.from({ length: 16 }, () => fresh(`${node.url}/api?key=${k}`).then((r) => r.text()))),
    );
    expect(answers.filter((a, i) => a !== `value-of-${keys[Math.floor(i / 16)]}`)).toEqual([]);
    expect(loads).toBe(keys.length);
  });

  test("a write, a delete and a purge are seen by the next read on every connection", async () => {
    const key = "written";
    const readAll = async () =>
      new Set(
        await Promise.all(
          Array.from({ length: 24 }, async () => {
            const r = await fresh(`${node.url}/api?key=${key}`);
            return `${r.status}:${await r.text()}`;
          }),
        ),
      );
    expect(await readAll()).toEqual(new Set([`200:value-of-${key}`]));
    for (const v of ["one", "two", "three"]) {
      expect((await fresh(`${node.url}/api?key=${key}`, { method: "PUT", body: v })).status).toBe(204);
      expect(await readAll()).toEqual(new Set([`200:${v}`]));
    }
    expect((await fresh(`${node.url}/api?key=${key}`, { method: "DELETE" })).status).toBe(204);
    expect(await readAll()).toEqual(new Set([`200:value-of-${key}`])); // loaded again from the source
    expect((await fresh(`${node.url}/api?key=${key}`, { method: "PUT", body: "four" })).status).toBe(204);
    expect(await readAll()).toEqual(new Set(["200:four"]));
    expect((await fresh(`${node.url}/api?group=scores&all=true`, { method: "DELETE" })).status).toBe(204);
    expect(await readAll()).toEqual(new Set([`200:value-of-${key}`]));
  });

  test("a value written with a ttl is not served by any worker past it", async () => {
    const key = "short";
    expect((await fresh(`${node.url}/api?key=${key}&ttl=300ms`, { method: "PUT", body: "soon-gone" })).status).toBe(
      204,
    );
    for (let i = 0; i < 10; i++) expect(await (await fresh(`${node.url}/api?key=${key}`)).text()).toBe("soon-gone");
    await until(
      "the ttl to pass",
      async () => (await (await fresh(`${node.url}/api?key=${key}`)).text()) !== "soon-gone",
    );
    const after = await Promise.all(
      Array.from({ length: 16 }, async () => (await fresh(`${node.url}/api?key=${key}`)).text()),
    );
    expect(new Set(after)).toEqual(new Set([`value-of-${key}`]));
  });

  test("errors are the node's own answers on every worker", async () => {
    const codes = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const r = await fresh(`${node.url}/api?key=missing-1`);
        return `${r.status} ${r.headers.get("x-geecache-error")}`;
      }),
    );
    expect(new Set(codes).size).toBe(1);
    expect(codes[0]!.startsWith("404")).toBe(true);
  });
});

describe("a worker thread that dies", () => {
  test("is started again and logged; every answered write is still there and the node keeps serving", async () => {
    await using node = await spawnNode(["--port=0", "--workers=2"], { env: { [FAULT_ENV]: "150" } });
    const acked = new Map<string, string>();
    let failed = 0;
    const wrong: string[] = [];
    // Eight clients at once, each writing its own keys and reading each write back on a new connection.
    const client = async (c: number) => {
      for (let i = 0; i < 60; i++) {
        const key = `c${c}-k${i % 6}`;
        const value = `v${i}`;
        try {
          const r = await fresh(`${node.url}/api?key=${key}`, { method: "PUT", body: value });
          if (r.status === 204) acked.set(key, value);
          const got = await (await fresh(`${node.url}/api?key=${key}`)).text();
          if (got !== value) wrong.push(`${key}: wrote ${value}, read ${got}`);
        } catch {
          failed++; // a connection the dying thread held: not answered, so nothing was promised
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
    await until("the restart", async () => (await stats(node.url)).workers?.[1]?.restarts === 1, { timeoutMs: 10_000 });
    expect(node.stderr.text + node.stdout.text).toMatch(/worker 1 stopped .*starting it again/);
    await until("the thread serving again", () => /worker 1 is serving again/.test(node.stdout.text));
    expect(wrong).toEqual([]);
    expect(failed).toBeLessThan(20);
    for (const [key, value] of acked) {
      for (let i = 0; i < 4; i++) expect(await (await fresh(`${node.url}/api?key=${key}`)).text()).toBe(value);
    }
    expect(acked.size).toBe(48);
  }, 30_000);
});

describe("three nodes of two workers each", () => {
  test("each key is loaded once in the cluster; a write through one node is read back on every node", async () => {
    const loads = new Map<string, number>();
    const origin = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const key = new URL(req.url).pathname.slice(1);
        loads.set(key, (loads.get(key) ?? 0) + 1);
        return new Response(`value-of-${key}`);
      },
    });
    await using c = await spawnCluster(3, () => ["--workers=2", `--source=http://127.0.0.1:${origin.port}/{key}`]);
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);
      const read = (key: string) =>
        Promise.all(
          c.nodes.flatMap((n) =>
            Array.from({ length: 4 }, async () => {
              const r = await fresh(`${n.url}/api?key=${key}`);
              return `${r.status}:${await r.text()}`;
            }),
          ),
        );
      for (const key of keys) expect(new Set(await read(key))).toEqual(new Set([`200:value-of-${key}`]));
      expect([...loads.values()].filter((n) => n !== 1)).toEqual([]);
      expect(loads.size).toBe(keys.length);
      for (const [i, key] of keys.slice(0, 6).entries()) {
        const put = await fresh(`${c.nodes[i % 3]!.url}/api?key=${key}`, { method: "PUT", body: `new-${i}` });
        expect(put.status).toBe(204);
        expect(new Set(await read(key))).toEqual(new Set([`200:new-${i}`]));
      }
    } finally {
      origin.stop(true);
    }
  }, 30_000);

  test("a node leaving (SIGTERM, still serving through its drain) serves no copy of a key written elsewhere since", async () => {
    await using c = await spawnCluster(3, (i) => ["--workers=2", ...(i === 0 ? ["--drain=5s"] : [])]);
    const [a, b] = c.nodes as [RunningNode, RunningNode];
    // A key node a owns, read on a through fresh connections until its thread holds a copy.
    let key = "";
    for (let i = 0; !key; i++) {
      const r = await fetch(`${a.url}/api?key=Tom${i}`, { method: "PUT", body: `old-${i}` });
      await r.arrayBuffer();
      if (r.headers.get("x-geecache-owner") === c.urls[0]) key = `Tom${i}`;
    }
    await until("a's thread to copy it", async () => {
      for (let i = 0; i < 8; i++) await (await fresh(`${a.url}/api?key=${key}`)).text();
      return ((await stats(a.url)).workers?.[1]?.copies ?? 0) > 0;
    });
    a.proc.kill("SIGTERM");
    await until(
      "b to route the key elsewhere",
      async () => {
        const r = await fetch(`${b.url}/api?key=${key}`);
        await r.arrayBuffer();
        return r.headers.get("x-geecache-owner") !== c.urls[0];
      },
      { timeoutMs: 10_000 },
    );
    expect((await fetch(`${b.url}/api?key=${key}`, { method: "PUT", body: "new" })).status).toBe(204);
    const seen = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const r = await fresh(`${a.url}/api?key=${key}`);
        return `${r.status}:${await r.text()}`;
      }),
    );
    expect(new Set(seen)).toEqual(new Set(["200:new"]));
  }, 30_000);

  test("a key that moves to a node that joined is answered as its new owner's on every thread", async () => {
    // Node 0 starts alone (it owns every key); nodes 1 and 2 list all three.
    await using c = await spawnCluster(3, () => ["--workers=2"], { peers: (urls, i) => (i === 0 ? [urls[0]!] : urls) });
    const ring = new PeerSet({ self: c.urls[0]!, transports: [httpTransport()] });
    ring.setPeers(c.urls);
    const key = keyOwnedBy(ring, c.urls[1]!, "Tom-");
    const url = `${c.nodes[0]!.url}/api?key=${encodeURIComponent(key)}`;
    const owners = async () =>
      new Set(
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            const r = await fresh(url);
            await r.arrayBuffer();
            return r.headers.get("x-geecache-owner") ?? "";
          }),
        ),
      );
    expect((await fresh(url, { method: "PUT", body: "written" })).status).toBe(204);
    await until(
      "node 0's thread to copy it",
      async () => (await owners()).size > 0 && ((await stats(c.nodes[0]!.url)).workers?.[1]?.copies ?? 0) > 0,
    );
    expect(await owners()).toEqual(new Set([c.urls[0]!]));
    await c.setPeers(0, c.urls); // nothing is written: the ring changes
    await until("node 0 to route the key to node 1", async () => (await owners()).has(c.urls[1]!));
    expect(await owners()).toEqual(new Set([c.urls[1]!]));
  }, 30_000);
});
