import type { Socket } from "bun";
import type { CommandTable } from "./commands.ts";
import type { RespClient, RespContext } from "./context.ts";
import { RespParser, RespProtocolError } from "./parser.ts";
import { error, isReply, type Reply } from "./writer.ts";

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
  #out: Reply[] = []; // replies of this read, written together
  readonly #waiting: Slot[] = []; // replies in order behind one still being computed
  #unsent: Buffer | undefined; // what the socket did not take yet
  #closing = false; // end once everything is written
  #paused = false;
  #ended = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #onCommand = (args: Buffer[]): boolean => {
    let reply: Reply | Promise<Reply>;
    try {
      reply = this.#o.table.run(args, this.client, this.#o.ctx);
    } catch (err) {
      reply = error(err instanceof Error ? err.message : String(err));
    }
    if (isReply(reply)) {
      if (this.#waiting.length === 0) this.#out.push(reply);
      else this.#waiting.push({ reply });
    } else {
      const slot: Slot = { reply: undefined };
      this.#waiting.push(slot);
      reply.then((r) => {
        slot.reply = r;
        this.#settle();
      });
    }
    if (this.client.quit) this.#closing = true;
    return !this.client.quit;
  };

  constructor(socket: Socket<RespConnection>, client: RespClient, options: ConnectionOptions) {
    this.#socket = socket;
    this.client = client;
    this.#o = options;
    this.#parser = new RespParser(options.maxFrameBytes);
  }

  /** busy tells whether replies are still being computed or written. */
  get busy(): boolean {
    return this.#waiting.length > 0 || this.#unsent !== undefined;
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
      const reply = error(err.message);
      if (this.#waiting.length === 0) this.#out.push(reply);
      else this.#waiting.push({ reply });
      this.#closing = true;
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
    this.#write(rest);
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

  #settle(): void {
    while (this.#waiting.length > 0 && this.#waiting[0]!.reply !== undefined)
      this.#out.push(this.#waiting.shift()!.reply!);
    this.#flush();
  }

  #flush(): void {
    const out = this.#out;
    if (out.length > 0) {
      this.#out = [];
      this.#write(out.length === 1 ? out[0]! : Buffer.concat(out));
    }
    this.#endIfDone();
  }

  #write(buf: Buffer): void {
    if (this.#unsent) {
      this.#unsent = Buffer.concat([this.#unsent, buf]);
    } else {
      const n = this.#socket.write(buf);
      if (n >= buf.length) return;
      this.#unsent = buf.subarray(Math.max(0, n));
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
