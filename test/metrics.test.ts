// GET /metrics: the hand-written Prometheus text format, and the series of a node after known traffic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import pkg from "../package.json" with { type: "json" };
import { PeerSet } from "../src/cluster/peer-set.ts";
import { Ring } from "../src/core/consistent-hash.ts";
import { notFound } from "../src/core/errors.ts";
import { Group } from "../src/group/group.ts";
import type { Getter } from "../src/group/loader.ts";
import { Registry } from "../src/group/registry.ts";
import { type RunningNode, startNode } from "../src/node/server.ts";
import { NodeMetrics } from "../src/observability/metrics/node-metrics.ts";
import { readProcess } from "../src/observability/metrics/process-metrics.ts";
import {
  CONTENT_TYPE,
  Counter,
  Exposition,
  escapeLabelValue,
  Histogram,
} from "../src/observability/metrics/prometheus.ts";
import { httpTransport } from "../src/transport/http/index.ts";
import { keyOwnedBy } from "./helpers/owned-keys.ts";
import { type RunningNode as RunningProcess, spawnCluster } from "./helpers/process.ts";
import { until } from "./helpers/until.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

/** parseExposition reads the text format strictly: HELP and TYPE before samples, escapes, no duplicate series. */
function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("the body must end with a line feed");
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: { name: string; family: Family } | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = line.match(/^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      let family = families.get(name);
      if (!family) {
        if (current?.name !== name && families.has(name)) throw new Error(`family ${name} appears twice`);
        family = { type: "untyped", help: "", samples: [] };
        families.set(name, family);
      }
      if (kind === "HELP") family.help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
      else family.type = rest;
      current = { name, family };
      continue;
    }
    if (line.startsWith("#") || line === "") throw new Error(`unexpected line ${JSON.stringify(line)}`);
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/);
    if (!m) throw new Error(`malformed sample ${JSON.stringify(line)}`);
    const [, name, rawLabels = "", rawValue] = m as unknown as [string, string, string | undefined, string];
    if (!current) throw new Error(`sample ${name} before any TYPE`);
    const suffixes = current.family.type === "histogram" ? ["_bucket", "_sum", "_count"] : [""];
    if (!suffixes.some((s) => name === current!.name + s))
      throw new Error(`sample ${name} inside family ${current.name}`);
    const labels = parseLabels(rawLabels);
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) throw new Error(`duplicate series ${line}`);
    seen.add(id);
    const value = rawValue === "+Inf" ? Infinity : rawValue === "-Inf" ? -Infinity : Number(rawValue);
    if (Number.isNaN(value) && rawValue !== "NaN") throw new Error(`bad value in ${JSON.stringify(line)}`);
    current.family.samples.push({ name, labels, value });
  }
  return families;
}

function parseLabels(raw: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (raw === "") return labels;
  let i = 1;
  while (i < raw.length - 1) {
    const eq = raw.indexOf("=", i);
    const name = raw.slice(i, eq);
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || raw[eq + 1] !== '"') throw new Error(`bad label at ${raw.slice(i)}`);
    let value = "";
    let j = eq + 2;
    for (; raw[j] !== '"'; j++) {
      if (j >= raw.length) throw new Error(`unterminated label value in ${raw}`);
      if (raw[j] === "\\") {
        const c = raw[++j];
        if (c === "n") value += "\n";
        else if (c === "\\" || c === '"') value += c;
        else throw new Error(`bad escape \\${c} in ${raw}`);
      } else value += raw[j];
    }
    labels[name] = value;
    i = j + 1;
    if (raw[i] === ",") i++;
    else if (i !== raw.length - 1) throw new Error(`expected , or } at ${raw.slice(i)}`);
  }
  return labels;
}

/** values maps "label1 label2" to the value of every sample called name. */
function values(families: Map<string, Family>, name: string, ...labelNames: string[]): Record<string, number> {
  const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ""));
  const out: Record<string, number> = {};
  for (const s of family?.samples ?? [])
    if (s.name === name) out[labelNames.map((l) => s.labels[l]).join(" ")] = s.value;
  return out;
}

