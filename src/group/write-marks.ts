/** WriteMark tells the loads of one key whether a set or remove of it happened since they began. */
export interface WriteMark {
  stale: boolean; // a set or remove happened since the load began
  loads: number; // loads holding this mark
}

/**
 * WriteMarks lets a write win over loads in flight: loads of a key share one mark, a write marks
 * it stale (so those loads do not cache what they fetched) and loads begun afterwards get a new one.
 */
export class WriteMarks {
  readonly #marks = new Map<string, WriteMark>(); // keys with a load in flight

  /** begin returns the mark a load of key holds until it calls `end`. */
  begin(key: string): WriteMark {
    let mark = this.#marks.get(key);
    if (!mark) this.#marks.set(key, (mark = { stale: false, loads: 0 }));
    mark.loads++;
    return mark;
  }

  /** end releases a mark taken by `begin`; the last load to leave forgets it. */
  end(key: string, mark: WriteMark): void {
    if (--mark.loads === 0 && this.#marks.get(key) === mark) this.#marks.delete(key);
  }

  /** invalidateAll marks every load in flight stale (a purge of the whole group). */
  invalidateAll(): void {
    for (const mark of this.#marks.values()) mark.stale = true;
    this.#marks.clear();
  }

  /** invalidate marks the loads of key in flight stale. */
  invalidate(key: string): void {
    const mark = this.#marks.get(key);
    if (mark) {
      mark.stale = true;
      this.#marks.delete(key);
    }
  }
}
