// Writes through a cluster of three real dist/geecache processes that share a peer token.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ring } from "../src/core/consistent-hash.ts";
import { type ProcessCluster, type RunningNode, requireBinary, spawnCluster } from "./helpers/process.ts";
import { hasOpenssl, makeCerts, type TestCerts } from "./helpers/tls.ts";

const TOKEN = `cluster-${crypto.randomUUID()}`;
const REQUEST_TIMEOUT_MS = 5000;
/** DEMO are the demo source's rows. */
const DEMO: Record<string, string> = { Tom: "630", Jack: "589", Sam: "567" };

/** Answer is what a test compares of an /api response. */
interface Answer {
  status: number;
  body: string;
}

async function call(
  node: RunningNode,
  method: string,
  key: string,
  body?: string,
  query = "",
): Promise<Answer & { owner: string | null; from: string | null; expires: string | null }> {
  const res = await fetch(`${node.url}/api?key=${encodeURIComponent(key)}${query}`, {
    method,
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const h = res.headers;
  return {
    status: res.status,
    body: await res.text(),
    owner: h.get("x-geecache-owner"),
    from: h.get("x-geecache-from"),
    expires: h.get("expires"),
  };
}
const ask = async (node: RunningNode, method: string, key: string, body?: string): Promise<Answer> => {
  const { status, body: text } = await call(node, method, key, body);
  return { status, body: text };
};
const get = (node: RunningNode, key: string) => ask(node, "GET", key);
const put = (node: RunningNode, key: string, value: string) => ask(node, "PUT", key, value);
const del = (node: RunningNode, key: string) => ask(node, "DELETE", key);
/** getEverywhere asks every node for key, one after another. */
async function getEverywhere(nodes: RunningNode[], key: string): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const n of nodes) out.push(await get(n, key));
  return out;
}

const ok = (body: string): Answer => ({ status: 200, body });
const NO_CONTENT: Answer = { status: 204, body: "" };

describe("writes through three processes", () => {
  let cluster: ProcessCluster | undefined;
  let nodes: RunningNode[] = [];
  let ring: Ring;
  /** ownedBy returns the first `${prefix}-<i>` that node i owns. */
  const ownedBy = (i: number, prefix: string) => {
    for (let j = 0; j < 10_000; j++) if (ring.get(`${prefix}-${j}`) === nodes[i]!.url) return `${prefix}-${j}`;
    throw new Error(`no ${prefix} key owned by node ${i}`);
  };

  beforeAll(async () => {
    requireBinary();
    // --hot-cache-ratio=1 --hot-qps=0: every value a node fetches from a peer is kept in its hot cache (the coin always
    // says yes, whatever rate the owner reports), so invalidation is tested for sure.
    cluster = await spawnCluster(3, () => [`--token=${TOKEN}`, "--hot-cache-ratio=1", "--hot-qps=0"]);
    nodes = cluster.nodes;
    ring = new Ring();
    ring.set(nodes.map((n) => n.url));
  });
  afterAll(() => cluster?.stop());

  test("the nodes agree with the ring about owners", async () => {
    const keys = [...Object.keys(DEMO), ...[0, 1, 2].map((i) => ownedBy(i, "owner"))];
    const owners = [];
    for (const key of keys) owners.push((await call(nodes[0]!, "GET", key)).owner);
    expect(owners).toEqual(keys.map((k) => ring.get(k)!));
  });

  test("a PUT through node 1 of a key owned by each node, and of the demo keys, is then read through every node", async () => {
    const [n1] = nodes as [RunningNode];
    const keys = [0, 1, 2].map((i) => ownedBy(i, "new"));
    const written: Record<string, string> = {
      ...Object.fromEntries(keys.map((k) => [k, `value of ${k}`])),
      Tom: "700",
      Jack: "701",
      Sam: "702",
    };
    const puts = [];
    for (const [key, value] of Object.entries(written)) puts.push(await put(n1, key, value));
    expect(puts).toEqual(Object.keys(written).map(() => NO_CONTENT));
    for (const [key, value] of Object.entries(written))
      expect({ key, answers: await getEverywhere(nodes, key) }).toEqual({
        key,
        answers: [ok(value), ok(value), ok(value)],
      });
  });

  test("a DELETE through node 2 brings back the source's value, and keys only written before are 404", async () => {
    const [, n2] = nodes as [RunningNode, RunningNode];
    const newKeys = [0, 1, 2].map((i) => ownedBy(i, "new"));
    const dels = [];
    for (const key of [...Object.keys(DEMO), ...newKeys]) dels.push(await del(n2, key));
    expect(dels).toEqual([...Object.keys(DEMO), ...newKeys].map(() => NO_CONTENT));
    for (const [key, value] of Object.entries(DEMO))
      expect({ key, answers: await getEverywhere(nodes, key) }).toEqual({
        key,
        answers: [ok(value), ok(value), ok(value)],
      });
    for (const key of newKeys)
      expect({ key, statuses: (await getEverywhere(nodes, key)).map((a) => a.status) }).toEqual({
        key,
        statuses: [404, 404, 404],
      });
  });

  test("a PUT drops the hot copy on a non-owner: its next 50 GETs all see the new value", async () => {
    const [n1, n2] = nodes as [RunningNode, RunningNode, RunningNode];
    const key = ownedBy(2, "hot");
    expect(await put(n2, key, "before")).toEqual(NO_CONTENT);
    const warm = [];
    for (let i = 0; i < 50; i++) warm.push(await call(n1, "GET", key));
    expect(new Set(warm.map((a) => `${a.status} ${a.body}`))).toEqual(new Set(["200 before"]));
    expect(warm.at(-1)!.from).toBe("hot");
    expect(await put(n2, key, "after")).toEqual(NO_CONTENT);
    const later = [];
    for (let i = 0; i < 50; i++) later.push(await get(n1, key));
    expect(later).toEqual(Array.from({ length: 50 }, () => ok("after")));
  });

  test("&ttl=30s through a non-owner: every node reports the same expires header", async () => {
    const key = ownedBy(1, "ttl");
    const before = Date.now();
    expect((await call(nodes[0]!, "PUT", key, "short", "&ttl=30s")).status).toBe(204);
    const answers = [];
    for (const n of nodes) answers.push(await call(n, "GET", key));
    const expires = answers.map((a) => a.expires);
    expect(new Set(expires).size).toBe(1);
    const at = Date.parse(expires[0]!);
    expect(at).toBeGreaterThanOrEqual(Math.floor((before + 30_000) / 1000) * 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 30_000);
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [200, "short"],
      [200, "short"],
      [200, "short"],
    ]);
  });

  const peerCases: { name: string; headers: Record<string, string>; status: number }[] = [
    { name: "without the token", headers: {}, status: 401 },
    { name: "with a wrong token", headers: { authorization: "Bearer wrong" }, status: 401 },
    { name: "with the token", headers: { authorization: `Bearer ${TOKEN}` }, status: 200 },
  ];
  for (const c of peerCases) {
    test(`a peer route ${c.name}: ${c.status}`, async () => {
      const res = await fetch(`${nodes[0]!.url}/_geecache/scores/Tom`, {
        headers: c.headers,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      expect({ status: res.status, challenge: res.headers.get("www-authenticate") }).toEqual({
        status: c.status,
        challenge: c.status === 401 ? "Bearer" : null,
      });
    });
  }

  test("no peer request failed: every node shares the token", async () => {
    const errors = [];
    for (const n of nodes) {
      const body = (await (await fetch(`${n.url}/stats`)).json()) as {
        groups: { scores: { stats: { peerErrors: number } } };
      };
      errors.push(body.groups.scores.stats.peerErrors);
    }
    expect(errors).toEqual([0, 0, 0]);
  });
});

