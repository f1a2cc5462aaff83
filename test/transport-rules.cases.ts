// The peer service's rules (src/cluster/peer-service.ts) as every transport carries them: peek, set
// as owner or as copy, expire 0, remove, getMany with mixed answers, an unknown group and a wrong
// token on every call. Run beside transport.cases.ts by test/transport-<name>.test.ts; the cases
// go through the clients of the transport under test only, so each rule is seen on the wire.
import { describe, expect, test } from "bun:test";
import { ByteView } from "../src/core/byteview.ts";
import { GeeCacheError } from "../src/core/errors.ts";
import type { PeerResponse } from "../src/core/protocol.ts";
import { failed, GROUP, harness, outcome } from "./helpers/transport-harness.ts";
import type { TransportFactory } from "./transport.cases.ts";

const dec = new TextDecoder();
/** plain is a peer answer as text (its rate left out: timing decides it); an error is NOT_FOUND or "failed". */
const plain = (r: PeerResponse | GeeCacheError | undefined) =>
  r instanceof GeeCacheError
    ? failed(r.code)
      ? "failed"
      : r.code
    : r && { value: dec.decode(r.value), expiresAt: r.expiresAt };

/** transportRuleCases registers the peer service's rules for one transport. */
export function transportRuleCases(factory: TransportFactory): void {
  describe(`transport ${factory.name}: the peer service's rules`, () => {
    test("peek answers the cached copy only: a miss is undefined and loads nothing; a hit carries its expiry", async () => {
      await using h = await harness(factory, 2);
      const client = factory.make({}).client(h.c.urls[1]!);
      if (!client.peek) return; // optional: a transport without peek only loses handoff
      const key = h.c.keyOwnedBy(1);
      const expiresAt = Date.now() + 60_000;
      const miss = await client.peek(GROUP, key);
      h.c.nodes[1]!.group.setLocal(key, "kept", { expiresAt });
      expect({ miss, hit: plain(await client.peek(GROUP, key)), loads: h.loads }).toEqual({
        miss: undefined,
        hit: { value: "kept", expiresAt },
        loads: [[], []],
      });
    });

    test("purge drops every entry of the group at a newer purge number only; an unknown group is a peer failure", async () => {
      await using h = await harness(factory, 2);
      const client = factory.make({}).client(h.c.urls[1]!);
      if (!client.purge) return; // optional: such a peer is named among those a purge could not reach
      const g = h.c.nodes[1]!.group;
      g.setLocal("a", "1");
      g.setLocal("b", "2");
      await client.purge(GROUP, 1);
      const afterFirst = [g.peek("a"), g.peek("b"), g.generation];
      g.setLocal("c", "3");
      await client.purge(GROUP, 1); // the same number again: nothing
      const unknown = await outcome(client.purge(`${GROUP}-none`, 2));
      expect({
        afterFirst,
        c: plain(g.peek("c") && { value: g.peek("c")!.value.bytes(), expiresAt: 0 }),
        unknown,
      }).toEqual({
        afterFirst: [undefined, undefined, 1],
        c: { value: "3", expiresAt: 0 },
        unknown: "PEER_FAILED",
      });
    });

    test("set as owner lands in the main cache; set as copy is kept aside: peeked, never served as the owner's", async () => {
      await using h = await harness(factory, 2);
      const client = factory.make({}).client(h.c.urls[1]!);
      const [owned, copied] = [h.c.keyOwnedBy(1, "own-"), h.c.keyOwnedBy(0, "copy-")];
      const expiresAt = Date.now() + 60_000;
      await client.set!(GROUP, owned, ByteView.from("mine"), expiresAt);
      await client.set!(GROUP, copied, ByteView.from("theirs"), expiresAt, undefined, "copy");
      expect({
        owned: h.cached(1, owned),
        copiedInMainOrHot: h.cached(1, copied),
        // A transport without peek keeps copies all the same; they only cannot be asked for.
        copiedPeeked: client.peek ? plain(await client.peek(GROUP, copied)) : { value: "theirs", expiresAt },
      }).toEqual({
        owned: { value: "mine", expiresAt, from: "main" },
        copiedInMainOrHot: undefined,
        copiedPeeked: { value: "theirs", expiresAt },
      });
    });

    test("expire 0 on the wire is never, even in a group with a ttl", async () => {
      await using h = await harness(factory, 2, { group: () => ({ ttl: 60_000 }) });
      const client = factory.make({}).client(h.c.urls[1]!);
      const key = h.c.keyOwnedBy(1);
      await client.set!(GROUP, key, ByteView.from("forever"), 0);
      expect(h.cached(1, key)).toEqual({ value: "forever", expiresAt: 0, from: "main" });
    });

    test("getMany: one answer per key, in any mix of values, missing keys and failures; each key loaded once", async () => {
      await using h = await harness(factory, 2);
      const client = factory.make({}).client(h.c.urls[1]!);
      if (!client.getMany) return; // optional: the group then asks key by key
      const keys = ["a", "missing-1", "fail-1", "b", "a"];
      const got = await client.getMany(GROUP, keys);
      expect({ entries: [...got].map(([k, r]) => [k, plain(r)]), loads: h.loads.map((l) => l.toSorted()) }).toEqual({
        entries: [
          ["a", { value: "a@1", expiresAt: 0 }],
          ["missing-1", "NOT_FOUND"],
          ["fail-1", "failed"],
          ["b", { value: "b@1", expiresAt: 0 }],
        ],
        loads: [[], ["a", "b", "fail-1", "missing-1"]],
      });
    });

    test("an unknown group fails every call as a peer failure (never NOT_FOUND) and stores nothing", async () => {
      await using h = await harness(factory, 2);
      const client = factory.make({}).client(h.c.urls[1]!);
      const none = `${GROUP}-none`;
      const codes = {
        get: await outcome(client.get(none, "k")),
        peek: client.peek ? await outcome(client.peek(none, "k")) : "PEER_FAILED",
        set: await outcome(client.set!(none, "k", ByteView.from("v"), 0)),
        remove: await outcome(client.remove!(none, "k")),
        getMany: client.getMany ? await outcome(client.getMany(none, ["k"])) : "PEER_FAILED",
      };
      expect(Object.values(codes).every(failed)).toBe(true);
      expect(h.loads).toEqual([[], []]);
    });

    test("a value over maxValueBytes is refused as owner and as copy alike", async () => {
      await using h = await harness(factory, 2, { transport: () => ({ maxValueBytes: 8 }) });
      const client = factory.make({ maxValueBytes: 8 }).client(h.c.urls[1]!);
      const key = h.c.keyOwnedBy(1);
      const big = ByteView.from("x".repeat(9));
      const owner = await outcome(client.set!(GROUP, key, big, 0));
      const copy = await outcome(client.set!(GROUP, key, big, 0, undefined, "copy"));
      expect({ owner: failed(owner), copy: failed(copy), peeked: h.c.nodes[1]!.group.peek(key) }).toEqual({
        owner: true,
        copy: true,
        peeked: undefined,
      });
    });

    test("a wrong token is refused on peek and getMany too, as a peer failure, before any group is asked", async () => {
      await using h = await harness(factory, 2, { transport: () => ({ token: "s3cret" }) });
      const key = h.c.keyOwnedBy(1);
      h.c.nodes[1]!.group.setLocal(key, "kept", { expiresAt: 0 });
      const client = factory.make({ token: "wrong" }).client(h.c.urls[1]!);
      const codes = {
        get: await outcome(client.get(GROUP, key)),
        peek: client.peek ? await outcome(client.peek(GROUP, key)) : "PEER_FAILED",
        getMany: client.getMany ? await outcome(client.getMany(GROUP, [key])) : "PEER_FAILED",
      };
      expect({ codes, served: h.stats(1).serverRequests }).toEqual({
        codes: { get: "PEER_FAILED", peek: "PEER_FAILED", getMany: "PEER_FAILED" },
        served: 0,
      });
    });
  });
}
