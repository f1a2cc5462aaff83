// The commands that read and write the cache, through the same group paths as /api: any node
// answers any key (the owner loads it once), SET and DEL write through the whole cluster.

import { GeeCacheError, isNotFound } from "../../core/errors.ts";
import type { GetResult, WriteResult } from "../../group/results.ts";
import { isLoopback } from "../protected-mode.ts";
import { type Command, type RespClient, type RespContext, type Target, target, tooManyKeys } from "./context.ts";
import { array, bulk, error, integer, isReply, NIL, OK, type Reply } from "./writer.ts";

const value = (r: GetResult): Reply => bulk(r.value.view());
const valueOrNil = (err: unknown): Reply => (isNotFound(err) ? NIL : failed(err));

/** failed is the error reply of a failed load or write: its message on one line. */
function failed(err: unknown): Reply {
  return error(err instanceof Error ? err.message : String(err));
}

/** targets maps keys to groups, or answers the first key's error reply. */
function targets(ctx: RespContext, keys: Buffer[]): Target[] | Reply {
  const out: Target[] = [];
  for (const k of keys) {
    const t = target(ctx, k);
    if (isReply(t)) return t;
    out.push(t);
  }
  return out;
}

/** writeRefused answers why client may not write, or undefined when it may. */
function writeRefused(client: RespClient, ctx: RespContext, name: string): Reply | undefined {
  if (client.readOnly) return error(`NOPERM this user has no permissions to run the '${name}' command`);
  if (ctx.protection?.writes && !isLoopback(client.address))
    return error(
      `DENIED protected mode: writes from ${client.address} are refused because no --api-token is set; set --api-token (clients send AUTH <token>) or start with --protected-mode=no`,
    );
  return undefined;
}

/** written reports a write's unreachable peers and answers an error when the key's owner was one of them. */
function written(ctx: RespContext, t: Target, method: "PUT" | "DELETE", result: WriteResult): Reply | undefined {
  if (result.failed.length === 0) return undefined;
  const ownerUrl = ctx.owner?.(t.key);
  const owner = result.failed.find((f) => f.peer === ownerUrl);
  ctx.onWriteFailed?.({ method, group: t.group.name, key: t.key, failed: result.failed, ownerFailed: !!owner });
  return owner ? error(`the owner ${owner.peer} could not be reached: ${owner.error}`) : undefined;
}

const get: Command = {
  arity: 2,
  run(args, _client, ctx, out) {
    const t = target(ctx, args[1]!);
    if (isReply(t)) return t;
    const pending = t.group.getEntry(t.key);
    // A hit is settled at once: answered without a promise turn, as /api does, straight into out when given.
    if (Bun.peek.status(pending) === "fulfilled") {
      const v = (Bun.peek(pending) as GetResult).value.view();
      if (!out) return bulk(v);
      out.bulk(v);
      return undefined;
    }
    return pending.then(value, valueOrNil);
  },
};

const mget: Command = {
  arity: -2,
  async run(args, _client, ctx) {
    const keys = args.slice(1);
    const tooMany = tooManyKeys(ctx, keys.length);
    if (tooMany) return tooMany;
    const ts = targets(ctx, keys);
    if (isReply(ts)) return ts;
    // One getMany per group: misses owned by one peer go to it in one request, as the batch route does.
    const byGroup = new Map<Target["group"], string[]>();
    for (const t of ts) {
      const list = byGroup.get(t.group);
      if (list) list.push(t.key);
      else byGroup.set(t.group, [t.key]);
    }
    const results = new Map<Target["group"], Map<string, GetResult | GeeCacheError>>();
    await Promise.all([...byGroup].map(async ([g, ks]) => results.set(g, await g.getMany(ks))));
    const items: (Uint8Array | null)[] = [];
    for (const t of ts) {
      const r = results.get(t.group)!.get(t.key)!;
      if (r instanceof GeeCacheError) {
        if (!isNotFound(r)) return failed(r); // a source that fails is not a value that is absent
        items.push(null);
      } else items.push(r.value.view());
    }
    return array(items);
  },
};

