// /healthz, /readyz, /status.json and the status page's HTML, in process; the load history ring.
import { describe, expect, test } from "bun:test";
import { Group } from "../src/group/group.ts";
import { Registry } from "../src/group/registry.ts";
import { httpTransport, PeerSet } from "../src/index.ts";
import { nodeHandlers, startNode } from "../src/node/server.ts";
import { NodeMetrics } from "../src/observability/metrics/node-metrics.ts";
import { LoadHistory } from "../src/observability/status/load-history.ts";
import { NodeStatus, PEER_DOWN_WINDOW } from "../src/observability/status/node-status.ts";

const registryWith = () => {
  const registry = new Registry();
  registry.add(new Group({ name: "scores", getter: (key) => (key === "Tom" ? "630" : undefined), cacheBytes: 1000 }));
  return registry;
};
const body = async (res: Response) => ({ status: res.status, body: await res.json() });

describe("LoadHistory", () => {
  test.each<{
    name: string;
    length: number;
    records: Array<[number, number, number]>;
    want: Array<[number, number, number]>;
  }>([
    { name: "the first record is only the baseline", length: 3, records: [[0, 10, 1]], want: [] },
    {
      name: "rates per second since the record before",
      length: 3,
      records: [
        [0, 0, 0],
        [2000, 20, 4],
        [4000, 30, 4],
      ],
      want: [
        [2000, 10, 2],
        [4000, 5, 0],
      ],
    },
    {
      name: "the ring keeps the newest `length` samples, oldest first",
      length: 2,
      records: [
        [0, 0, 0],
        [1000, 1, 0],
        [2000, 3, 0],
        [3000, 6, 0],
      ],
      want: [
        [2000, 2, 0],
        [3000, 3, 0],
      ],
    },
    {
      name: "a counter that went down counts as zero, not negative",
      length: 3,
      records: [
        [0, 50, 5],
        [1000, 10, 1],
      ],
      want: [[1000, 0, 0]],
    },
    {
      name: "a clock that did not move adds nothing",
      length: 3,
      records: [
        [0, 0, 0],
        [0, 10, 1],
      ],
      want: [],
    },
  ])("$name", ({ length, records, want }) => {
    const h = new LoadHistory(length);
    for (const [t, gets, loads] of records) h.record(t, gets, loads);
    expect(h.samples()).toEqual(
      want.map(([t, getsPerSecond, loadsPerSecond]) => ({ t, getsPerSecond, loadsPerSecond })),
    );
  });

  test("a length below 1 is refused", () => {
    expect(() => new LoadHistory(0)).toThrow("LoadHistory length must be a whole number >= 1, got 0");
  });
});

describe("/healthz and /readyz", () => {
  test("before the node listens, readyz is 503 not ready; healthz is 200", async () => {
    const { main, api } = nodeHandlers({ registry: registryWith() });
    for (const h of [main, api]) {
      expect(await body(await h(new Request("http://x/healthz")))).toEqual({ status: 200, body: { status: "ok" } });
      expect(await body(await h(new Request("http://x/readyz")))).toEqual({
        status: 503,
        body: { status: "not ready", listening: false, draining: false, source: "ok", peers: 1, peersDown: 0 },
      });
    }
  });

  test("a source in error keeps the node not ready", async () => {
    const { main, status } = nodeHandlers({ registry: registryWith(), source: "error: cannot open scores.db" });
    status.listening = true;
    expect(await body(await main(new Request("http://x/readyz")))).toEqual({
      status: 503,
      body: {
        status: "not ready",
        listening: true,
        draining: false,
        source: "error: cannot open scores.db",
        peers: 1,
        peersDown: 0,
      },
    });
  });

  test("a started node is ready on the main and the API port, and counts its peers", async () => {
    const pool = new PeerSet({ transports: [httpTransport()] });
    const node = startNode({ registry: registryWith(), peers: pool, port: 0, apiPort: 0, sweepInterval: 0 });
    try {
      expect(node.apiUrl).not.toBe(node.url);
      pool.setPeers([node.url, "http://127.0.0.1:1", "http://127.0.0.1:2"]);
      const got = [];
      for (const base of [node.url, node.apiUrl]) {
        got.push(await body(await fetch(`${base}/healthz`)), await body(await fetch(`${base}/readyz`)));
      }
      const ready = {
        status: 200,
        body: { status: "ready", listening: true, draining: false, source: "ok", peers: 3, peersDown: 0 },
      };
      const alive = { status: 200, body: { status: "ok" } };
      expect(got).toEqual([alive, ready, alive, ready]);
    } finally {
      await node.stop();
    }
  });
});

