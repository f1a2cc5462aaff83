import { DEFAULT_HASH, DEFAULT_REPLICAS, HASHES } from "../core/consistent-hash.ts";
import { errorMessage } from "../core/errors.ts";
import { duration, int, oneOf, type Setting, secret, settingError } from "../core/settings.ts";
import { formatDuration } from "../core/units.ts";
import { DEFAULT_HANDOFF_WINDOW } from "./handoff.ts";
import { DEFAULT_COPIES, DEFAULT_PEER_TIMEOUT } from "./peer-set.ts";
import { peerUrl } from "./peer-url.ts";

/** peerUrlSetting reads one peer URL (or bare port) for a setting, naming the setting in the error. */
export function peerUrlSetting(t: string, name: string): string {
  try {
    return peerUrl(t);
  } catch (err) {
    throw settingError(name, errorMessage(err).replace(/^peer URL /, ""));
  }
}

/** peerList reads a comma-separated list of peer URLs or bare ports. */
export function peerList(t: string, name: string): string[] {
  return t
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => peerUrlSetting(p, name));
}

/** CLUSTER_SETTINGS are how a node finds and speaks to its peers, whatever the transport or discovery. */
export const CLUSTER_SETTINGS: readonly Setting[] = [
  {
    name: "peers",
    help: "Comma-separated URLs of every node, this one included; a bare port means http://127.0.0.1:PORT",
    fallback: "",
    fallbackHelp: "none, a single node",
    hint: "8001,8002,8003",
    parse: peerList,
  },
  {
    name: "self",
    help: "This node's URL exactly as the peers list it (default http://HOST:PORT; with --port=0 the port it got)",
    hint: "http://10.0.0.1:8001",
    parse: peerUrlSetting,
  },
  {
    name: "hash",
    help: "Hash of the ring: wyhash, or crc32 to route as Go GeeCache and groupcache do",
    fallback: DEFAULT_HASH,
    parse: oneOf(HASHES),
  },
  {
    name: "replicas",
    help: "Virtual nodes per peer on the ring",
    fallback: String(DEFAULT_REPLICAS),
    parse: int(1, 10_000),
  },
  {
    name: "peer-timeout",
    help: "Time limit of one peer request: 500ms, 2s, 1m",
    fallback: formatDuration(DEFAULT_PEER_TIMEOUT),
    parse: duration(1, "500ms, 2s or 1m"),
  },
  {
    name: "copies",
    help:
      "On how many nodes a written value (PUT) lives: its owner and the next nodes of the ring; with 2 a " +
      "write survives the loss of any one node",
    fallback: String(DEFAULT_COPIES),
    parse: int(1, 10),
  },
  {
    name: "handoff-window",
    help:
      "After the ring changes (a node joins, leaves, goes down or comes back), a key's new owner asks the " +
      "previous owners for their copy before loading it, until the ring has been unchanged this long; 0 = " +
      "never",
    fallback: formatDuration(DEFAULT_HANDOFF_WINDOW),
    parse: duration(),
  },
  {
    name: "token",
    help: "Shared secret of the peers; required on peer routes (prefer GEECACHE_TOKEN: flags show in ps)",
    hint: "secret",
    parse: secret,
    secret: true,
  },
];
