import { describe, expect, test } from "bun:test";
import { Ring } from "../src/core/consistent-hash.ts";
import { startCluster } from "./helpers/cluster.ts";

describe("Ring.getN", () => {
  test("the owner first, then the next distinct peers clockwise; never more than the ring holds", () => {
    const ring = new Ring({ replicas: 50 });
    ring.set(["a", "b", "c"]);
    for (const key of ["k1", "k2", "k3", "Tom"]) {
      const three = ring.getN(key, 3);
      expect({
        first: three[0],
        distinct: new Set(three).size,
        two: ring.getN(key, 2),
        five: ring.getN(key, 5),
      }).toEqual({
        first: ring.get(key),
        distinct: 3,
        two: three.slice(0, 2),
        five: three,
      });
    }
    expect(new Ring().getN("k", 2)).toEqual([]);
  });
});

describe("--copies=2: written values on two nodes", () => {
  const options = (loads: string[][]) => ({
    peerSet: () => ({ copies: 2 }),
    group: () => ({ hotCacheRatio: 0 }),
    getter: (i: number) => (key: string) => (loads[i]!.push(key), `source:${key}`),
  });

  test("an acknowledged write survives its owner's death: every survivor reads it back, nothing is loaded", async () => {
    const loads: string[][] = [[], [], []];
    await using c = await startCluster(3, options(loads));
    const written = Array.from({ length: 30 }, (_, i) => `w${i}`);
    for (const k of written) expect((await c.nodes[0]!.group.set(k, `written:${k}`)).failed).toEqual([]);
    const victim = 1;
    const owned = written.filter((k) => c.ownerIndex(k) === victim);
    await c.stopNode(victim);
    const reads = await Promise.all(
      [0, 2].flatMap((i) => owned.map(async (k) => (await c.nodes[i]!.group.get(k)).toString())),
    );
    expect({
      owned: owned.length > 0,
      reads: reads.every((v, j) => v === `written:${owned[j % owned.length]}`),
      loads,
    }).toEqual({ owned: true, reads: true, loads: [[], [], []] });
  });

  test("a restarted owner takes a written value back from the copy holder before it would load", async () => {
    const loads: string[][] = [[], [], []];
    await using c = await startCluster(3, options(loads));
    const key = c.keyOwnedBy(2);
    await c.nodes[0]!.group.set(key, "written");
    c.nodes[2]!.group.removeLocal(key); // the owner lost it (a restart empties its caches)
    const res = await c.nodes[2]!.group.getEntry(key);
    expect({ value: res.value.toString(), loads, cached: c.nodes[2]!.group.lookup(key)?.from }).toEqual({
      value: "written",
      loads: [[], [], []],
      cached: "main",
    });
  });

  test("a copy holder never serves its copy while the owner answers: nodes cannot disagree after a partition heals", async () => {
    const loads: string[][] = [[], [], []];
    await using c = await startCluster(3, options(loads));
    const key = c.keyOwnedBy(0);
    await c.nodes[2]!.group.set(key, "v1");
    const holder = c.nodes.findIndex((n, i) => i !== 0 && n.group.peek(key) !== undefined);
    c.nodes[0]!.group.setLocal(key, "v2"); // the owner took a write the holder missed (it was cut off)
    const reads = await Promise.all(c.nodes.map(async (n) => (await n.group.get(key)).toString()));
    expect({ holder: holder > 0, reads, loads }).toEqual({
      holder: true,
      reads: ["v2", "v2", "v2"],
      loads: [[], [], []],
    });
  });

  test("remove reaches the copies too: after a DELETE no node serves the written value", async () => {
    const loads: string[][] = [[], [], []];
    await using c = await startCluster(3, options(loads));
    const key = c.keyOwnedBy(0);
    await c.nodes[1]!.group.set(key, "written");
    expect((await c.nodes[2]!.group.remove(key)).failed).toEqual([]);
    expect(c.nodes.map((n) => n.group.peek(key))).toEqual([undefined, undefined, undefined]);
  });
});
