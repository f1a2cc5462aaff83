// The discovery conformance suite (test/discovery.cases.ts) against dnsDiscovery following the A
// records of svc.test on a real dnsmasq (test/helpers/dns.ts). Each read is one poll: a gate around
// a real resolver (pointed at dnsmasq) lets the polls through one at a time, so a case knows which
// answer each poll saw, which the two-polls rule of a change needs.
import { test } from "bun:test";
import { Resolver } from "node:dns/promises";
import { type DnsLookup, dnsDiscovery } from "../src/cluster/dns-discovery.ts";
import { discoveryCases } from "./discovery.cases.ts";
import { DNSMASQ, startDns } from "./helpers/dns.ts";

const NAME = "svc.test";
const PORT = 7000;
/** READY is a record dnsmasq always holds, so that it can be probed whatever svc.test holds. */
const READY: [string, string] = ["127.0.0.9", "ready.test"];
/** INTERVAL (ms) is how often the timer offers a poll; the gate decides when one runs. */
const INTERVAL = 20;
/** QUERY_TIMEOUT (ms) is how long a query waits for a paused dnsmasq before the poll fails. */
const QUERY_TIMEOUT = 300;

const records = (urls: readonly string[]): Array<[string, string]> => [
  READY,
  ...urls.map((u): [string, string] => [new URL(u).hostname, NAME]),
];

/** Poll is one poll of the discovery: its resolve4 and the resolve6 made with it. */
interface Poll {
  pass: PromiseWithResolvers<void>;
  v4: Promise<unknown>;
  /** done settles once the poll has acted on both answers. */
  done: Promise<unknown>;
}

/** gated wraps lookup so that each poll waits for read(); start()'s first poll goes through at once. */
function gated(lookup: DnsLookup): { lookup: DnsLookup; read(): Promise<void> } {
  const arrived: Poll[] = []; // polls the timer started, waiting for a read
  const readers: Array<(p: Poll) => void> = []; // reads waiting for the timer's next poll
  let first = true;
  let current: Poll | undefined;
  return {
    lookup: {
      // addressAnswer calls resolve4, then resolve6 at once: resolve4 begins a poll.
      resolve4(name) {
        const poll: Poll = { pass: Promise.withResolvers<void>(), v4: Promise.resolve(), done: Promise.resolve() };
        if (first) poll.pass.resolve();
        else if (readers.length > 0) readers.shift()!(poll);
        else arrived.push(poll);
        first = false;
        current = poll;
        const v4 = poll.pass.promise.then(() => lookup.resolve4(name));
        poll.v4 = v4;
        return v4;
      },
      resolve6(name) {
        const poll = current!;
        const v6 = poll.pass.promise.then(() => lookup.resolve6(name));
        // The poller acts on the answers in the microtasks after both settle: a macrotask later it is done.
        poll.done = Promise.allSettled([poll.v4, v6]).then(() => new Promise((r) => setImmediate(r)));
        return v6;
      },
      resolveSrv: (name) => lookup.resolveSrv(name),
    },
    async read() {
      const poll = arrived.shift() ?? (await new Promise<Poll>((r) => readers.push(r)));
      poll.pass.resolve();
      await poll.done;
    },
  };
}

if (!DNSMASQ) {
  test.skip("discovery dns: dnsmasq is not installed (apt-get install dnsmasq-base), so the cases skip", () => {});
} else {
  discoveryCases({
    name: "dns",
    async open(urls) {
      const dns = await startDns(records(urls));
      const resolver = new Resolver({ timeout: QUERY_TIMEOUT, tries: 1 });
      resolver.setServers([dns.server]);
      const gate = gated(resolver);
      const events: string[] = [];
      return {
        discovery: dnsDiscovery({
          name: NAME,
          port: PORT,
          interval: INTERVAL,
          lookup: gate.lookup,
          onEvent: (m) => events.push(m),
        }),
        events,
        async show(list) {
          dns.resume();
          await dns.setHosts(records(list));
        },
        fail: async () => dns.pause(),
        read: gate.read,
        [Symbol.asyncDispose]: () => dns.stop(),
      };
    },
    // No records is what a lookup answers while a Service has no ready pods, or during a DNS glitch: never a reason
    // to drop every peer.
    empty: "kept",
  });
}
