// Nodes of the compiled binary that follow a DNS name served by a real dnsmasq: each node on its
// own loopback address, all on one port, as pods of a headless Service.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DNSMASQ, type DnsServer, startDns } from "./helpers/dns.ts";
import { type RunningNode, requireBinary, spawnNode } from "./helpers/process.ts";
import { until } from "./helpers/until.ts";

const KEYS = Array.from({ length: 100 }, (_, i) => `key-${i}`);
const INTERVAL = "200ms";

/** origin is an HTTP source that counts its loads per key. */
function startOrigin() {
  const loads = new Map<string, number>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const key = decodeURIComponent(new URL(req.url).pathname.slice("/v/".length));
      loads.set(key, (loads.get(key) ?? 0) + 1);
      return new Response(`value of ${key}`);
    },
  });
  return { server, loads, spec: `http://127.0.0.1:${server.port}/v/{key}` };
}

/** UNTIL bounds each wait on the nodes (polled every 50 ms, a failed fetch counting as not yet). */
const UNTIL = { timeoutMs: 8000 };

async function peersOf(node: RunningNode): Promise<string[]> {
  return ((await (await fetch(`${node.url}/stats`)).json()) as { peers: string[] }).peers;
}

async function get(node: RunningNode, key: string): Promise<{ status: number; body: string; owner: string | null }> {
  const res = await fetch(`${node.url}/api?key=${key}`);
  return { status: res.status, body: await res.text(), owner: res.headers.get("x-geecache-owner") };
}

// Pods share one port, each on its own address. The --peers-dns nodes take the port the first one
// got on --port=0; the SRV test needs its port before any node starts (it is part of --self), so it
// guesses one on addresses nothing else uses.
let port = 0;
const srvPort = 20000 + Math.floor(Math.random() * 40000);

describe.skipIf(!DNSMASQ)("nodes that follow --peers-dns (dnsmasq)", () => {
  let dns: DnsServer;
  const origin = startOrigin();
  const nodes = new Map<string, RunningNode>();
  const address = (i: number) => `127.0.0.${i + 2}`;
  const start = (i: number, extra: string[] = []) =>
    spawnNode([
      `--host=${address(i)}`,
      `--port=${port}`,
      "--peers-dns=svc.test",
      `--dns-server=${dns.server}`,
      `--dns-interval=${INTERVAL}`,
      "--hot-cache-ratio=0",
      "--peer-timeout=5s",
      `--source=${origin.spec}`,
      ...extra,
    ]);
  const hosts = (ids: number[]) => ids.map((i): [string, string] => [address(i), "svc.test"]);
  const converged = async (ids: number[]) => {
    const want = ids.map((i) => `http://${address(i)}:${port}`).sort();
    await until(
      `nodes ${ids.join(",")} to list ${want.length} peers`,
      async () => {
        for (const i of ids)
          if (JSON.stringify((await peersOf(nodes.get(address(i))!)).sort()) !== JSON.stringify(want)) return false;
        return true;
      },
      UNTIL,
    );
  };

  beforeAll(async () => {
    requireBinary();
    dns = await startDns(hosts([0, 1, 2]));
    const first = await start(0);
    port = Number(new URL(first.url).port);
    nodes.set(address(0), first);
    for (const i of [1, 2]) nodes.set(address(i), await start(i));
  });

  afterAll(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop("SIGKILL")));
    await dns?.stop();
    origin.server.stop(true);
  });

  test("all nodes converge on one ring; every key answers from every node and is loaded once", async () => {
    await converged([0, 1, 2]);
    for (const i of [0, 1, 2]) {
      const answers = await Promise.all(KEYS.map((k) => get(nodes.get(address(i))!, k)));
      expect(answers.filter((a) => a.status !== 200 || a.body !== `value of ${KEYS[answers.indexOf(a)]}`)).toEqual([]);
    }
    expect({ keys: origin.loads.size, maxLoads: Math.max(...origin.loads.values()) }).toEqual({
      keys: 100,
      maxLoads: 1,
    });
  }, 20_000);

  test("a fourth node joins: every node lists four peers, and handoff spares the source for the keys that moved", async () => {
    await dns.setHosts(hosts([0, 1, 2, 3]));
    nodes.set(address(3), await start(3, ["--drain=1500ms"]));
    await converged([0, 1, 2, 3]);
    origin.loads.clear();
    const owners = await Promise.all(KEYS.map((k) => get(nodes.get(address(0))!, k)));
    const moved = owners.filter((o) => o.owner === `http://${address(3)}:${port}`).length;
    const movedLoads = [...origin.loads.values()].reduce((a, b) => a + b, 0);
    console.log(
      `join: ${moved} of ${KEYS.length} keys moved to the new node; source loads for them: ${movedLoads} (${moved ? ((100 * movedLoads) / moved).toFixed(0) : 0}%)`,
    );
    expect(owners.every((o) => o.status === 200)).toBe(true);
    expect(moved).toBeGreaterThan(0);
    expect(movedLoads).toBeLessThanOrEqual(Math.floor(moved * 0.1));
  }, 20_000);

  test("a node removed from DNS and stopped with SIGTERM fails no request to the others, during its drain and after", async () => {
    const leaving = nodes.get(address(3))!;
    const draining = fetch(`${leaving.url}/readyz`); // warm the connection; readyz is checked below
    await draining;
    let failed = 0;
    let done = 0;
    let stop = false;
    const load = (async () => {
      for (let round = 0; round < 200 && !stop; round++) {
        const answers = await Promise.all(
          KEYS.slice(0, 30).map((k) => get(nodes.get(address(round % 3))!, k).catch(() => ({ status: 0 }))),
        );
        failed += answers.filter((a) => a.status !== 200).length;
        done += answers.length;
      }
    })();
    await dns.setHosts(hosts([0, 1, 2]));
    leaving.proc.kill("SIGTERM");
    await until(
      "the leaving node to answer /readyz 503",
      async () => (await fetch(`${leaving.url}/readyz`)).status === 503,
      { timeoutMs: 3000 },
    );
    await converged([0, 1, 2]);
    await leaving.proc.exited; // after its 1.5 s drain
    expect({ code: await leaving.stop(), drained: /draining for 1500ms/.test(leaving.stdout.text) }).toEqual({
      code: 0,
      drained: true,
    });
    nodes.delete(address(3));
    stop = true;
    await load;
    expect({ failed, some: done > 0 }).toEqual({ failed: 0, some: true });
  }, 20_000);

  test("DNS answering nothing keeps the ring as it was", async () => {
    await dns.setHosts([]);
    await Promise.all(
      [0, 1, 2].map((i) =>
        Promise.any([
          nodes.get(address(i))!.stdout.wait(/lookup failed/, 5000),
          nodes.get(address(i))!.stderr.wait(/lookup failed/, 5000),
        ]),
      ),
    );
    await Bun.sleep(1000); // five polls of 200 ms: the time that passes is what is tested here
    for (const i of [0, 1, 2]) expect((await peersOf(nodes.get(address(i))!)).length).toBe(3);
    expect((await get(nodes.get(address(0))!, "key-1")).status).toBe(200);
    await dns.setHosts(hosts([0, 1, 2]));
  }, 20_000);
});

