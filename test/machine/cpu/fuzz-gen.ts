// Random instruction sequences drawn from the opcode table, for differential tests against the
// host CPU. A batch is one static i386 program: per case it loads registers, EFLAGS and a
// scratch area from seeded values, runs 1-6 random instructions, and stores all eight
// registers, EFLAGS and the scratch area; at the end it writes every record to stdout. Flags
// the SDM leaves undefined are tracked per case and masked (vol. 2, each instruction's
// "Flags Affected"), and no instruction reads a flag while it is undefined.

import {
  OPCODES, NO_FUZZ, PRIV, LOCKABLE, CC_NAMES, type OpDef, type Operand,
} from '../../../machine/cpu/opcodes.js';
import { CF, PF, AF, ZF, SF, OF, DF, EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI } from '../../../machine/cpu/arch.js';
import { writeElf32 } from '../../helpers/elf-writer.js';

export const ARITH = OF | SF | ZF | AF | PF | CF;

// ---- The seeded generator ------------------------------------------------------------------

/** xorshift32 with a splitmix-style seed scramble: small, fast, and ours. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = mix32(seed) || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.s = x;
    return x >>> 0;
  }
  /** 0 .. n-1 */
  int(n: number): number { return Math.floor((this.u32() / 0x100000000) * n); }
  chance(p: number): boolean { return this.u32() / 0x100000000 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
}

/** A 32-bit avalanche hash (the murmur3 finalizer): seeds for batches and cases. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
export function caseSeed(batchSeed: number, index: number): number {
  return mix32((batchSeed ^ mix32(index + 0x51ed270b)) >>> 0);
}

// ---- Memory layout of a batch program ------------------------------------------------------

export const CODE_BASE = 0x08048000;
export const DATA_BASE = 0x0a000000;
/**
 * The scratch area every memory operand hits; EBP points into its middle during a case. It
 * straddles a page boundary, so unaligned operands there take the cross-page paths.
 */
export const SCRATCH_SIZE = 128;
export const SCRATCH = DATA_BASE + 0x1000 - SCRATCH_SIZE / 2;
export const EBP_VALUE = SCRATCH + SCRATCH_SIZE / 2;
/** Stack of the cases; slack above it so that unbalanced pops read zeroes. */
export const STACK_TOP = DATA_BASE + 0x2e00;
const INIT_BASE = DATA_BASE + 0x3000;
/** Per case: eax..edi (8 dwords), EFLAGS, then the scratch area. */
export const RECORD_SIZE = 36 + SCRATCH_SIZE;
const SAFE_DEST = [EAX, ECX, EDX, EBX, ESI, EDI];
export const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

// ---- The pool of table entries -------------------------------------------------------------

const E_KINDS = new Set<Operand>(['Eb', 'Ew', 'Ed', 'Ev', 'M']);
const G_KINDS = new Set<Operand>(['Gb', 'Gw', 'Gv']);
const Z_KINDS = new Set<Operand>(['Zb', 'Zv', 'Zd']);

/** Operand indices the instruction writes (registers or memory). */
function destOperands(d: OpDef): number[] {
  if (d.ops.length === 0) return [];
  switch (d.mnem) {
    case 'cmp': case 'test': case 'bt': case 'push': case 'nop': return [];
    case 'xchg': case 'xadd': return [0, 1];
    case 'mul': case 'imul': return d.ops.length === 1 ? [] : [0];
  }
  return [0];
}

/** 32-bit registers written besides the operands (ESP by push and pop is expected). */
function implicitWrites(d: OpDef, size: number): number[] {
  switch (d.mnem) {
    case 'mul': case 'imul': return d.ops.length === 1 ? (size === 1 ? [EAX] : [EAX, EDX]) : [];
    case 'cmpxchg': case 'cwde': case 'lahf': return [EAX];
    case 'cdq': return [EDX];
  }
  return [];
}

/** Why an entry is never drawn, or null if it is. */
export function exclusionReason(d: OpDef): string | null {
  if (d.attrs & PRIV) return 'privileged (#GP in ring 3)';
  if (d.attrs & NO_FUZZ) return 'marked NO_FUZZ in the table (control flow, faults, strings, system, segments)';
  for (const k of destOperands(d)) {
    const kind = d.ops[k];
    if ((kind === 'Zv' || kind === 'Zd') && ((d.code & 7) === ESP || (d.code & 7) === EBP)) {
      return 'writes ESP or EBP, the harness\'s stack and scratch pointers';
    }
  }
  return null;
}

export const POOL: readonly OpDef[] = OPCODES.filter((d) => exclusionReason(d) === null);