const set: Command = {
  arity: -3,
  async run(args, client, ctx) {
    const refused = writeRefused(client, ctx, "set");
    if (refused) return refused;
    const t = target(ctx, args[1]!);
    if (isReply(t)) return t;
    const v = args[2]!;
    if (v.length > ctx.maxValueBytes)
      return error(`value is ${v.length} bytes, over the limit of ${ctx.maxValueBytes} (--max-value-bytes)`);
    let ttl: number | undefined;
    for (let i = 3; i < args.length; i++) {
      const option = args[i]!.toString().toUpperCase();
      if ((option !== "EX" && option !== "PX") || i + 1 >= args.length || ttl !== undefined)
        return error("syntax error");
      const n = Number(args[++i]!.toString());
      if (!Number.isSafeInteger(n) || n <= 0) return error("invalid expire time in 'set' command");
      ttl = option === "EX" ? n * 1000 : n;
    }
    // group.set copies the value: the read's buffer is not kept.
    client.writing++;
    try {
      return written(ctx, t, "PUT", await t.group.set(t.key, v, { ttl })) ?? OK;
    } finally {
      client.writing--;
    }
  },
};

const del: Command = {
  arity: -2,
  async run(args, client, ctx) {
    const refused = writeRefused(client, ctx, "del");
    if (refused) return refused;
    const tooMany = tooManyKeys(ctx, args.length - 1);
    if (tooMany) return tooMany;
    const ts = targets(ctx, args.slice(1));
    if (isReply(ts)) return ts;
    client.writing++;
    const results = await Promise.all(ts.map((t) => t.group.remove(t.key))).finally(() => client.writing--);
    for (const [i, r] of results.entries()) {
      const bad = written(ctx, ts[i]!, "DELETE", r);
      if (bad) return bad;
    }
    // An invalidation cannot know which keys some node held: DEL answers the number of keys given.
    return integer(ts.length);
  },
};

const exists: Command = {
  arity: -2,
  async run(args, _client, ctx) {
    const tooMany = tooManyKeys(ctx, args.length - 1);
    if (tooMany) return tooMany;
    const ts = targets(ctx, args.slice(1));
    if (isReply(ts)) return ts;
    // A key exists when GET would answer a value: cached, or loadable from the source (then it is cached).
    const found = await Promise.allSettled(ts.map((t) => t.group.getEntry(t.key)));
    let n = 0;
    for (const r of found) {
      if (r.status === "fulfilled") n++;
      else if (!isNotFound(r.reason)) return failed(r.reason);
    }
    return integer(n);
  },
};

/** ttlCommand answers TTL (seconds, rounded) or PTTL (ms): -2 without a value, -1 for one that never expires. */
function ttlCommand(unit: number): Command {
  return {
    arity: 2,
    async run(args, _client, ctx) {
      const t = target(ctx, args[1]!);
      if (isReply(t)) return t;
      try {
        const r = await t.group.getEntry(t.key);
        if (r.expiresAt === 0) return integer(-1);
        return integer(Math.max(0, Math.round((r.expiresAt - Date.now()) / unit)));
      } catch (err) {
        return isNotFound(err) ? integer(-2) : failed(err);
      }
    },
  };
}

const dbsize: Command = {
  arity: 1,
  run(_args, _client, ctx) {
    return integer(keysHeld(ctx));
  },
};

/** keysHeld counts the entries this node holds as their owner (main caches of every group; hot copies left out). */
export function keysHeld(ctx: RespContext): number {
  return ctx.registry.groups().reduce((n, g) => n + g.cacheStats().main.items, 0);
}

/** DATA_COMMANDS are the commands on the cache's keys, by lower-case name. */
export const DATA_COMMANDS: Readonly<Record<string, Command>> = {
  get,
  mget,
  set,
  del,
  exists,
  ttl: ttlCommand(1000),
  pttl: ttlCommand(1),
  dbsize,
};
