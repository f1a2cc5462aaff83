// The output of a child process, collected as text, with a wait for a pattern in it.

/** Captured collects a child's output stream as text and lets a test wait for a pattern in it. */
export class Captured {
  text = "";
  closed = false;
  readonly #waiters = new Set<() => void>(); // re-checked on every chunk and at the end
  /** done resolves once the stream has ended. */
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#pump(stream);
  }

  /** wait resolves with the first match of pattern; it rejects if the stream ends first or after timeoutMs. */
  wait(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const { promise, resolve, reject } = Promise.withResolvers<RegExpMatchArray>();
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      this.#waiters.delete(check);
      settle();
    };
    const check = () => {
      const m = this.text.match(pattern);
      if (m) finish(() => resolve(m));
      else if (this.closed) finish(() => reject(new Error(`output ended without ${pattern}; it was:\n${this.text}`)));
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output so far:\n${this.text}`))),
      timeoutMs,
    );
    this.#waiters.add(check);
    check();
    return promise;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.text += decoder.decode(chunk, { stream: true });
        for (const w of [...this.#waiters]) w();
      }
    } finally {
      this.text += decoder.decode();
      this.closed = true;
      for (const w of [...this.#waiters]) w();
    }
  }
}