/** A short name for an entry: opcode bytes, /digit, mnemonic and operand kinds. */
export function entryName(d: OpDef): string {
  const code = d.code >= 0x100 ? `0f ${hex2(d.code & 0xff)}` : hex2(d.code);
  const pre = d.prefix ? `${hex2(d.prefix)} ` : '';
  const ext = d.ext >= 0 ? ` /${d.ext}` : '';
  return `${pre}${code}${ext} ${d.mnem} ${d.ops.join(',')}`.trim();
}

// ---- One case ------------------------------------------------------------------------------

export interface FuzzInsn {
  def: OpDef;
  bytes: number[];
  /** Set up by the generator (bit offset or nonzero source) rather than drawn. */
  guard: boolean;
}

export interface FuzzCase {
  index: number;
  seed: number;
  /** Initial eax..edi; ESP and EBP are the harness's. */
  regs: number[];
  eflags: number;
  scratch: Uint8Array;
  insns: FuzzInsn[];
  /** EFLAGS bits compared. */
  flagMask: number;
  /** Bits compared per register. */
  regMask: number[];
}

/** What the generator knows while it builds a sequence. */
interface SeqState {
  /** Arithmetic flags the manuals leave undefined at this point. */
  undef: number;
  /** CL is still the initial value (nothing has written ECX). */
  ecxKnown: boolean;
  cl: number;
  regMask: number[];
}

function interesting32(rng: Rng): number {
  switch (rng.int(8)) {
    case 0: return rng.pick([0, 1, -1, 0x80000000 | 0, 0x7fffffff, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x10000, 0xff00]);
    case 1: return rng.int(64) - 32;
    case 2: return rng.u32() & 0xff;
    case 3: return (rng.u32() & 0xffff) | (rng.chance(0.5) ? 0xffff0000 : 0);
    default: return rng.u32() | 0;
  }
}

/** A shift count: the boundary values often, anything 0..255 sometimes. */
function pickCount(rng: Rng, bits: number): number {
  if (rng.chance(0.6)) return rng.pick([0, 1, 2, bits - 1, bits, bits + 1, 31, 32, 33, 17, 9, 63]) & 0xff;
  return rng.chance(0.5) ? rng.int(32) : rng.int(256);
}

function opSize(kind: Operand, opsize: number): number {
  switch (kind) {
    case 'Eb': case 'Gb': case 'Zb': case 'AL': case 'Ob': return 1;
    case 'Ew': case 'Gw': case 'AX': return 2;
    case 'Ed': case 'Zd': return 4;
    case 'Ev': case 'Gv': case 'Zv': case 'eAX': case 'Ov': case 'Iz': case 'Iv': return opsize;
    default: return 0;
  }
}

function le(v: number, n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push((v >>> (8 * k)) & 0xff);
  return out;
}

/** ModRM mod/rm and the bytes after ModRM (SIB, displacement) for a scratch address. */
interface MemOperand { mod: number; rm: number; tail: number[] }

/** A memory operand that addresses scratch byte `off`, in one of the encodings that can. */
function scratchOperand(rng: Rng, off: number): MemOperand {
  const rel = off - SCRATCH_SIZE / 2, abs = SCRATCH + off;
  const sib = (scale: number, index: number, base: number) => (scale << 6) | (index << 3) | base;
  switch (rng.int(8)) {
    case 0: return { mod: 1, rm: EBP, tail: le(rel, 1) };                                 // [ebp+d8]
    case 1: return { mod: 2, rm: EBP, tail: le(rel, 4) };                                 // [ebp+d32]
    case 2: return { mod: 0, rm: EBP, tail: le(abs, 4) };                                 // [d32]
    case 3: return { mod: 1, rm: 4, tail: [sib(rng.int(4), 4, EBP), ...le(rel, 1)] };    // [ebp+d8], SIB without index
    case 4: return { mod: 2, rm: 4, tail: [sib(rng.int(4), 4, EBP), ...le(rel, 4)] };    // [ebp+d32], SIB without index
    case 5: return { mod: 0, rm: 4, tail: [sib(rng.int(4), 4, EBP), ...le(abs, 4)] };    // [d32], SIB without base or index
    case 6: { const s = rng.int(4);                                                        // [ebp*s+d32]
      return { mod: 0, rm: 4, tail: [sib(s, EBP, EBP), ...le(abs - EBP_VALUE * (1 << s), 4)] }; }
    default: { const s = rng.int(4);                                                       // [ebp+ebp*s+d32]
      return { mod: 2, rm: 4, tail: [sib(s, EBP, EBP), ...le(abs - EBP_VALUE * (1 + (1 << s)), 4)] }; }
  }
}

