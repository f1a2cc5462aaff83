// Operator logs through real processes of dist/geecache: a peer going down and coming back is one
// line each, a write that misses its owner is one line naming the peer, debug loads carry their
// outcome and duration, shutdown phases are logged, JSON lines carry `fields`, pretty lines a time,
// and no token or password ever reaches the output.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpTransport, PeerSet } from "../src/index.ts";
import { keysOwnedBy } from "./helpers/owned-keys.ts";
import { type RunningNode, requireBinary, spawnNode } from "./helpers/process.ts";
import { until } from "./helpers/until.ts";

interface Line {
  time: string;
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

const dir = mkdtempSync(join(tmpdir(), "geecache-oplogs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jsonLines = (node: RunningNode): Line[] =>
  node.stdout.text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Line);

const get = async (url: string) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
};

describe("operator logs", () => {
  test("a killed peer: one down line and one ring line, a PUT of its key taken by the stand-in (200 naming the peer it could not tell), after its restart one up line and one ring line; shutdown phases", async () => {
    requireBinary();
    // B on its own loopback address, so that it can come back on the same URL.
    const host = `127.0.0.${2 + Math.floor(Math.random() * 250)}`;
    let b = await spawnNode([`--host=${host}`, "--port=0"]);
    const bUrl = b.url;
    const peersFile = join(dir, "peers-a");
    writeFileSync(peersFile, "");
    await using a = await spawnNode([
      "--port=0",
      `--peers-file=${peersFile}`,
      "--peers-file-interval=100ms",
      "--log-format=json",
      "--drain=100ms",
    ]);
    try {
      writeFileSync(peersFile, `${a.url}\n${bUrl}\n`);
      const ring = new PeerSet({ self: a.url, transports: [httpTransport()] });
      ring.setPeers([a.url, bUrl]);
      const bKeys = keysOwnedBy(ring, bUrl, 5, "k");
      const stats = async () => (await (await fetch(`${a.url}/stats`)).json()) as { peers: string[]; down: string[] };
      await until("A lists B", async () => (await stats()).peers.includes(bUrl));
      for (const k of bKeys) expect(await get(`${a.url}/api?key=${k}`)).toBe(404); // B answers: not in the demo table

      await b.stop("SIGKILL");
      let i = 0;
      await until(
        "A marks B down",
        async () => {
          await get(`${a.url}/api?key=${bKeys[i++ % bKeys.length]}`); // each miss of B's keys is a failure A counts
          return (await stats()).down.includes(bUrl);
        },
        { timeoutMs: 10_000 },
      );
      for (const k of bKeys) await get(`${a.url}/api?key=${k}`); // more failures: no more lines
      // B is out of A's ring: A is the stand-in owner of B's keys, so a write is placed where reads find it;
      // the answer still names B, which could not be told to drop its copy.
      const put = await fetch(`${a.url}/api?key=${bKeys[0]}`, { method: "PUT", body: "v" });
      expect([put.status, (await put.text()).includes(bUrl)]).toEqual([200, true]);
      expect(await (await fetch(`${a.url}/api?key=${bKeys[0]}`)).text()).toBe("v");

      b = await spawnNode([`--host=${host}`, `--port=${new URL(bUrl).port}`]);
      expect(b.url).toBe(bUrl);
      await a.stdout.wait(/answers again/, 20_000);
      await until("A marks B up", async () => !(await stats()).down.includes(bUrl));
      // A stops first: B stopping first would be a second "down" for A's background probes to log.
      expect(await a.stop()).toBe(0);
    } finally {
      await b.stop();
    }

    const lines = jsonLines(a); // every line parses as one object
    const about = (re: RegExp) =>
      lines.filter((l) => re.test(l.message)).map((l) => ({ level: l.level, fields: l.fields }));
    expect(about(/is down after/)).toEqual([
      { level: "warn", fields: { peer: bUrl, status: "down", failures: 3, error: expect.any(String) } },
    ]);
    expect(about(/answers again/)).toEqual([
      {
        level: "info",
        fields: {
          peer: bUrl,
          status: "up",
          duration_ms: expect.any(Number),
          failures: expect.any(Number),
          dropped: expect.any(Number),
        },
      },
    ]);
    expect(about(/^ring: /)).toEqual([
      { level: "info", fields: { peer: bUrl, status: "down", nodes: 1 } },
      { level: "info", fields: { peer: bUrl, status: "in", nodes: 2 } },
    ]);
    expect(about(/^write PUT/)).toEqual([
      {
        level: "warn",
        fields: {
          group: "scores",
          key: expect.any(String),
          method: "PUT",
          status: 200,
          peer: bUrl,
          peers: [bUrl],
          error: expect.stringContaining(bUrl),
        },
      },
    ]);
    expect(lines.flatMap((l) => (typeof l.fields?.phase === "string" ? [l.fields.phase] : []))).toEqual([
      "drain_start",
      "handover",
      "drain_end",
      "in_flight",
      "in_flight_done",
      "exit",
    ]);
  }, 60_000);

  test("--log-level=debug: each load's outcome and duration, in fields too", async () => {
    await using node = await spawnNode(["--port=0", "--log-level=debug", "--log-format=json"]);
    expect([await get(`${node.url}/api?key=Tom`), await get(`${node.url}/api?key=nobody`)]).toEqual([200, 404]);
    await node.stdout.wait(/load scores\/\\"nobody\\" not_found/, 5000);
    const loads = jsonLines(node).filter((l) => /^load /.test(l.message));
    expect(loads.map((l) => ({ message: l.message.replace(/[\d.]+ms$/, "Nms"), fields: l.fields }))).toEqual([
      {
        message: 'load scores/"Tom" ok Nms',
        fields: { group: "scores", key: "Tom", status: "ok", duration_ms: expect.any(Number) },
      },
      {
        message: 'load scores/"nobody" not_found Nms',
        fields: { group: "scores", key: "nobody", status: "not_found", duration_ms: expect.any(Number) },
      },
    ]);
  });

  test("pretty lines carry a time; no token or password appears anywhere, a failing source is one rate-limited line", async () => {
    const token = "peer-T0KEN-xyz";
    const apiToken = "api-T0KEN-abc";
    const password = "pa55-W0RD-q";
    const node = await spawnNode([
      "--port=0",
      `--token=${token}`,
      `--api-token=${apiToken}`,
      `--source=postgres://app:${password}@127.0.0.1:1/db`,
      "--log-level=debug",
    ]);
    for (const k of ["Tom", "Jack", "Sam"]) expect(await get(`${node.url}/api?key=${k}`)).toBe(503);
    const put = await fetch(`${node.url}/api?key=Tom`, {
      method: "PUT",
      body: "1",
      headers: { authorization: `Bearer ${apiToken}` },
    });
    expect(put.status).toBe(204);
    expect(await node.stop()).toBe(0);
    const out = node.stdout.text + node.stderr.text;
    for (const secret of [token, apiToken, password]) expect(out).not.toContain(secret);
    const all = out.split("\n").filter((l) => l !== "");
    expect(all.filter((l) => !/^\d\d:\d\d:\d\d\.\d{3} (INFO |WARN |DEBUG|ERROR) /.test(l))).toEqual([]);
    // Three failed loads within the interval: the first at once, the other two when the node exits.
    expect(
      node.stderr.text
        .split("\n")
        .filter((l) => l.includes("source of group scores failed"))
        .map((l) => l.match(/failed (\d+) loads?/)?.[1]),
    ).toEqual(["1", "2"]);
    expect(out).toContain("postgres://app:***@127.0.0.1:1/db");
  });
});
