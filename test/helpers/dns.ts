// A real DNS server for discovery tests: dnsmasq on a loopback address, answering from a hosts
// file that a test rewrites (and reloads with SIGHUP), plus fixed SRV records.

import { Resolver } from "node:dns/promises";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { until } from "./until.ts";

/** DNSMASQ is the dnsmasq binary, or undefined when it is not installed (tests then skip). */
export const DNSMASQ = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"].find((p) => existsSync(p));

/** SrvRecord is one SRV answer of a name: target host and port. */
export interface SrvRecord {
  name: string;
  target: string;
  port: number;
}

/** DnsServer is a started dnsmasq; `await using` stops it and removes its files. */
export interface DnsServer extends AsyncDisposable {
  /** server is "127.0.0.1:PORT", what --dns-server takes. */
  server: string;
  /** setHosts replaces the A/AAAA records ("ADDRESS NAME" lines) and waits until dnsmasq answers from them. */
  setHosts(records: Array<[address: string, name: string]>): Promise<void>;
  /** pause stops dnsmasq (SIGSTOP): queries go unanswered, as of a server that is down, until resume. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/**
 * startDns starts dnsmasq with no upstream (it answers only from its files) on a random high
 * port of 127.0.0.1, trying another port when that one is taken.
 */
export async function startDns(hosts: Array<[string, string]>, srv: SrvRecord[] = []): Promise<DnsServer> {
  if (!DNSMASQ) throw new Error("dnsmasq is not installed (apt-get install dnsmasq-base)");
  const dir = mkdtempSync(join(tmpdir(), "geecache-dns-"));
  const hostsFile = join(dir, "hosts");
  const write = (records: Array<[string, string]>) =>
    writeFileSync(hostsFile, records.map(([a, n]) => `${a} ${n}\n`).join(""));
  write(hosts);
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const proc: Subprocess = Bun.spawn(
      [
        DNSMASQ,
        "--keep-in-foreground",
        "--no-daemon",
        `--port=${port}`,
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        "--local=/test/", // a .test name without records is NXDOMAIN, as from the zone's own server (not REFUSED)
        `--addn-hosts=${hostsFile}`,
        "--local-ttl=0",
        "--user=root",
        "--pid-file=",
        ...srv.map((r) => `--srv-host=${r.name},${r.target},${r.port}`),
      ],
      { stdout: "ignore", stderr: "pipe" },
    );
    const server = `127.0.0.1:${port}`;
    const resolver = new Resolver({ timeout: 300, tries: 1 });
    resolver.setServers([server]);
    // Ready once it answers the first name; a port in use makes dnsmasq exit at once.
    const probe = hosts[0]?.[1];
    const answers = async () => {
      if (proc.exitCode !== null) return true; // gave up on this port: tried again below
      if (probe) await resolver.resolve4(probe);
      return true;
    };
    const up = await until(`dnsmasq on ${server}`, answers, { timeoutMs: 5000, intervalMs: 20 }).then(
      () => proc.exitCode === null,
      () => false,
    );
    if (!up) {
      proc.kill("SIGKILL");
      await proc.exited;
      continue;
    }
    const names = new Set(hosts.map(([, n]) => n)); // every name served so far
    const stop = async () => {
      proc.kill("SIGTERM");
      proc.kill("SIGCONT"); // a paused dnsmasq acts on the SIGTERM once it runs again
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    };
    return {
      server,
      async setHosts(records) {
        write(records);
        proc.kill("SIGHUP");
        const want = new Set(records.filter(([a]) => !a.includes(":")).map(([a, n]) => `${n}=${a}`));
        // The names of the old records too: one that is gone must stop answering.
        for (const [, n] of records) names.add(n);
        const answersAll = async () => {
          const seen = new Set<string>();
          for (const n of names) for (const a of await resolver.resolve4(n).catch(() => [])) seen.add(`${n}=${a}`);
          return seen.size === want.size && [...want].every((w) => seen.has(w));
        };
        await until("dnsmasq to answer from the new hosts file", answersAll, { timeoutMs: 2000, intervalMs: 20 });
      },
      pause: () => proc.kill("SIGSTOP"),
      resume: () => proc.kill("SIGCONT"),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error("dnsmasq did not start on any of 10 random ports");
}