/** Any addressing form at all, for lea, which computes the address without touching it. */
function anyOperand(rng: Rng): MemOperand {
  const mod = rng.int(3), rm = rng.int(8);
  const tail: number[] = [];
  let base = rm;
  if (rm === 4) { const s = rng.u32() & 0xff; tail.push(s); base = s & 7; }
  const dispLen = mod === 1 ? 1 : mod === 2 || (mod === 0 && base === EBP) ? 4 : 0;
  const disp = rng.chance(0.5) ? rng.int(256) - 128 : rng.u32();
  tail.push(...le(disp, dispLen));
  return { mod, rm, tail };
}

interface FlagEffect { read: number; write: number; undef: number }
const NO_CHANGE: FlagEffect = { read: 0, write: 0, undef: 0 };

/**
 * The flags an instruction reads, defines and leaves undefined, given its shift count when it
 * has one (null: a CL count the generator does not know). Returns null for an encoding the
 * tests must not use (a 16-bit shld/shrd whose count exceeds 16 has an undefined result).
 */
function flagEffect(d: OpDef, size: number, count: number | null): FlagEffect | null {
  const f = d.flags;
  if (d.note === undefined) return f;
  const bits = size * 8;
  if (count === null) {
    if (d.note === 'shiftd' && size === 2) return null;
    // Count 0 changes nothing, any other count writes or undefines: the result is unknown.
    return { read: f.read, write: 0, undef: f.write | f.undef };
  }
  const c = count & 31;
  if (d.note === 'shiftd' && size === 2 && c > 16) return null;
  if (c === 0) return { ...NO_CHANGE, read: f.read };
  switch (d.note) {
    case 'shift': {
      let write = SF | ZF | PF | CF, undef = AF;
      if (c === 1) write |= OF; else undef |= OF;
      // SHL/SHR (and SAL): CF is undefined once the count reaches the operand size.
      if (d.ext !== 7 && c >= bits) { write &= ~CF; undef |= CF; }
      return { read: f.read, write, undef };
    }
    case 'shiftd':
      return { read: f.read, write: SF | ZF | PF | CF | (c === 1 ? OF : 0), undef: AF | (c === 1 ? 0 : OF) };
    default: // rotate, rcx: CF, and OF only for a count of 1
      return { read: f.read, write: CF | (c === 1 ? OF : 0), undef: c === 1 ? 0 : OF };
  }
}

/**
 * Encode one instruction of entry `d` (and any guard it needs) for the state `st`, or return
 * null if this entry cannot be used here (it reads an undefined flag, say). Updates `st`.
 */