describe("/status.json", () => {
  const setup = (metrics: NodeMetrics | false) => {
    let now = 1_000_000;
    const pool = new PeerSet({ self: "http://127.0.0.1:8001", transports: [httpTransport()] });
    pool.setPeers(["http://127.0.0.1:8001", "http://127.0.0.1:8002"]);
    const registry = registryWith();
    const status = new NodeStatus({ registry, pool, metrics: metrics || undefined, now: () => now });
    return { registry, status, pool, tick: (ms: number) => (now += ms) };
  };

  test("reports self, the peers' shares and states, the groups and the history", async () => {
    let clock = 1_000_000;
    const metrics = new NodeMetrics({ now: () => clock });
    const { registry, status, pool, tick } = setup(metrics);
    const group = registry.get("scores")!;
    status.sample();
    for (const key of ["Tom", "Tom", "Tom", "nobody"]) await group.get(key).catch(() => {});
    tick(2000);
    status.sample();
    metrics.onPeerRequest("http://127.0.0.1:8002", "error", 0.01);
    const shares = pool.shares();
    const report = status.report();
    expect(report).toEqual({
      self: "http://127.0.0.1:8001",
      now: 1_002_000,
      startedAt: 1_000_000,
      ready: false,
      peers: [
        {
          url: "http://127.0.0.1:8001",
          share: shares.get("http://127.0.0.1:8001")!,
          state: "self",
          errors: 0,
          lastErrorAt: null,
        },
        // One failed request does not make a peer down: peer health marks it down after failures in a row.
        {
          url: "http://127.0.0.1:8002",
          share: shares.get("http://127.0.0.1:8002")!,
          state: "up",
          errors: 1,
          lastErrorAt: 1_000_000,
        },
      ],
      groups: [
        {
          name: "scores",
          gets: 4,
          cacheHits: 2,
          hitRatio: 0.5,
          loads: 2,
          localLoads: 1,
          peerLoads: 0,
          items: 1,
          bytes: { main: 6, hot: 0, budget: 1000 },
        },
      ],
      history: { intervalMs: 2000, samples: [{ t: 1_002_000, getsPerSecond: 2, loadsPerSecond: 1 }] },
      membership: { changes: pool.changes, handoff: { peeks: 0, peekHits: 0, peekErrors: 0 } },
      snapshot: null,
      workers: null,
    });
    clock += PEER_DOWN_WINDOW;
    tick(PEER_DOWN_WINDOW - 2000);
    expect(status.report().peers.map((p) => p.state)).toEqual(["self", "up"]);
  });

  test("without metrics the peers' state still comes from peer health", () => {
    const { status } = setup(false);
    expect(status.report().peers.map((p) => p.state)).toEqual(["self", "up"]);
  });

  test("GET /status.json is JSON that is never cached", async () => {
    const { main } = nodeHandlers({ registry: registryWith() });
    const res = await main(new Request("http://x/status.json"));
    expect({
      status: res.status,
      type: res.headers.get("content-type"),
      cache: res.headers.get("cache-control"),
    }).toEqual({
      status: 200,
      type: "application/json;charset=utf-8",
      cache: "no-store",
    });
  });
});

describe("GET /", () => {
  test("main and api both serve the status page as HTML; other methods get 405", async () => {
    const { main, api } = nodeHandlers({
      registry: registryWith(),
      peers: new PeerSet({ self: "http://127.0.0.1:8001", transports: [httpTransport()] }),
    });
    const got = [];
    for (const h of [main, api]) {
      const res = await h(new Request("http://x/"));
      const html = await res.text();
      got.push({
        status: res.status,
        type: res.headers.get("content-type"),
        title: html.match(/<title>(.*)<\/title>/)?.[1],
        polls: html.includes('fetch("status.json"'),
      });
      got.push({ status: (await h(new Request("http://x/", { method: "POST" }))).status });
    }
    const page = { status: 200, type: "text/html; charset=utf-8", title: "geecache node status", polls: true };
    expect(got).toEqual([page, { status: 405 }, page, { status: 405 }]);
  });
});
