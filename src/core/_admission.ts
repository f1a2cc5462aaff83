import { SlotLists } from "./_slot-lists.ts";
import type { Sized } from "./lru.ts";

/** TINYLFU_WINDOW is the admission window's share of the budget. */
export const TINYLFU_WINDOW = 0.01;
/** TINYLFU_PROTECTED is the protected segment's share of the main region (the rest is probation). */
export const TINYLFU_PROTECTED = 0.8;

// The three lists of SlotLists: slot 0-2 are their sentinels.
/** WINDOW is the list of the admission window, where a new entry starts. */
export const WINDOW = 0;
/** PROBATION is the main region's list of entries not hit since they were admitted (or demoted). */
export const PROBATION = 1;
/** PROTECTED is the main region's list of entries hit in probation. */
export const PROTECTED = 2;

/**
 * WindowAdmission is the region logic under TinyLFU: an LRU admission window, and a main region
 * that is a segmented LRU of probation and protected; a hit in probation promotes to protected,
 * whose overflow is demoted back to probation. The subclass says how often a slot was asked for.
 *
 * Admission with sizes: when the main region has no room for a candidate, the victims are the
 * fewest entries from probation's LRU end (then protected's) whose bytes make room. The candidate
 * is admitted, evicting them all, only if its frequency is greater than the SUM of theirs:
 * keeping it must promise more hits than keeping the entries it displaces. Otherwise the
 * candidate is dropped. Both leave through evict. Ties go to the victims (scan resistance).
 */
export abstract class WindowAdmission<V extends Sized> extends SlotLists<V> {
  protected evicted = 0; // entries dropped to stay within limit: displaced victims and refused candidates
  protected readonly limit: number; // the budget in bytes; 0 = unlimited
  private readonly windowMax: number;
  private readonly protectedMax: number;

  constructor(maxBytes: number) {
    super(3);
    this.limit = maxBytes;
    this.windowMax = maxBytes === 0 ? Infinity : Math.floor(maxBytes * TINYLFU_WINDOW);
    this.protectedMax = maxBytes === 0 ? Infinity : Math.floor((maxBytes - this.windowMax) * TINYLFU_PROTECTED);
  }

  /** frequency is slot i's estimated count of accesses, the figure admission compares. */
  protected abstract frequency(i: number): number;

  // touch refreshes slot i after an access: to the front of its list, or from probation to protected.
  protected touch(i: number): void {
    const r = this.listOf(i);
    if (r === PROBATION) this.promote(i);
    else if (this.links[4 * r] !== i) this.bump(i, r);
  }

  // promote moves slot i from probation to protected, demoting protected's least recent entries to
  // probation until protected fits its share again.
  protected promote(i: number): void {
    this.moveFront(i, PROTECTED);
    while (this.listBytes[PROTECTED]! > this.protectedMax) {
      const t = this.links[4 * PROTECTED + 1]!;
      if (t === i) break;
      this.moveFront(t, PROBATION);
    }
  }

  // restoreBudget moves the window's overflow to the main region through admission, then evicts
  // victims while still over the budget (a replaced value grew, or the main region was too small).
  protected restoreBudget(): void {
    while (this.listBytes[WINDOW]! > this.windowMax) {
      const c = this.links[4 * WINDOW + 1]!;
      this.moveFront(c, PROBATION);
      this.admit(c);
    }
    while (this.total > this.limit) {
      this.evicted++;
      this.evict(this.victim());
    }
  }

  // victim is the slot evicted next when the budget forces one out: probation's LRU end first.
  protected victim(): number {
    const links = this.links;
    let t = links[4 * PROBATION + 1]!;
    if (t === PROBATION) t = links[4 * PROTECTED + 1]!;
    if (t === PROTECTED) t = links[4 * WINDOW + 1]!;
    return t;
  }

  // admit decides between candidate c (just moved to probation's front) and the victims that
  // would make room for it, evicting whichever side loses.
  private admit(c: number): void {
    const need = this.total - this.limit;
    if (need <= 0) return;
    const links = this.links;
    const freq = this.frequency(c);
    let freed = 0;
    let sum = 0;
    let n = 0;
    let s = PROBATION;
    let v = links[4 * PROBATION + 1]!;
    while (freed < need) {
      if (v === c) v = links[4 * v + 1]!; // never a victim of itself
      if (v === s) {
        if (s === PROTECTED) break;
        s = PROTECTED;
        v = links[4 * PROTECTED + 1]!;
        continue;
      }
      sum += this.frequency(v);
      if (sum >= freq) {
        this.evicted++;
        this.evict(c);
        return;
      }
      freed += this.cost(v);
      n++;
      v = links[4 * v + 1]!;
    }
    // Admitted: evict the same n victims, taken again from the LRU ends.
    for (; n > 0; n--) {
      let t = links[4 * PROBATION + 1]!;
      if (t === c) t = links[4 * c + 1]!;
      if (t === PROBATION) t = links[4 * PROTECTED + 1]!;
      this.evicted++;
      this.evict(t);
    }
  }
}