function genInsn(rng: Rng, st: SeqState, d: OpDef, last: boolean): FuzzInsn[] | null {
  const ops = d.ops;
  const use66 = d.mnem !== 'bswap' && rng.chance(0.25);
  const opsize = use66 ? 2 : 4;
  let size = 0;
  for (const o of ops) { size = opSize(o, opsize); if (size) break; }
  if (size === 0) size = opsize;

  const dst = destOperands(d);
  const eIdx = ops.findIndex((o) => E_KINDS.has(o));
  const gIdx = ops.findIndex((o) => G_KINDS.has(o));
  const hasModrm = d.ext >= 0 || eIdx >= 0 || gIdx >= 0;
  const regFor = (idx: number): number => {
    const isDest = dst.includes(idx) && opSize(ops[idx], opsize) !== 1;
    return isDest ? rng.pick(SAFE_DEST) : rng.int(8);
  };

  const out: FuzzInsn[] = [];
  const written: number[] = [...implicitWrites(d, size)];
  let memOp: MemOperand | null = null;
  let regField = 0, rmReg = -1;
  let btOffsetReg = -1;

  if (hasModrm) {
    if (gIdx >= 0) regField = regFor(gIdx);
    else regField = d.ext >= 0 ? d.ext : rng.int(8);
    if (d.ext >= 0) regField = d.ext;
    const kind = eIdx >= 0 ? ops[eIdx] : 'M';
    if (d.mnem === 'lea') memOp = anyOperand(rng);
    else if (kind === 'M' || (eIdx >= 0 && rng.chance(0.4))) {
      // bt* with a register bit offset reaches past the operand: keep it near the middle.
      const isBtReg = d.mnem.startsWith('bt') && gIdx >= 0;
      const off = isBtReg ? 16 + rng.int(SCRATCH_SIZE - 36) : rng.int(SCRATCH_SIZE - 3);
      memOp = scratchOperand(rng, off);
      if (isBtReg) {
        if (regField === ESP || regField === EBP) regField = rng.pick(SAFE_DEST);
        btOffsetReg = regField;
      }
    } else {
      rmReg = eIdx >= 0 ? regFor(eIdx) : rng.int(8);
    }
  }

  // Registers the instruction writes: tracked for CL and for what must stay ESP/EBP-free.
  for (const k of dst) {
    const kind = ops[k], sz = opSize(kind, opsize);
    const r = E_KINDS.has(kind) ? (memOp ? -1 : rmReg) : G_KINDS.has(kind) ? regField
      : Z_KINDS.has(kind) ? d.code & 7 : kind === 'AL' || kind === 'AX' || kind === 'eAX' ? EAX : -1;
    if (r >= 0) written.push(sz === 1 ? r & 3 : r);
  }

  // Immediates, and the shift count when there is one.
  const imm: number[] = [];
  let count: number | null = null;
  let moffs: number[] = [];
  for (const o of ops) {
    switch (o) {
      case '1': count = 1; break;
      case 'CL': count = st.ecxKnown ? st.cl : null; break;
      case 'Ib':
        if (d.note) {
          let c = pickCount(rng, size * 8);
          if (d.note === 'shiftd' && size === 2) while ((c & 31) > 16) c = pickCount(rng, 16);
          count = c;
          imm.push(c);
        } else imm.push(rng.int(256));
        break;
      case 'Ibs': imm.push(rng.chance(0.3) ? rng.pick([0x00, 0x01, 0x7f, 0x80, 0xff]) : rng.int(256)); break;
      case 'Iw': imm.push(...le(rng.u32(), 2)); break;
      case 'Iz': case 'Iv': imm.push(...le(interesting32(rng), opsize)); break;
      case 'Ob': case 'Ov': moffs = le(SCRATCH + rng.int(SCRATCH_SIZE - 3), 4); break;
    }
  }

  const eff = flagEffect(d, size, count);
  if (eff === null || (eff.read & st.undef) !== 0) return null;

  // bsf/bsr leave the destination undefined for a zero source: guarantee a set bit first, or,
  // as the last instruction, leave the source alone and mask the destination.
  let maskDest = false;
  if (d.mnem === 'bsf' || d.mnem === 'bsr') {
    if (last && rng.chance(0.3)) maskDest = true;
    else if (memOp || (rmReg !== ESP && rmReg !== EBP)) {
      const bit = rng.int(size * 8);
      const m = memOp ?? { mod: 3, rm: rmReg, tail: [] };
      const guard = [...(size === 2 ? [0x66] : []), 0x0f, 0xba, (m.mod << 6) | (5 << 3) | m.rm, ...m.tail, bit];
      const bts = OPCODES.find((x) => x.code === 0x1ba && x.ext === 5)!;
      const ge = bts.flags;
      st.undef = (st.undef & ~ge.write) | ge.undef;
      out.push({ def: bts, bytes: guard, guard: true });
    }
  }
  if (btOffsetReg >= 0) {
    const movDef = OPCODES.find((x) => x.code === 0xb8 + btOffsetReg)!;
    out.push({ def: movDef, bytes: [0xb8 + btOffsetReg, ...le(rng.int(192) - 64, 4)], guard: true });
    if (btOffsetReg === ECX) st.ecxKnown = false;
  }

  // Prefixes in random order, a mandatory F3 last.
  const prefixes: number[] = [];
  if (use66) prefixes.push(0x66);
  if (memOp && d.mnem !== 'lea' && rng.chance(0.15)) prefixes.push(rng.pick([0x26, 0x36, 0x3e]));
  if (memOp && (d.attrs & LOCKABLE) && rng.chance(0.3)) prefixes.push(0xf0);
  for (let k = prefixes.length - 1; k > 0; k--) {
    const j = rng.int(k + 1);
    [prefixes[k], prefixes[j]] = [prefixes[j], prefixes[k]];
  }
  if (d.prefix) prefixes.push(d.prefix);

  const bytes = [...prefixes, ...(d.code >= 0x100 ? [0x0f, d.code & 0xff] : [d.code])];
  if (hasModrm) {
    if (memOp) bytes.push((memOp.mod << 6) | (regField << 3) | memOp.rm, ...memOp.tail);
    else bytes.push(0xc0 | (regField << 3) | rmReg);
  }
  bytes.push(...moffs, ...imm);
  out.push({ def: d, bytes, guard: false });

  st.undef = (st.undef & ~eff.write) | eff.undef;
  if (written.includes(ECX)) st.ecxKnown = false;
  if (maskDest) st.regMask[regField] &= size === 4 ? 0 : ~0xffff;
  return out;
}

// ---- Entries the table keeps out of the draw, generated here with guards -------------------

const def = (code: number, ext = -1, prefix = 0): OpDef =>
  OPCODES.find((d) => d.code === code && d.ext === ext && d.prefix === prefix)!;

