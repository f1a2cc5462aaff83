// Protected mode: a node that listens beyond loopback without tokens refuses writes and peer
// requests from other hosts (403, one line), and keeps reads open.
import { describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { GeeCacheError } from "../src/core/errors.ts";
import {
  guarded,
  isLoopback,
  isLoopbackHost,
  type Protection,
  type ProtectionSettings,
  protection,
  protectionLine,
} from "../src/node/protected-mode.ts";
import { GrpcPeer } from "../src/transport/grpc/client.ts";
import { requireBinary, spawnNode } from "./helpers/process.ts";

describe("isLoopback", () => {
  test.each<[string | undefined, boolean]>([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["127.255.255.254", true],
    ["::1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["::FFFF:127.0.0.9", true],
    ["128.0.0.1", false],
    ["10.0.0.1", false],
    ["192.0.2.2", false],
    ["::ffff:10.0.0.1", false],
    ["fd00::2", false],
    ["::", false],
    ["0.0.0.0", false],
    ["1127.0.0.1", false],
    ["127.0.0.1.example.com", false],
    ["", false],
    [undefined, false],
  ])("%p is %p", (address, want) => expect(isLoopback(address)).toBe(want));
});

describe("protection", () => {
  const base: ProtectionSettings = { protectedMode: true, host: "0.0.0.0", apiToken: undefined, token: undefined };
  test.each<{
    name: string;
    settings: Partial<ProtectionSettings>;
    want: Protection | undefined;
  }>([
    { name: "no tokens on 0.0.0.0: writes and peers", settings: {}, want: { writes: true, peers: true } },
    { name: "an API token: peers only", settings: { apiToken: "a" }, want: { writes: false, peers: true } },
    { name: "a peer token: writes only", settings: { token: "t" }, want: { writes: true, peers: false } },
    { name: "both tokens: nothing", settings: { apiToken: "a", token: "t" }, want: undefined },
    { name: "--protected-mode=no: nothing", settings: { protectedMode: false }, want: undefined },
    { name: "loopback host: nothing", settings: { host: "127.0.0.1" }, want: undefined },
    { name: "localhost: nothing", settings: { host: "localhost" }, want: undefined },
    { name: "::1: nothing", settings: { host: "::1" }, want: undefined },
    { name: "[::1]: nothing", settings: { host: "[::1]" }, want: undefined },
    { name: "a concrete address", settings: { host: "10.1.2.3" }, want: { writes: true, peers: true } },
    { name: "::", settings: { host: "::" }, want: { writes: true, peers: true } },
  ])("$name", ({ settings, want }) => expect(protection({ ...base, ...settings })).toEqual(want));

  test("isLoopbackHost", () => {
    expect(["127.0.0.1", "localhost", "::1", "0.0.0.0", "::", "192.0.2.2"].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});

describe("guarded (in process, the address from a fake server)", () => {
  const handler = () => new Response("ok\n");
  const serverAt = (address: string | null) => {
    const asked: string[] = [];
    return {
      asked,
      requestIP: (req: Request) => {
        asked.push(new URL(req.url).pathname);
        return address === null ? null : { address };
      },
    };
  };
  const cases: { name: string; method: string; path: string; from: string | null; want: number }[] = [
    { name: "a write from another host", method: "PUT", path: "/api?key=a", from: "10.0.0.9", want: 403 },
    { name: "a delete from another host", method: "DELETE", path: "/api?key=a", from: "10.0.0.9", want: 403 },
    { name: "a peer GET from another host", method: "GET", path: "/_geecache/scores/a", from: "10.0.0.9", want: 403 },
    {
      name: "an announcement from another host",
      method: "POST",
      path: "/_geecache/_member",
      from: "10.0.0.9",
      want: 403,
    },
    { name: "an unknown address", method: "PUT", path: "/api?key=a", from: null, want: 403 },
    { name: "a read from another host", method: "GET", path: "/api?key=a", from: "10.0.0.9", want: 200 },
    { name: "a batch read from another host", method: "POST", path: "/api/batch", from: "10.0.0.9", want: 200 },
    { name: "the status page from another host", method: "GET", path: "/", from: "10.0.0.9", want: 200 },
    { name: "a write from loopback", method: "PUT", path: "/api?key=a", from: "127.0.0.1", want: 200 },
    { name: "a write from ::ffff:127.0.0.1", method: "PUT", path: "/api?key=a", from: "::ffff:127.0.0.1", want: 200 },
    { name: "a peer request from ::1", method: "GET", path: "/_geecache/scores/a", from: "::1", want: 200 },
  ];
  const fetch = guarded({ writes: true, peers: true }, ["/_geecache/"], handler);
  for (const c of cases) {
    test(`${c.name}: ${c.want}`, async () => {
      const res = await fetch(new Request(`http://node${c.path}`, { method: c.method }), serverAt(c.from));
      expect(res.status).toBe(c.want);
      if (c.want === 403) {
        expect(res.headers.get("x-geecache-error")).toBe("FORBIDDEN");
        const body = await res.text();
        expect(body.split("\n").length - 1).toBe(1);
        expect(body).toContain(c.path.startsWith("/api") ? "--api-token" : "--token");
        expect(body).toContain("--protected-mode=no");
      }
    });
  }

  test("reads never ask for the address; a node with an API token lets writes through", async () => {
    const server = serverAt("10.0.0.9");
    await fetch(new Request("http://node/api?key=a"), server);
    const peersOnly = guarded({ writes: false, peers: true }, ["/_geecache/"], handler);
    const res = await peersOnly(new Request("http://node/api?key=a", { method: "PUT", body: "v" }), server);
    expect({ status: res.status, asked: server.asked }).toEqual({ status: 200, asked: [] });
  });

  test("the start-up line names what is refused and what to set", () => {
    expect(protectionLine({ writes: true, peers: false }, "0.0.0.0")).toBe(
      "protected mode: listening on 0.0.0.0, writes (no --api-token) from other hosts are refused with 403; reads stay open. Set --api-token, or --protected-mode=no",
    );
  });
});

/** OTHER_ADDRESS is an IPv4 address of this machine other than loopback: a client dialing it is not on loopback. */
const OTHER_ADDRESS = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
if (!OTHER_ADDRESS)
  console.log("protected-mode.test: skipping the other-host cases: this machine has no non-loopback IPv4");

describe("geecache on 0.0.0.0 without tokens (dist/geecache)", () => {
  const start = (extra: string[] = []) =>
    spawnNode(["--host=0.0.0.0", "--port=0", "--grpc-port=0", "--log-format=json", ...extra]);
  const put = async (origin: string, token?: string) => {
    const res = await fetch(`${origin}/api?key=k`, {
      method: "PUT",
      body: "v",
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: await res.text() };
  };

  test("from loopback everything is open; the start-up log says protected mode once", async () => {
    requireBinary();
    await using node = await start();
    const port = new URL(node.url).port;
    const local = `http://127.0.0.1:${port}`;
    expect(await put(local)).toEqual({ status: 204, body: "" });
    expect((await fetch(`${local}/_geecache/scores/Tom`)).status).toBe(200);
    const lines = node.stdout.text.split("\n").filter((l) => l.includes("protected mode"));
    expect(lines.length).toBe(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: "warn",
      message:
        "protected mode: listening on 0.0.0.0, writes (no --api-token) and peer requests (no --token) from other hosts are refused with 403; reads stay open. Set --api-token and --token, or --protected-mode=no",
    });
  });

  test.skipIf(!OTHER_ADDRESS)(
    "from another address: writes, peer routes and gRPC are refused, reads served",
    async () => {
      await using node = await start();
      const port = new URL(node.url).port;
      const other = `http://${OTHER_ADDRESS}:${port}`;
      expect(await put(other)).toEqual({
        status: 403,
        body: `protected mode: writes from ${OTHER_ADDRESS} are refused because no --api-token is set; set --api-token (writers send Authorization: Bearer <token>) or start with --protected-mode=no\n`,
      });
      const peer = await fetch(`${other}/_geecache/scores/Tom`);
      expect({ status: peer.status, body: await peer.text() }).toEqual({
        status: 403,
        body: `protected mode: peer requests from ${OTHER_ADDRESS} are refused because no --token is set; set the same --token on every node or start with --protected-mode=no\n`,
      });
      const read = await fetch(`${other}/api?key=Tom`);
      expect({ status: read.status, body: await read.text() }).toEqual({ status: 200, body: "630" });
      const grpcPort = new URL(node.self.replace(/^grpc:/, "http:")).port;
      const client = new GrpcPeer({ url: `grpc://${OTHER_ADDRESS}:${grpcPort}`, timeout: 2000 });
      const err = await client.get("scores", "Tom").then(
        () => undefined,
        (e: GeeCacheError) => e,
      );
      client.close();
      expect(err).toBeInstanceOf(GeeCacheError);
      expect(err!.message).toContain(`protected mode: peer requests from ${OTHER_ADDRESS} are refused`);
      const loopGrpc = new GrpcPeer({ url: `grpc://127.0.0.1:${grpcPort}`, timeout: 2000 });
      expect(new TextDecoder().decode((await loopGrpc.get("scores", "Tom")).value)).toBe("630");
      loopGrpc.close();
    },
  );

  test.skipIf(!OTHER_ADDRESS)("tokens or --protected-mode=no open them again", async () => {
    await using open = await start(["--protected-mode=no"]);
    expect(await put(`http://${OTHER_ADDRESS}:${new URL(open.url).port}`)).toEqual({ status: 204, body: "" });
    expect(open.stdout.text).not.toContain("protected mode");
    await using tokens = await start(["--api-token=w-secret", "--token=p-secret"]);
    const other = `http://${OTHER_ADDRESS}:${new URL(tokens.url).port}`;
    expect(await put(other, "w-secret")).toEqual({ status: 204, body: "" });
    const peer = await fetch(`${other}/_geecache/scores/Tom`, { headers: { authorization: "Bearer p-secret" } });
    expect(peer.status).toBe(200);
    expect(tokens.stdout.text).not.toContain("protected mode");
  });
});
