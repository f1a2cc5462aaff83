import { Resolver } from "node:dns/promises";
import { errorMessage, GeeCacheError } from "../core/errors.ts";
import { duration, type Setting, settingError } from "../core/settings.ts";
import { formatDuration } from "../core/units.ts";
import type { Discovery, DiscoveryModule, PeerUpdate } from "./discovery.ts";

/** DEFAULT_DNS_INTERVAL is how often a DNS name is resolved again: 5 s. */
export const DEFAULT_DNS_INTERVAL = 5000;

/** DnsLookup is what discovery needs of a resolver (node:dns's Resolver, or a fake in a unit test). */
export interface DnsLookup {
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  resolveSrv(name: string): Promise<Array<{ name: string; port: number }>>;
}

/** DnsDiscoveryOptions say which name to follow and how its records become peer URLs. */
export interface DnsDiscoveryOptions {
  /** name is resolved for A/AAAA records, or for SRV records with `srv`. */
  name: string;
  srv?: boolean;
  /** scheme of the peer URLs: "http" (default), "https", "grpc" or "grpcs". */
  scheme?: string;
  /** port of every address (A/AAAA mode; SRV records carry their own). */
  port: number;
  /** server is "HOST:PORT" of the DNS server to ask instead of the system's resolver. */
  server?: string;
  interval?: number;
  /** self is this node's URL: SRV mode names it by its own URL when a record's address is this node's. */
  self?: string;
  /** onEvent is told, once per change of state, when a lookup fails or comes back empty, and when it recovers. */
  onEvent?: (message: string) => void;
  lookup?: DnsLookup;
}

/** DnsAnswer is one poll's view: the peer identities (ring names) and, for SRV, the address each is reached at. */
interface DnsAnswer {
  urls: string[];
  addresses: Map<string, string>;
}

/**
 * dnsDiscovery follows a DNS name: every address of its A/AAAA records (a Kubernetes headless
 * Service) is a peer `scheme://ADDR:PORT`; in SRV mode each record's target host name is the
 * peer's identity on the ring (`scheme://TARGET:PORT`, stable across restarts of a StatefulSet
 * pod) while its current address is what the client connects to. The first answer is applied at
 * once; a later change is applied only once two polls in a row agree, so one odd answer cannot
 * make the ring flap. An empty or failed lookup keeps the last good set.
 */
export function dnsDiscovery(options: DnsDiscoveryOptions): Discovery {
  const interval = options.interval ?? DEFAULT_DNS_INTERVAL;
  if (!(interval > 0)) throw new RangeError(`dnsDiscovery interval must be > 0 ms, got ${interval}`);
  const lookup = options.lookup ?? resolverFor(options.server, interval);
  const describe = `dns ${options.srv ? "SRV " : ""}${options.name}${options.server ? ` @${options.server}` : ""}`;
  return {
    describe,
    async start(update: PeerUpdate, signal: AbortSignal) {
      const poller = new DnsPoller({ ...options, lookup }, describe, update);
      await poller.poll();
      const timer = setInterval(() => void poller.poll(), interval);
      timer.unref();
      signal.addEventListener("abort", () => clearInterval(timer), { once: true });
    },
  };
}

/** DnsPoller is one DNS discovery's state between polls: the set in use and a different answer seen once. */
export class DnsPoller {
  #applied: string | undefined; // the key of the set in use
  #pending: string | undefined; // a different answer, seen once
  #failing = "";
  readonly #options: DnsDiscoveryOptions & { lookup: DnsLookup };
  readonly #describe: string;
  readonly #update: PeerUpdate;

  constructor(options: DnsDiscoveryOptions & { lookup: DnsLookup }, describe: string, update: PeerUpdate) {
    this.#options = options;
    this.#describe = describe;
    this.#update = update;
  }

