// Kernel objects: the resource a capability names. Each has a type, a range (bytes for memory,
// an index for a core, queue, vector, domain or UART) and the Untyped it was carved from, if any.
// An object lives while a capability names it or (an Untyped) while objects carved from it live.

import type { CapType } from '../abi.js';
import type { IntervalSet } from './untyped.js';

export class KObject {
  /** Live capabilities naming this object. */
  caps = 0;
  live = true;
  /** Objects carved from this one (Untyped only). */
  carved: IntervalSet | null = null;

  constructor(
    readonly id: number,
    readonly type: CapType,
    readonly base: number,
    readonly size: number,
    /** The Untyped this object was retyped from; null for a root resource made at boot. */
    readonly from: KObject | null,
  ) {}
}

/** What the kernel knows about one object type. */
export interface ObjectType {
  readonly type: CapType;
  /** Rights that mean something for this type; a capability never holds others. */
  readonly validRights: number;
  /** Memory types share the physical address space; their root ranges may not overlap. */
  readonly memory: boolean;
  /** Checks the range of a root object the kernel creates at boot. */
  rootRangeOk(base: number, size: number): boolean;
}

export const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/**
 * A guest register as an unsigned 32-bit value. The kernel may pass a register signed (from an
 * Int32Array) or unsigned; anything else (NaN, a fraction, more than 32 bits) is garbage and
 * becomes NaN, which every range check rejects.
 */
export function reg(v: number): number {
  return Number.isInteger(v) && v >= -0x80000000 && v <= 0xffffffff ? v >>> 0 : NaN;
}
