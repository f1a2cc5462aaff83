// The commands about the connection itself, as much of them as redis-cli and ioredis need to
// connect without warnings: PING, ECHO, QUIT, AUTH, HELLO, SELECT, CLIENT, COMMAND.

import { BUILD_INFO } from "../../observability/metrics/process-metrics.ts";
import { type Command, type RespClient, type RespContext, secretMatches } from "./context.ts";
import { array, bulk, EMPTY_ARRAY, error, integer, NIL, OK, PONG, type Reply } from "./writer.ts";

/** REDIS_VERSION is the Redis version geecache answers as (HELLO, INFO): the commands it speaks are Redis 7's. */
export const REDIS_VERSION = "7.2.0";

const NO_PASSWORD =
  "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

/** authenticate checks a password against the tokens: --api-token allows everything, --api-read-token reads. */
function authenticate(client: RespClient, ctx: RespContext, user: string | undefined, password: Buffer): Reply {
  if (ctx.apiToken === undefined && ctx.apiReadToken === undefined) return error(NO_PASSWORD);
  if (user !== undefined && user !== "" && user !== "default") return error(WRONGPASS); // redis-cli -u sends ""
  if (ctx.apiToken !== undefined && secretMatches(password, ctx.apiToken)) {
    client.authed = true;
    client.readOnly = false;
    return OK;
  }
  if (ctx.apiReadToken !== undefined && secretMatches(password, ctx.apiReadToken)) {
    client.authed = true;
    client.readOnly = ctx.apiToken !== undefined; // without --api-token writes are open, as on /api
    return OK;
  }
  return error(WRONGPASS);
}

/** validName tells whether a CLIENT SETNAME name is one Redis accepts: no spaces or control characters. */
function validName(name: string): boolean {
  return !/[^\x21-\x7e]/.test(name);
}

const ping: Command = {
  arity: -1,
  open: true,
  run(args) {
    if (args.length > 2) return error("wrong number of arguments for 'ping' command");
    return args.length === 2 ? bulk(args[1]!) : PONG;
  },
};

const quit: Command = {
  arity: -1,
  open: true,
  run(_args, client) {
    client.quit = true;
    return OK;
  },
};

const auth: Command = {
  arity: -2,
  open: true,
  run(args, client, ctx) {
    if (args.length > 3) return error("syntax error");
    return args.length === 3
      ? authenticate(client, ctx, args[1]!.toString(), args[2]!)
      : authenticate(client, ctx, undefined, args[1]!);
  },
};

const hello: Command = {
  arity: -1,
  open: true,
  run(args, client, ctx) {
    if (args.length > 1) {
      const version = Number(args[1]!.toString());
      if (!Number.isInteger(version)) return error("Protocol version is not an integer or out of range");
      if (version !== 2) return error("NOPROTO sorry, this protocol version is not supported");
    }
    let name: string | undefined;
    for (let i = 2; i < args.length; i++) {
      const option = args[i]!.toString().toUpperCase();
      if (option === "AUTH" && i + 2 < args.length) {
        const authed = authenticate(client, ctx, args[i + 1]!.toString(), args[i + 2]!);
        if (authed !== OK) return authed;
        i += 2;
      } else if (option === "SETNAME" && i + 1 < args.length) {
        name = args[++i]!.toString();
        if (!validName(name)) return error("Client names cannot contain spaces, newlines or special characters.");
      } else return error(`Syntax error in HELLO option '${args[i]!.toString()}'`);
    }
    if (!client.authed)
      return error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
      );
    if (name !== undefined) client.name = name;
    return array([
      "server",
      "redis",
      "version",
      REDIS_VERSION,
      "proto",
      2,
      "id",
      client.id,
      "mode",
      "standalone",
      "role",
      "master",
      "modules",
      [],
    ]);
  },
};

const echo: Command = { arity: 2, run: (args) => bulk(args[1]!) };

const select: Command = {
  arity: 2,
  run(args) {
    const db = args[1]!.toString();
    if (!/^-?\d+$/.test(db)) return error("value is not an integer or out of range");
    return db === "0" ? OK : error("DB index is out of range");
  },
};

const client: Command = {
  arity: -2,
  run(args, c) {
    const sub = args[1]!.toString().toLowerCase();
    const arity = (n: number) =>
      args.length === n ? undefined : error(`wrong number of arguments for 'client|${sub}' command`);
    switch (sub) {
      case "setname": {
        const bad = arity(3);
        if (bad) return bad;
        const name = args[2]!.toString();
        if (!validName(name)) return error("Client names cannot contain spaces, newlines or special characters.");
        c.name = name === "" ? undefined : name;
        return OK;
      }
      case "getname":
        return arity(2) ?? (c.name === undefined ? NIL : bulk(c.name));
      case "setinfo":
        return arity(4) ?? OK;
      case "id":
        return arity(2) ?? integer(c.id);
      case "info":
        return arity(2) ?? bulk(`id=${c.id} addr=${c.address} name=${c.name ?? ""} db=0\n`);
      default:
        return error(`unknown subcommand '${args[1]!.toString()}'. Try CLIENT HELP.`);
    }
  },
};

/** commandCommand answers COMMAND (an empty list), COMMAND COUNT and COMMAND DOCS (empty: clients do without). */
function commandCommand(count: () => number): Command {
  return {
    arity: -1,
    run(args) {
      if (args.length === 1) return EMPTY_ARRAY;
      const sub = args[1]!.toString().toLowerCase();
      if (sub === "count") return integer(count());
      if (sub === "docs" || sub === "info" || sub === "list") return EMPTY_ARRAY;
      return error(`unknown subcommand '${args[1]!.toString()}'. Try COMMAND HELP.`);
    },
  };
}

/** sessionCommands are the connection's commands, by lower-case name; count tells COMMAND COUNT. */
export function sessionCommands(count: () => number): Record<string, Command> {
  return { ping, echo, quit, auth, hello, select, client, command: commandCommand(count) };
}

/** version is geecache's own version, for INFO. */
export const GEECACHE_VERSION = BUILD_INFO.version;
