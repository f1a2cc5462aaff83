// /cluster.json (totals gathered from the peers' /status.json) and /status/lookup (a peek here and
// at the key's owner that never loads or counts), on an in-process cluster over real sockets.
import { describe, expect, test } from "bun:test";
import { DEFAULT_MAX_KEY_BYTES } from "../src/core/limits.ts";
import type { ClusterReport } from "../src/observability/status/cluster-view.ts";
import type { LookupReport } from "../src/observability/status/lookup.ts";
import { grpcTransport } from "../src/transport/grpc/index.ts";
import { httpTransport } from "../src/transport/http/index.ts";
import { startCluster } from "./helpers/cluster.ts";
import { hasOpenssl, makeCerts } from "./helpers/tls.ts";

const getJson = async <T>(url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  return {
    status: res.status,
    body: (res.headers.get("content-type")?.startsWith("application/json")
      ? await res.json()
      : (await res.text()).trim()) as T,
  };
};

describe("/cluster.json", () => {
  test("sums every node's gets, hits and memory; a stopped peer is listed with why and left out", async () => {
    await using cluster = await startCluster(3);
    const [a] = cluster.nodes;
    // Gets on every node: each owner loads its key once, then a hit.
    for (const node of cluster.nodes)
      for (const key of ["Tom", "Tom", "Jack"]) await (await fetch(`${node.url}/api?key=${key}`)).arrayBuffer();
    const per = cluster.nodes.map((n) => ({ s: n.group.stats(), c: n.group.cacheStats(), budget: n.group.cacheBytes }));
    const { status, body } = await getJson<ClusterReport>(`${a!.url}/cluster.json`);
    const totals = {
      gets: per.reduce((n, p) => n + p.s.gets, 0),
      cacheHits: per.reduce((n, p) => n + p.s.cacheHits, 0),
      items: per.reduce((n, p) => n + p.c.main.items + p.c.hot.items, 0),
      bytes: per.reduce((n, p) => n + p.c.main.bytes + p.c.hot.bytes, 0),
      budget: per.reduce((n, p) => n + p.budget, 0),
    };
    expect(status).toBe(200);
    expect(body).toEqual({
      self: cluster.urls[0]!,
      nodes: cluster.urls.map((url, i) => ({
        url,
        ok: true,
        self: i === 0,
        ready: true,
        gets: expect.any(Number),
        cacheHits: expect.any(Number),
        hitRatio: expect.any(Number),
        items: expect.any(Number),
        bytes: expect.any(Number),
        budget: per[i]!.budget,
      })),
      answered: 3,
      totals: { ...totals, hitRatio: totals.cacheHits / totals.gets },
      groups: [{ name: "scores", ...totals, hitRatio: totals.cacheHits / totals.gets }],
    });
    expect(totals.gets).toBeGreaterThanOrEqual(9);

    await cluster.stopNode(2);
    const after = (await getJson<ClusterReport>(`${a!.url}/cluster.json`)).body;
    expect({
      answered: after.answered,
      down: after.nodes.filter((n) => !n.ok).map((n) => [n.url, typeof (n as { error?: unknown }).error]),
    }).toEqual({
      answered: 2,
      down: [[cluster.urls[2]!, "string"]],
    });
  });
});