  /** poll resolves the name once and applies the answer if it is the first, or the second in a row of a change. */
  async poll(): Promise<void> {
    const o = this.#options;
    const scheme = o.scheme ?? "http";
    let answer: DnsAnswer;
    try {
      answer = o.srv ? await srvAnswer(o.lookup, o, scheme) : await addressAnswer(o.lookup, o, scheme);
      if (answer.urls.length === 0) throw new GeeCacheError("NOT_FOUND", "no records");
    } catch (err) {
      const message = `${this.#describe}: lookup failed (${errorMessage(err)}); keeping the last good set`;
      if (message !== this.#failing) o.onEvent?.(message);
      this.#failing = message;
      return;
    }
    if (this.#failing) o.onEvent?.(`${this.#describe}: lookup answers again`);
    this.#failing = "";
    const key = answerKey(answer);
    if (key === this.#applied) {
      this.#pending = undefined;
      return;
    }
    if (this.#applied !== undefined && key !== this.#pending) {
      this.#pending = key; // seen once: the next poll must agree
      return;
    }
    this.#applied = key;
    this.#pending = undefined;
    this.#update(answer.urls, answer.addresses);
  }
}

function answerKey(a: DnsAnswer): string {
  return a.urls.map((u) => `${u}=${a.addresses.get(u) ?? ""}`).join(",");
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

async function addressAnswer(lookup: DnsLookup, o: DnsDiscoveryOptions, scheme: string): Promise<DnsAnswer> {
  const [v4, v6] = await Promise.allSettled([lookup.resolve4(o.name), lookup.resolve6(o.name)]);
  if (v4.status === "rejected" && v6.status === "rejected") throw v4.reason;
  const ips = [...(v4.status === "fulfilled" ? v4.value : []), ...(v6.status === "fulfilled" ? v6.value : [])];
  const urls = [...new Set(ips.map((ip) => `${scheme}://${hostPort(ip, o.port)}`))].sort();
  return { urls, addresses: new Map() };
}

async function srvAnswer(lookup: DnsLookup, o: DnsDiscoveryOptions, scheme: string): Promise<DnsAnswer> {
  const records = await lookup.resolveSrv(o.name);
  const addresses = new Map<string, string>();
  const urls: string[] = [];
  await Promise.all(
    records.map(async (r) => {
      const target = r.name.replace(/\.$/, "");
      const id = `${scheme}://${hostPort(target, r.port)}`;
      let ip: string | undefined;
      try {
        ip = (await lookup.resolve4(target))[0];
      } catch {
        ip = (await lookup.resolve6(target).catch(() => []))[0];
      }
      if (ip === undefined) return; // a pod not yet in DNS: it joins on a later poll
      const address = `${scheme}://${hostPort(ip, r.port)}`;
      // This node may not know its own pod name: its own address on the list is itself.
      if (o.self !== undefined && address === o.self) {
        urls.push(o.self);
        return;
      }
      urls.push(id);
      addresses.set(id, address);
    }),
  );
  return { urls: [...new Set(urls)].sort(), addresses };
}

function resolverFor(server: string | undefined, interval: number): DnsLookup {
  const r = new Resolver({ timeout: Math.min(2000, interval), tries: 2 });
  if (server !== undefined) r.setServers([server]);
  return r;
}

/** DnsName is a --peers-dns or --peers-srv setting: the name to follow, its port, and which records. */
export interface DnsName {
  name: string;
  port: number | undefined;
  srv: boolean;
}

/** dnsName reads NAME or NAME:PORT for --peers-dns (srv false) or --peers-srv (srv true). */
const dnsName =
  (srv: boolean) =>
  (t: string, flag: string): DnsName => {
    const m = /^([A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/.exec(t.trim());
    if (!m)
      throw settingError(
        flag,
        `accepts a DNS name with an optional :PORT, such as geecache-peers.default.svc.cluster.local:8001, got ${JSON.stringify(t)}`,
      );
    const port = m[3] === undefined ? undefined : Number(m[3]);
    if (port !== undefined && (port < 1 || port > 65535))
      throw settingError(flag, `port ${port} is out of range 1 to 65535`);
    return { name: m[1]!, port, srv };
  };

function dnsServer(t: string, flag: string): string {
  if (!/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])(:\d{1,5})?$/.test(t))
    throw settingError(
      flag,
      `accepts an IP address with an optional port, such as 10.0.0.10 or 127.0.0.1:5353, got ${JSON.stringify(t)}`,
    );
  return t;
}

const DNS_SETTINGS: readonly Setting[] = [
  {
    name: "peers-dns",
    help:
      "DNS name whose A/AAAA records are the nodes (a Kubernetes headless Service); each address becomes " +
      "SCHEME://ADDR:PORT, with this node's scheme and port (or NAME:PORT)",
    hint: "geecache-peers.ns.svc",
    option: "peersDns",
    parse: dnsName(false),
  },
  {
    name: "peers-srv",
    help:
      "DNS name whose SRV records are the nodes; each record's target host name is the peer's identity " +
      "(stable StatefulSet pod names)",
    hint: "_http._tcp.geecache",
    option: "peersDns",
    parse: dnsName(true),
  },
  {
    name: "dns-server",
    help: "Send --peers-dns/--peers-srv queries to this server instead of the system's resolver",
    hint: "10.0.0.10:53",
    parse: dnsServer,
  },
  {
    name: "dns-interval",
    help: "How often --peers-dns/--peers-srv is resolved again; a change is applied once seen twice in a row",
    fallback: formatDuration(DEFAULT_DNS_INTERVAL),
    parse: duration(100, "1s or 5s"),
  },
];

/** dnsDiscoveryModule follows --peers-dns (A/AAAA records) or --peers-srv (SRV records). */
export const dnsDiscoveryModule: DiscoveryModule = {
  name: "dns",
  flag: "peers-dns",
  settings: DNS_SETTINGS,
  chosen: (o) => o.peersDns !== undefined,
  check(o, given) {
    const flag = given.has("peers-srv") ? "peers-srv" : "peers-dns";
    if (given.has("peers-dns") && given.has("peers-srv"))
      throw settingError("peers-srv", "and --peers-dns cannot be used together: choose A/AAAA or SRV records");
    const host = o.host as string;
    if (o.self === undefined && (host === "0.0.0.0" || host === "::"))
      throw settingError(
        flag,
        "needs --self (the URL the other nodes reach this one at, e.g. http://$(POD_IP):8001) or a concrete --host address",
      );
  },
  create(o, context) {
    const dns = o.peersDns as DnsName;
    return dnsDiscovery({
      name: dns.name,
      srv: dns.srv,
      port: dns.port ?? context.port,
      scheme: context.scheme,
      server: o.dnsServer as string | undefined,
      interval: o.dnsInterval as number,
      self: context.self,
      onEvent: context.warn,
    });
  },
};
