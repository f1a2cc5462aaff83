import { timingSafeEqual } from "node:crypto";
import type { Group } from "../../group/group.ts";
import type { Registry } from "../../group/registry.ts";
import type { RespMetrics } from "../../observability/metrics/resp-metrics.ts";
import type { WriteFailure } from "../api.ts";
import type { Protection } from "../protected-mode.ts";
import { error, type Reply, type ReplyBuffer } from "./writer.ts";

/** RespClient is one connection's state: who it is and what it may do. */
export interface RespClient {
  readonly id: number;
  readonly address: string;
  name: string | undefined;
  /** authed: AUTH succeeded, or no token is set. */
  authed: boolean;
  /** readOnly: authenticated with --api-read-token, which does not allow writes. */
  readOnly: boolean;
  /** quit: QUIT was sent; the connection closes once its replies are written. */
  quit: boolean;
  /** writing counts SETs and DELs not yet done: the commands after them wait, so a client reads its own writes. */
  writing: number;
}

/** RespContext is what the commands answer from: the node's groups, its limits, tokens and figures. */
export interface RespContext {
  readonly registry: Registry;
  /** owner names the node that owns a key (to tell an owner that could not be reached from a copy holder). */
  readonly owner?: (key: string) => string;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxBatchKeys: number;
  /** apiToken allows every command after AUTH; apiReadToken allows the reads only. */
  readonly apiToken?: string;
  readonly apiReadToken?: string;
  /** protection refuses writes from other hosts while --api-token is unset (protected mode). */
  readonly protection?: Protection;
  readonly onWriteFailed?: (failure: WriteFailure) => void;
  readonly metrics: RespMetrics;
  readonly maxClients: number;
  /** port the RESP listener is on (for INFO). */
  port: number;
  readonly startedAt: number;
}

/** Command is one RESP command: its arity as Redis writes it (n exact, -n at least n), and how it runs. */
export interface Command {
  readonly arity: number;
  /** open commands run before AUTH (AUTH, HELLO, PING, QUIT). */
  readonly open?: boolean;
  /** run answers the reply, or writes a ready one into out when given and answers undefined. */
  run(args: Buffer[], client: RespClient, ctx: RespContext, out?: ReplyBuffer): Reply | Promise<Reply> | undefined;
}

/** Target is the group and key a RESP key names. */
export interface Target {
  group: Group;
  key: string;
}

/**
 * target maps a RESP key to a group: `group:key` when the part before the first colon names a group of this node,
 * else the whole string is a key of the first group. It answers an error reply for a key over --max-key-bytes.
 */
export function target(ctx: RespContext, raw: Buffer): Target | Reply {
  if (raw.length > ctx.maxKeyBytes)
    return error(`key is ${raw.length} bytes, over the limit of ${ctx.maxKeyBytes} (--max-key-bytes)`);
  const key = raw.toString();
  const colon = key.indexOf(":");
  if (colon > 0) {
    const group = ctx.registry.get(key.slice(0, colon));
    if (group) return { group, key: key.slice(colon + 1) };
  }
  const first = ctx.registry.first();
  if (!first) return error("no groups are configured");
  return { group: first, key };
}

/** tooManyKeys is the error reply for more keys than --max-batch-keys, or undefined when count is within it. */
export function tooManyKeys(ctx: RespContext, count: number): Reply | undefined {
  return count > ctx.maxBatchKeys
    ? error(`too many keys: ${count}, over the limit of ${ctx.maxBatchKeys} (--max-batch-keys)`)
    : undefined;
}

/** secretMatches compares a password with a token in time that does not depend on where they differ. */
export function secretMatches(given: Buffer, token: string): boolean {
  const a = new Bun.CryptoHasher("sha256").update(given).digest();
  const b = new Bun.CryptoHasher("sha256").update(token).digest();
  return timingSafeEqual(a, b);
}
