// A Go gRPC client, generated from proto/geecache.proto with Debian's protoc-gen-go (grpc plugin)
// and built in GOPATH mode against Debian's grpc-go, calls the compiled binary's gRPC listener.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type RunningNode, spawnNode } from "./helpers/process.ts";

const GOCODE = "/usr/share/gocode";
const missing = ["go", "protoc", "protoc-gen-go"].filter((tool) => !Bun.which(tool));
const SKIP =
  missing.length > 0
    ? `Go interop skipped: ${missing.join(", ")} not installed (.ci/setup.d/go-grpc.sh installs them)`
    : "";
if (SKIP) console.warn(SKIP);

const TOKEN = "interop-token";
let dir = "";
let client = "";
let node: RunningNode | undefined;
let address = "";
const slow = Promise.withResolvers<void>();
let origin: ReturnType<typeof Bun.serve> | undefined;

/** GoResult is the client's one JSON line: a gRPC status code name and, for Get, the value and expiry. */
interface GoResult {
  code: string;
  value?: string;
  expire?: number;
}

/** buildClient generates geecachepb from the .proto and builds the Go client; it throws with the tool's output. */
function buildClient(): string {
  dir = mkdtempSync(join(tmpdir(), "geecache-go-"));
  const pb = join(dir, "src/geecache/geecachepb");
  const main = join(dir, "src/geecache/client");
  mkdirSync(pb, { recursive: true });
  mkdirSync(main, { recursive: true });
  cpSync(resolve(import.meta.dir, "fixtures/grpc-go-client/main.go"), join(main, "main.go"));
  const run = (cmd: string[]) => {
    const env = { ...process.env, GO111MODULE: "off", GOPATH: `${dir}:${GOCODE}`, GOFLAGS: "" };
    const r = Bun.spawnSync(cmd, { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0)
      throw new Error(`${cmd.join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}${r.stdout.toString()}`);
  };
  const proto = resolve(import.meta.dir, "../proto");
  run(["protoc", `-I${proto}`, `--go_out=plugins=grpc,paths=source_relative:${pb}`, join(proto, "geecache.proto")]);
  run(["go", "build", "-o", join(dir, "client"), "geecache/client"]);
  return join(dir, "client");
}

async function call(args: string[], token = TOKEN): Promise<GoResult> {
  const proc = Bun.spawn([client, `-addr=${address}`, ...(token ? [`-token=${token}`] : []), ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`go client ${args.join(" ")} exited ${code}: ${err}`);
  return JSON.parse(out) as GoResult;
}

beforeAll(async () => {
  if (SKIP) return;
  client = buildClient();
  // The source: an HTTP origin; "missing-*" does not exist, "slow-*" answers only when the tests end.
  origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      const key = decodeURIComponent(new URL(req.url).pathname.slice(1));
      if (key.startsWith("missing-")) return new Response("no", { status: 404 });
      if (key.startsWith("slow-")) await slow.promise;
      return new Response(`v:${key}`);
    },
  });
  node = await spawnNode([
    "--port=0",
    "--grpc-port=0",
    `--token=${TOKEN}`,
    `--source=http://127.0.0.1:${origin.port}/{key}`,
  ]);
  address = node.stdout.text.match(/gRPC on grpc:\/\/([^\s,;]+)/)![1]!;
}, 120_000);

afterAll(async () => {
  slow.resolve();
  await node?.stop();
  await origin?.stop(true);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(SKIP !== "")("Go gRPC client against the binary", () => {
  test("Get: the value from the source, then from the cache", async () => {
    expect(await call(["get", "scores", "Tom"])).toEqual({ code: "OK", value: "v:Tom" });
    expect(await call(["get", "scores", "Tom"])).toEqual({ code: "OK", value: "v:Tom" });
  });

  test("statuses: NOT_FOUND, UNAUTHENTICATED (no token, wrong token), INVALID_ARGUMENT (unknown group)", async () => {
    const got = await Promise.all([
      call(["get", "scores", "missing-1"]),
      call(["get", "scores", "Tom"], ""),
      call(["get", "scores", "Tom"], "wrong"),
      call(["get", "nosuchgroup", "Tom"]),
    ]);
    expect(got.map((r) => r.code)).toEqual(["NotFound", "Unauthenticated", "Unauthenticated", "InvalidArgument"]);
  });

  test("Set then Get carries the value and its expiry; Remove drops it", async () => {
    const expire = (Date.now() + 3_600_000) * 1_000_000;
    expect(await call(["set", "scores", "written", "hello", String(expire)])).toEqual({ code: "OK" });
    expect(await call(["get", "scores", "written"])).toEqual({ code: "OK", value: "hello", expire });
    expect(await call(["remove", "scores", "written"])).toEqual({ code: "OK" });
    expect(await call(["get", "scores", "written"])).toEqual({ code: "OK", value: "v:written" }); // loaded again
  });

  test("DEADLINE_EXCEEDED with a 1 ms deadline against a slow source; the node still answers", async () => {
    expect((await call(["-timeout=1ms", "get", "scores", "slow-1"])).code).toBe("DeadlineExceeded");
    expect(await call(["get", "scores", "Sam"])).toEqual({ code: "OK", value: "v:Sam" });
  });
});
