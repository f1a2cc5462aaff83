import type { Socket } from "bun";
import type { CommandTable } from "./commands.ts";
import type { RespClient, RespContext } from "./context.ts";
import { RespParser, RespProtocolError } from "./parser.ts";
import { error, isReply, type Reply, ReplyBuffer } from "./writer.ts";

/** HIGH_WATER is how many unwritten reply bytes make a connection stop reading until the client catches up. */
const HIGH_WATER = 4 * 1024 * 1024;

/** Slot holds a reply still being computed, so later replies wait for it (pipelined replies keep their order). */
interface Slot {
  reply: Reply | undefined;
}

/** ConnectionOptions are what every connection of a listener shares. */
export interface ConnectionOptions {
  ctx: RespContext;
  table: CommandTable;
  maxFrameBytes: number;
  /** timeout (ms) closes a connection that has held an incomplete frame this long. */
  timeout: number;
  protocolErrors: { inc(): void };
}

/**
 * RespConnection answers one client: it parses what arrives, runs each command, and writes the
 * replies in order, those of one read in one write. A reply that is ready (a cache hit) is
 * written at once unless an earlier one is still being computed. Unwritten replies past
 * HIGH_WATER pause reading; QUIT and malformed frames close once the replies before them are out.
 */
export class RespConnection {
  readonly client: RespClient;
  readonly #socket: Socket<RespConnection>;
  readonly #o: ConnectionOptions;
  readonly #parser: RespParser;
  readonly #out = new ReplyBuffer(); // replies of this read, written together
  readonly #waiting: Slot[] = []; // replies in order behind one still being computed
  #unsent: Buffer | undefined; // what the socket did not take yet
  #closing = false; // end once everything is written
  #paused = false;
  #ended = false;
  #last: Reply | undefined; // the error of a malformed frame, answered after everything read before it
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #deferred: Buffer[][] = []; // commands read behind a write still in progress
  readonly #onCommand = (args: Buffer[]): boolean => {
    if (this.client.writing > 0 || this.#deferred.length > 0) {
      this.#deferred.push(args.map((a) => Buffer.from(a))); // copies: the read's buffer is not kept
      return true;
    }
    this.#run(args);
    return !this.client.quit;
  };

  #run(args: Buffer[]): void {
    let reply: Reply | Promise<Reply> | undefined;
    try {
      // With nothing waiting before it, a ready reply is written straight into #out (undefined answered).
      reply = this.#o.table.run(args, this.client, this.#o.ctx, this.#waiting.length === 0 ? this.#out : undefined);
    } catch (err) {
      reply = error(err instanceof Error ? err.message : String(err));
    }
    if (reply === undefined) {
      // written
    } else if (isReply(reply)) this.#reply(reply);
    else {
      const slot: Slot = { reply: undefined };
      this.#waiting.push(slot);
      reply.then((r) => {
        slot.reply = r;
        this.#settle();
      });
    }
    if (this.client.quit) this.#closing = true;
  }

  constructor(socket: Socket<RespConnection>, client: RespClient, options: ConnectionOptions) {
    this.#socket = socket;
    this.client = client;
    this.#o = options;
    this.#parser = new RespParser(options.maxFrameBytes);
  }

  /** busy tells whether replies are still being computed or written. */
  get busy(): boolean {
    return (
      this.#waiting.length > 0 || this.#deferred.length > 0 || this.#last !== undefined || this.#unsent !== undefined
    );
  }

  /** data handles one read. */
  data(chunk: Buffer): void {
    if (this.#closing) return;
    let found = 0;
    try {
      found = this.#parser.feed(chunk, this.#onCommand);
    } catch (err) {
      if (!(err instanceof RespProtocolError)) throw err;
      this.#o.protocolErrors.inc();
      this.#closing = true;
      this.#last = error(err.message); // after the replies of the commands before it
      this.#clearTimer();
      this.#settle();
      return;
    }
    this.#flush();
    // A client that stalls in the middle of a frame is cut off after the timeout, counted from the frame's start.
    if (this.#parser.pending === 0 || this.#closing) this.#clearTimer();
    else if (found > 0 || this.#timer === undefined) {
      this.#clearTimer();
      this.#timer = setTimeout(() => this.#socket.end(), this.#o.timeout);
    }
  }

  /** drain writes what the socket could not take before. */
  drain(): void {
    const rest = this.#unsent;
    if (!rest) return;
    this.#unsent = undefined;
    this.#write(rest, true);
    if (this.#unsent === undefined) {
      if (this.#paused) {
        this.#paused = false;
        this.#socket.resume();
      }
      this.#endIfDone();
    }
  }

  /** shutdown closes the connection once the replies it owes are written (the node stops). */
  shutdown(): void {
    this.#closing = true;
    this.#endIfDone();
  }

  /** closed forgets the connection's timer. */
  closed(): void {
    this.#clearTimer();
  }

  #reply(reply: Reply): void {
    if (this.#waiting.length === 0) this.#out.push(reply);
    else this.#waiting.push({ reply });
  }

  #settle(): void {
    while (this.#waiting.length > 0 && this.#waiting[0]!.reply !== undefined)
      this.#out.push(this.#waiting.shift()!.reply!);
    while (this.#deferred.length > 0 && this.client.writing === 0 && !this.client.quit)
      this.#run(this.#deferred.shift()!);
    if (this.client.quit) this.#deferred.length = 0;
    if (this.#last && this.#deferred.length === 0) {
      this.#reply(this.#last);
      this.#last = undefined;
    }
    this.#flush();
  }

  #flush(): void {
    const out = this.#out.take();
    if (out) this.#write(out);
    this.#endIfDone();
  }

  /** #write sends buf; what the socket does not take is kept, copied unless owned (#out's memory is reused). */
  #write(buf: Buffer, owned = false): void {
    if (this.#unsent) {
      this.#unsent = Buffer.concat([this.#unsent, buf]);
    } else {
      const n = this.#socket.write(buf);
      if (n >= buf.length) return;
      const rest = buf.subarray(Math.max(0, n));
      this.#unsent = owned ? rest : Buffer.from(rest);
    }
    if (this.#unsent.length > HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  #endIfDone(): void {
    if (this.#closing && !this.busy && !this.#ended) {
      this.#ended = true;
      this.#socket.end();
    }
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