describe.skipIf(!DNSMASQ)("nodes that follow --peers-srv (dnsmasq)", () => {
  test("a peer's identity is its SRV target name: a pod restarted on a new address keeps its place on the ring and its keys", async () => {
    requireBinary();
    const origin = startOrigin();
    const ip = (i: number, gen = 0) => `127.0.0.${20 + i + 10 * gen}`;
    const name = (i: number) => `pod-${i}.svc.test`;
    await using dns = await startDns(
      [0, 1, 2].map((i): [string, string] => [ip(i), name(i)]),
      [0, 1, 2].map((i) => ({ name: "_geecache._tcp.svc.test", target: name(i), port: srvPort })),
    );
    const start = (i: number, gen = 0) =>
      spawnNode([
        `--host=${ip(i, gen)}`,
        `--port=${srvPort}`,
        `--self=http://${name(i)}:${srvPort}`,
        "--peers-srv=_geecache._tcp.svc.test",
        `--dns-server=${dns.server}`,
        `--dns-interval=${INTERVAL}`,
        "--hot-cache-ratio=0",
        `--source=${origin.spec}`,
      ]);
    const nodes = [await start(0), await start(1), await start(2)];
    try {
      const want = [0, 1, 2].map((i) => `http://${name(i)}:${srvPort}`).sort();
      await until(
        "every node to list the three pod names",
        async () => {
          for (const n of nodes) if (JSON.stringify((await peersOf(n)).sort()) !== JSON.stringify(want)) return false;
          return true;
        },
        UNTIL,
      );
      const before = await Promise.all(KEYS.map((k) => get(nodes[0]!, k)));
      // pod-1 restarts with a new IP: DNS first, then the new process.
      await nodes[1]!.stop("SIGKILL");
      await dns.setHosts([
        [ip(0), name(0)],
        [ip(1, 1), name(1)],
        [ip(2), name(2)],
      ]);
      nodes[1] = await start(1, 1);
      let probe = 0;
      await until(
        "node 0 to fetch a key from pod-1 at its new address",
        async () => {
          const res = await fetch(`${nodes[0]!.url}/api?key=probe-${probe++}`);
          return (
            res.headers.get("x-geecache-owner") === `http://${name(1)}:${srvPort}` &&
            res.headers.get("x-geecache-from") === "peer"
          );
        },
        UNTIL,
      );
      const after = await Promise.all(KEYS.map((k) => get(nodes[0]!, k)));
      expect({
        peers: (await peersOf(nodes[0]!)).sort(),
        sameOwners: after.every((a, i) => a.owner === before[i]!.owner),
        allOk: after.every((a) => a.status === 200),
      }).toEqual({ peers: want, sameOwners: true, allOk: true });
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
      origin.server.stop(true);
    }
  }, 30_000);
});
