import { duration, int, port, type Setting } from "../../core/settings.ts";
import { formatDuration } from "../../core/units.ts";

/** DEFAULT_RESP_MAX_CLIENTS is how many RESP connections a node keeps open at most, as Redis's maxclients. */
export const DEFAULT_RESP_MAX_CLIENTS = 10_000;

/** DEFAULT_RESP_TIMEOUT is how long a RESP client may take to finish a frame it started: 30 s. */
export const DEFAULT_RESP_TIMEOUT = 30_000;

/** RESP_SETTINGS open the RESP listener, for Redis clients, and bound what its clients may hold. */
export const RESP_SETTINGS: readonly Setting[] = [
  {
    name: "resp-port",
    help: "Also speak Redis (RESP2) on this port: GET, MGET, SET, DEL, EXISTS, TTL and more through the same cluster as /api (docs/protocols.md); 0 picks a free port",
    fallbackHelp: "off",
    hint: "6379",
    parse: port,
  },
  {
    name: "resp-max-clients",
    help: "Most RESP connections open at once; one more is answered -ERR max number of clients reached and closed",
    fallback: String(DEFAULT_RESP_MAX_CLIENTS),
    parse: int(1, 1_000_000),
  },
  {
    name: "resp-timeout",
    help: "Close a RESP connection that has sent part of a command and not the rest for this long (idle connections stay open)",
    fallback: formatDuration(DEFAULT_RESP_TIMEOUT),
    parse: duration(1),
  },
];