describe.skipIf(!hasOpenssl())(
  "two processes over https with --tls-cert, --tls-key, --tls-ca and an --api-token",
  () => {
    let cluster: ProcessCluster | undefined;
    let nodes: RunningNode[] = [];
    let certs: TestCerts;
    const API_TOKEN = `api-${crypto.randomUUID()}`;
    /** send asks a node over https, trusting the test CA. */
    const send = async (node: RunningNode, method: string, key: string, init: RequestInit = {}) => {
      const res = await fetch(`${node.url}/api?key=${key}`, {
        method,
        ...init,
        tls: { ca: certs.ca },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      } as RequestInit);
      return { status: res.status, body: await res.text(), from: res.headers.get("x-geecache-from") };
    };

    beforeAll(async () => {
      requireBinary();
      certs = makeCerts();
      const tls = [`--tls-cert=${certs.certPath}`, `--tls-key=${certs.keyPath}`, `--tls-ca=${certs.caPath}`];
      cluster = await spawnCluster(2, () => [`--token=${TOKEN}`, `--api-token=${API_TOKEN}`, ...tls], { ca: certs.ca });
      nodes = cluster.nodes;
    });
    afterAll(async () => {
      await cluster?.stop();
      certs?.[Symbol.dispose]();
    });

    test("a key owned by node 2 is written through node 1 with the API token only, then read through node 1 from the peer", async () => {
      const [n1, n2] = nodes as [RunningNode, RunningNode];
      expect([n1.url, n2.url].map((u) => u.startsWith("https://"))).toEqual([true, true]);
      const ring = new Ring();
      ring.set(nodes.map((n) => n.url));
      const key = Array.from({ length: 1000 }, (_, i) => `tls-${i}`).find((k) => ring.get(k) === n2.url)!;
      const refused = await send(n1, "PUT", key, { body: "x" });
      const written = await send(n1, "PUT", key, {
        body: "over tls",
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      const viaPeer = await send(n1, "GET", key);
      const onOwner = await send(n2, "GET", key);
      expect({ refused: refused.status, written: written.status, viaPeer, onOwner }).toEqual({
        refused: 401,
        written: 204,
        viaPeer: { status: 200, body: "over tls", from: "peer" },
        onOwner: { status: 200, body: "over tls", from: "main" },
      });
    });
  },
);