/** An E operand: a register (mod 3) or a scratch address, and its ModRM byte for a reg field. */
interface EOperand { mem: MemOperand | null; rm: number }
function modrm(e: EOperand, reg: number): number[] {
  return e.mem ? [(e.mem.mod << 6) | (reg << 3) | e.mem.rm, ...e.mem.tail] : [0xc0 | (reg << 3) | e.rm];
}
function pickE(rng: Rng, avoid: number[]): EOperand {
  if (rng.chance(0.4)) return { mem: scratchOperand(rng, rng.int(SCRATCH_SIZE - 7)), rm: -1 };
  let r: number;
  do r = rng.pick(SAFE_DEST); while (avoid.includes(r));
  return { mem: null, rm: r };
}
const ins = (d: OpDef, bytes: number[], guard = true): FuzzInsn => ({ def: d, bytes, guard });
function applyFlags(st: SeqState, f: FlagEffect): void { st.undef = (st.undef & ~f.write) | f.undef; }

/**
 * div/idiv with operands that cannot raise #DE: unsigned, the divisor's top bit is set and the
 * dividend's high half has it clear; signed, the dividend is sign-extended (cbw/cwd/cdq) and
 * the divisor even and nonzero, so never -1.
 */
function genDivide(rng: Rng, st: SeqState): FuzzInsn[] {
  const signed = rng.chance(0.5), size = rng.pick([1, 2, 4]);
  const o66 = size === 2 ? [0x66] : [];
  // The divisor must not be part of the dividend: no AL/AH, (E)AX, (E)DX.
  const e = size === 1
    ? (rng.chance(0.4) ? { mem: scratchOperand(rng, rng.int(SCRATCH_SIZE - 3)), rm: -1 } : { mem: null, rm: rng.pick([1, 2, 3, 5, 6, 7]) })
    : pickE(rng, [EAX, EDX]);
  const out: FuzzInsn[] = [];
  const top = size * 8 - 1;
  const bt = (ext: number, m: number[], bit: number) => ins(def(0x1ba, ext), [...o66, 0x0f, 0xba, ...m, bit]);
  if (!signed) {
    if (size === 1) {
      out.push(ins(def(0x80, 1), [0x80, ...modrm(e, 1), 0x80]));  // or E, 0x80
      out.push(ins(def(0x80, 4), [0x80, 0xe4, 0x7f]));            // and ah, 0x7f
    } else {
      out.push(bt(5, modrm(e, 5), top));                          // bts E, top
      out.push(bt(6, [0xc0 | (6 << 3) | EDX], top));             // btr edx, top
    }
  } else if (size === 1) {
    out.push(ins(def(0x80, 4), [0x80, ...modrm(e, 4), 0xfe]));    // and E, 0xfe
    out.push(ins(def(0x80, 1), [0x80, ...modrm(e, 1), 0x02]));    // or E, 2
    out.push(ins(def(0x98), [0x66, 0x98]));                       // cbw
  } else {
    out.push(bt(6, modrm(e, 6), 0));                              // btr E, 0
    out.push(bt(5, modrm(e, 5), 1));                              // bts E, 1
    out.push(ins(def(0x99), [...o66, 0x99]));                     // cwd / cdq
  }
  const d = def(size === 1 ? 0xf6 : 0xf7, signed ? 7 : 6);
  out.push(ins(d, [...o66, size === 1 ? 0xf6 : 0xf7, ...modrm(e, signed ? 7 : 6)], false));
  for (const g of out) applyFlags(st, g.def.flags);
  if (e.rm === ECX || (size === 1 && e.rm === 5)) st.ecxKnown = false;
  return out;
}

const STRING_OPS = OPCODES.filter((d) => (d.code >= 0xa4 && d.code <= 0xa7) || (d.code >= 0xaa && d.code <= 0xaf));

/** A string instruction, maybe repeated, with ESI/EDI in the scratch area's middle. */
function genString(rng: Rng, st: SeqState): FuzzInsn[] {
  const d = rng.pick(STRING_OPS);
  const mov = (r: number, v: number) => ins(def(0xb8 + r), [0xb8 + r, ...le(v, 4)]);
  const out = [mov(ESI, SCRATCH + 36 + rng.int(56)), mov(EDI, SCRATCH + 36 + rng.int(56))];
  const rep = rng.pick([0, 0, 0xf3, 0xf2]);
  const n = rng.int(9);
  if (rep) out.push(mov(ECX, n));
  if (rng.chance(0.3)) out.push(ins(def(0xfd), [0xfd])); // std
  out.push(ins(d, [...(rng.chance(0.3) ? [0x66] : []), ...(rep ? [rep] : []), d.code], false));
  if (!(rep && n === 0)) applyFlags(st, d.flags);
  st.ecxKnown &&= rep === 0;
  return out;
}

