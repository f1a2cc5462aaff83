// Network namespaces for the partition scenario: one per node, each with a veth pair whose other
// end is on a bridge in the root namespace. Everything made is registered with the Cleanup first.
import type { Cleanup } from "./_lib.ts";

/** SUBNET is the partition's private network: the bridge is .1, node i is .(2+i). */
const SUBNET = "10.99.0";

/** Netns is the made network: where nodes listen, how to run a command in node i's namespace, and its link switch. */
export interface Netns {
  bridgeAddress: string;
  hosts: string[];
  /** prefix is the command line that runs a program in node i's namespace. */
  prefix(i: number): string[];
  /** cut takes node i's link down (the root end of its veth); heal brings it up. */
  cut(i: number): void;
  heal(i: number): void;
}

/** ip runs `ip args` and throws with its stderr when it fails. */
function ip(...args: string[]): void {
  const r = Bun.spawnSync(["ip", ...args], { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`);
}

/** exists tells whether `ip args` (a show command) finds its object. */
function exists(...args: string[]): boolean {
  const r = Bun.spawnSync(["ip", ...args], { stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 && r.stdout.toString().trim() !== "";
}

/** unavailable returns why namespaces cannot be made here, or undefined when they can be tried. */
export function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (ip netns add)";
  if (!Bun.which("ip")) return "needs iproute2 (`apt-get install -y iproute2`)";
  const addrs = Bun.spawnSync(["ip", "-o", "addr"], { stdout: "pipe" }).stdout.toString();
  if (addrs.includes(` ${SUBNET}.`)) return `${SUBNET}.0/24 is already in use on this machine`;
  return undefined;
}

/**
 * makeNetns makes n namespaces joined by a bridge; names carry this process's id so two runs do
 * not collide. Each object is registered with cleanup before it is made, so a failure halfway (or
 * Ctrl-C) still removes everything.
 */
export function makeNetns(n: number, cleanup: Cleanup): Netns {
  const id = process.pid % 100_000;
  const bridge = `gcbr${id}`;
  const ns = (i: number) => `gcchaos${id}-${i}`;
  const hostEnd = (i: number) => `gcv${id}h${i}`;
  const nsEnd = (i: number) => `gcv${id}n${i}`;
  const bridgeAddress = `${SUBNET}.1`;
  cleanup.add(`delete bridge ${bridge}`, () => {
    if (exists("link", "show", bridge)) ip("link", "del", bridge);
  });
  ip("link", "add", bridge, "type", "bridge");
  ip("addr", "add", `${bridgeAddress}/24`, "dev", bridge);
  ip("link", "set", bridge, "up");
  const hosts: string[] = [];
  for (let i = 0; i < n; i++) {
    const host = `${SUBNET}.${2 + i}`;
    cleanup.add(`delete namespace ${ns(i)}`, () => {
      if (exists("link", "show", hostEnd(i))) ip("link", "del", hostEnd(i)); // takes its pair with it
      if (
        Bun.spawnSync(["ip", "netns", "list"], { stdout: "pipe" })
          .stdout.toString()
          .split("\n")
          .some((l) => l.split(" ")[0] === ns(i))
      )
        ip("netns", "del", ns(i));
    });
    ip("netns", "add", ns(i));
    ip("link", "add", hostEnd(i), "type", "veth", "peer", "name", nsEnd(i));
    ip("link", "set", nsEnd(i), "netns", ns(i));
    ip("link", "set", hostEnd(i), "master", bridge);
    ip("link", "set", hostEnd(i), "up");
    ip("-n", ns(i), "addr", "add", `${host}/24`, "dev", nsEnd(i));
    ip("-n", ns(i), "link", "set", nsEnd(i), "up");
    ip("-n", ns(i), "link", "set", "lo", "up");
    hosts.push(host);
  }
  return {
    bridgeAddress,
    hosts,
    prefix: (i) => ["ip", "netns", "exec", ns(i)],
    cut: (i) => ip("link", "set", hostEnd(i), "down"),
    heal: (i) => ip("link", "set", hostEnd(i), "up"),
  };
}
