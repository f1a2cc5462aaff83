// Three dist/geecache processes whose peers are all grpc:// (or grpcs://): the cluster guarantees
// of the HTTP transport, over gRPC. The source is an HTTP origin that counts its loads per key.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { GroupStats } from "../src/group/results.ts";
import { type RunningNode, requireBinary, spawnCluster } from "./helpers/process.ts";
import { hasOpenssl, makeCerts, type TestCerts } from "./helpers/tls.ts";
import { until } from "./helpers/until.ts";

const TOKEN = "cluster-token";
const KEYS = ["a/b", "Zoë 🙂", "100%", " padded ", ".", ...Array.from({ length: 95 }, (_, i) => `key-${i}`)];
const REQUEST_TIMEOUT_MS = 5000;

let origin: ReturnType<typeof Bun.serve>;
const loads = new Map<string, number>();
let gate = Promise.withResolvers<void>();

beforeAll(() => {
  requireBinary();
  origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      const key = decodeURIComponent(new URL(req.url).pathname.slice(1));
      loads.set(key, (loads.get(key) ?? 0) + 1);
      if (key.startsWith("gated-")) await gate.promise;
      return new Response(`v:${key}`);
    },
  });
});
afterAll(async () => {
  gate.resolve();
  await origin.stop(true);
});

/** GrpcCluster is three nodes listing each other as grpc:// (grpcs:// with certs) URLs. */
interface GrpcCluster extends AsyncDisposable {
  nodes: RunningNode[];
  urls: string[];
  ports: number[];
  tls: { ca: string } | undefined;
}

/**
 * grpcCluster starts three nodes on port 0 and --grpc-port=0 that list each other's gRPC URLs (helpers/process.ts
 * spawnCluster).
 */
async function grpcCluster(certs?: TestCerts): Promise<GrpcCluster> {
  const tlsArgs = certs
    ? [`--tls-cert=${certs.certPath}`, `--tls-key=${certs.keyPath}`, `--tls-ca=${certs.caPath}`]
    : [];
  const c = await spawnCluster(
    3,
    () => [
      "--grpc-port=0",
      `--token=${TOKEN}`,
      "--peer-timeout=1s",
      `--source=http://127.0.0.1:${origin.port}/{key}`,
      ...tlsArgs,
    ],
    { ca: certs?.ca },
  );
  return {
    nodes: c.nodes,
    urls: c.urls,
    ports: c.urls.map((u) => Number(new URL(u).port)),
    tls: certs ? { ca: certs.ca } : undefined,
    [Symbol.asyncDispose]: c.stop,
  };
}

async function api(
  c: GrpcCluster,
  i: number,
  key: string,
): Promise<{ status: number; body: string; owner: string | null }> {
  const res = await fetch(`${c.nodes[i]!.url}/api?key=${encodeURIComponent(key)}`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    ...(c.tls ? { tls: c.tls } : {}),
  } as RequestInit);
  return { status: res.status, body: await res.text(), owner: res.headers.get("x-geecache-owner") };
}

async function stats(c: GrpcCluster, i: number): Promise<GroupStats> {
  const res = await fetch(`${c.nodes[i]!.url}/stats`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    ...(c.tls ? { tls: c.tls } : {}),
  } as RequestInit);
  return ((await res.json()) as { groups: { scores: { stats: GroupStats } } }).groups.scores.stats;
}

/** connections counts node's established TCP connections to port (ss, filtered by the node's pid). */
function connections(node: RunningNode, port: number): number {
  const out = Bun.spawnSync(["ss", "-Htnp", "state", "established", `( dport = :${port} )`]).stdout.toString();
  return out.split("\n").filter((l) => l.includes(`pid=${node.proc.pid},`)).length;
}

/** readAll asks every node for every key and checks each answer; it returns each key's owner. */
async function readAll(c: GrpcCluster, prefix: string): Promise<string[]> {
  const owners: string[] = [];
  for (const key of KEYS) {
    const answers = await Promise.all([0, 1, 2].map((i) => api(c, i, prefix + key)));
    expect(answers.map((a) => [a.status, a.body])).toEqual([0, 1, 2].map(() => [200, `v:${prefix}${key}`]));
    expect(new Set(answers.map((a) => a.owner)).size).toBe(1);
    owners.push(answers[0]!.owner!);
  }
  return owners;
}

const count = <T>(xs: readonly T[], x: T) => xs.filter((y) => y === x).length;