describe("/status/lookup", () => {
  test("peeks here and at the owner: never loads, never counts", async () => {
    await using cluster = await startCluster(2);
    const key = cluster.keyOwnedBy(1, "look");
    const [a, b] = cluster.nodes;
    const counters = () => cluster.nodes.map((n) => n.group.stats());
    const before = counters();
    const cold = await getJson<LookupReport>(`${a!.url}/status/lookup?key=${key}`);
    expect(cold).toEqual({
      status: 200,
      body: {
        key,
        group: "scores",
        owner: cluster.urls[1]!,
        here: { node: cluster.urls[0]!, cached: false },
        atOwner: { node: cluster.urls[1]!, cached: false },
      },
    });
    expect(counters()).toEqual(before);

    await (await fetch(`${b!.url}/api?key=${key}`)).arrayBuffer(); // the owner loads it into its main cache
    const mid = counters();
    const warm = await getJson<LookupReport>(`${a!.url}/status/lookup?key=${key}&group=scores`);
    expect(warm.body.here).toEqual({ node: cluster.urls[0]!, cached: false });
    expect(warm.body.atOwner).toEqual({
      node: cluster.urls[1]!,
      cached: true,
      where: "main",
      bytes: key.length,
      expiresAt: 0,
      value: key.toUpperCase(),
      truncated: false,
    });
    const atOwner = await getJson<LookupReport>(`${b!.url}/status/lookup?key=${key}`);
    expect([atOwner.body.here.where, "atOwner" in atOwner.body]).toEqual(["main", false]);
    expect(counters()).toEqual(mid);
  });

  test.each<[string, string, number, string]>([
    ["no key", "/status/lookup", 400, "missing key: use /status/lookup?key=<key>"],
    ["an unknown group", "/status/lookup?key=Tom&group=nope", 404, "no such group: nope"],
    [
      "a key over the limit",
      `/status/lookup?key=${"k".repeat(DEFAULT_MAX_KEY_BYTES + 1)}`,
      414,
      `key is longer than the limit of ${DEFAULT_MAX_KEY_BYTES} bytes`,
    ],
  ])("%s is refused with one line", async (_, path, want, line) => {
    await using cluster = await startCluster(1);
    expect(await getJson(`${cluster.nodes[0]!.url}${path}`)).toEqual({ status: want, body: line });
  });

  test("with an API read token the lookup needs it too, and passes it on to the owner", async () => {
    await using cluster = await startCluster(2, { node: () => ({ apiReadToken: "rt" }) });
    const key = cluster.keyOwnedBy(1, "tok");
    const url = `${cluster.nodes[0]!.url}/status/lookup?key=${key}`;
    expect((await getJson(url)).status).toBe(401);
    const ok = await getJson<LookupReport>(url, { headers: { authorization: "Bearer rt" } });
    expect([ok.status, ok.body.atOwner]).toEqual([200, { node: cluster.urls[1]!, cached: false }]);
  });
});

describe("gRPC peers", () => {
  test("are listed without detail: their status and lookups are served on their HTTP port, not asked over gRPC", async () => {
    await using cluster = await startCluster(2, { transport: () => grpcTransport() });
    const [a] = cluster.nodes;
    const key = cluster.keyOwnedBy(1, "look");
    const view = (await getJson<ClusterReport>(`${a!.httpUrl}/cluster.json`)).body;
    const lookup = (await getJson<LookupReport>(`${a!.httpUrl}/status/lookup?key=${key}`)).body;
    expect({ nodes: view.nodes.map((n) => [n.url, n.ok]), answered: view.answered, atOwner: lookup.atOwner }).toEqual({
      nodes: [
        [cluster.urls[0]!, true],
        [cluster.urls[1]!, false],
      ],
      answered: 1,
      atOwner: { node: cluster.urls[1]!, cached: false, error: "not an http(s) peer: ask its HTTP port" },
    });
    expect(view.nodes[1]).toEqual({
      url: cluster.urls[1]!,
      ok: false,
      self: false,
      error: "not an http(s) peer: its status is served on its HTTP port",
    });
  });
});

describe.skipIf(!hasOpenssl())("over https", () => {
  test.each([
    ["trusting the peers' CA (--tls-ca)", true, 2],
    ["without the CA the peer is named as not answering", false, 1],
  ] as const)("/cluster.json %s", async (_, trust, answered) => {
    using certs = makeCerts();
    await using cluster = await startCluster(2, {
      // The status page asks peers through the peer client: it trusts what the transport trusts.
      transport: () => httpTransport({ tls: trust ? { ca: certs.ca } : undefined }),
      node: () => ({ tls: { cert: certs.cert, key: certs.key } }),
    });
    expect(cluster.urls.every((u) => u.startsWith("https://"))).toBe(true);
    const res = await fetch(`${cluster.urls[0]}/cluster.json`, { tls: { ca: certs.ca } } as RequestInit);
    expect(((await res.json()) as ClusterReport).answered).toBe(answered);
  });
});
