import type { RespCounters, RespMetrics } from "../../observability/metrics/resp-metrics.ts";
import type { Command, RespClient, RespContext } from "./context.ts";
import { DATA_COMMANDS } from "./data-commands.ts";
import { info } from "./info.ts";
import { sessionCommands } from "./session-commands.ts";
import { error, isReply, type Reply, type ReplyBuffer } from "./writer.ts";

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
  readonly #get: Entry;

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
    this.#get = this.#entries.get("get")!;
  }

  /**
   * run answers one command (args[0] is its name) for client. Given out, a command may write a ready reply there and
   * answer undefined.
   */
  run(args: Buffer[], client: RespClient, ctx: RespContext, out?: ReplyBuffer): Reply | Promise<Reply> | undefined {
    const given = args[0]!;
    const entry = isGet(given) ? this.#get : this.#find(given);
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
    const reply = command.run(args, client, ctx, out);
    if (reply === undefined) return undefined; // written into out: never an error
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

  #find(given: Buffer): Entry | undefined {
    const name = given.toString("latin1");
    return this.#entries.get(name) ?? this.#entries.get(name.toLowerCase());
  }
}

/** isGet tells GET in any case from its bytes, without decoding the name. */
function isGet(name: Buffer): boolean {
  return name.length === 3 && (name[0]! | 32) === 103 && (name[1]! | 32) === 101 && (name[2]! | 32) === 116;
}
