// Warm restarts: --snapshot saves every group's main cache on SIGTERM and loads it on start. The
// file format round-trips values, expiries and write times; a damaged file loads nothing and says
// why; a node restarted with its snapshot serves its keys without asking the source again.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ByteView } from "../src/core/byteview.ts";
import { Group } from "../src/group/group.ts";
import { Registry } from "../src/group/registry.ts";
import { Snapshots } from "../src/node/snapshot.ts";
import { loadSnapshot, SnapshotError, saveSnapshot } from "../src/node/snapshot-file.ts";
import { runCli, spawnNode } from "./helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "geecache-snap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `s${n++}.snap`);

/** registry makes groups whose loader answers "src:<key>" and counts its calls. */
function registry(names: string[], now = () => Date.now(), cacheBytes = 1 << 20) {
  const loads: string[] = [];
  const r = new Registry();
  for (const name of names)
    r.add(
      new Group({
        name,
        cacheBytes,
        now,
        getter: (k) => {
          loads.push(`${name}/${k}`);
          return `src:${k}`;
        },
      }),
    );
  return { r, loads };
}

describe("snapshot file", () => {
  test("round trip: loaded and written values, expiries and write times; expired entries and unknown groups skipped", async () => {
    const t = 1_000_000;
    const a = registry(["scores", "gone"], () => t);
    const g = a.r.get("scores")!;
    await g.get("loaded");
    g.setLocal("written", "w1", { expiresAt: t + 60_000, written: t - 5 });
    g.setLocal("soon", "x", { expiresAt: t + 10 });
    g.setLocal("bytes", new Uint8Array([0, 255, 10]));
    await a.r.get("gone")!.get("k");
    const path = file();
    const saved = await saveSnapshot(path, a.r);
    expect({ groups: saved.groups, entries: saved.entries }).toEqual({ groups: 2, entries: 5 });

    const b = registry(["scores"], () => t + 20); // "soon" has expired by now; group "gone" no longer exists
    const warned: string[] = [];
    const loaded = await loadSnapshot(path, b.r, (m) => warned.push(m), t + 20);
    const h = b.r.get("scores")!;
    const got = (k: string) => {
      const e = h.peek(k);
      return e && { value: e.value.toString(), expiresAt: e.expiresAt, written: e.written, from: e.from };
    };
    expect({
      loaded: { entries: loaded?.entries, skipped: loaded?.skipped },
      warned: warned.map((w) => w.replace(path, "PATH")),
      loadedKey: got("loaded"),
      written: got("written"),
      soon: got("soon"),
      bytes: [...(h.peek("bytes")?.value.bytes() ?? [])],
      loads: b.loads,
    }).toEqual({
      loaded: { entries: 3, skipped: 2 },
      warned: ["snapshot PATH: group gone no longer exists; its entries are skipped"],
      loadedKey: { value: "src:loaded", expiresAt: 0, written: undefined, from: "main" },
      written: { value: "w1", expiresAt: t + 60_000, written: t - 5, from: "main" },
      soon: undefined,
      bytes: [0, 255, 10],
      loads: [],
    });
  });

  test("the W-TinyLFU counts travel with the entries", async () => {
    const a = registry(["scores"]);
    const g = a.r.get("scores")!;
    for (let i = 0; i < 50; i++) await g.get(`k${i % 10}`); // some keys asked often
    const path = file();
    await saveSnapshot(path, a.r);
    const b = registry(["scores"]);
    await loadSnapshot(path, b.r, () => {});
    const saved = g.admission!.save();
    expect(saved.length).toBeGreaterThan(8);
    expect(Buffer.from(b.r.get("scores")!.admission!.save()).equals(Buffer.from(saved))).toBe(true);
  });

  test("a budget smaller than the snapshot keeps the most valuable entries", async () => {
    const a = registry(["scores"], Date.now, 1 << 20);
    const g = a.r.get("scores")!;
    for (let i = 0; i < 100; i++) g.setLocal(`k${i}`, "x".repeat(1000));
    for (let i = 0; i < 10; i++) g.lookup(`k${i}`); // recently used: the most valuable
    const path = file();
    await saveSnapshot(path, a.r);
    const b = registry(["scores"], Date.now, 30_000); // room for about 30 of 100
    await loadSnapshot(path, b.r, () => {});
    const kept = Array.from({ length: 100 }, (_, i) => `k${i}`).filter((k) => b.r.get("scores")!.peek(k));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(100);
    expect(Array.from({ length: 10 }, (_, i) => `k${i}`).every((k) => kept.includes(k))).toBe(true);
  });

  test("a missing file is a cold start: undefined, nothing loaded", async () => {
    expect(await loadSnapshot(join(dir, "none.snap"), registry(["scores"]).r, () => {})).toBeUndefined();
  });

  const damaged: Array<[string, (bytes: Uint8Array) => Uint8Array, RegExp]> = [
    ["truncated", (b) => b.subarray(0, b.length - 7), /truncated/],
    ["corrupt (one byte flipped)", (b) => b.map((x, i) => (i === 30 ? x ^ 0xff : x)), /checksum/],
    ["foreign", () => new TextEncoder().encode("not a snapshot at all, just text\n"), /not a geecache snapshot/],
    [
      "of a newer version",
      (b) => {
        const c = b.slice();
        new DataView(c.buffer).setUint32(8, 99, true);
        return c;
      },
      /version 99 is newer/,
    ],
  ];
  test.each(damaged)("a %s file: a SnapshotError that says so, and nothing loaded", async (_, damage, why) => {
    const a = registry(["scores"]);
    await a.r.get("scores")!.get("Tom");
    a.r.get("scores")!.setLocal("w", "v");
    const path = file();
    await saveSnapshot(path, a.r);
    writeFileSync(path, damage(new Uint8Array(readFileSync(path))));
    const b = registry(["scores"]);
    const err = await loadSnapshot(path, b.r, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as Error).message).toMatch(why);
    expect([b.r.get("scores")!.peek("Tom"), b.r.get("scores")!.peek("w")]).toEqual([undefined, undefined]);
  });

  test("a value bigger than a write chunk (2 MiB) streams through", async () => {
    const a = registry(["scores"], Date.now, 8 << 20);
    const big = new Uint8Array(2 << 20).map((_, i) => i % 251);
    a.r.get("scores")!.setLocal("big", ByteView.from(big));
    const path = file();
    await saveSnapshot(path, a.r);
    const b = registry(["scores"], Date.now, 8 << 20);
    await loadSnapshot(path, b.r, () => {});
    expect(Bun.hash.crc32(b.r.get("scores")!.peek("big")!.value.bytes())).toBe(Bun.hash.crc32(big));
  });
});

