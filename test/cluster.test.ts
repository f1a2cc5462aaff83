// Clusters of real dist/geecache processes on port 0 (peers through --peers-file), reading one SQLite file.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ring } from "../src/core/consistent-hash.ts";
import type { GroupStats } from "../src/group/results.ts";
import { type ProcessCluster, type RunningNode, requireBinary, spawnCluster, spawnNode } from "./helpers/process.ts";
import { until } from "./helpers/until.ts";

/** SPECIAL are keys that must survive the query string and the peer path intact. */
const SPECIAL = [
  "hello world",
  " padded ",
  "a/b/c",
  "/leading",
  "trailing/",
  "a+b",
  "1+1=2",
  "100%",
  "%41",
  "50%25",
  "what?",
  "a?b=c&d=e",
  "#hash",
  "x#y",
  "Zoë 🙂",
  "漢字",
  "all /+%?#& 🙂",
];
/** KEYS are the 100 keys the tests ask for. */
const KEYS = [...SPECIAL, ...Array.from({ length: 100 - SPECIAL.length }, (_, i) => `key-${i}`)];
/** UNASKED are rows no test reads, so the database holds more than the cluster loads. */
const UNASKED = Array.from({ length: 20 }, (_, i) => `unasked-${i}`);
const scoreOf = (key: string) => `score of ${key} (${key.length})`;

const PEER_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 5000;

let dir: string;
let db: string;

