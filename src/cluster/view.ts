import type { Ring } from "../core/consistent-hash.ts";
import type { OutReason } from "./peer-set-options.ts";
import type { TransportClient } from "./transport.ts";

/**
 * View is what takes listed nodes out of the ring a node routes by: peers seen down or announced
 * leaving (with the boot id of the process that leaves), and this node itself once it leaves.
 * PeerSet builds its ring from the listed nodes that the view keeps.
 */
export class View {
  #out = new Map<string, { reason: OutReason; boot?: string }>();
  /** leaving: this node announced it leaves; it routes every key to the others. */
  leaving = false;

  /** keeps tells whether url is on the ring (self: unless leaving). */
  keeps(url: string, self: string | undefined): boolean {
    return url === self ? !this.leaving : !this.#out.has(url);
  }

  /** reason returns why url is out, if it is. */
  reason(url: string): OutReason | undefined {
    return this.#out.get(url)?.reason;
  }

  /**
   * set records that url is out for reason (or back in, undefined) and tells whether that changed
   * anything. A peer that is leaving stays "leaving" when it also goes down.
   */
  set(url: string, reason: OutReason | undefined, boot?: string): boolean {
    const was = this.#out.get(url);
    if (reason === undefined ? !was : was?.reason === reason && was.boot === boot) return false;
    if (reason === undefined) this.#out.delete(url);
    else if (!(was?.reason === "leaving" && reason === "down")) this.#out.set(url, { reason, boot });
    return true;
  }

  /** restarted tells whether url announced it was leaving and now answers with another boot id: it is back. */
  restarted(url: string, boot: string): boolean {
    const out = this.#out.get(url);
    return out?.reason === "leaving" && out.boot !== boot;
  }

  /**
   * forget drops what the view holds of nodes no longer listed, and the "down" of a peer whose
   * client changed (reached at a new address): a new client's health starts up.
   */
  forget(listed: ReadonlyMap<string, unknown>, before: ReadonlyMap<string, unknown>): void {
    for (const [url, o] of this.#out)
      if (!listed.has(url) || (o.reason === "down" && before.get(url) !== listed.get(url))) this.#out.delete(url);
  }

  /** out lists why each peer that is out is out. */
  out(): Map<string, OutReason> {
    return new Map([...this.#out].map(([url, o]) => [url, o.reason]));
  }
}

/** samePeers tells whether two rings hold the same nodes. */
export function samePeers(a: Ring, b: Ring): boolean {
  const x = a.peers();
  const y = new Set(b.peers());
  return x.length === y.size && x.every((p) => y.has(p));
}

/**
 * copyHolders names where the copies of a written value of key live besides its owner: the next
 * n - 1 nodes of ring ("self" for this node). Empty when n is 1.
 */
export function copyHolders(
  ring: Ring,
  members: ReadonlyMap<string, { client: TransportClient }>,
  self: string | undefined,
  key: string,
  n: number,
): Array<TransportClient | "self"> {
  if (n <= 1) return [];
  const out: Array<TransportClient | "self"> = [];
  for (const url of ring.getN(key, n).slice(1)) {
    if (url === self) out.push("self");
    else {
      const client = members.get(url)?.client;
      if (client && !client.unroutable?.(key)) out.push(client);
    }
  }
  return out;
}