describe("a three-process cluster over gRPC", () => {
  let c: GrpcCluster;
  beforeAll(async () => {
    c = await grpcCluster();
  });
  afterAll(() => c?.[Symbol.asyncDispose]());

  test("the nodes name themselves by their gRPC URLs", () => {
    expect(c.urls.map((u) => /^grpc:\/\/127\.0\.0\.1:\d+$/.test(u))).toEqual([true, true, true]);
    expect(c.nodes.map((n, i) => n.stdout.text.includes(`gRPC on ${c.urls[i]}`))).toEqual([true, true, true]);
  });

  test("100 keys, each loaded once cluster-wide, by its owner", async () => {
    const owners = await readAll(c, "once-");
    expect(KEYS.filter((k) => loads.get(`once-${k}`) !== 1)).toEqual([]);
    const s = await Promise.all([0, 1, 2].map((i) => stats(c, i)));
    expect(s.map((x) => x.localLoads)).toEqual(c.urls.map((u) => count(owners, u)));
    expect(s.map((x) => x.peerErrors)).toEqual([0, 0, 0]);
    expect(owners.every((o) => c.urls.includes(o))).toBe(true);
    // /metrics times the gRPC peers as it does HTTP ones.
    const metrics = await (await fetch(`${c.nodes[0]!.url}/metrics`)).text();
    for (const peer of c.urls.slice(1))
      expect(metrics).toContain(`geecache_peer_request_duration_seconds_count{peer="${peer}",outcome="ok"}`);
  });

  test("a write through any node reaches the owner and every node reads it", async () => {
    const key = "written-1";
    expect((await Promise.all([0, 1, 2].map((i) => api(c, i, key)))).map((a) => a.body)).toEqual([
      `v:${key}`,
      `v:${key}`,
      `v:${key}`,
    ]);
    const put = await fetch(`${c.nodes[0]!.url}/api?key=${key}`, { method: "PUT", body: "new" });
    expect(put.status).toBe(204);
    expect((await Promise.all([0, 1, 2].map((i) => api(c, i, key)))).map((a) => a.body)).toEqual(["new", "new", "new"]);
    const del = await fetch(`${c.nodes[1]!.url}/api?key=${key}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect((await Promise.all([0, 1, 2].map((i) => api(c, i, key)))).map((a) => a.body)).toEqual([
      `v:${key}`,
      `v:${key}`,
      `v:${key}`,
    ]);
  });

  test("64 concurrent peer fetches ride one HTTP/2 connection per peer", async () => {
    gate = Promise.withResolvers<void>();
    // 64 keys that node 1 owns, asked of node 0 while node 1's source holds them.
    const keys: string[] = [];
    for (let k = 0; keys.length < 64 && k < 10_000; k++) {
      const key = `gated-${k}`;
      const probe = await api(c, 0, `probe-${key}`); // same ring: learn owners with ungated keys
      if (probe.owner === c.urls[1]) keys.push(key);
    }
    expect(keys.length).toBe(64);
    const pending = Promise.all(keys.map((key) => api(c, 0, key)));
    await until("all 64 keys in flight on node 1", () => keys.every((k) => loads.has(k)), {
      timeoutMs: 5000,
      intervalMs: 10,
    });
    const during = connections(c.nodes[0]!, c.ports[1]!);
    gate.resolve();
    expect((await pending).map((a) => a.status)).toEqual(keys.map(() => 200));
    expect(during).toBe(1);
  }, 30_000);

  test("SIGKILL one node: every key still answers", async () => {
    await readAll(c, "kill-");
    await c.nodes[2]!.stop("SIGKILL");
    for (const i of [0, 1]) {
      const answers = await Promise.all(KEYS.map((k) => api(c, i, `kill-${k}`)));
      expect(answers.map((a) => [a.status, a.body])).toEqual(KEYS.map((k) => [200, `v:kill-${k}`]));
    }
  }, 30_000);

  test("SIGTERM: a node with peers connected to its gRPC port exits 0 and the port closes", async () => {
    expect(await c.nodes[0]!.stop("SIGTERM")).toBe(0);
    const refused = await fetch(`http://127.0.0.1:${c.ports[0]}/`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  }, 30_000);
});

describe.skipIf(!hasOpenssl())("a three-process cluster over gRPC with TLS (grpcs://)", () => {
  test("every key answers from every node, each loaded once", async () => {
    using certs = makeCerts();
    await using c = await grpcCluster(certs);
    expect(c.urls.every((u) => u.startsWith("grpcs://"))).toBe(true);
    await readAll(c, "tls-");
    expect(KEYS.filter((k) => loads.get(`tls-${k}`) !== 1)).toEqual([]);
    expect((await Promise.all([0, 1, 2].map((i) => stats(c, i)))).map((s) => s.peerErrors)).toEqual([0, 0, 0]);
  }, 30_000);
});
