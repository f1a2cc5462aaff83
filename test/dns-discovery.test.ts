import { describe, expect, test } from "bun:test";
import { type DnsLookup, DnsPoller, dnsDiscovery } from "../src/cluster/dns-discovery.ts";
import { DNSMASQ, startDns } from "./helpers/dns.ts";

/** scripted is a resolver whose answers a test sets between polls; a thrown answer is a failed lookup. */
function scripted() {
  const state = {
    a: [] as string[] | Error,
    aaaa: [] as string[] | Error,
    srv: [] as Array<{ name: string; port: number }> | Error,
    hosts: new Map<string, string>(),
  };
  const answer = <T>(v: T | Error) => (v instanceof Error ? Promise.reject(v) : Promise.resolve(v));
  const lookup: DnsLookup = {
    resolve4: (name) =>
      name === "svc"
        ? answer(state.a)
        : state.hosts.has(name)
          ? Promise.resolve([state.hosts.get(name)!])
          : Promise.reject(new Error("ENOTFOUND")),
    resolve6: () => answer(state.aaaa),
    resolveSrv: () => answer(state.srv),
  };
  return { state, lookup };
}

function poller(lookup: DnsLookup, extra: { srv?: boolean; self?: string } = {}) {
  const updates: Array<{ urls: string[]; addresses: Record<string, string> }> = [];
  const events: string[] = [];
  const p = new DnsPoller(
    { name: "svc", port: 8001, lookup, onEvent: (m) => events.push(m), ...extra },
    "dns svc",
    (urls, addresses) => updates.push({ urls, addresses: Object.fromEntries(addresses ?? []) }),
  );
  return { p, updates, events };
}

describe("DnsPoller", () => {
  test("the first answer is applied at once, as sorted peer URLs of the A and AAAA records", async () => {
    const { state, lookup } = scripted();
    state.a = ["10.0.0.2", "10.0.0.1"];
    state.aaaa = ["fd00::1"];
    const { p, updates } = poller(lookup);
    await p.poll();
    expect(updates).toEqual([
      { urls: ["http://10.0.0.1:8001", "http://10.0.0.2:8001", "http://[fd00::1]:8001"], addresses: {} },
    ]);
  });

  test("a change is applied only once two polls in a row agree", async () => {
    const { state, lookup } = scripted();
    state.a = ["10.0.0.1"];
    state.aaaa = new Error("ENODATA");
    const { p, updates } = poller(lookup);
    await p.poll();
    state.a = ["10.0.0.1", "10.0.0.2"];
    await p.poll();
    const afterOne = updates.length;
    await p.poll();
    expect({ afterOne, last: updates.at(-1)?.urls, total: updates.length }).toEqual({
      afterOne: 1,
      last: ["http://10.0.0.1:8001", "http://10.0.0.2:8001"],
      total: 2,
    });
  });

  test("one odd answer between two normal ones never reaches the ring (no flapping)", async () => {
    const { state, lookup } = scripted();
    state.a = ["10.0.0.1", "10.0.0.2"];
    const { p, updates } = poller(lookup);
    await p.poll();
    for (const a of [["10.0.0.1"], ["10.0.0.1", "10.0.0.2"], ["10.0.0.3"], ["10.0.0.1", "10.0.0.2"]]) {
      state.a = a;
      await p.poll();
    }
    expect(updates.length).toBe(1);
  });

  test("a failed or empty lookup keeps the last good set and is reported once per change of state", async () => {
    const { state, lookup } = scripted();
    state.a = ["10.0.0.1"];
    const { p, updates, events } = poller(lookup);
    await p.poll();
    state.a = new Error("SERVFAIL");
    state.aaaa = new Error("SERVFAIL");
    await p.poll();
    await p.poll();
    state.a = [];
    state.aaaa = [];
    await p.poll();
    state.a = ["10.0.0.1"];
    await p.poll();
    expect({ updates: updates.length, events }).toEqual({
      updates: 1,
      events: [
        "dns svc: lookup failed (SERVFAIL); keeping the last good set",
        "dns svc: lookup failed (no records); keeping the last good set",
        "dns svc: lookup answers again",
      ],
    });
  });

  test("SRV: each target host name is the peer's identity, reached at its current address; this node's own address is itself", async () => {
    const { state, lookup } = scripted();
    state.srv = [
      { name: "pod-1.svc", port: 8001 },
      { name: "pod-0.svc", port: 8001 },
      { name: "pod-2.svc", port: 8001 },
    ];
    state.hosts = new Map([
      ["pod-0.svc", "10.0.0.5"],
      ["pod-1.svc", "10.0.0.6"],
    ]); // pod-2 not in DNS yet
    const { p, updates } = poller(lookup, { srv: true, self: "http://10.0.0.6:8001" });
    await p.poll();
    state.hosts.set("pod-0.svc", "10.0.0.9"); // pod-0 restarted with a new IP
    await p.poll();
    await p.poll();
    expect(updates).toEqual([
      {
        urls: ["http://10.0.0.6:8001", "http://pod-0.svc:8001"],
        addresses: { "http://pod-0.svc:8001": "http://10.0.0.5:8001" },
      },
      {
        urls: ["http://10.0.0.6:8001", "http://pod-0.svc:8001"],
        addresses: { "http://pod-0.svc:8001": "http://10.0.0.9:8001" },
      },
    ]);
  });
});

describe.skipIf(!DNSMASQ)("dnsDiscovery against a real DNS server (dnsmasq)", () => {
  test("A records and SRV records from dnsmasq become peers; a change of its hosts file is followed", async () => {
    await using dns = await startDns(
      [
        ["127.0.0.2", "svc.test"],
        ["127.0.0.3", "svc.test"],
        ["127.0.0.4", "pod-0.test"],
      ],
      [{ name: "_geecache._tcp.svc.test", target: "pod-0.test", port: 7000 }],
    );
    const seen: string[][] = [];
    const stop = new AbortController();
    const changed = Promise.withResolvers<void>();
    await dnsDiscovery({ name: "svc.test", port: 7000, server: dns.server, interval: 100 }).start((urls) => {
      seen.push(urls);
      if (seen.length === 2) changed.resolve();
    }, stop.signal);
    const srv: Array<[string[], Record<string, string>]> = [];
    await dnsDiscovery({
      name: "_geecache._tcp.svc.test",
      srv: true,
      port: 1,
      server: dns.server,
      interval: 100,
    }).start((urls, addresses) => srv.push([urls, Object.fromEntries(addresses ?? [])]), stop.signal);
    await dns.setHosts([
      ["127.0.0.2", "svc.test"],
      ["127.0.0.3", "svc.test"],
      ["127.0.0.5", "svc.test"],
      ["127.0.0.4", "pod-0.test"],
    ]);
    const timer = setTimeout(() => changed.reject(new Error("no second update within 5 s")), 5000);
    await changed.promise;
    clearTimeout(timer);
    stop.abort();
    expect({ seen, srv }).toEqual({
      seen: [
        ["http://127.0.0.2:7000", "http://127.0.0.3:7000"],
        ["http://127.0.0.2:7000", "http://127.0.0.3:7000", "http://127.0.0.5:7000"],
      ],
      srv: [[["http://pod-0.test:7000"], { "http://pod-0.test:7000": "http://127.0.0.4:7000" }]],
    });
  });
});