beforeAll(() => {
  requireBinary();
  dir = mkdtempSync(join(tmpdir(), "geecache-cluster-"));
  db = join(dir, "scores.db");
  const sqlite = new Database(db, { create: true });
  sqlite.run("CREATE TABLE scores (key TEXT PRIMARY KEY, value TEXT)");
  const insert = sqlite.prepare("INSERT INTO scores (key, value) VALUES (?, ?)");
  sqlite.transaction(() => {
    for (const key of [...KEYS, ...UNASKED]) insert.run(key, scoreOf(key));
  })();
  sqlite.close();
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** cluster starts n nodes over the test database that all list every node. */
function cluster(n: number, extra: string[] = []): Promise<ProcessCluster> {
  return spawnCluster(n, () => [`--source=sqlite:${db}`, ...extra]);
}

interface ApiAnswer {
  status: number;
  body: string;
  owner: string | null;
  from: string | null;
  ms: number;
}

async function api(base: string, key: string): Promise<ApiAnswer> {
  const started = performance.now();
  const res = await fetch(`${base}/api?key=${encodeURIComponent(key)}`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await res.text();
  return {
    status: res.status,
    body,
    owner: res.headers.get("x-geecache-owner"),
    from: res.headers.get("x-geecache-from"),
    ms: performance.now() - started,
  };
}

/** getAll asks for keys one after another, so each answer's time is its own. */
async function getAll(base: string, keys: readonly string[]): Promise<ApiAnswer[]> {
  const out: ApiAnswer[] = [];
  for (const key of keys) out.push(await api(base, key));
  return out;
}

async function stats(node: RunningNode): Promise<GroupStats> {
  const res = await fetch(`${node.url}/stats`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { groups: { scores: { stats: GroupStats } } };
  return body.groups.scores.stats;
}

const statsOf = (nodes: RunningNode[]) => Promise.all(nodes.map(stats));
const valuesOf = (answers: ApiAnswer[]) => answers.map((a) => [a.status, a.body]);
const expected = (keys: readonly string[]) => keys.map((k) => [200, scoreOf(k)]);
const count = <T>(xs: readonly T[], x: T) => xs.filter((y) => y === x).length;

describe("three nodes, one ring", () => {
  let c: ProcessCluster | undefined;
  let nodes: RunningNode[] = [];
  beforeAll(async () => {
    c = await cluster(3);
    nodes = c.nodes;
  });
  afterAll(() => c?.stop());

  test("every key is loaded exactly once in the cluster, by its owner", async () => {
    const [n1, n2, n3] = nodes as [RunningNode, RunningNode, RunningNode];
    const urls = nodes.map((n) => n.url);
    const first = await getAll(n1.url, KEYS);
    expect(valuesOf(first)).toEqual(expected(KEYS));
    const owners = first.map((a) => a.owner);
    for (const o of owners) expect(urls).toContain(o!);
    for (const u of urls) expect(owners).toContain(u); // each node owns some keys, or this proves little

    const loaded = await statsOf(nodes);
    expect(loaded.map((s) => s.localLoads)).toEqual(urls.map((u) => count(owners, u)));
    expect(loaded.reduce((sum, s) => sum + s.localLoads, 0)).toBe(KEYS.length);
    expect(loaded.map((s) => [s.localLoadErrs, s.peerErrors])).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);

    for (const n of [n2, n3]) {
      const again = await getAll(n.url, KEYS);
      expect(valuesOf(again)).toEqual(expected(KEYS));
      expect(again.map((a) => a.owner)).toEqual(owners);
    }
    const after = await statsOf(nodes);
    expect(after.map((s) => [s.localLoads, s.peerErrors])).toEqual(loaded.map((s) => [s.localLoads, 0]));
  });
});

describe("special keys through peers", () => {
  let c: ProcessCluster | undefined;
  let nodes: RunningNode[] = [];
  beforeAll(async () => {
    c = await cluster(3);
    nodes = c.nodes;
  });
  afterAll(() => c?.stop());

  test("each one is fetched from its owner by a node that does not own it", async () => {
    const [n1, n2] = nodes as [RunningNode, RunningNode, RunningNode];
    const seen = [];
    for (const key of SPECIAL) {
      const first = await api(n1.url, key);
      // n1 fetched it from a peer, or owns it and n2 (which never asked for it) must fetch it from n1.
      const viaPeer = first.owner === n1.url ? await api(n2.url, key) : first;
      seen.push({ key, status: viaPeer.status, body: viaPeer.body, from: viaPeer.from });
    }
    expect(seen).toEqual(SPECIAL.map((key) => ({ key, status: 200, body: scoreOf(key), from: "peer" })));
    const s = await statsOf(nodes);
    expect(s.reduce((sum, x) => sum + x.localLoads, 0)).toBe(SPECIAL.length);
    expect(s.map((x) => x.peerErrors)).toEqual([0, 0, 0]);
  });
});

describe("a dead peer", () => {
  let c: ProcessCluster | undefined;
  let nodes: RunningNode[] = [];
  beforeAll(async () => {
    c = await cluster(3);
    nodes = c.nodes;
  });
  afterAll(() => c?.stop());

  test("it leaves the survivors' ring within 2 s with no traffic; its keys get one stand-in owner, loaded once", async () => {
    const [n1, n2, n3] = nodes as [RunningNode, RunningNode, RunningNode];
    const before = new Ring();
    before.set([n1.url, n2.url, n3.url]);
    const orphans = KEYS.filter((k) => before.get(k) === n3.url);
    expect(orphans.length).toBeGreaterThan(0);
    await n3.stop("SIGKILL");
    const ringOf = async (n: RunningNode) =>
      ((await (await fetch(`${n.url}/stats`)).json()) as { peers: string[] }).peers;
    const waited = await until("the survivors drop the dead node from their ring", async () =>
      (await Promise.all([n1, n2].map(ringOf))).every((r) => r.length === 2 && !r.includes(n3.url)),
    );
    expect(waited).toBeLessThan(2000);
    const answers = [...(await getAll(n1.url, KEYS)), ...(await getAll(n2.url, KEYS))];
    expect(valuesOf(answers)).toEqual([...expected(KEYS), ...expected(KEYS)]);
    expect(answers.filter((a) => a.owner === n3.url)).toEqual([]);
    const s = await statsOf([n1, n2]);
    // Each key is loaded once in the cluster (by its owner, the stand-in for the dead node's), never per node.
    expect({ loads: s[0]!.localLoads + s[1]!.localLoads, peerErrors: s.map((x) => x.peerErrors) }).toEqual({
      loads: KEYS.length,
      peerErrors: [0, 0],
    });
  });
});

describe("nodes that disagree about the peers", () => {
  /** start starts one node per list; node i's peers file names the nodes lists[i] gives by index. */
  const start = (lists: number[][]) =>
    spawnCluster(lists.length, () => [`--source=sqlite:${db}`, `--peer-timeout=${PEER_TIMEOUT_MS}ms`], {
      peers: (urls, i) => lists[i]!.map((j) => urls[j]!),
    });

  /** askBoth asks A then B for every key and checks that each answer is right and came back within the peer timeout. */
  async function askBoth(a: RunningNode, b: RunningNode): Promise<{ viaA: ApiAnswer[]; viaB: ApiAnswer[] }> {
    const viaA = await getAll(a.url, KEYS);
    const viaB = await getAll(b.url, KEYS);
    for (const answers of [viaA, viaB]) {
      expect(valuesOf(answers)).toEqual(expected(KEYS));
      expect(Math.max(...answers.map((x) => x.ms))).toBeLessThan(PEER_TIMEOUT_MS);
    }
    return { viaA, viaB };
  }

  test("B thinks it owns everything: A forwards to B, B never forwards back", async () => {
    await using c = await start([[0, 1], [1]]);
    const [a, b] = c.nodes as [RunningNode, RunningNode];
    const { viaA, viaB } = await askBoth(a, b);
    expect(viaB.every((x) => x.owner === b.url)).toBe(true);
    const forwarded = count(
      viaA.map((x) => x.owner),
      b.url,
    );
    expect(forwarded).toBeGreaterThan(0);
    const [sa, sb] = await statsOf([a, b]);
    expect([sa!.peerErrors, sa!.serverRequests, sa!.localLoads]).toEqual([0, 0, KEYS.length - forwarded]);
    expect([sb!.peerErrors, sb!.serverRequests, sb!.localLoads]).toEqual([0, forwarded, KEYS.length]);
  });

  test("B also lists a dead C: C leaves B's ring, A and B agree, nothing loops between them", async () => {
    await using c = await start([[0, 1], [0, 1, 2], [2]]);
    const [a, b, dead] = c.nodes as [RunningNode, RunningNode, RunningNode];
    await dead.stop("SIGKILL"); // C is on B's list but no longer answers
    const ringOf = async (n: RunningNode) =>
      ((await (await fetch(`${n.url}/stats`)).json()) as { peers: string[] }).peers;
    await until("B drops the dead C from its ring", async () => !(await ringOf(b)).includes(dead.url));
    const { viaA, viaB } = await askBoth(a, b);
    expect(viaA.map((x) => x.owner)).toEqual(viaB.map((x) => x.owner));
    const [sa, sb] = await statsOf([a, b]);
    expect([sa!.peerErrors, sb!.peerErrors]).toEqual([0, 0]);
    expect(sa!.serverRequests).toBe(
      count(
        viaB.map((x) => x.owner),
        a.url,
      ),
    );
  });
});

describe("--api", () => {
  test("opens a second listener with the API routes but not the peer routes", async () => {
    await using node = await spawnNode(["--port=0", "--api", "--api-port=0"]);
    expect([node.url, node.apiUrl].map((u) => /^http:\/\/127\.0\.0\.1:\d+$/.test(u))).toEqual([true, true]);
    expect(node.apiUrl).not.toBe(node.url);
    const cases: Array<[string, number]> = [
      [`${node.apiUrl}/api?key=Tom`, 200],
      [`${node.apiUrl}/stats`, 200],
      [`${node.apiUrl}/healthz`, 200],
      [`${node.apiUrl}/_geecache/scores/Tom`, 404],
      [`${node.url}/_geecache/scores/Tom`, 200],
      [`${node.url}/api?key=Tom`, 200],
    ];
    const got = [];
    for (const [url] of cases) {
      const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await res.arrayBuffer();
      got.push([url, res.status]);
    }
    expect(got).toEqual(cases);
    const tom = await api(node.apiUrl, "Tom");
    expect([tom.status, tom.body]).toEqual([200, "630"]);
  });
});

describe("--hash=crc32", () => {
  let c: ProcessCluster | undefined;
  let nodes: RunningNode[] = [];
  beforeAll(async () => {
    c = await cluster(3, ["--hash=crc32", "--replicas=50"]);
    nodes = c.nodes;
  });
  afterAll(() => c?.stop());

  test("routes every key to the owner groupcache's ring picks", async () => {
    const urls = nodes.map((n) => n.url);
    const ring = new Ring({ hash: "crc32", replicas: 50 });
    ring.set(urls);
    const answers = [];
    for (const [i, key] of KEYS.entries()) answers.push(await api(nodes[i % nodes.length]!.url, key));
    expect(valuesOf(answers)).toEqual(expected(KEYS));
    const want = KEYS.map((k) => ring.get(k) ?? null);
    expect(answers.map((a) => a.owner)).toEqual(want);
    expect((await statsOf(nodes)).map((s) => s.localLoads)).toEqual(urls.map((u) => count(want, u)));
  });
});