/** checkHistograms asserts that every histogram's buckets rise with le, are cumulative, and end in +Inf = _count. */
function checkHistograms(families: Map<string, Family>): number {
  let checked = 0;
  for (const [name, f] of families) {
    if (f.type !== "histogram") continue;
    const groups = new Map<string, Sample[]>();
    for (const s of f.samples) {
      const { le: _le, ...rest } = s.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    for (const samples of groups.values()) {
      const buckets = samples.filter((s) => s.name === `${name}_bucket`);
      const count = samples.find((s) => s.name === `${name}_count`)!.value;
      const les = buckets.map((b) => (b.labels.le === "+Inf" ? Infinity : Number(b.labels.le)));
      expect(les).toEqual([...les].sort((a, b) => a - b));
      expect(les.at(-1)).toBe(Infinity);
      const counts = buckets.map((b) => b.value);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(counts.at(-1)).toBe(count);
      checked++;
    }
  }
  return checked;
}

describe("the text format", () => {
  test.each([
    ["plain", "plain"],
    ['say "hi"', 'say \\"hi\\"'],
    ["back\\slash", "back\\\\slash"],
    ["two\nlines", "two\\nlines"],
    ['all \\ " \n', 'all \\\\ \\" \\n'],
    ["Zoë 🙂", "Zoë 🙂"],
  ])("escapeLabelValue(%j) is %j", (raw, escaped) => {
    expect(escapeLabelValue(raw)).toBe(escaped);
  });

  test("label values with quotes, backslashes and line feeds parse back to themselves", () => {
    const odd = ['a"b', "c\\d", "e\nf", '\\"\n', ""];
    const c = new Counter("odd_total", "Help with a \\ and a\nline feed.", ["v"]);
    odd.forEach((v, i) => c.child(v).inc(i + 1));
    const out = new Exposition();
    c.write(out);
    const parsed = parseExposition(out.text());
    expect(parsed.get("odd_total")).toEqual({
      type: "counter",
      help: "Help with a \\ and a\nline feed.",
      samples: odd.map((v, i) => ({ name: "odd_total", labels: { v }, value: i + 1 })),
    });
  });

  test("a histogram writes cumulative buckets, +Inf equal to the count, and the sum", () => {
    const h = new Histogram("t_seconds", "T.", ["op"], [0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 2, 20, 30]) h.child("x").observe(v);
    const out = new Exposition();
    h.write(out);
    expect(out.text()).toBe(
      [
        "# HELP t_seconds T.",
        "# TYPE t_seconds histogram",
        't_seconds_bucket{op="x",le="0.1"} 2',
        't_seconds_bucket{op="x",le="1"} 3',
        't_seconds_bucket{op="x",le="10"} 4',
        't_seconds_bucket{op="x",le="+Inf"} 6',
        't_seconds_sum{op="x"} 52.65',
        't_seconds_count{op="x"} 6',
        "",
      ].join("\n"),
    );
    expect(checkHistograms(parseExposition(out.text()))).toBe(1);
  });

  test.each<[string, () => unknown, string]>([
    ["a counter without _total", () => new Counter("hits", "h"), "ends in _total"],
    ["a bad metric name", () => new Counter("bad-name_total", "h"), "not a valid Prometheus name"],
    ["an le label", () => new Histogram("x_seconds", "h", ["le"]), '"le" is reserved'],
    ["falling bounds", () => new Histogram("x_seconds", "h", [], [1, 0.5]), "increasing"],
    ["the wrong number of label values", () => new Counter("x_total", "h", ["a"]).child(), "takes 1 label values"],
  ])("%s is refused", (_, make, message) => {
    expect(make).toThrow(message);
  });
});

describe("GET /metrics of a node after known traffic", () => {
  // A and B are in-process nodes; C is on the ring but was stopped before any traffic.
  const START = 1_700_000_000_000;
  let clock = START;
  let nodes: RunningNode[] = [];
  let a: { url: string; registry: Registry; pool: PeerSet; running: RunningNode };
  let urls: { a: string; b: string; c: string };
  let keys: { ownA: string; ownB: string; missingB: string; boomA: string; ownC: string };
  let scrape: { status: number; type: string | null; text: string };

  // Keys named boom-* make the loader throw, missing-* are not found, the rest load "v:<key>".
  const getter: Getter = (key) => {
    if (key.startsWith("boom-")) throw new Error("source down");
    if (key.startsWith("missing-")) throw notFound(key);
    return `v:${key}`;
  };
  /** node starts a node on port 0; its pool learns its own URL once it listens, the others' once all do. */
  const node = (metrics: NodeMetrics) => {
    // No handoff: nodes linked at start would peek each other on misses, and those peeks are requests too.
    const pool = new PeerSet({
      transports: [httpTransport({ timeout: 2000 })],
      onPeerRequest: metrics.onPeerRequest,
      handoffWindow: 0,
    });
    const registry = new Registry();
    registry.add(
      new Group({ name: "scores", getter: metrics.timeLoads("scores", getter), peers: pool, hotCacheRatio: 0 }),
    );
    const running = startNode({ registry, peers: pool, port: 0, metrics, sweepInterval: 0 });
    return { url: running.url, registry, pool, running };
  };

  beforeAll(async () => {
    a = node(
      new NodeMetrics({
        now: () => clock,
        readProcess: () => ({ residentBytes: 12345, heapBytes: 678, cpuSeconds: 1.5, openFds: 9 }),
        build: { version: "9.9.9", bun: "1.2.3" },
      }),
    );
    const b = node(new NodeMetrics());
    const c = node(new NodeMetrics());
    await c.running.stop(); // down before anyone connects to it: its peers' requests are refused
    nodes = [a.running, b.running];
    urls = { a: a.url, b: b.url, c: c.url };
    for (const n of [a, b]) n.pool.setPeers([urls.a, urls.b, urls.c]);
    const find = (prefix: string, owner: string) => keyOwnedBy(a.pool, owner, prefix);
    keys = {
      ownA: find("k-", urls.a),
      ownB: find("k-", urls.b),
      missingB: find("missing-", urls.b),
      boomA: find("boom-", urls.a),
      ownC: find("k-", urls.c),
    };
    const get = async (path: string) => {
      const res = await fetch(`${urls.a}${path}`);
      await res.arrayBuffer();
      return res.status;
    };
    const statuses = [];
    for (const k of [keys.ownA, keys.ownA, keys.ownB, keys.missingB, keys.boomA, keys.ownC])
      statuses.push(await get(`/api?key=${k}`));
    statuses.push(await get("/no/such/route"));
    expect(statuses).toEqual([200, 200, 200, 404, 503, 200, 404]);
    clock = START + 5000;
    const res = await fetch(`${urls.a}/metrics`);
    scrape = { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
  });

  test("answers 200 in the text format, version 0.0.4, and parses", () => {
    expect({ status: scrape.status, type: scrape.type }).toEqual({ status: 200, type: CONTENT_TYPE });
    expect(() => parseExposition(scrape.text)).not.toThrow();
  });

  test("every group counter has the value of the group's stats", () => {
    const f = parseExposition(scrape.text);
    const counters = Object.fromEntries(
      [
        "gets",
        "group_cache_hits",
        "peer_loads",
        "group_peer_errors",
        "loads",
        "loads_deduped",
        "local_loads",
        "local_load_errors",
        "server_requests",
      ].map((n) => [n, values(f, `geecache_${n}_total`, "group")]),
    );
    expect(counters).toEqual({
      gets: { scores: 6 },
      group_cache_hits: { scores: 1 },
      peer_loads: { scores: 1 },
      group_peer_errors: { scores: 1 }, // C refused the connection
      loads: { scores: 5 },
      loads_deduped: { scores: 5 },
      local_loads: { scores: 2 }, // ownA, and ownC after C failed
      local_load_errors: { scores: 1 }, // boom
      server_requests: { scores: 0 },
    });
    const s = a.registry.get("scores")!.stats();
    expect(counters.gets!.scores).toBe(s.gets);
    expect(counters.local_loads!.scores).toBe(s.localLoads);
  });

  test("the cache series match cacheStats() for main and hot, and the budget is the group's", () => {
    const f = parseExposition(scrape.text);
    const c = a.registry.get("scores")!.cacheStats();
    const got = Object.fromEntries(
      (["bytes", "items", "gets_total", "hits_total", "evictions_total"] as const).map((n) => [
        n,
        values(f, `geecache_cache_${n}`, "group", "cache"),
      ]),
    );
    const want = (field: keyof typeof c.main) => ({ "scores main": c.main[field], "scores hot": c.hot[field] });
    expect(got).toEqual({
      bytes: want("bytes"),
      items: want("items"),
      gets_total: want("gets"),
      hits_total: want("hits"),
      evictions_total: want("evictions"),
    });
    // ownA is A's own (main); ownC, loaded here while its owner C was down, is a short-lived hot copy.
    expect(got.items).toEqual({ "scores main": 1, "scores hot": 1 });
    expect(values(f, "geecache_cache_budget_bytes", "group")).toEqual({ scores: 64 * 1024 * 1024 });
    expect(f.get("geecache_cache_bytes")!.type).toBe("gauge");
  });

  test("request durations are counted by route and status, never by raw path", () => {
    const f = parseExposition(scrape.text);
    expect(values(f, "geecache_http_request_duration_seconds_count", "route", "status")).toEqual({
      "api 200": 4,
      "api 404": 1,
      "api 503": 1,
      "other 404": 1,
    });
  });

  test("peer requests are timed by peer and outcome; failures are counted per peer", () => {
    const f = parseExposition(scrape.text);
    expect(values(f, "geecache_peer_request_duration_seconds_count", "peer", "outcome")).toEqual({
      [`${urls.b} ok`]: 1,
      [`${urls.b} not_found`]: 1,
      [`${urls.b} error`]: 0,
      [`${urls.c} ok`]: 0,
      [`${urls.c} not_found`]: 0,
      [`${urls.c} error`]: 1,
    });
    expect(values(f, "geecache_peer_errors_total", "peer")).toEqual({ [urls.b]: 0, [urls.c]: 1 });
  });

  test("loader calls are timed by outcome", () => {
    const f = parseExposition(scrape.text);
    expect(values(f, "geecache_load_duration_seconds_count", "group", "outcome")).toEqual({
      "scores ok": 2,
      "scores not_found": 0,
      "scores error": 1,
    });
  });

  test("histogram buckets are cumulative and end in +Inf = count, in every series", () => {
    expect(checkHistograms(parseExposition(scrape.text))).toBe(4 + 6 + 3);
  });

  test("the process series have the standard names and read the node's clock and process; build info is 1", () => {
    const f = parseExposition(scrape.text);
    expect({
      start: values(f, "process_start_time_seconds")[""],
      rss: values(f, "process_resident_memory_bytes")[""],
      heap: values(f, "process_heap_bytes")[""],
      cpu: values(f, "process_cpu_seconds_total")[""],
      fds: values(f, "process_open_fds")[""],
      // a figure the system does not show is left out, not written as 0
      virtual: f.has("process_virtual_memory_bytes"),
      build: values(f, "geecache_build_info", "version", "bun"),
      shares: Object.values(values(f, "geecache_peer_key_share_ratio", "peer")).reduce((x, y) => x + y, 0),
    }).toEqual({
      start: START / 1000,
      rss: 12345,
      heap: 678,
      cpu: 1.5,
      fds: 9,
      virtual: false,
      build: { "9.9.9 1.2.3": 1 },
      shares: expect.closeTo(1, 9) as unknown as number,
    });
    expect([...f.keys()].filter((n) => n.startsWith("geecache_process_"))).toEqual([]);
  });

  test("readProcess reads this process from /proc on Linux", () => {
    const p = readProcess();
    expect(p.residentBytes).toBeGreaterThan(1024 * 1024);
    expect(p.cpuSeconds).toBeGreaterThan(0);
    if (process.platform === "linux") {
      expect(p.virtualBytes).toBeGreaterThan(p.residentBytes);
      expect(p.openFds).toBeGreaterThan(2);
      expect(p.maxFds).toBeGreaterThanOrEqual(p.openFds!);
    }
  });

  test("every series name starts with geecache_ (but the standard process_ ones), every counter ends in _total", () => {
    const f = parseExposition(scrape.text);
    const bad = [...f].filter(
      ([name, fam]) =>
        !(name.startsWith("geecache_") || name.startsWith("process_")) ||
        (fam.type === "counter") !== name.endsWith("_total") ||
        fam.help === "",
    );
    expect(bad.map(([n]) => n)).toEqual([]);
  });

  test("metrics: false answers /metrics with 404 and times nothing", async () => {
    const registry = new Registry();
    registry.add(new Group({ name: "scores", getter }));
    const n = startNode({ registry, metrics: false, sweepInterval: 0 });
    try {
      const res = await fetch(`${n.url}/metrics`);
      expect([res.status, await res.text()]).toEqual([404, "no route /metrics\n"]);
    } finally {
      await n.stop();
    }
  });
});

describe("promtool check metrics", () => {
  const promtool = Bun.which("promtool");
  if (!promtool)
    console.log(
      "skipping promtool check: promtool is not installed (Debian package prometheus; .ci/setup.d/observability.sh installs it)",
    );

  test.skipIf(!promtool)("accepts the /metrics of a running dist/geecache node", async () => {
    await using cluster = await spawnCluster(2, () => ["--resp-port=0"]); // the RESP families too
    const [node, other] = cluster.nodes as [RunningProcess, RunningProcess];
    await other.stop(); // the second peer is down, so the peer series and peer errors are present too
    // A key of the down peer first: a get to it is timed (a failed handoff peek is not, yet it counts towards marking
    // the peer down).
    const ring = new Ring();
    ring.set(cluster.urls);
    const orphan = Array.from({ length: 1000 }, (_, i) => `orphan-${i}`).find((k) => ring.get(k) === other.self)!;
    await (await fetch(`${node.url}/api?key=${orphan}`)).arrayBuffer();
    for (let i = 0; i < 20; i++)
      await (await fetch(`${node.url}/api?key=${i % 3 === 0 ? "Tom" : `nobody-${i}`}`)).arrayBuffer();
    const resp = node.stdout.text.match(/RESP on redis:\/\/[^:]+:(\d+)/)![1]!;
    const socket = await Bun.connect({ hostname: "127.0.0.1", port: Number(resp), socket: { data() {} } });
    socket.write("PING\r\nNOPE\r\n");
    socket.end();
    await until("the RESP commands to be counted", async () =>
      (await (await fetch(`${node.url}/metrics`)).text()).includes('geecache_resp_errors_total{command="unknown"} 1'),
    );
    const body = await (await fetch(`${node.url}/metrics`)).text();
    expect(body).toContain("geecache_peer_errors_total{peer=");
    for (const name of ["process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds"])
      expect(body).toMatch(new RegExp(`^${name} \\d`, "m"));
    expect(body).toContain(`geecache_build_info{version="${pkg.version}",bun="${Bun.version}"} 1\n`);
    const proc = Bun.spawn([promtool!, "check", "metrics"], {
      stdin: new Blob([body]),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect({ code, out, err }).toEqual({ code: 0, out: "", err: "" });
  });
});
