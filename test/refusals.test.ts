// Peer requests refused for their token are logged, a few at a time: the first at once, the rest
// counted into the next line at most every REFUSAL_LOG_INTERVAL.
import { describe, expect, test } from "bun:test";
import { refusalLog } from "../src/cluster/refusals.ts";
import { spawnNode } from "./helpers/process.ts";
import { until } from "./helpers/until.ts";

describe("refusalLog", () => {
  test("the first at once; within the interval counted; the next line says how many more", () => {
    let t = 0;
    const lines: string[] = [];
    const refused = refusalLog(
      (m) => lines.push(m),
      10_000,
      () => t,
    );
    refused("a");
    refused("b");
    refused("c");
    t = 10_000;
    refused("d");
    t = 15_000;
    refused("e");
    expect(lines).toEqual(["a", "d (and 2 more refused since the last line)"]);
  });
});

describe("a node with --token", () => {
  test("a leave announcement and a handover push without the token: 401, and one log line", async () => {
    await using node = await spawnNode(["--port=0", "--token=the-secret", "--log-format=json"]);
    const announce = await fetch(`${node.url}/_geecache/_member`, {
      method: "POST",
      body: JSON.stringify({ peer: "http://127.0.0.1:1", state: "leaving", boot: "x" }),
    });
    const push = await fetch(`${node.url}/_geecache/scores/Tom`, {
      method: "PUT",
      headers: { authorization: "Bearer wrong", "x-geecache-offer": "1" },
      body: new Uint8Array([10, 1, 120]),
    });
    expect([announce.status, push.status]).toEqual([401, 401]);
    await until("the refusal line", () =>
      node.stdout.text.includes("refused a peer request without the cluster token"),
    );
    const lines = node.stdout.text.split("\n").filter((l) => l.includes("refused a peer request"));
    expect(lines.length).toBe(1); // the second was counted, not logged
    expect(JSON.parse(lines[0]!).message).toBe(
      "refused a peer request without the cluster token: POST /_geecache/_member",
    );
  });
});
