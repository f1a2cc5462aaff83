// Purging a whole group: DELETE /api?group=G&all=true drops every entry of G on every node, so no
// node serves a value loaded before the purge; a node that could not be told purges when it next
// answers a peer (the purge number on every answer tells it). Bad requests are one line.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Group } from "../src/group/group.ts";
import { type ProcessCluster, spawnCluster } from "./helpers/process.ts";

let version = 1;
const origin = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (req) => new Response(`${new URL(req.url).pathname.slice(1)}@v${version}`),
});
const TOKEN = "purge-token";
let c: ProcessCluster;
beforeAll(async () => {
  c = await spawnCluster(3, () => [`--source=http://127.0.0.1:${origin.port}/{key}`, `--api-token=${TOKEN}`]);
}, 30_000);
afterAll(async () => {
  await c?.stop();
  origin.stop(true);
});

const auth = { authorization: `Bearer ${TOKEN}` };
const get = async (base: string, key: string) => (await fetch(`${base}/api?key=${encodeURIComponent(key)}`)).text();
const purge = (base: string, query = "group=scores&all=true", headers: Record<string, string> = auth) =>
  fetch(`${base}/api?${query}`, { method: "DELETE", headers });
const everywhere = async (keys: readonly string[]) =>
  (await Promise.all(c.nodes.map((n) => Promise.all(keys.map((k) => get(n.url, k)))))).flat();

describe("DELETE /api?group=G&all=true", () => {
  test("every node serves the source's new values after a 204 purge, nothing from before it", async () => {
    version = 1;
    const keys = Array.from({ length: 60 }, (_, i) => `p${i}`);
    expect(new Set(await everywhere(keys)).size).toBe(keys.length); // cached everywhere, at v1
    version = 2;
    expect((await everywhere(keys)).every((v) => v.endsWith("@v1"))).toBe(true); // still cached
    const res = await purge(c.nodes[1]!.url);
    expect(res.status).toBe(204);
    expect((await everywhere(keys)).filter((v) => !v.endsWith("@v2"))).toEqual([]);
  });

  test("a node frozen during the purge is named in a 200; once it runs again no node serves an old value", async () => {
    version = 3;
    const stopped = c.nodes[2]!;
    // Keys the node about to miss the purge owns, cached there (asked through node 0) at v3.
    const asked = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const res = await fetch(`${c.nodes[0]!.url}/api?key=m${i}`);
        await res.text();
        return { key: `m${i}`, owner: res.headers.get("x-geecache-owner") };
      }),
    );
    const theirs = asked.filter((x) => x.owner === c.urls[2]).map((x) => x.key);
    expect(theirs.length).toBeGreaterThan(0);
    stopped.proc.kill("SIGSTOP");
    try {
      version = 4;
      const res = await purge(c.nodes[0]!.url);
      expect([res.status, (await res.text()).includes(c.urls[2]!)]).toEqual([200, true]);
    } finally {
      stopped.proc.kill("SIGCONT");
    }
    // The frozen node answers nothing in time, so the purge names it; once it runs again it takes the
    // purge it was sent (or, had that been lost, the purge number of node 0's next request tells it).
    const after = await Promise.all(theirs.map((k) => get(c.nodes[0]!.url, k)));
    expect(after.filter((v) => !v.endsWith("@v4"))).toEqual([]);
    const direct = await Promise.all(theirs.map((k) => get(stopped.url, k)));
    expect(direct.filter((v) => !v.endsWith("@v4"))).toEqual([]);
  }, 30_000);

  test.each([
    ["all=maybe", "group=scores&all=maybe", auth, 400, /all=true purges a whole group/],
    ["no group", "all=true", auth, 400, /names its group/],
    ["an unknown group", "group=nope&all=true", auth, 404, /no such group: nope/],
    ["no token", "group=scores&all=true", {}, 401, /needs the API token/],
  ] as const)("%s: one line, nothing purged", async (_, query, headers, status, line) => {
    version = 5;
    await get(c.nodes[0]!.url, "kept");
    const res = await purge(c.nodes[0]!.url, query, headers);
    const body = await res.text();
    expect([res.status, line.test(body), body.trim().split("\n").length]).toEqual([status, true, 1]);
    version = 6;
    expect(await get(c.nodes[0]!.url, "kept")).toBe("kept@v5");
  });
});

describe("Group.purgeLocal", () => {
  test("a load in flight during a purge keeps nothing; a number already seen purges nothing", async () => {
    const gate = Promise.withResolvers<void>();
    let n = 0;
    const g = new Group({
      name: "g",
      getter: async (k) => {
        n++;
        if (k === "slow") await gate.promise;
        return `${k}#${n}`;
      },
    });
    await g.get("a");
    const slow = g.get("slow");
    expect(g.purgeLocal()).toBe(1);
    gate.resolve();
    await slow;
    expect({ slow: g.peek("slow"), a: g.peek("a"), generation: g.generation }).toEqual({
      slow: undefined,
      a: undefined,
      generation: 1,
    });
    await g.get("b");
    expect([g.purgeLocal(1), g.peek("b")?.value.toString()]).toEqual([0, "b#3"]);
  });
});

describe("the purge number on peer answers", () => {
  /** pair makes groups A and B where A's every key is owned by B, reached through a client that carries B's purge number. */
  function pair() {
    let version = 1;
    const getter = (k: string) => `${k}@v${version}`;
    const b = new Group({ name: "g", getter });
    const client = {
      url: "http://b",
      extended: true,
      get: async (_: string, key: string) => {
        const r = await b.getLocal(key);
        return {
          value: r.value.bytes(),
          expiresAt: r.expiresAt,
          ...(b.generation ? { generation: b.generation } : {}),
        };
      },
      purge: async (_: string, generation: number) => void b.purgeLocal(generation),
    };
    const a = new Group({ name: "g", getter, hotCacheRatio: 0, peers: { pickPeer: () => client } });
    return { a, b, bump: () => version++ };
  }

  test("an owner that missed a purge is told to purge when it answers with an older number, and answers again", async () => {
    const { a, b, bump } = pair();
    expect((await a.get("k")).toString()).toBe("k@v1"); // now cached at B
    bump();
    a.purgeLocal(); // A purged; B did not hear of it
    expect({ value: (await a.get("k")).toString(), b: b.generation }).toEqual({ value: "k@v2", b: 1 });
  });

  test("a node that missed a purge takes it when an owner answers with a newer number", async () => {
    const { a, b } = pair();
    a.setLocal("local", "mine"); // something A holds
    b.purgeLocal(); // B purged; A did not hear of it
    await a.get("k");
    expect({ a: a.generation, local: a.peek("local") }).toEqual({ a: 1, local: undefined });
  });
});
