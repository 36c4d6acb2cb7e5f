// Untyped: a physical range that can only be carved into typed objects (retype). The objects
// carved from one Untyped are kept in an interval set: a retype that overlaps a live one is
// rejected, and a range becomes free again only when the object carved there dies.

import { CAP, EXO_PAGE_SIZE, RIGHTS_ALL, type CapType } from '../abi.js';
import { KObject, type ObjectType } from './object.js';

export const UNTYPED_TYPE: ObjectType = {
  type: CAP.UNTYPED,
  validRights: RIGHTS_ALL,   // it passes them on to what is carved from it
  memory: true,
  rootRangeOk: pageRangeOk,
};

/** The allowed retype edges: source type -> types it may be carved into. Nothing else retypes. */
export const RETYPE_EDGES: ReadonlyMap<CapType, readonly CapType[]> = new Map<CapType, readonly CapType[]>([
  [CAP.UNTYPED, [CAP.UNTYPED, CAP.FRAME]],
]);

export function pageRangeOk(base: number, size: number): boolean {
  return Number.isInteger(base) && Number.isInteger(size) && base >= 0 && size > 0 &&
    base % EXO_PAGE_SIZE === 0 && size % EXO_PAGE_SIZE === 0 && base + size <= 2 ** 32 && size < 2 ** 32;
}

/** Whether [offset, offset + size) is a page-granular sub-range of an object of `total` bytes. */
export function untypedSubrangeOk(total: number, offset: number, size: number): boolean {
  return Number.isInteger(offset) && Number.isInteger(size) && offset >= 0 && size > 0 &&
    offset % EXO_PAGE_SIZE === 0 && size % EXO_PAGE_SIZE === 0 && offset + size <= total;
}

/**
 * Disjoint half-open intervals in a sorted array. Removal leaves a tombstone (so revoking
 * n carved objects costs O(n log n), not O(n^2) of splicing) and the array is compacted once
 * the dead outnumber the live.
 */
export class IntervalSet {
  private starts: number[] = [];
  private ends: number[] = [];
  private alive: boolean[] = [];
  private dead = 0;
  size = 0;

  /** Index of the last entry starting before `x`, or -1. */
  private before(x: number): number {
    let lo = 0, hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! < x) lo = mid + 1; else hi = mid;
    }
    return lo - 1;
  }

  overlaps(start: number, end: number): boolean {
    // Live intervals are disjoint and sorted, so only the last live one starting before `end`
    // can reach into [start, end).
    for (let i = this.before(end); i >= 0; i--) {
      if (this.alive[i]) return this.ends[i]! > start;
    }
    return false;
  }

  /** Adds [start, end); the caller has checked that it overlaps nothing. */
  add(start: number, end: number): void {
    const i = this.before(start) + 1;
    if (i < this.starts.length && this.starts[i] === start) {   // a tombstone at the same start
      this.ends[i] = end;
      this.alive[i] = true;
      this.dead--;
    } else {
      this.starts.splice(i, 0, start);
      this.ends.splice(i, 0, end);
      this.alive.splice(i, 0, true);
    }
    this.size++;
  }

  remove(start: number): void {
    const i = this.before(start) + 1;
    if (i >= this.starts.length || this.starts[i] !== start || !this.alive[i]) return;
    this.alive[i] = false;
    this.size--;
    this.dead++;
    if (this.dead > this.size + 16) this.compact();
  }

  private compact(): void {
    const s: number[] = [], e: number[] = [], a: boolean[] = [];
    for (let i = 0; i < this.starts.length; i++) {
      if (this.alive[i]) { s.push(this.starts[i]!); e.push(this.ends[i]!); a.push(true); }
    }
    this.starts = s; this.ends = e; this.alive = a; this.dead = 0;
  }

  /** The live intervals, in order. */
  *entries(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.starts.length; i++) if (this.alive[i]) yield [this.starts[i]!, this.ends[i]!];
  }
}

/** Records a new object carved out of `ut` (already checked for overlap). */
export function untypedCarve(ut: KObject, obj: KObject): void {
  ut.carved ??= new IntervalSet();
  ut.carved.add(obj.base, obj.base + obj.size);
}

/**
 * An object whose last capability went away: it dies unless it is an Untyped with live objects
 * carved from it. A death frees its range in the Untyped it came from, which may in turn die.
 * Iterative: nesting depth is not bounded by the host stack. Returns the objects that died,
 * innermost first (the last one may be a root the caller must unregister).
 */
export function objectRelease(obj: KObject): KObject[] {
  const died: KObject[] = [];
  for (let o: KObject | null = obj; o && o.live && o.caps === 0 && !(o.carved && o.carved.size > 0); o = o.from) {
    o.live = false;
    died.push(o);
    o.from?.carved?.remove(o.base);
  }
  return died;
}
