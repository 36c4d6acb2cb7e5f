// A capability space: one principal's array of slots. Slot numbers come from guest registers,
// so `get` accepts any number and answers null outside the space; the lowest free slot (where
// a grant lands) is found from a hint kept at or below it.

import type { Cap } from './cap.js';

export class CSpace {
  private readonly slots: (Cap | null)[];
  /** No free slot lies below this index. */
  private lowFree = 0;
  used = 0;

  constructor(readonly principal: number, readonly size: number) {
    this.slots = new Array<Cap | null>(size).fill(null);
  }

  /** Whether `slot` (a register value, maybe garbage) names a slot of this space. */
  has(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && slot < this.size;
  }

  get(slot: number): Cap | null {
    return this.has(slot) ? this.slots[slot]! : null;
  }

  put(cap: Cap): void {
    this.slots[cap.slot] = cap;
    this.used++;
  }

  clear(slot: number): void {
    this.slots[slot] = null;
    this.used--;
    if (slot < this.lowFree) this.lowFree = slot;
  }

  /** The lowest empty slot, or -1 when the space is full. */
  lowestFree(): number {
    while (this.lowFree < this.size && this.slots[this.lowFree] !== null) this.lowFree++;
    return this.lowFree < this.size ? this.lowFree : -1;
  }

  /** The capabilities in slot order. */
  *caps(): IterableIterator<Cap> {
    for (const c of this.slots) if (c) yield c;
  }
}