describe("Snapshots.keepOwned", () => {
  test("entries of keys other nodes own now are kept for their handoff only: peeked, never served by a get", () => {
    const a = registry(["scores"]);
    const g = a.r.get("scores")!;
    g.setLocal("mine", "1");
    g.setLocal("theirs", "2");
    const lines: string[] = [];
    const s = new Snapshots("x.snap", a.r, { info: (m) => lines.push(m), warn: (m) => lines.push(m) });
    s.keepOwned((k) => k === "mine");
    expect({
      mine: g.lookup("mine")?.from,
      theirsServed: g.lookup("theirs"),
      theirsPeeked: g.peek("theirs")?.value.toString(),
      lines,
    }).toEqual({
      mine: "main",
      theirsServed: undefined,
      theirsPeeked: "2",
      lines: ["snapshot x.snap: 1 entries belong to other nodes now; kept for their handoff only"],
    });
  });
});

describe("--snapshot through the binary", () => {
  test("SIGTERM saves, a restart loads before it is ready: cached and written keys served without the source", async () => {
    let origin = 0;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => {
        origin++;
        return new Response(`o:${new URL(req.url).pathname.slice(1)}`);
      },
    });
    const path = join(dir, "node.snap");
    const args = ["--port=0", `--snapshot=${path}`, `--source=http://127.0.0.1:${server.port}/{key}`];
    try {
      const a = await spawnNode(args);
      const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
      for (const k of keys) await (await fetch(`${a.url}/api?key=${k}`)).text();
      expect((await fetch(`${a.url}/api?key=w`, { method: "PUT", body: "written" })).status).toBe(204);
      expect(await a.stop()).toBe(0);
      expect(a.stdout.text).toMatch(/saved 51 entries/);
      const loadsBefore = origin;
      const b = await spawnNode(args);
      try {
        const values = await Promise.all(keys.map(async (k) => (await fetch(`${b.url}/api?key=${k}`)).text()));
        const w = await (await fetch(`${b.url}/api?key=w`)).text();
        expect({ ok: values.every((v, i) => v === `o:${keys[i]}`), w, originLoads: origin - loadsBefore }).toEqual({
          ok: true,
          w: "written",
          originLoads: 0,
        });
        expect(b.stdout.text).toMatch(/loaded 51 entries/);
        const stats = (await (await fetch(`${b.url}/stats`)).json()) as { snapshot: { loaded: { entries: number } } };
        const metrics = await (await fetch(`${b.url}/metrics`)).text();
        const page = (await (await fetch(`${b.url}/status.json`)).json()) as {
          snapshot: { loaded: { entries: number } };
        };
        expect(page.snapshot.loaded.entries).toBe(51); // what the status page shows
        expect({
          stats: stats.snapshot.loaded.entries,
          metrics: metrics.match(/^geecache_snapshot_entries\{op="load"\} (\d+)$/m)?.[1],
        }).toEqual({
          stats: 51,
          metrics: "51",
        });
      } finally {
        await b.stop();
      }
    } finally {
      server.stop(true);
    }
  });

  test("a snapshot path in a folder that does not exist is refused at start-up: one line, exit 2", async () => {
    const r = await runCli(["--port=0", "--snapshot=/nonexistent-folder/x.snap"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: "geecache: --snapshot is in a folder that does not exist (/nonexistent-folder)\n",
    });
  });

  test("a damaged snapshot: one warning naming the file and the reason, and the node starts cold", async () => {
    const path = join(dir, "bad.snap");
    writeFileSync(path, "garbage");
    const node = await spawnNode(["--port=0", `--snapshot=${path}`]);
    try {
      expect(await (await fetch(`${node.url}/api?key=Tom`)).text()).toBe("630");
      expect(`${node.stdout.text}${node.stderr.text}`).toContain(
        `snapshot ${path}: not a geecache snapshot; starting cold`,
      );
    } finally {
      await node.stop("SIGKILL");
    }
  });
});