/**
 * A forward branch over one or two instructions: jcc, jmp, loop*, jecxz or call. The flags and
 * registers after it are those of either path, so what either leaves undefined is undefined.
 */
function genBranch(rng: Rng, st: SeqState): FuzzInsn[] | null {
  const kind = rng.int(6);
  let d: OpDef, short = rng.chance(0.6);
  if (kind <= 1) { const cc = rng.int(16); d = short ? def(0x70 + cc) : def(0x180 + cc); }
  else if (kind === 2) d = short ? def(0xeb) : def(0xe9);
  else if (kind === 3) { d = def(0xe0 + rng.int(4)); short = true; }
  else if (kind === 4) { d = def(0xe8); short = false; }
  else { d = def(0xe3); short = true; }
  if ((d.flags.read & st.undef) !== 0) return null;
  if (d.code >= 0xe0 && d.code <= 0xe2) st.ecxKnown = false; // loop* decrement ECX
  const taken: SeqState = { ...st, regMask: [...st.regMask] };
  const inner: FuzzInsn[] = [];
  const m = 1 + rng.int(2);
  for (let k = 0; k < m; k++) {
    for (let tries = 0; tries < 100; tries++) {
      const got = genInsn(rng, st, rng.pick(POOL), false);
      if (got) { inner.push(...got); break; }
    }
  }
  const len = inner.reduce((n, i) => n + i.bytes.length, 0);
  const op = d.code >= 0x100 ? [0x0f, d.code & 0xff] : [d.code];
  const br = ins(d, [...op, ...le(len, short ? 1 : 4)], false);
  st.undef |= taken.undef;
  st.ecxKnown &&= taken.ecxKnown && taken.cl === st.cl;
  for (let r = 0; r < 8; r++) st.regMask[r] &= taken.regMask[r];
  return [br, ...inner];
}

/** cmpxchg8b, xlat, pusha and std: each with what makes it safe here. */
function genOther(rng: Rng, st: SeqState): FuzzInsn[] {
  switch (rng.int(4)) {
    case 0: {
      const d = def(0x1c7, 1), mem = scratchOperand(rng, rng.int(SCRATCH_SIZE - 7));
      applyFlags(st, d.flags);
      return [ins(d, [...(rng.chance(0.3) ? [0xf0] : []), 0x0f, 0xc7, ...modrm({ mem, rm: -1 }, 1)], false)];
    }
    case 1: {
      const and = def(0x24);
      applyFlags(st, and.flags);
      return [ins(def(0xbb), [0xbb, ...le(SCRATCH + rng.int(64), 4)]), ins(and, [0x24, 0x3f]), ins(def(0xd7), [0xd7], false)];
    }
    case 2: return [ins(def(0x60), [...(rng.chance(0.3) ? [0x66] : []), 0x60], false)];
    default: return [ins(def(0xfd), [0xfd], false)];
  }
}

/** Table entries that are NO_FUZZ yet generated above, with guards. */
export const GUARDED: readonly OpDef[] = OPCODES.filter((d) =>
  ((d.code === 0xf6 || d.code === 0xf7) && d.ext >= 6) || /^(j|loop)/.test(d.mnem) && d.ops[0] !== 'Ev'
  || d.code === 0xe8 || d.code === 0x1c7 || d.code === 0xd7 || d.code === 0x60 || d.code === 0xfd
  || STRING_OPS.includes(d));

function genGuarded(rng: Rng, st: SeqState): FuzzInsn[] | null {
  switch (rng.int(4)) {
    case 0: return genDivide(rng, st);
    case 1: return genString(rng, st);
    case 2: return genBranch(rng, st);
    default: return genOther(rng, st);
  }
}

