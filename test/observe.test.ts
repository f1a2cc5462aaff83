import { expect, test } from "bun:test";
import { observePeer } from "../src/cluster/observe.ts";
import type { TransportClient } from "../src/cluster/transport.ts";

// Peer health probes a down peer through the observed client; without probe it fell back to a get
// that a live peer answers 400, so a peer once down never came back while metrics were on.
test("observePeer forwards probe to the client it observes", async () => {
  const probed: (AbortSignal | undefined)[] = [];
  const client: TransportClient = {
    url: "http://peer",
    get: () => Promise.reject(new Error("not called")),
    probe: async (signal) => void probed.push(signal),
  };
  const seen: string[] = [];
  const observed = observePeer(client, (peer, outcome) => seen.push(`${peer} ${outcome}`));
  const signal = AbortSignal.timeout(1000);
  await observed.probe!(signal);
  expect(probed).toEqual([signal]);
  expect(seen).toEqual([]);
});

test("observePeer leaves probe out when the client has none", () => {
  const client: TransportClient = { url: "http://peer", get: () => Promise.reject(new Error("not called")) };
  expect(observePeer(client, () => {}).probe).toBeUndefined();
});
