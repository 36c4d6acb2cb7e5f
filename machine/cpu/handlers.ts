// Instruction handlers, named by operation and operand form. Each runs one decoded
// instruction; the opcode table (opcodes.ts) says which handler serves which encoding.
// Memory operands are read before anything is written, so a faulting instruction leaves
// the architectural state as it was and restarts cleanly.

import type { Cpu } from './cpu.js';
import {
  EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, CS, SS,
  CF, ZF, DF, IF, TF, AC, ID, NT, IOPL, ARITH_FLAGS, MASK, SIGN,
  DE, UD, GP, BP, MSR_TSC, LZ_NONE, CTR_SOFT_INTERRUPTS, CTR_GATE_CALLS, CTR_TLB_LOOKUPS, CTR_RING0_TO_3, CR0_PG,
} from './arch.js';
import type { Insn } from './insn.js';
import { alu, inc, dec, neg, shift, shiftDouble, mulFlags, setFlag, ALU_CMP } from './alu.js';

// ---- ALU ----------------------------------------------------------------------------------

export function aluEG(c: Cpu, i: Insn): void {
  const r = alu(c, i.arg, i.size, c.readE(i), c.readG(i));
  if (i.arg !== ALU_CMP) c.writeE(i, r);
}
export function aluGE(c: Cpu, i: Insn): void {
  const r = alu(c, i.arg, i.size, c.readG(i), c.readE(i));
  if (i.arg !== ALU_CMP) c.writeG(i, r);
}
export function aluEI(c: Cpu, i: Insn): void {
  const r = alu(c, i.arg, i.size, c.readE(i), i.imm & MASK[i.size]);
  if (i.arg !== ALU_CMP) c.writeE(i, r);
}
export function testEG(c: Cpu, i: Insn): void { alu(c, 4, i.size, c.readE(i), c.readG(i)); }
export function testEI(c: Cpu, i: Insn): void { alu(c, 4, i.size, c.readE(i), i.imm & MASK[i.size]); }
export function incE(c: Cpu, i: Insn): void { c.writeE(i, inc(c, i.size, c.readE(i))); }
export function decE(c: Cpu, i: Insn): void { c.writeE(i, dec(c, i.size, c.readE(i))); }
export function notE(c: Cpu, i: Insn): void { c.writeE(i, ~c.readE(i) & MASK[i.size]); }
export function negE(c: Cpu, i: Insn): void { c.writeE(i, neg(c, i.size, c.readE(i))); }

// ---- Multiply and divide ------------------------------------------------------------------

/** F6/F7 /4: unsigned AX/DX:AX/EDX:EAX = acc * E. */
export function mulE(c: Cpu, i: Insn): void {
  const b = c.readE(i);
  const r = c.reg;
  if (i.size === 1) {
    const p = (r[EAX] & 0xff) * b;
    c.reg16[0] = p;
    mulFlags(c, p, 1, p > 0xff);
  } else if (i.size === 2) {
    const p = (r[EAX] & 0xffff) * b;
    c.reg16[0] = p; c.reg16[EDX << 1] = p >>> 16;
    mulFlags(c, p, 2, p > 0xffff);
  } else {
    const a = r[EAX] >>> 0, bu = b >>> 0;
    const lo = Math.imul(a, bu);
    const hi = mulHighU(a, bu);
    r[EAX] = lo; r[EDX] = hi;
    mulFlags(c, lo, 4, hi !== 0);
  }
}

/** F6/F7 /5: signed one-operand imul. */
export function imul1E(c: Cpu, i: Insn): void {
  const b = c.readE(i);
  const r = c.reg;
  if (i.size === 1) {
    const p = ((r[EAX] << 24) >> 24) * ((b << 24) >> 24);
    c.reg16[0] = p;
    mulFlags(c, p, 1, p !== ((p << 24) >> 24));
  } else if (i.size === 2) {
    const p = ((r[EAX] << 16) >> 16) * ((b << 16) >> 16);
    c.reg16[0] = p; c.reg16[EDX << 1] = p >> 16;
    mulFlags(c, p, 2, p !== ((p << 16) >> 16));
  } else {
    const a = r[EAX];
    const lo = Math.imul(a, b);
    const hi = mulHighS(a, b | 0);
    r[EAX] = lo; r[EDX] = hi;
    mulFlags(c, lo, 4, hi !== (lo >> 31));
  }
}