/** Generate case `index` from its seed. */
export function genCase(seed: number, index: number): FuzzCase {
  const rng = new Rng(seed);
  const regs = [0, 1, 2, 3, 4, 5, 6, 7].map(() => interesting32(rng));
  regs[ESP] = STACK_TOP;
  regs[EBP] = EBP_VALUE;
  // Counts for CL-driven shifts: mostly small, around the operand widths.
  if (rng.chance(0.6)) regs[ECX] = (regs[ECX] & ~0xff) | pickCount(rng, rng.pick([8, 16, 32]));
  const eflags = (rng.u32() & ARITH) | 0x2;
  const scratch = new Uint8Array(SCRATCH_SIZE);
  for (let k = 0; k < SCRATCH_SIZE; k += 4) {
    const v = rng.chance(0.15) ? 0 : interesting32(rng);
    scratch.set(le(v, 4), k);
  }
  const st: SeqState = { undef: 0, ecxKnown: true, cl: regs[ECX] & 0xff, regMask: new Array(8).fill(-1) };
  const n = 1 + rng.int(6);
  const insns: FuzzInsn[] = [];
  for (let k = 0; k < n; k++) {
    if (rng.chance(0.2)) {
      const got = genGuarded(rng, st);
      if (got) { insns.push(...got); continue; }
    }
    for (let tries = 0; tries < 100; tries++) {
      const got = genInsn(rng, st, rng.pick(POOL), k === n - 1);
      if (got) { insns.push(...got); break; }
    }
  }
  return {
    index, seed, regs, eflags, scratch, insns,
    flagMask: (ARITH & ~st.undef) | DF | 0x2, regMask: st.regMask,
  };
}

// ---- A batch: the program ------------------------------------------------------------------

export interface Batch {
  seed: number;
  cases: FuzzCase[];
  elf: Uint8Array;
  /** Code address range of each case (harness included), to map a fault to its case. */
  ranges: [number, number][];
}

class Asm {
  readonly b: number[] = [];
  u8(...xs: number[]): void { this.b.push(...xs); }
  u32(v: number): void { this.b.push(...le(v, 4)); }
  movImm(r: number, v: number): void { this.u8(0xb8 + r); this.u32(v); }
  storeReg(addr: number, r: number): void { this.u8(0x89, 0x05 | (r << 3)); this.u32(addr); }
  copy(from: number, to: number, bytes: number): void {
    this.movImm(ESI, from); this.movImm(EDI, to); this.movImm(ECX, bytes / 4);
    this.u8(0xf3, 0xa5); // rep movsd
  }
}

/** Build the program for cases with the given seeds. */
export function buildBatch(seed: number, seeds: readonly number[]): Batch {
  const cases = seeds.map((s, k) => genCase(s, k));
  const n = cases.length;
  const resultsBase = INIT_BASE + Math.ceil((n * SCRATCH_SIZE) / 4096) * 4096;
  const init = new Uint8Array(resultsBase - DATA_BASE);
  const a = new Asm();
  const ranges: [number, number][] = [];
  cases.forEach((c, k) => {
    const start = CODE_BASE + a.b.length;
    const initAt = INIT_BASE + k * SCRATCH_SIZE, rec = resultsBase + k * RECORD_SIZE;
    init.set(c.scratch, initAt - DATA_BASE);
    a.movImm(ESP, STACK_TOP);
    a.u8(0xfc); // cld
    a.copy(initAt, SCRATCH, SCRATCH_SIZE);
    a.u8(0x68); a.u32(c.eflags); a.u8(0x9d); // push imm32; popfd
    for (const r of [EAX, ECX, EDX, EBX, ESI, EDI, EBP]) a.movImm(r, c.regs[r]);
    for (const i of c.insns) a.u8(...i.bytes);
    for (let r = 0; r < 8; r++) a.storeReg(rec + 4 * r, r);
    // EFLAGS goes through the stack below the cases' stack top, where a later case only ever
    // reads what it pushed itself (unbalanced pops read the untouched slack above it).
    a.movImm(ESP, STACK_TOP - 64);
    a.u8(0x9c, 0x8f, 0x05); a.u32(rec + 32); // pushfd; pop dword [rec+32]
    a.u8(0xfc); // cld, for the copy
    a.copy(SCRATCH, rec + 36, SCRATCH_SIZE);
    ranges.push([start, CODE_BASE + a.b.length]);
  });
  a.movImm(EAX, 4); a.movImm(EBX, 1); a.movImm(ECX, resultsBase); a.movImm(EDX, n * RECORD_SIZE);
  a.u8(0xcd, 0x80); // write(1, results, size)
  a.movImm(EAX, 1); a.movImm(EBX, 0);
  a.u8(0xcd, 0x80); // exit(0)
  const elf = writeElf32(CODE_BASE, [
    { vaddr: CODE_BASE, data: Uint8Array.from(a.b), flags: 5 },
    { vaddr: DATA_BASE, data: init, memsz: init.length + n * RECORD_SIZE, flags: 6 },
  ]);
  return { seed, cases, elf, ranges };
}

/** Cases 0..count-1 of batch `seed`. */
export function buildSeededBatch(seed: number, count: number): Batch {
  return buildBatch(seed, Array.from({ length: count }, (_, k) => caseSeed(seed, k)));
}

// ---- Comparing the dumps -------------------------------------------------------------------

export interface Mismatch {
  c: FuzzCase;
  native: Uint8Array;
  emulated: Uint8Array;
}

