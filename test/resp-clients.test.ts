// RESP with ioredis against dist/geecache: commands, pipelines, AUTH, reconnecting after a restart,
// and a three-node cluster where any node answers any key and a write on one is read on the others.

import { describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { spawnCluster, spawnNode } from "./helpers/process.ts";
import { REDIS_CLI, redisCli, respUrl } from "./helpers/resp.ts";

/** client connects ioredis to url without retrying forever in a test that fails. */
function client(url: string, options: { password?: string; retry?: boolean } = {}): Redis {
  const redis = new Redis(url, {
    password: options.password,
    maxRetriesPerRequest: 1,
    retryStrategy: options.retry ? (n) => (n > 100 ? null : 20) : () => null,
    lazyConnect: false,
  });
  redis.on("error", () => {}); // refused while a node restarts: the commands' own promises report what matters
  return redis;
}

describe("RESP through ioredis", () => {
  test("get, set with EX, del, mget, and a pipeline answered in order", async () => {
    await using node = await spawnNode(["--port=0", "--resp-port=0"]);
    const redis = client(respUrl(node));
    try {
      expect(await redis.get("Tom")).toBe("630");
      expect(await redis.set("a", "1", "EX", 60)).toBe("OK");
      expect(await redis.ttl("a")).toBe(60);
      expect(await redis.mget("a", "Jack", "nobody")).toEqual(["1", "589", null]);
      expect(await redis.del("a")).toBe(1);
      expect(await redis.get("a")).toBeNull();
      const value = Buffer.from([0, 13, 10, 255, 1]); // binary, with CRLF inside
      await redis.set("bin", value);
      expect(await redis.getBuffer("bin")).toEqual(value);
      const pipeline = redis.pipeline();
      for (let i = 0; i < 200; i++) pipeline.set(`p${i}`, `v${i}`);
      for (let i = 0; i < 200; i++) pipeline.get(i % 2 ? `p${i}` : "Sam");
      const results = await pipeline.exec();
      expect(results!.slice(200).map(([err, v]) => err ?? v)).toEqual(
        Array.from({ length: 200 }, (_, i) => (i % 2 ? `v${i}` : "567")),
      );
    } finally {
      redis.disconnect();
    }
  });

  test("AUTH: NOAUTH without the token, WRONGPASS with a wrong one, everything with --api-token, reads with the read token", async () => {
    await using node = await spawnNode(["--port=0", "--resp-port=0", "--api-token=secret", "--api-read-token=reader"]);
    const url = respUrl(node);
    const anonymous = new Redis(url, { enableReadyCheck: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    const writer = client(url, { password: "secret" });
    const reader = client(url, { password: "reader" });
    try {
      expect(await anonymous.ping()).toBe("PONG");
      await expect(anonymous.get("Tom")).rejects.toThrow("NOAUTH Authentication required.");
      await expect(anonymous.auth("wrong")).rejects.toThrow("WRONGPASS invalid username-password pair");
      expect(await writer.set("k", "v")).toBe("OK");
      expect(await reader.get("k")).toBe("v");
      await expect(reader.set("k", "x")).rejects.toThrow(
        "NOPERM this user has no permissions to run the 'set' command",
      );
    } finally {
      for (const r of [anonymous, writer, reader]) r.disconnect();
    }
    if (REDIS_CLI) {
      const out = await redisCli(url.replace("redis://", "redis://:secret@"), ["--no-auth-warning", "GET", "k"]);
      expect(out.out).toBe("v\n");
    }
  });

  test("a client reconnects to a node that restarts on the same port, and is served again", async () => {
    const first = await spawnNode(["--port=0", "--resp-port=0"]);
    const url = respUrl(first);
    const redis = client(url, { retry: true });
    try {
      expect(await redis.get("Tom")).toBe("630");
      const closed = new Promise((resolve) => redis.once("close", resolve));
      await first.stop();
      await closed;
      await using second = await spawnNode(["--port=0", `--resp-port=${new URL(url).port}`]);
      expect(respUrl(second)).toBe(url);
      expect(await redis.get("Jack")).toBe("589"); // queued until the client is connected again
      expect(redis.status).toBe("ready");
    } finally {
      redis.disconnect();
      await first.stop();
    }
  });
});

describe("RESP on a three-node cluster", () => {
  test("any node answers any key; a SET or DEL on one node is seen on the others", async () => {
    await using cluster = await spawnCluster(3, () => ["--resp-port=0"]);
    const clients = cluster.nodes.map((n) => client(respUrl(n)));
    try {
      for (const c of clients)
        expect(await c.mget("Tom", "Jack", "Sam", "nobody")).toEqual(["630", "589", "567", null]);
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`); // spread over the three owners
      for (const [i, k] of keys.entries()) expect(await clients[i % 3]!.set(k, `v${i}`)).toBe("OK");
      for (const c of clients) expect(await c.mget(...keys)).toEqual(keys.map((_, i) => `v${i}`));
      for (const c of clients) expect(await c.get("k7")).toBe("v7");
      expect(await clients[1]!.del("k7", "k8")).toBe(2);
      for (const c of clients) expect(await c.mget("k7", "k8", "k9")).toEqual([null, null, "v9"]);
      // Each node holds only the keys it owns: together they hold every written key once.
      const sizes = await Promise.all(clients.map((c) => c.dbsize()));
      expect(sizes.every((n) => n > 0)).toBe(true);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });
});
