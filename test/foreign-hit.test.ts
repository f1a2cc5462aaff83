// A main-cache entry of a key another node owns (left behind by a race with a ring change) is not
// served by /api: it moves to the copies (peeked by the owner's handoff) and the key is asked again.
import { expect, test } from "bun:test";
import { Group } from "../src/group/group.ts";
import { Registry } from "../src/group/registry.ts";
import { apiHandler } from "../src/node/api.ts";

test("a hit of a key this node does not own is kept for the handoff only, and the key asked again", async () => {
  let loads = 0;
  const registry = new Registry();
  // The owner (another node) answers "fresh" for k; this node owns "mine".
  const other = {
    url: "http://other:1",
    get: async () => ({ value: new TextEncoder().encode("fresh"), expiresAt: 0 }),
  };
  const peers = { pickPeer: (k: string) => (k === "k" ? other : undefined) };
  registry.add(new Group({ name: "scores", peers, hotCacheRatio: 0, getter: (k) => `src:${k}#${++loads}` }));
  const g = registry.get("scores")!;
  g.setLocal("k", "stale", { written: 1 });
  const handler = apiHandler({ registry, owner: () => "http://other:1", self: () => "http://me:1" });
  const res = await handler(new Request("http://me:1/api?key=k"));
  expect({
    status: res.status,
    body: await res.text(),
    main: g.lookup("k")?.from === "main",
    keptForHandoff: g.peek("k")?.value.toString(),
  }).toEqual({ status: 200, body: "fresh", main: false, keptForHandoff: "stale" });
  // Its own keys are served from the main cache as always.
  const own = apiHandler({ registry, owner: () => "http://me:1", self: () => "http://me:1" });
  g.setLocal("mine", "v");
  expect((await own(new Request("http://me:1/api?key=mine"))).headers.get("x-geecache-from")).toBe("main");
});
