// The decoder: prefixes, opcode, ModRM/SIB/displacement and immediates (SDM vol. 2 ch. 2),
// driven by the operand kinds of the opcode table. It fills an Insn once; the block cache
// keeps it. Simplifications: the 0x67 address-size prefix (16-bit addressing) is #UD, segment
// overrides are accepted and ignored (flat memory).

import type { Cpu } from './cpu.js';
import { UD, GP, ESP, EBP } from './arch.js';
import { Insn } from './insn.js';
import { TABLE, TABLE_F3, ENDS, STRING, type OpDef, type Operand } from './opcodes.js';
import { fastHandler } from './fast.js';
import * as H from './handlers.js';
import type { Handler } from './insn.js';

/** Longest block the cache builds, in instructions. */
export const MAX_BLOCK = 64;
const MAX_INSN_LEN = 15;

/** Byte at offset k from the instruction start, or -1 when it lies beyond the fetch window. */
export type Fetch = (k: number) => number;

const NEEDS_MODRM = new Set<Operand>(['Eb', 'Ew', 'Ed', 'Ev', 'Gb', 'Gw', 'Gv', 'M', 'Cd', 'Rd']);
const E_KINDS = new Set<Operand>(['Eb', 'Ew', 'Ed', 'Ev', 'M', 'Rd', 'Ob', 'Ov', 'Zb', 'Zv', 'Zd']);

/** Where an opcode's handler expects `Sw` via ModRM (mov Sw forms) rather than an implicit register. */
function needsModrm(d: OpDef): boolean {
  if (d.ext >= 0) return true;
  for (const o of d.ops) if (NEEDS_MODRM.has(o)) return true;
  return d.ops.includes('Sw') && (d.code === 0x8c || d.code === 0x8e);
}

function sizeOf(o: Operand, opsize: number): number {
  switch (o) {
    case 'Eb': case 'Gb': case 'Zb': case 'AL': case 'Ob': case 'Xb': case 'Yb': return 1;
    case 'Ew': case 'Gw': case 'AX': return 2;
    case 'Ed': case 'Zd': case 'Cd': case 'Rd': return 4;
    case 'Ev': case 'Gv': case 'Zv': case 'eAX': case 'Ov': case 'Xv': case 'Yv': case 'Iz': case 'Iv': return opsize;
    default: return 0;
  }
}

/**
 * Decode one instruction into `i`. Returns false if the instruction does not fit in the fetch
 * window (the caller decodes it again across the page boundary). Raises #UD / #GP through
 * the CPU for undefined encodings or overlong instructions.
 */
