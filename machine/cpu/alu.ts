// Arithmetic, logic, shift and rotate with their EFLAGS effects (SDM vol. 2 per instruction).
// The common operations leave flags lazy; shifts and rotates materialize them.

import type { Cpu } from './cpu.js';
import {
  CF, OF, PF, AF, ZF, SF, ARITH_FLAGS, MASK, SIGN, PARITY,
  LZ_ADD, LZ_ADC, LZ_SUB, LZ_SBB, LZ_LOGIC, LZ_INC, LZ_DEC, LZ_SHL, LZ_SHR, LZ_SAR,
} from './arch.js';

export const ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7;
export const ALU_NAMES = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];

/** One of the eight group-1 operations on `size`-byte operands; returns the masked result. */
export function alu(c: Cpu, op: number, size: number, a: number, b: number): number {
  const m = MASK[size];
  let r: number;
  switch (op) {
    case ALU_ADD: r = (a + b) & m; c.setLazy(LZ_ADD, a, b, r, size); return r;
    case ALU_OR: r = (a | b) & m; c.setLazy(LZ_LOGIC, a, b, r, size); return r;
    case ALU_ADC: {
      const cin = c.getCF();
      r = (a + b + cin) & m; c.setLazy(LZ_ADC, a, b, r, size); c.lzCin = cin; return r;
    }
    case ALU_SBB: {
      const cin = c.getCF();
      r = (a - b - cin) & m; c.setLazy(LZ_SBB, a, b, r, size); c.lzCin = cin; return r;
    }
    case ALU_AND: r = a & b & m; c.setLazy(LZ_LOGIC, a, b, r, size); return r;
    case ALU_XOR: r = (a ^ b) & m; c.setLazy(LZ_LOGIC, a, b, r, size); return r;
    default: r = (a - b) & m; c.setLazy(LZ_SUB, a, b, r, size); return r; // sub, cmp
  }
}

export function inc(c: Cpu, size: number, a: number): number {
  c.flags = (c.flags & ~CF) | c.getCF(); // inc/dec keep CF
  const r = (a + 1) & MASK[size];
  c.setLazy(LZ_INC, a, 1, r, size);
  return r;
}

export function dec(c: Cpu, size: number, a: number): number {
  c.flags = (c.flags & ~CF) | c.getCF();
  const r = (a - 1) & MASK[size];
  c.setLazy(LZ_DEC, a, 1, r, size);
  return r;
}

export function neg(c: Cpu, size: number, a: number): number {
  const r = (0 - a) & MASK[size];
  c.setLazy(LZ_SUB, 0, a & MASK[size], r, size);
  return r;
}

/** Set SF, ZF, PF from a result and CF, OF, AF explicitly (AF 0); other bits unchanged. */
function setResultFlags(c: Cpu, r: number, size: number, cf: number, of: boolean): void {
  c.materialize();
  let f = c.flags & ~ARITH_FLAGS;
  if (cf) f |= CF;
  if (of) f |= OF;
  if ((r & MASK[size]) === 0) f |= ZF;
  if ((r & SIGN[size]) !== 0) f |= SF;
  f |= PARITY[r & 0xff];
  c.flags = f;
}

export const SH_ROL = 0, SH_ROR = 1, SH_RCL = 2, SH_RCR = 3, SH_SHL = 4, SH_SHR = 5, SH_SAL = 6, SH_SAR = 7;
export const SHIFT_NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];

