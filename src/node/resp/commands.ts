import type { RespCounters, RespMetrics } from "../../observability/metrics/resp-metrics.ts";
import type { Command, RespClient, RespContext } from "./context.ts";
import { DATA_COMMANDS } from "./data-commands.ts";
import { info } from "./info.ts";
import { sessionCommands } from "./session-commands.ts";
import { error, isReply, type Reply } from "./writer.ts";

/** Entry is a command with its metric series. */
interface Entry {
  readonly name: string;
  readonly command: Command;
  readonly counters: RespCounters;
}

const NOAUTH = error("NOAUTH Authentication required.");

/** quoted is an argument as Redis shows it in an error: at most 128 characters, in single quotes. */
function quoted(arg: Buffer): string {
  const s = arg.toString();
  return `'${s.length > 128 ? s.slice(0, 128) : s}'`;
}

/**
 * CommandTable runs commands by name: the arity check, the AUTH gate, and the counting; unknown commands and wrong
 * arities are answered as Redis answers them, and the connection stays open.
 */
export class CommandTable {
  readonly #entries = new Map<string, Entry>();
  readonly #unknown: RespCounters;

  constructor(metrics: RespMetrics) {
    const all: Record<string, Command> = {
      ...DATA_COMMANDS,
      unlink: DATA_COMMANDS.del!,
      info,
      ...sessionCommands(() => this.#entries.size / 2),
    };
    for (const [name, command] of Object.entries(all)) {
      const entry = { name, command, counters: metrics.counters(name) };
      this.#entries.set(name, entry);
      this.#entries.set(name.toUpperCase(), entry); // as clients send them: found without lower-casing
    }
    this.#unknown = metrics.counters("unknown");
  }

  /** run answers one command (args[0] is its name) for client. */
  run(args: Buffer[], client: RespClient, ctx: RespContext): Reply | Promise<Reply> {
    const given = args[0]!;
    const name = given.toString("latin1");
    const entry = this.#entries.get(name) ?? this.#entries.get(name.toLowerCase());
    if (!entry) {
      this.#unknown.commands.inc();
      this.#unknown.errors.inc();
      const rest = args
        .slice(1, 17)
        .map((a) => `${quoted(a)} `)
        .join("");
      return error(`unknown command ${quoted(given)}, with args beginning with: ${rest}`);
    }
    const { command, counters } = entry;
    counters.commands.inc();
    const n = args.length;
    if (command.arity > 0 ? n !== command.arity : n < -command.arity) {
      counters.errors.inc();
      return error(`wrong number of arguments for '${entry.name}' command`);
    }
    if (!client.authed && !command.open) {
      counters.errors.inc();
      return NOAUTH;
    }
    const reply = command.run(args, client, ctx);
    if (isReply(reply)) {
      if (reply[0] === 45) counters.errors.inc(); // "-": an error reply
      return reply;
    }
    return reply.then(
      (r) => {
        if (r[0] === 45) counters.errors.inc();
        return r;
      },
      (err) => {
        counters.errors.inc();
        return error(err instanceof Error ? err.message : String(err));
      },
    );
  }
}