/** imul G, E, imm and imul G, E: truncated signed product. */
export function imulGEI(c: Cpu, i: Insn): void { imul2(c, i, c.readE(i), i.imm); }
export function imulGE(c: Cpu, i: Insn): void { imul2(c, i, c.readG(i), c.readE(i)); }
function imul2(c: Cpu, i: Insn, a: number, b: number): void {
  if (i.size === 2) {
    const p = ((a << 16) >> 16) * ((b << 16) >> 16);
    c.writeG(i, p & 0xffff);
    mulFlags(c, p, 2, p !== ((p << 16) >> 16));
  } else {
    const lo = Math.imul(a, b);
    c.reg[i.reg] = lo;
    mulFlags(c, lo, 4, mulHighS(a | 0, b | 0) !== (lo >> 31));
  }
}

/** High 32 bits of an unsigned 32x32 product, exactly, without BigInt. */
function mulHighU(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const lolo = a0 * b0, mid1 = a1 * b0, mid2 = a0 * b1;
  const carry = ((lolo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (a1 * b1 + (mid1 >>> 16) + (mid2 >>> 16) + carry) | 0;
}
function mulHighS(a: number, b: number): number {
  let hi = mulHighU(a >>> 0, b >>> 0);
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  return hi;
}

/** F6/F7 /6: unsigned divide; #DE on a zero divisor or a quotient that does not fit. */
export function divE(c: Cpu, i: Insn): void {
  const d = c.readE(i) >>> 0;
  if (d === 0) c.raise(DE);
  const r = c.reg;
  if (i.size === 1) {
    const n = r[EAX] & 0xffff, q = Math.floor(n / d);
    if (q > 0xff) c.raise(DE);
    c.reg16[0] = q | ((n % d) << 8);
  } else if (i.size === 2) {
    const n = (((r[EDX] & 0xffff) << 16) | (r[EAX] & 0xffff)) >>> 0, q = Math.floor(n / d);
    if (q > 0xffff) c.raise(DE);
    c.reg16[0] = q; c.reg16[EDX << 1] = n % d;
  } else {
    const hi = r[EDX] >>> 0, lo = r[EAX] >>> 0;
    if (hi >= d) c.raise(DE);
    udiv64(hi, lo, d);
    r[EAX] = divQ; r[EDX] = divR;
  }
  c.cycles += c.costs.classes.div;
}

/** F6/F7 /7: signed divide, truncating toward zero; #DE on overflow (INT_MIN / -1). */
export function idivE(c: Cpu, i: Insn): void {
  const r = c.reg;
  if (i.size === 1) {
    const d = (c.readE(i) << 24) >> 24;
    if (d === 0) c.raise(DE);
    const n = (r[EAX] << 16) >> 16, q = Math.trunc(n / d);
    if (q > 127 || q < -128) c.raise(DE);
    c.reg16[0] = (q & 0xff) | ((n % d & 0xff) << 8);
  } else if (i.size === 2) {
    const d = (c.readE(i) << 16) >> 16;
    if (d === 0) c.raise(DE);
    const n = (r[EDX] << 16) | (r[EAX] & 0xffff), q = Math.trunc(n / d);
    if (q > 32767 || q < -32768) c.raise(DE);
    c.reg16[0] = q; c.reg16[EDX << 1] = n % d;
  } else {
    const d = c.readE(i) | 0;
    if (d === 0) c.raise(DE);
    const hi = r[EDX], lo = r[EAX] >>> 0;
    const neg = hi < 0, dneg = d < 0;
    // |n| as an unsigned 64-bit pair
    let nh = hi >>> 0, nl = lo;
    if (neg) { nl = (~nl + 1) >>> 0; nh = (~nh + (nl === 0 ? 1 : 0)) >>> 0; }
    const ad = dneg ? (-d) >>> 0 : d >>> 0;
    if (nh >= ad) c.raise(DE);
    udiv64(nh, nl, ad);
    const q = divQ >>> 0, rem = divR;
    const qneg = neg !== dneg;
    if (qneg ? q > 0x80000000 : q > 0x7fffffff) c.raise(DE);
    r[EAX] = qneg ? -q | 0 : q | 0;
    r[EDX] = neg ? -rem | 0 : rem | 0;
  }
  c.cycles += c.costs.classes.div;
}

let divQ = 0, divR = 0;
/** (hi:lo) / d for hi < d into divQ, divR (32 bits each), by shift-subtract. */
function udiv64(hi: number, lo: number, d: number): void {
  if (hi === 0) { divQ = Math.floor(lo / d) | 0; divR = (lo % d) | 0; return; }
  let rem = hi, q = 0;
  for (let k = 31; k >= 0; k--) {
    const top = rem >= 0x80000000;
    rem = ((rem * 2) + ((lo >>> k) & 1));
    if (top || rem >= d) { rem = (rem - d) >>> 0; q |= 1 << k; }
    else rem >>>= 0;
  }
  divQ = q | 0; divR = rem | 0;
}

// ---- Shifts and rotates -------------------------------------------------------------------

// arg: shift op (low 3 bits) | count source << 4 (0: 1, 1: CL, 2: imm8)
export function shiftE(c: Cpu, i: Insn): void {
  const src = i.arg >> 4;
  const count = src === 0 ? 1 : src === 1 ? c.reg[ECX] & 0xff : i.imm;
  const a = c.readE(i);
  const r = shift(c, i.arg & 7, i.size, a, count);
  if ((count & 31) !== 0) c.writeE(i, r);
}
// arg: 1 = left (shld) | count source << 4 (1: CL, 2: imm8)
export function shiftDoubleE(c: Cpu, i: Insn): void {
  const count = (i.arg >> 4) === 1 ? c.reg[ECX] & 0xff : i.imm;
  const a = c.readE(i);
  const r = shiftDouble(c, (i.arg & 1) !== 0, i.size, a, c.readG(i), count);
  if ((count & 31) !== 0) c.writeE(i, r);
}

// ---- Moves --------------------------------------------------------------------------------

export function movEG(c: Cpu, i: Insn): void { c.writeE(i, c.readG(i)); }
export function movGE(c: Cpu, i: Insn): void { c.writeG(i, c.readE(i)); }
export function movEI(c: Cpu, i: Insn): void { c.writeE(i, i.imm); }
export function lea(c: Cpu, i: Insn): void {
  if (!i.mem) c.raise(UD);
  c.writeG(i, c.ea(i));
}
/** movzx/movsx: arg = source size | 8 when sign-extending. */
export function movxGE(c: Cpu, i: Insn): void {
  const srcSize = i.arg & 7;
  let v: number;
  if (i.mem) {
    const a = c.ea(i);
    v = srcSize === 1 ? c.rd8(a) : c.rd16(a);
  } else v = srcSize === 1 ? c.getReg8(i.rm) : c.reg16[i.rm << 1];
  if ((i.arg & 8) !== 0) v = srcSize === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
  c.writeG(i, v);
}
export function xchgEG(c: Cpu, i: Insn): void {
  const a = c.readE(i), b = c.readG(i);
  c.writeE(i, b);
  c.writeG(i, a);
}
export function cmpxchgEG(c: Cpu, i: Insn): void {
  const m = MASK[i.size];
  const dest = c.readE(i);
  const acc = c.reg[EAX] & m;
  alu(c, ALU_CMP, i.size, acc, dest);
  if (acc === dest) c.writeE(i, c.readG(i));
  else {
    c.writeE(i, dest); // the destination is always written (a locked RMW cycle)
    if (i.size === 4) c.reg[EAX] = dest; else if (i.size === 2) c.reg16[0] = dest; else c.reg8[0] = dest;
  }
}
/** 0F C7 /1: compare EDX:EAX with m64; equal: ZF=1, store ECX:EBX; else ZF=0, load it. */
export function cmpxchg8b(c: Cpu, i: Insn): void {
  const a = c.ea(i);
  const lo = c.rd32(a), hi = c.rd32((a + 4) | 0);
  const eq = lo === c.reg[EAX] && hi === c.reg[EDX];
  if (eq) {
    c.wr32(a, c.reg[EBX]); c.wr32((a + 4) | 0, c.reg[ECX]);
  } else {
    c.wr32(a, lo); c.wr32((a + 4) | 0, hi); // a locked cycle writes the old value back
    c.reg[EAX] = lo; c.reg[EDX] = hi;
  }
  setFlag(c, ZF, eq);
}
export function xaddEG(c: Cpu, i: Insn): void {
  const a = c.readE(i), b = c.readG(i);
  const r = alu(c, 0, i.size, a, b);
  // SDM: SRC <- DEST, then DEST <- SUM, so `xadd r, r` leaves the sum. A memory destination is
  // written first so that a fault leaves the register untouched.
  if (i.mem) { c.writeE(i, r); c.writeG(i, a); } else { c.writeG(i, a); c.writeE(i, r); }
}
export function bswapZ(c: Cpu, i: Insn): void {
  const v = c.reg[i.rm];
  c.reg[i.rm] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}
export function cbw(c: Cpu, i: Insn): void {
  if (i.size === 4) c.reg[EAX] = (c.reg[EAX] << 16) >> 16; // cwde
  else c.reg16[0] = (c.reg[EAX] << 24) >> 24; // cbw
}
export function cwd(c: Cpu, i: Insn): void {
  if (i.size === 4) c.reg[EDX] = c.reg[EAX] >> 31; // cdq
  else c.reg16[EDX << 1] = (c.reg[EAX] << 16) >> 31;
}
export function xlat(c: Cpu): void {
  c.reg8[0] = c.rd8((c.reg[EBX] + (c.reg[EAX] & 0xff)) | 0);
}
export function movESw(c: Cpu, i: Insn): void {
  if (i.reg > 5) c.raise(UD);
  const v = c.sreg[i.reg];
  if (i.mem) c.wr16(c.ea(i), v); else c.reg[i.rm] = v; // register destination: zero-extended
}
export function movSwE(c: Cpu, i: Insn): void {
  if (i.reg > 5 || i.reg === CS) c.raise(UD);
  const v = i.mem ? c.rd16(c.ea(i)) : c.reg16[i.rm << 1];
  c.sreg[i.reg] = v;
  if (i.reg === SS) c.intShadow = true;
}

// ---- Stack --------------------------------------------------------------------------------

export function pushE(c: Cpu, i: Insn): void {
  const v = c.readE(i);
  if (i.size === 4) c.push32(v); else c.push16(v);
}
export function pushI(c: Cpu, i: Insn): void {
  if (i.size === 4) c.push32(i.imm); else c.push16(i.imm);
}
export function popE(c: Cpu, i: Insn): void {
  // The value is read first; ESP is updated before a memory destination is computed (SDM).
  const sp = c.reg[ESP];
  const v = i.size === 4 ? c.rd32(sp) : c.rd16(sp);
  c.reg[ESP] = (sp + i.size) | 0;
  try {
    c.writeE(i, v);
  } catch (e) {
    c.reg[ESP] = sp;
    throw e;
  }
}
export function pushSreg(c: Cpu, i: Insn): void {
  if (i.size === 4) c.push32(c.sreg[i.arg]); else c.push16(c.sreg[i.arg]);
}
export function popSreg(c: Cpu, i: Insn): void {
  c.sreg[i.arg] = i.size === 4 ? c.pop32() : c.pop16();
  if (i.arg === SS) c.intShadow = true;
}
export function pusha(c: Cpu, i: Insn): void {
  const sp = c.reg[ESP], n = i.size;
  for (let r = 0; r < 8; r++) {
    const v = r === ESP ? sp : c.reg[r];
    const a = (sp - n * (r + 1)) | 0;
    if (n === 4) c.wr32(a, v); else c.wr16(a, v);
  }
  c.reg[ESP] = (sp - 8 * n) | 0;
}
export function popa(c: Cpu, i: Insn): void {
  const sp = c.reg[ESP], n = i.size;
  const vals = c.popaScratch;
  for (let r = 0; r < 8; r++) vals[7 - r] = n === 4 ? c.rd32((sp + n * r) | 0) : c.rd16((sp + n * r) | 0);
  for (let r = 0; r < 8; r++) {
    if (r === ESP) continue;
    if (n === 4) c.reg[r] = vals[r]; else c.reg16[r << 1] = vals[r];
  }
  c.reg[ESP] = (sp + 8 * n) | 0;
}
export function pushf(c: Cpu, i: Insn): void {
  const f = c.getFlags() & ~(0x30000); // VM and RF read as 0 in the pushed image
  if (i.size === 4) c.push32(f); else c.push16(f);
}
export function popf(c: Cpu, i: Insn): void {
  const v = i.size === 4 ? c.pop32() : c.pop16();
  // Ring 3 with IOPL 0 cannot change IF or IOPL; nobody here can set VM.
  let mask = ARITH_FLAGS | TF | DF | NT | AC | ID;
  if (c.cpl === 0) mask |= IF | IOPL;
  if (i.size === 2) mask &= 0xffff;
  c.setFlags(v, mask);
  c.stop = true;
}
export function enter(c: Cpu, i: Insn): void {
  const level = i.imm2 & 31;
  const ebp = c.reg[EBP];
  let sp = (c.reg[ESP] - 4) | 0;
  c.wr32(sp, ebp);
  const frame = sp;
  for (let k = 1; k < level; k++) {
    sp = (sp - 4) | 0;
    c.wr32(sp, c.rd32((ebp - 4 * k) | 0));
  }
  if (level > 0) { sp = (sp - 4) | 0; c.wr32(sp, frame); }
  sp = (sp - (i.imm & 0xffff)) | 0;
  c.reg[EBP] = frame;
  c.reg[ESP] = sp;
}
export function leave(c: Cpu): void {
  const v = c.rd32(c.reg[EBP]);
  c.reg[ESP] = (c.reg[EBP] + 4) | 0;
  c.reg[EBP] = v;
}

// ---- Control flow -------------------------------------------------------------------------

export function jcc(c: Cpu, i: Insn): void {
  if (c.cond(i.arg)) { c.eip = (c.eip + i.imm) | 0; c.cycles += c.costs.taken; }
}
export function jmpRel(c: Cpu, i: Insn): void { c.eip = (c.eip + i.imm) | 0; }
export function jmpE(c: Cpu, i: Insn): void { c.eip = c.readE(i); }
export function callRel(c: Cpu, i: Insn): void {
  c.push32(c.eip);
  c.eip = (c.eip + i.imm) | 0;
}
export function callE(c: Cpu, i: Insn): void {
  const target = c.readE(i);
  c.push32(c.eip);
  c.eip = target;
}
export function ret(c: Cpu, i: Insn): void {
  const sp = c.reg[ESP];
  const target = c.rd32(sp);
  c.reg[ESP] = (sp + 4 + i.imm) | 0;
  c.eip = target;
}
/** loop, loope, loopne (arg 2, 1, 0) and jecxz (arg 3). */
export function loop(c: Cpu, i: Insn): void {
  let take: boolean;
  if (i.arg === 3) take = c.reg[ECX] === 0;
  else {
    const n = (c.reg[ECX] - 1) | 0;
    c.reg[ECX] = n;
    take = n !== 0 && (i.arg === 2 || (i.arg === 1 ? c.getZF() : !c.getZF()));
  }
  if (take) { c.eip = (c.eip + i.imm) | 0; c.cycles += c.costs.taken; }
}
export function setcc(c: Cpu, i: Insn): void { c.writeE(i, c.cond(i.arg) ? 1 : 0); }
export function cmovcc(c: Cpu, i: Insn): void {
  const v = c.readE(i); // the source is read (and may fault) whether or not the move happens
  if (c.cond(i.arg)) c.writeG(i, v);
}

// ---- Bits ---------------------------------------------------------------------------------

/** bt/bts/btr/btc (arg 0..3) with the bit offset in a register or an immediate. */
export function btEG(c: Cpu, i: Insn): void { bitOp(c, i, c.readG(i), true); }
export function btEI(c: Cpu, i: Insn): void { bitOp(c, i, i.imm & 0xff, false); }
function bitOp(c: Cpu, i: Insn, off: number, regOffset: boolean): void {
  const bits = i.size * 8;
  let v: number, addr = 0;
  if (i.mem) {
    // A register bit offset addresses memory beyond the operand: signed, in operand units.
    addr = c.ea(i);
    if (regOffset) {
      const so = i.size === 2 ? (off << 16) >> 16 : off | 0;
      addr = (addr + (so >> (i.size === 2 ? 4 : 5)) * i.size) | 0;
    }
    v = i.size === 4 ? c.rd32(addr) : c.rd16(addr);
  } else v = i.size === 4 ? c.reg[i.rm] : c.reg16[i.rm << 1];
  const bit = off & (bits - 1);
  const was = (v >>> bit) & 1;
  c.materialize();
  c.flags = (c.flags & ~CF) | was;
  if (i.arg === 0) return;
  const nv = i.arg === 1 ? v | (1 << bit) : i.arg === 2 ? v & ~(1 << bit) : v ^ (1 << bit);
  if (i.mem) { if (i.size === 4) c.wr32(addr, nv); else c.wr16(addr, nv); }
  else if (i.size === 4) c.reg[i.rm] = nv;
  else c.reg16[i.rm << 1] = nv;
}
export function bsf(c: Cpu, i: Insn): void {
  const v = c.readE(i) & MASK[i.size];
  setFlag(c, ZF, v === 0);
  if (v !== 0) c.writeG(i, 31 - Math.clz32(v & -v)); // destination unchanged for 0
}
export function bsr(c: Cpu, i: Insn): void {
  const v = c.readE(i) & MASK[i.size];
  setFlag(c, ZF, v === 0);
  if (v !== 0) c.writeG(i, 31 - Math.clz32(v));
}
export function tzcnt(c: Cpu, i: Insn): void {
  const v = c.readE(i) & MASK[i.size], bits = i.size * 8;
  const n = v === 0 ? bits : 31 - Math.clz32(v & -v);
  c.materialize();
  c.flags = (c.flags & ~(CF | ZF)) | (v === 0 ? CF : 0) | (n === 0 ? ZF : 0);
  c.writeG(i, n);
}
export function lzcnt(c: Cpu, i: Insn): void {
  const v = c.readE(i) & MASK[i.size], bits = i.size * 8;
  const n = Math.clz32(v) - (32 - bits);
  c.materialize();
  c.flags = (c.flags & ~(CF | ZF)) | (v === 0 ? CF : 0) | (n === 0 ? ZF : 0);
  c.writeG(i, n);
}

// ---- Flags --------------------------------------------------------------------------------

export function flagOp(c: Cpu, i: Insn): void {
  c.materialize();
  switch (i.arg) {
    case 0: c.flags ^= CF; break; // cmc
    case 1: c.flags &= ~CF; break; // clc
    case 2: c.flags |= CF; break; // stc
    case 3: c.flags &= ~DF; break; // cld
    case 4: c.flags |= DF; break; // std
  }
}
export function sahf(c: Cpu): void { c.setFlags(c.reg8[1], 0xd5); }
export function lahf(c: Cpu): void { c.reg8[1] = c.getFlags() & 0xff; }
export function cli(c: Cpu): void {
  if (c.cpl !== 0) c.raise(GP, 0);
  c.flags &= ~IF;
}
export function sti(c: Cpu): void {
  if (c.cpl !== 0) c.raise(GP, 0);
  if ((c.flags & IF) === 0) c.intShadow = true;
  c.flags |= IF;
  c.stop = true;
}

// ---- Strings ------------------------------------------------------------------------------

/** String instructions count their own TLB references, per iteration. */
function countRefs(c: Cpu, n: number): void {
  if ((c.cr0 & CR0_PG) !== 0) c.counters[CTR_TLB_LOOKUPS] += n;
}

/** Iterations a rep-prefixed string instruction runs before it lets interrupts in. */
const REP_CHUNK = 4096;

function strStep(c: Cpu, size: number): number { return (c.flags & DF) !== 0 ? -size : size; }

/** Run `body` once, or ECX times under rep, in chunks; returns with EIP at the instruction if not done. */
function repeat(c: Cpu, i: Insn, body: (c: Cpu, i: Insn) => boolean, refs: number): void {
  if (i.rep === 0) { body(c, i); countRefs(c, refs); return; }
  let n = 0;
  while (c.reg[ECX] !== 0) {
    const more = body(c, i);
    c.reg[ECX] = (c.reg[ECX] - 1) | 0;
    n++;
    if (!more) break;
    if (n === REP_CHUNK) { if (c.reg[ECX] !== 0) c.eip = (c.eip - i.len) | 0; break; }
  }
  c.cycles += n * c.costs.classes.string;
  countRefs(c, n * refs);
}
function movsBody(c: Cpu, i: Insn): boolean {
  const d = strStep(c, i.size), s = c.reg[ESI], t = c.reg[EDI];
  if (i.size === 4) c.wr32(t, c.rd32(s)); else if (i.size === 1) c.wr8(t, c.rd8(s)); else c.wr16(t, c.rd16(s));
  c.reg[ESI] = (s + d) | 0; c.reg[EDI] = (t + d) | 0;
  return true;
}
function stosBody(c: Cpu, i: Insn): boolean {
  const t = c.reg[EDI];
  if (i.size === 4) c.wr32(t, c.reg[EAX]); else if (i.size === 1) c.wr8(t, c.reg[EAX]); else c.wr16(t, c.reg[EAX]);
  c.reg[EDI] = (t + strStep(c, i.size)) | 0;
  return true;
}
function lodsBody(c: Cpu, i: Insn): boolean {
  const s = c.reg[ESI];
  if (i.size === 4) c.reg[EAX] = c.rd32(s); else if (i.size === 1) c.reg8[0] = c.rd8(s); else c.reg16[0] = c.rd16(s);
  c.reg[ESI] = (s + strStep(c, i.size)) | 0;
  return true;
}
function cmpsBody(c: Cpu, i: Insn): boolean {
  const d = strStep(c, i.size), s = c.reg[ESI], t = c.reg[EDI];
  const a = i.size === 4 ? c.rd32(s) : i.size === 1 ? c.rd8(s) : c.rd16(s);
  const b = i.size === 4 ? c.rd32(t) : i.size === 1 ? c.rd8(t) : c.rd16(t);
  alu(c, ALU_CMP, i.size, a, b);
  c.reg[ESI] = (s + d) | 0; c.reg[EDI] = (t + d) | 0;
  return i.rep === 0xf3 ? c.lzR === 0 : c.lzR !== 0;
}
function scasBody(c: Cpu, i: Insn): boolean {
  const t = c.reg[EDI];
  const b = i.size === 4 ? c.rd32(t) : i.size === 1 ? c.rd8(t) : c.rd16(t);
  alu(c, ALU_CMP, i.size, c.reg[EAX] & MASK[i.size], b);
  c.reg[EDI] = (t + strStep(c, i.size)) | 0;
  return i.rep === 0xf3 ? c.lzR === 0 : c.lzR !== 0;
}
// Port I/O: there are no port-mapped devices (every device here is memory-mapped), so ring 0
// reads all ones and writes go nowhere, as on an empty ISA bus. Ring 3 has IOPL 0 and no I/O
// bitmap: #GP, as on x86.
function ioCheck(c: Cpu): void { if (c.cpl > 0) c.raise(GP, 0); }
export function inPort(c: Cpu, i: Insn): void {
  ioCheck(c);
  if (i.size === 4) c.reg[EAX] = -1; else if (i.size === 2) c.reg16[0] = 0xffff; else c.reg8[0] = 0xff;
}
export function outPort(c: Cpu): void { ioCheck(c); }
function insBody(c: Cpu, i: Insn): boolean {
  const t = c.reg[EDI];
  if (i.size === 4) c.wr32(t, -1); else if (i.size === 1) c.wr8(t, 0xff); else c.wr16(t, 0xffff);
  c.reg[EDI] = (t + strStep(c, i.size)) | 0;
  return true;
}
function outsBody(c: Cpu, i: Insn): boolean {
  const s = c.reg[ESI];
  if (i.size === 4) c.rd32(s); else if (i.size === 1) c.rd8(s); else c.rd16(s);
  c.reg[ESI] = (s + strStep(c, i.size)) | 0;
  return true;
}
export function ins(c: Cpu, i: Insn): void { ioCheck(c); repeat(c, i, insBody, 1); }
export function outs(c: Cpu, i: Insn): void { ioCheck(c); repeat(c, i, outsBody, 1); }
export function movs(c: Cpu, i: Insn): void { repeat(c, i, movsBody, 2); }
export function stos(c: Cpu, i: Insn): void { repeat(c, i, stosBody, 1); }
export function lods(c: Cpu, i: Insn): void { repeat(c, i, lodsBody, 1); }
export function cmps(c: Cpu, i: Insn): void { repeat(c, i, cmpsBody, 2); }
export function scas(c: Cpu, i: Insn): void { repeat(c, i, scasBody, 1); }

// ---- System -------------------------------------------------------------------------------

export function nop(): void { /* also pause and the hint-NOP space 0F 18..1F */ }
export function ud(c: Cpu): void { c.raise(UD); }
export function hlt(c: Cpu): void {
  if (c.cpl !== 0) c.raise(GP, 0);
  c.state = 'halted';
  c.stop = true;
}
export function intN(c: Cpu, i: Insn): void {
  c.counters[CTR_SOFT_INTERRUPTS]++;
  c.interrupt(i.imm & 0xff, c.eip, -1, true);
}
export function int3(c: Cpu): void {
  c.counters[CTR_SOFT_INTERRUPTS]++;
  c.interrupt(BP, c.eip, -1, true);
}
export function iret(c: Cpu, i: Insn): void {
  if (i.size !== 4) c.raise(UD);
  const sp = c.reg[ESP];
  const eip = c.rd32(sp), cs = c.rd32((sp + 4) | 0) & 0xffff, fl = c.rd32((sp + 8) | 0);
  const rpl = cs & 3;
  if (rpl < c.cpl || (rpl !== 0 && rpl !== 3)) c.raise(GP, cs & 0xfffc);
  let mask = ARITH_FLAGS | TF | DF | NT | AC | ID | 0x10000;
  if (c.cpl === 0) mask |= IF | IOPL;
  if (rpl > c.cpl) {
    const esp = c.rd32((sp + 12) | 0), ss = c.rd32((sp + 16) | 0) & 0xffff;
    c.reg[ESP] = esp;
    c.sreg[SS] = ss;
  } else c.reg[ESP] = (sp + 12) | 0;
  c.setFlags(fl, mask);
  c.sreg[CS] = cs;
  if (rpl > c.cpl) c.counters[CTR_RING0_TO_3]++;
  c.setCpl(rpl);
  c.eip = eip;
  c.stop = true;
}
export function cpuid(c: Cpu): void {
  const leaf = c.reg[EAX] >>> 0;
  const r = c.reg;
  switch (leaf) {
    case 0: // max leaf, vendor "ExoLabVirtCPU"-style: 12 bytes in EBX, EDX, ECX
      r[EAX] = 1; r[EBX] = 0x4c6f7845; r[EDX] = 0x69566261; r[ECX] = 0x50437472; break;
    case 1: // family 6; features: TSC, MSR, PSE, PGE, CMOV, APIC
      r[EAX] = 0x00000600; r[EBX] = c.id << 24; r[ECX] = 0;
      r[EDX] = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 9) | (1 << 13) | (1 << 15); break;
    default:
      r[EAX] = r[EBX] = r[ECX] = r[EDX] = 0;
  }
}
export function rdtsc(c: Cpu): void {
  const [lo, hi] = c.readMsr(MSR_TSC);
  c.reg[EAX] = lo; c.reg[EDX] = hi;
}
export function rdmsr(c: Cpu): void {
  if (c.cpl !== 0) c.raise(GP, 0);
  const [lo, hi] = c.readMsr(c.reg[ECX]);
  c.reg[EAX] = lo; c.reg[EDX] = hi;
}
export function wrmsr(c: Cpu): void {
  if (c.cpl !== 0) c.raise(GP, 0);
  c.writeMsr(c.reg[ECX], c.reg[EAX], c.reg[EDX]);
  c.stop = true;
}
/** lgdt, lidt (arg 2, 3), sgdt, sidt (arg 0, 1): a 6-byte pseudo-descriptor in memory. */
export function descTable(c: Cpu, i: Insn): void {
  if (!i.mem) c.raise(UD);
  const a = c.ea(i);
  if (i.arg >= 2) {
    if (c.cpl !== 0) c.raise(GP, 0);
    const limit = c.rd16(a), base = c.rd32((a + 2) | 0);
    if (i.arg === 3) { c.idtLimit = limit; c.idtBase = base; } else { c.gdtLimit = limit; c.gdtBase = base; }
  } else {
    const idt = i.arg === 1;
    c.wr16(a, idt ? c.idtLimit : c.gdtLimit);
    c.wr32((a + 2) | 0, idt ? c.idtBase : c.gdtBase);
  }
}
export function invlpg(c: Cpu, i: Insn): void {
  if (!i.mem) c.raise(UD);
  if (c.cpl !== 0) c.raise(GP, 0);
  c.tlbInvalidate(c.ea(i));
  c.stop = true;
}
/** mov r32, crN (arg 0) and mov crN, r32 (arg 1); ModRM.reg names the control register. */
export function movCr(c: Cpu, i: Insn): void {
  if (c.cpl !== 0) c.raise(GP, 0);
  const n = i.reg;
  if (n === 1 || n > 4) c.raise(UD);
  if (i.arg === 0) {
    c.reg[i.rm] = n === 0 ? c.cr0 : n === 2 ? c.cr2 : n === 3 ? c.cr3 : c.cr4;
    return;
  }
  const v = c.reg[i.rm];
  if (n === 0) c.writeCr0(v);
  else if (n === 2) c.cr2 = v;
  else if (n === 3) c.writeCr3(v);
  else c.writeCr4(v);
}
/** The native gate 0F 3F ib: a host service routine in ring 0, #UD in ring 3 (DESIGN 2). */
export function nativeGate(c: Cpu, i: Insn): void {
  const g = c.gates[i.imm & 0xff];
  if (c.cpl !== 0 || g === undefined) c.raise(UD);
  c.counters[CTR_GATE_CALLS]++;
  g(c);
  c.stop = true;
}
