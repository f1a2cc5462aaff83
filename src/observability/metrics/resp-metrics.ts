import { Counter, type CounterChild, type Exposition } from "./prometheus.ts";

/** RespCounters are one command's series, resolved once so the hot path only adds. */
export interface RespCounters {
  commands: CounterChild;
  errors: CounterChild;
}

/**
 * RespMetrics counts the RESP listener's work for /metrics and INFO: commands and error replies by command (names
 * the server does not know count as "unknown", malformed frames as "protocol"), and connections.
 */
export class RespMetrics {
  /** enabled is set once a RESP listener runs: only then does /metrics show these families. */
  enabled = false;
  /** connections open now; connectionsTotal accepted since start; rejected over --resp-max-clients. */
  connections = 0;
  connectionsTotal = 0;
  rejected = 0;
  readonly #made: CounterChild[] = []; // the commands' series, for the total
  readonly #commands = new Counter("geecache_resp_commands_total", "RESP commands answered, by command.", ["command"]);
  readonly #errors = new Counter(
    "geecache_resp_errors_total",
    "RESP error replies, by command (unknown: a command the server does not know; protocol: a malformed frame).",
    ["command"],
  );

  /** counters returns the series of command (a lower-case name from a fixed list). */
  counters(command: string): RespCounters {
    const c = { commands: this.#commands.child(command), errors: this.#errors.child(command) };
    if (!this.#made.includes(c.commands)) this.#made.push(c.commands);
    return c;
  }

  /** protocolErrors is the series of malformed frames. */
  protocolErrors(): CounterChild {
    return this.#errors.child("protocol");
  }

  /** commandsTotal is every command answered, for INFO. */
  get commandsTotal(): number {
    let n = 0;
    for (const child of this.#made) n += child.value;
    return n;
  }

  /** write adds the RESP families to out, when a listener runs. */
  write(out: Exposition): void {
    if (!this.enabled) return;
    this.#commands.write(out);
    this.#errors.write(out);
    out
      .family("geecache_resp_connections", "gauge", "RESP connections open now.")
      .sample("geecache_resp_connections", "", this.connections);
    out
      .family("geecache_resp_connections_total", "counter", "RESP connections accepted since start.")
      .sample("geecache_resp_connections_total", "", this.connectionsTotal);
    out
      .family(
        "geecache_resp_rejected_connections_total",
        "counter",
        "RESP connections refused because --resp-max-clients were open.",
      )
      .sample("geecache_resp_rejected_connections_total", "", this.rejected);
  }
}