/** Case-by-case comparison of two result dumps, with the masks of each case. */
export function compareDumps(batch: Batch, native: Uint8Array, emulated: Uint8Array): Mismatch[] {
  const bad: Mismatch[] = [];
  for (const c of batch.cases) {
    const at = c.index * RECORD_SIZE;
    const nr = native.subarray(at, at + RECORD_SIZE), er = emulated.subarray(at, at + RECORD_SIZE);
    if (diffFields(c, nr, er).length > 0) bad.push({ c, native: nr, emulated: er });
  }
  return bad;
}

const rd32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) | 0;

/** Names of the fields that differ under the masks: registers, eflags, scratch byte offsets. */
export function diffFields(c: FuzzCase, n: Uint8Array, e: Uint8Array): string[] {
  const out: string[] = [];
  for (let r = 0; r < 8; r++) if (((rd32(n, 4 * r) ^ rd32(e, 4 * r)) & c.regMask[r]) !== 0) out.push(REG_NAMES[r]);
  if (((rd32(n, 32) ^ rd32(e, 32)) & c.flagMask) !== 0) out.push('eflags');
  for (let k = 0; k < SCRATCH_SIZE; k++) if (n[36 + k] !== e[36 + k]) out.push(`scratch+${k}`);
  return out;
}

// ---- Describing a case ---------------------------------------------------------------------

export function hex2(v: number): string { return (v & 0xff).toString(16).padStart(2, '0'); }
export function hex8(v: number): string { return (v >>> 0).toString(16).padStart(8, '0'); }

const FLAG_LETTERS: [number, string][] = [[OF, 'O'], [DF, 'D'], [SF, 'S'], [ZF, 'Z'], [AF, 'A'], [PF, 'P'], [CF, 'C']];
export function flagString(f: number, mask = -1): string {
  return FLAG_LETTERS.map(([bit, l]) => ((mask & bit) === 0 ? '-' : (f & bit) !== 0 ? l : '.')).join('');
}

/** A failing case in full: sequence, initial state, both dumps with the differing fields marked. */
export function describeMismatch(m: Mismatch, disasm: (bytes: number[][]) => string[]): string {
  const { c, native: n, emulated: e } = m;
  const diff = new Set(diffFields(c, n, e));
  const lines: string[] = [];
  lines.push(`case ${c.index}, seed 0x${hex8(c.seed)} (rerun alone: FUZZ_CASE_SEED=0x${hex8(c.seed)})`);
  const dis = disasm(c.insns.map((i) => i.bytes));
  c.insns.forEach((ins, k) => {
    const b = ins.bytes.map(hex2).join(' ');
    lines.push(`  ${b.padEnd(36)} ${(dis[k] ?? '').padEnd(36)} [${entryName(ins.def)}]${ins.guard ? ' (guard)' : ''}`);
  });
  lines.push(`  ${'field'.padEnd(8)} ${'initial'.padEnd(10)} ${'native'.padEnd(10)} ${'emulated'.padEnd(10)}`);
  for (let r = 0; r < 8; r++) {
    const mark = diff.has(REG_NAMES[r]) ? '  <== differs' : c.regMask[r] !== -1 ? `  (compared bits ${hex8(c.regMask[r])})` : '';
    lines.push(`  ${REG_NAMES[r].padEnd(8)} ${hex8(c.regs[r]).padEnd(10)} ${hex8(rd32(n, 4 * r)).padEnd(10)} ${hex8(rd32(e, 4 * r)).padEnd(10)}${mark}`);
  }
  const fm = c.flagMask;
  lines.push(`  ${'eflags'.padEnd(8)} ${flagString(c.eflags).padEnd(10)} ${flagString(rd32(n, 32), fm).padEnd(10)} ${flagString(rd32(e, 32), fm).padEnd(10)}${diff.has('eflags') ? '  <== differs' : ''}  (ODSZAPC, - = undefined, not compared)`);
  for (let k = 0; k < SCRATCH_SIZE; k += 4) {
    if (![0, 1, 2, 3].some((j) => diff.has(`scratch+${k + j}`))) continue;
    lines.push(`  ${`[+${k}]`.padEnd(8)} ${hex8(rd32(c.scratch, k)).padEnd(10)} ${hex8(rd32(n, 36 + k)).padEnd(10)} ${hex8(rd32(e, 36 + k)).padEnd(10)}  <== differs (scratch dword at ebp${k - 64 < 0 ? '-' : '+'}${Math.abs(k - 64)})`);
  }
  return lines.join('\n');
}

/** Names of condition codes, re-exported for reports. */
export { CC_NAMES };
