// The command line of the compiled binary: flags, errors, exit codes, signals and logs.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { FLAGS } from "../src/cli/flags.ts";
import { expandShortFlags } from "../src/cli/run.ts";
import { requireBinary, runCli, spawnNode } from "./helpers/process.ts";

const REQUEST_TIMEOUT_MS = 5000;

/** lines splits output into its non-empty lines. */
const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");

let dir: string;
let db: string;

beforeAll(() => {
  requireBinary();
  dir = mkdtempSync(join(tmpdir(), "geecache-cli-"));
  db = join(dir, "scores.db");
  const sqlite = new Database(db, { create: true });
  sqlite.run("CREATE TABLE scores (key TEXT PRIMARY KEY, value TEXT)");
  sqlite.run("INSERT INTO scores (key, value) VALUES ('Tom', '630')");
  sqlite.close();
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function getText(url: string): Promise<[number, string]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return [res.status, await res.text()];
}

describe("--help and --version", () => {
  test("--help exits 0 and lists every flag", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    const help = Bun.stripANSI(r.stdout + r.stderr);
    const missing = Object.keys(FLAGS).filter((name) => !new RegExp(`(^|\\s)--${name}(=|\\s)`, "m").test(help));
    expect(missing).toEqual([]);
  });

  test("--version prints the package version without bun on PATH", async () => {
    const r = await runCli(["--version"], { env: { PATH: "/usr/bin:/bin" } });
    expect([r.code, r.stdout.trim()]).toEqual([0, pkg.version]);
  });

  test("-v prints it too, beside other flags", async () => {
    const r = await runCli(["--port=0", "-v"]);
    expect([r.code, r.stdout]).toEqual([0, `${pkg.version}\n`]);
  });
});

describe("short flags", () => {
  test.each<{ argv: string[]; want: string[] | string }>([
    { argv: ["-p", "8001"], want: ["--port=8001"] },
    { argv: ["-p=8001", "--api"], want: ["--port=8001", "--api"] },
    { argv: ["-p8001"], want: ["--port=8001"] },
    { argv: ["--hot-qps", "-1"], want: ["--hot-qps", "-1"] }, // not a letter: a value
    { argv: ["--", "-p"], want: ["--", "-p"] },
    { argv: ["-p"], want: "-p needs a value, e.g. -p 8001" },
    { argv: ["-p", "--api"], want: "-p needs a value, e.g. -p 8001" },
    { argv: ["-x"], want: "-x is not a geecache flag; the short ones are -p, -h and -v (see --help)" },
  ])("$argv", ({ argv, want }) => {
    let got: string[] | string;
    try {
      got = expandShortFlags(argv);
    } catch (err) {
      got = (err as Error).message;
    }
    expect(got).toEqual(want);
  });

  test("geecache -p PORT listens on PORT", async () => {
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = probe.port;
    await probe.stop(true);
    await using node = await spawnNode(["-p", String(port)]);
    expect(node.url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
  });

  test("geecache -p alone exits 2 with one line", async () => {
    const r = await runCli(["-p"]);
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({
      code: 2,
      stderr: "geecache: -p needs a value, e.g. -p 8001\n",
      stdout: "",
    });
  });
});

describe("a bad value exits 2 with one line naming the flag", () => {
  test.each<[string, string[], Record<string, string>, string]>([
    ["port out of range", ["--port=70000"], {}, "--port"],
    ["port not a number", ["--port=abc"], {}, "--port"],
    ["cache size", ["--cache-bytes=lots"], {}, "--cache-bytes"],
    ["hash", ["--hash=md5"], {}, "--hash"],
    ["replicas", ["--replicas=0"], {}, "--replicas"],
    ["peer timeout", ["--peer-timeout=soon"], {}, "--peer-timeout"],
    ["log level", ["--log-level=loud"], {}, "--log-level"],
    ["log format", ["--log-format=xml"], {}, "--log-format"],
    ["source scheme", ["--source=ftp://x"], {}, "--source"],
    ["peer scheme", ["--peers=ftp://x"], {}, "--peers"],
    ["unknown flag", ["--prot=1"], {}, "--prot"],
    ["GEECACHE_PORT", [], { GEECACHE_PORT: "70000" }, "--port"],
    ["hot qps", ["--hot-qps=fast"], {}, "--hot-qps"],
    ["GEECACHE_HOT_QPS", [], { GEECACHE_HOT_QPS: "-1" }, "--hot-qps"],
  ])("%s", async (_, args, env, flag) => {
    const r = await runCli(args, { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const errs = lines(r.stderr);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toContain(`${flag} `);
  });
});

describe("start-up failures", () => {
  test("a missing SQLite file exits non-zero with one line naming it", async () => {
    const r = await runCli(["--port=0", "--source=sqlite:/nonexistent/x.db"]);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    const errs = lines(r.stderr);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toContain("/nonexistent/x.db");
  });

  test("a port in use exits non-zero with one line saying it cannot listen", async () => {
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("taken") });
    try {
      const r = await runCli([`--port=${taken.port}`]);
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBeNull();
      const errs = lines(r.stderr);
      expect(errs).toHaveLength(1);
      expect(errs[0]).toMatch(new RegExp(`cannot listen on .*${taken.port}`));
    } finally {
      await taken.stop(true);
    }
  });
});

describe("a running node", () => {
  test("with only --port=0 it serves the demo database on the port it was given", async () => {
    await using node = await spawnNode(["--port=0"]);
    expect(Number(node.url.match(/^http:\/\/127\.0\.0\.1:(\d+)$/)?.[1])).toBeGreaterThan(0);
    expect(node.self).toBe(node.url);
    expect(await getText(`${node.url}/api?key=Tom`)).toEqual([200, "630"]);
  });

  test.each(["SIGTERM", "SIGINT"] as const)("%s exits 0 within 5 s", async (signal) => {
    await using node = await spawnNode(["--port=0"]);
    // leaves a keep-alive connection open
    expect(await getText(`${node.url}/healthz`)).toEqual([200, '{"status":"ok"}']);
    const started = performance.now();
    expect(await node.stop(signal)).toBe(0);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("SIGTERM lets a request in flight finish, then exits 0", async () => {
    // The query takes a few hundred ms; the debug line "loading" says the request has reached the loader.
    const slow =
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) SELECT value FROM scores WHERE key = ? AND (SELECT count(*) FROM c) > 0";
    await using node = await spawnNode([
      "--port=0",
      `--source=sqlite:${db}`,
      `--query=${slow}`,
      "--log-level=debug",
      "--log-format=json",
    ]);
    const pending = fetch(`${node.url}/api?key=Tom`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    await node.stdout.wait(/loading scores\/\\"Tom\\"/, REQUEST_TIMEOUT_MS);
    expect(Bun.peek.status(pending)).toBe("pending");
    node.proc.kill("SIGTERM");
    const res = await pending;
    expect([res.status, await res.text()]).toEqual([200, "630"]);
    expect(await node.stop()).toBe(0);
  });

  test("--log-format=json writes the start-up line as one JSON object", async () => {
    await using node = await spawnNode(["--port=0", "--log-format=json"]);
    const first = lines(node.stdout.text)[0]!;
    expect(JSON.parse(first)).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      level: "info",
      tag: "geecache",
      message: expect.stringContaining(`listening on ${node.url}`),
    });
  });
});
