/**
 * SingleFlight runs at most one call per key at a time: callers that arrive while a call is in
 * flight share its result or its error. The key is forgotten once the call settles.
 */
export class SingleFlight<T> {
  readonly #calls = new Map<string, Promise<T>>(); // in-flight calls by key

  /** do runs fn for key unless a call for key is in flight, in which case it joins that call. */
  do(key: string, fn: () => T | Promise<T>): Promise<T> {
    const existing = this.#calls.get(key);
    if (existing) return existing;
    // Promise.try turns a synchronous throw into a rejection, so the key is always released.
    const p = Promise.try(fn).finally(() => {
      if (this.#calls.get(key) === p) this.#calls.delete(key);
    });
    this.#calls.set(key, p);
    return p;
  }

  /** inFlight tells whether a call for key is in flight (a later `do` would join it). */
  inFlight(key: string): boolean {
    return this.#calls.has(key);
  }

  /** forget makes later callers start a new call for key instead of joining the one in flight. */
  forget(key: string): void {
    this.#calls.delete(key);
  }

  /** clear makes every later caller start a new call, whatever is in flight (a purge). */
  clear(): void {
    this.#calls.clear();
  }

  /** size is the number of keys in flight. */
  get size(): number {
    return this.#calls.size;
  }
}
