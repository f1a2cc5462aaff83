import { describe, expect, test } from "bun:test";
import { Group } from "../src/group/group.ts";
import { Registry } from "../src/group/registry.ts";
import { grpcTransport } from "../src/transport/grpc/index.ts";

describe("gRPC peers and peer health", () => {
  test("probe resolves on any gRPC answer and rejects when nothing listens; answers carry the boot id", async () => {
    const registry = new Registry();
    registry.add(new Group({ name: "scores", getter: (k) => `v:${k}` }));
    const server = grpcTransport({ bootId: "boot-1" });
    const listening = await server.listen!(registry, { host: "127.0.0.1", port: 0 });
    const client = grpcTransport({ timeout: 1000 }).client(listening.url);
    try {
      await client.probe!();
      const res = await client.get("scores", "Tom");
      await listening.close();
      const down = await client.probe!().then(
        () => "answered",
        (e: { code?: string }) => e.code,
      );
      expect({ value: new TextDecoder().decode(res.value), boot: res.boot, down }).toEqual({
        value: "v:Tom",
        boot: "boot-1",
        down: "PEER_FAILED",
      });
    } finally {
      await client.close?.();
      await listening.close().catch(() => {});
    }
  });
});
