// A mixed cluster: two Go groupcache nodes (Debian's golang-github-golang-groupcache-dev, built in
// GOPATH mode from test/fixtures/go-groupcache-peer) and one dist/geecache node in their ring mode
// (crc32, 50 replicas, /_groupcache/). From the moment geecache starts, every key answers right
// through every node, fast: geecache learns that Go peers do not speak its extensions (no boot id)
// and never sends them a peek they would take for a plain get and forward back, so the Go nodes
// count no peer errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePorts } from "../scripts/bench/_lib.ts";
import { type RunningNode, spawnNode, spawnProcess } from "./helpers/process.ts";
import { until } from "./helpers/until.ts";

const GOCODE = "/usr/share/gocode";
const SKIP = !Bun.which("go")
  ? "go is not installed (.ci/setup.d/go-grpc.sh installs it)"
  : !existsSync(join(GOCODE, "src/github.com/golang/groupcache"))
    ? "Debian's golang-github-golang-groupcache-dev is not installed (.ci/setup.d/go-grpc.sh installs it)"
    : "";
if (SKIP) console.warn(`mixed Go cluster skipped: ${SKIP}`);

/** WINDOW_MS is how long after geecache starts every key is asked through every node. */
const WINDOW_MS = 4000;
/** SLOW_MS is the goal: no request slower than this. */
const SLOW_MS = 100;

let dir = "";
const stops: Array<() => Promise<unknown>> = [];
let origin: ReturnType<typeof Bun.serve> | undefined;

function buildPeer(): string {
  dir = mkdtempSync(join(tmpdir(), "geecache-gogc-"));
  const src = join(dir, "src/gcpeer");
  mkdirSync(src, { recursive: true });
  cpSync(resolve(import.meta.dir, "fixtures/go-groupcache-peer/main.go"), join(src, "main.go"));
  const env = { ...process.env, GO111MODULE: "off", GOPATH: `${dir}:${GOCODE}`, GOFLAGS: "" };
  const r = Bun.spawnSync(["go", "build", "-o", join(dir, "peer"), "gcpeer"], { cwd: dir, env, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`go build exited ${r.exitCode}: ${r.stderr.toString()}`);
  return join(dir, "peer");
}

interface Timed {
  via: string;
  key: string;
  status: number;
  body: string;
  ms: number;
}

async function ask(url: string, via: string, key: string): Promise<Timed> {
  const t = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { via, key, status: res.status, body: await res.text(), ms: performance.now() - t };
}

const answers: Timed[] = [];
let goStats: Array<Record<string, number>> = [];

beforeAll(async () => {
  if (SKIP) return;
  const peer = buildPeer();
  origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => new Response(`go:${decodeURIComponent(new URL(req.url).pathname.slice(1))}`),
  });
  const [pa, pb, pc] = (await freePorts(3)) as [number, number, number];
  const urls = [pa, pb, pc].map((p) => `http://127.0.0.1:${p}`);
  const peers = urls.join(",");
  const goNodes = await Promise.all(
    [0, 1].map(async (i) => {
      const node = await spawnProcess([peer, `-self=${urls[i]}`, `-peers=${peers}`], `${urls[i]}/stats`);
      stops.push(() => node.stop("SIGKILL"));
      return urls[i]!;
    }),
  );
  const gee: RunningNode = await spawnNode([
    `--port=${pc}`,
    `--peers=${peers}`,
    "--hash=crc32",
    "--replicas=50",
    "--base-path=/_groupcache/",
    `--source=http://127.0.0.1:${origin.port}/{key}`,
  ]);
  stops.push(() => gee.stop());
  // From geecache's first moment on: every key through every node, for WINDOW_MS.
  const end = performance.now() + WINDOW_MS;
  for (let round = 0; performance.now() < end; round++) {
    const keys = Array.from({ length: 30 }, (_, i) => `k${round}-${i}`);
    for (const key of keys) {
      const q = encodeURIComponent(key);
      answers.push(
        ...(await Promise.all([
          ask(`${gee.url}/api?key=${q}`, "geecache", key),
          ...goNodes.map((g) => ask(`${g}/get?key=${q}`, g, key)),
        ])),
      );
    }
  }
  await until("the Go nodes to answer /stats", async () => {
    goStats = await Promise.all(
      goNodes.map(async (g) => (await (await fetch(`${g}/stats`)).json()) as Record<string, number>),
    );
    return true;
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(stops.map((s) => s()));
  await origin?.stop(true);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(SKIP !== "")("a mixed cluster: two Go groupcache nodes and one geecache node", () => {
  test("every key answers right through every node from geecache's start on", () => {
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status !== 200 || a.body !== `go:${a.key}`)).toEqual([]);
  });

  test(`no request slower than ${SLOW_MS} ms, and 0 peer errors on the Go nodes`, () => {
    const slow = answers.filter((a) => a.ms >= SLOW_MS).map((a) => `${a.via} ${a.key} ${a.ms.toFixed(0)} ms`);
    expect({ slow, goPeerErrors: goStats.map((s) => s.peerErrors) }).toEqual({ slow: [], goPeerErrors: [0, 0] });
  });
});