/** Group-2 shift or rotate of a `size`-byte value by `count` (already read from CL/imm/1). */
export function shift(c: Cpu, op: number, size: number, a: number, count: number): number {
  count &= 31;
  if (count === 0) return a; // no flags change at all
  const bits = size * 8, m = MASK[size], sign = SIGN[size];
  a &= m;
  let r: number, cf: number, of: boolean;
  switch (op) {
    case SH_ROL: {
      const n = count & (bits - 1);
      r = n === 0 ? a : ((a << n) | (a >>> (bits - n))) & m;
      c.materialize();
      cf = r & 1;
      of = (((r & sign) !== 0 ? 1 : 0) ^ cf) !== 0;
      c.flags = (c.flags & ~(CF | OF)) | cf | (of ? OF : 0);
      return r;
    }
    case SH_ROR: {
      const n = count & (bits - 1);
      r = n === 0 ? a : ((a >>> n) | (a << (bits - n))) & m;
      c.materialize();
      cf = (r & sign) !== 0 ? 1 : 0;
      of = (((r >>> (bits - 1)) ^ (r >>> (bits - 2))) & 1) !== 0;
      c.flags = (c.flags & ~(CF | OF)) | cf | (of ? OF : 0);
      return r;
    }
    case SH_RCL: {
      const n = bits === 32 ? count : count % (bits + 1);
      c.materialize();
      let carry = c.flags & CF;
      r = a;
      for (let k = 0; k < n; k++) {
        const out = (r & sign) !== 0 ? 1 : 0;
        r = ((r << 1) | carry) & m;
        carry = out;
      }
      of = ((((r & sign) !== 0 ? 1 : 0) ^ carry) & 1) !== 0;
      c.flags = (c.flags & ~(CF | OF)) | carry | (of ? OF : 0);
      return r;
    }
    case SH_RCR: {
      const n = bits === 32 ? count : count % (bits + 1);
      c.materialize();
      let carry = c.flags & CF;
      r = a;
      // OF is computed before the rotation: MSB(dest) XOR CF.
      of = ((((a & sign) !== 0 ? 1 : 0) ^ carry) & 1) !== 0;
      for (let k = 0; k < n; k++) {
        const out = r & 1;
        r = ((r >>> 1) | (carry ? sign : 0)) & m;
        carry = out;
      }
      c.flags = (c.flags & ~(CF | OF)) | carry | (of ? OF : 0);
      return r;
    }
    case SH_SHL: case SH_SAL:
      r = count < 32 ? (a << count) & m : 0;
      c.setLazy(LZ_SHL, a, count, r, size);
      return r;
    case SH_SHR:
      r = count < bits ? a >>> count : 0;
      c.setLazy(LZ_SHR, a, count, r, size);
      return r;
    default: { // SAR
      const sa = (a << (32 - bits)) >> (32 - bits);
      r = (sa >> (count < bits ? count : bits - 1)) & m;
      c.setLazy(LZ_SAR, a, count, r, size);
      return r;
    }
  }
}

/** SHLD/SHRD: shift `a` by `count`, filling from `b` (SDM: count masked to 5 bits). */
export function shiftDouble(c: Cpu, left: boolean, size: number, a: number, b: number, count: number): number {
  count &= 31;
  if (count === 0) return a;
  const bits = size * 8, m = MASK[size], sign = SIGN[size];
  a &= m; b &= m;
  let r: number, cf: number;
  if (bits === 32) {
    r = left ? (a << count) | (b >>> (32 - count)) : (a >>> count) | (b << (32 - count));
    cf = left ? (a >>> (32 - count)) & 1 : (a >>> (count - 1)) & 1;
  } else {
    // 16-bit: shift the 32-bit concatenation; counts above 16 leave the result undefined
    // on x86 (here they keep shifting bits of the fill operand in).
    if (left) {
      const wide = ((a << 16) | b) >>> 0;
      r = count <= 16 ? (wide << count) >>> 16 : (((b << 16) | a) << (count - 16)) >>> 16;
      cf = count <= 16 ? (a >>> (16 - count)) & 1 : (b >>> (32 - count)) & 1;
    } else {
      const wide = ((b << 16) | a) >>> 0;
      r = wide >>> count;
      cf = (wide >>> (count - 1)) & 1;
    }
  }
  r &= m;
  const of = ((r ^ a) & sign) !== 0;
  setResultFlags(c, r, size, cf, of);
  return r;
}

/** Flags after MUL/IMUL: CF = OF = `overflow`; SF, ZF, PF from the low result (undefined on x86). */
export function mulFlags(c: Cpu, low: number, size: number, overflow: boolean): void {
  setResultFlags(c, low, size, overflow ? 1 : 0, overflow);
  c.flags &= ~AF;
}

/** Flags for BSF/BSR/BT-like results where only some flags are defined. */
export function setFlag(c: Cpu, flag: number, on: boolean): void {
  c.materialize();
  c.flags = on ? c.flags | flag : c.flags & ~flag;
}