export function decode(c: Cpu, i: Insn, fetch: Fetch): boolean {
  let k = 0;
  let opsize = 4, rep = 0, seg = 0;
  let b: number;
  // Prefixes
  for (;;) {
    b = fetch(k);
    if (b < 0) return false;
    if (b === 0x66) opsize = 2;
    else if (b === 0xf3 || b === 0xf2) rep = b;
    else if (b === 0x2e || b === 0x36 || b === 0x3e || b === 0x26 || b === 0x64 || b === 0x65) seg = b;
    else if (b === 0xf0) { /* lock: every read-modify-write here is atomic already */ }
    else if (b === 0x67) { i.len = k + 1; return c.raise(UD); }
    else break;
    if (++k >= MAX_INSN_LEN) return c.raise(GP, 0);
  }
  k++;
  let code = b;
  if (b === 0x0f) {
    const b2 = fetch(k);
    if (b2 < 0) return false;
    code = 0x100 | b2;
    k++;
  }
  let slot = rep === 0xf3 ? TABLE_F3[code] : undefined;
  if (slot !== undefined) rep = 0;
  else slot = TABLE[code];
  if (slot === undefined) return c.raise(UD);

  let def = slot.plain;
  let modrm = -1;
  if (def === undefined || needsModrm(def)) {
    modrm = fetch(k);
    if (modrm < 0) return false;
    k++;
    if (def === undefined) {
      def = slot.group![(modrm >> 3) & 7];
      if (def === undefined) return c.raise(UD);
    }
  }

  i.def = def;
  i.h = def.exec;
  i.arg = def.arg;
  i.rep = (def.attrs & STRING) !== 0 ? rep : 0;
  i.seg = seg;
  i.mem = false;
  i.rm = 0;
  i.reg = 0;
  i.base = -1;
  i.index = -1;
  i.scale = 0;
  i.disp = 0;
  i.imm = 0;
  i.imm2 = 0;

  // ModRM, SIB and displacement
  if (modrm >= 0) {
    const mod = modrm >> 6, rm = modrm & 7;
    i.reg = (modrm >> 3) & 7;
    if (mod === 3 || def.ops[0] === 'Rd' || def.ops[1] === 'Rd') { // mov crN ignores mod
      i.rm = rm;
    } else {
      i.mem = true;
      let base = rm;
      if (rm === 4) {
        const sib = fetch(k);
        if (sib < 0) return false;
        k++;
        const idx = (sib >> 3) & 7;
        i.scale = sib >> 6;
        i.index = idx === ESP ? -1 : idx;
        base = sib & 7;
        if (base === EBP && mod === 0) { base = -1; }
      } else if (rm === EBP && mod === 0) base = -1;
      i.base = base;
      const dispLen = mod === 1 ? 1 : mod === 2 || base === -1 ? 4 : 0;
      if (dispLen > 0) {
        const v = readImm(fetch, k, dispLen, true);
        if (v === null) return false;
        i.disp = v;
        k += dispLen;
      }
    }
  }

  // Size and the operand slots that are not ModRM
  const ops = def.ops;
  let size = 0;
  for (const o of ops) { const s = sizeOf(o, opsize); if (s !== 0) { size = s; break; } }
  if (size === 0) size = opsize;
  i.size = size;
  let eTaken = false;
  for (const o of ops) if (E_KINDS.has(o)) eTaken = true;
  let immN = 0;
  for (const o of ops) {
    switch (o) {
      case 'Zb': case 'Zv': case 'Zd': i.rm = code & 7; break;
      case 'AL': case 'AX': case 'eAX':
        if (eTaken) i.reg = 0; else { i.rm = 0; eTaken = true; }
        break;
      case 'Ob': case 'Ov': {
        const v = readImm(fetch, k, 4, true);
        if (v === null) return false;
        i.mem = true; i.disp = v; k += 4;
        break;
      }
      case 'Ib': case 'Ibs': case 'Iw': case 'Iz': case 'Iv': case 'Jb': case 'Jz': {
        const n = o === 'Ib' || o === 'Ibs' || o === 'Jb' ? 1 : o === 'Iw' ? 2 : opsize;
        const v = readImm(fetch, k, n, o === 'Ibs' || o[0] === 'J' || n === 4);
        if (v === null) return false;
        k += n;
        if (immN++ === 0) i.imm = v; else i.imm2 = v;
        break;
      }
    }
  }
  if (k > MAX_INSN_LEN) return c.raise(GP, 0);
  if (ops.includes('M') && !i.mem) return c.raise(UD);
  i.len = k;
  i.ends = (def.attrs & ENDS) !== 0 || (i.rep !== 0);
  i.cost = c.costs.classes[def.cls] + (i.mem ? c.costs.memOperand : 0);
  i.refs = memRefs(i, def);
  i.h = fastHandler(i, def) ?? def.exec;
  return true;
}

function readImm(fetch: Fetch, k: number, n: number, signed: boolean): number | null {
  let v = 0;
  for (let j = 0; j < n; j++) {
    const b = fetch(k + j);
    if (b < 0) return null;
    v |= b << (8 * j);
  }
  if (n === 4) return v | 0;
  if (signed) return n === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
  return v;
}

const WRITE_ONLY = new Set<Handler>([H.movEG, H.movEI, H.setcc, H.movESw, H.popE, H.descTable]);
const READ_ONLY = new Set<Handler>([H.testEI, H.testEG, H.movGE, H.movxGE, H.lea, H.pushE, H.jmpE, H.callE,
  H.imulGE, H.imulGEI, H.cmovcc, H.bsf, H.bsr, H.tzcnt, H.lzcnt, H.mulE, H.imul1E, H.divE, H.idivE, H.invlpg]);
const STACK_REFS = new Map<Handler, number>([
  [H.pushE, 1], [H.pushI, 1], [H.popE, 1], [H.pushSreg, 1], [H.popSreg, 1], [H.pusha, 8], [H.popa, 8],
  [H.pushf, 1], [H.popf, 1], [H.callRel, 1], [H.callE, 1], [H.ret, 1], [H.leave, 1], [H.enter, 1], [H.iret, 3],
]);

/**
 * How many data references an instruction makes through the TLB, from its table entry and
 * operands: a memory operand read, written, or both (read-modify-write), plus stack traffic.
 * The TLB's hit count is these (and one fetch per decoded block) minus its misses.
 */
function memRefs(i: Insn, d: OpDef): number {
  let n = STACK_REFS.get(d.exec) ?? 0;
  if (!i.mem || d.exec === H.lea || d.exec === H.nop) return n;
  const readOnlyOp = (d.exec === H.aluEI || d.exec === H.aluEG) ? d.arg === 7 : (d.exec === H.btEG || d.exec === H.btEI) ? d.arg === 0 : false;
  if (d.exec === H.cmpxchg8b) return n + 4;
  if (WRITE_ONLY.has(d.exec) || READ_ONLY.has(d.exec) || readOnlyOp || d.exec === H.aluGE) return n + 1;
  return n + 2;
}
