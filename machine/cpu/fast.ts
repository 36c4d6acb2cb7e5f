// Specialised handlers for the hottest 32-bit forms, chosen once at decode time. Each does
// exactly what the generic handler of its table entry does for that form (the random-sequence
// tests run both paths), minus the operand-size and register-or-memory dispatch.

import type { Cpu } from './cpu.js';
import type { Insn, Handler } from './insn.js';
import type { OpDef } from './opcodes.js';
import * as H from './handlers.js';
import { R8, LZ_ADD, LZ_SUB, LZ_LOGIC, LZ_SHL, LZ_SHR, LZ_SAR } from './arch.js';
import { SH_SHL, SH_SAL, SH_SHR, SH_SAR } from './alu.js';

function addRR(c: Cpu, i: Insn): void {
  const a = c.reg[i.rm], b = c.reg[i.reg], r = (a + b) | 0;
  c.reg[i.rm] = r; c.setLazy(LZ_ADD, a, b, r, 4);
}
function subRR(c: Cpu, i: Insn): void {
  const a = c.reg[i.rm], b = c.reg[i.reg], r = (a - b) | 0;
  c.reg[i.rm] = r; c.setLazy(LZ_SUB, a, b, r, 4);
}
function cmpRR(c: Cpu, i: Insn): void {
  const a = c.reg[i.rm], b = c.reg[i.reg];
  c.setLazy(LZ_SUB, a, b, (a - b) | 0, 4);
}
function xorRR(c: Cpu, i: Insn): void {
  const r = c.reg[i.rm] ^ c.reg[i.reg];
  c.reg[i.rm] = r; c.setLazy(LZ_LOGIC, 0, 0, r, 4);
}
function andRR(c: Cpu, i: Insn): void {
  const r = c.reg[i.rm] & c.reg[i.reg];
  c.reg[i.rm] = r; c.setLazy(LZ_LOGIC, 0, 0, r, 4);
}
function orRR(c: Cpu, i: Insn): void {
  const r = c.reg[i.rm] | c.reg[i.reg];
  c.reg[i.rm] = r; c.setLazy(LZ_LOGIC, 0, 0, r, 4);
}
function testRR(c: Cpu, i: Insn): void {
  c.setLazy(LZ_LOGIC, 0, 0, c.reg[i.rm] & c.reg[i.reg], 4);
}

function addRI(c: Cpu, i: Insn): void {
  const a = c.reg[i.rm], b = i.imm, r = (a + b) | 0;
  c.reg[i.rm] = r; c.setLazy(LZ_ADD, a, b, r, 4);
}
function subRI(c: Cpu, i: Insn): void {
  const a = c.reg[i.rm], b = i.imm, r = (a - b) | 0;
  c.reg[i.rm] = r; c.setLazy(LZ_SUB, a, b, r, 4);
}
function cmpRI(c: Cpu, i: Insn): void {
  const a = c.reg[i.rm], b = i.imm;
  c.setLazy(LZ_SUB, a, b, (a - b) | 0, 4);
}
function andRI(c: Cpu, i: Insn): void {
  const r = c.reg[i.rm] & i.imm;
  c.reg[i.rm] = r; c.setLazy(LZ_LOGIC, 0, 0, r, 4);
}
function orRI(c: Cpu, i: Insn): void {
  const r = c.reg[i.rm] | i.imm;
  c.reg[i.rm] = r; c.setLazy(LZ_LOGIC, 0, 0, r, 4);
}
function xorRI(c: Cpu, i: Insn): void {
  const r = c.reg[i.rm] ^ i.imm;
  c.reg[i.rm] = r; c.setLazy(LZ_LOGIC, 0, 0, r, 4);
}

/** op r32, [mem] */
function addRM(c: Cpu, i: Insn): void {
  const a = c.reg[i.reg], b = c.rd32(c.ea(i)), r = (a + b) | 0;
  c.reg[i.reg] = r; c.setLazy(LZ_ADD, a, b, r, 4);
}
function subRM(c: Cpu, i: Insn): void {
  const a = c.reg[i.reg], b = c.rd32(c.ea(i)), r = (a - b) | 0;
  c.reg[i.reg] = r; c.setLazy(LZ_SUB, a, b, r, 4);
}
function cmpRM(c: Cpu, i: Insn): void {
  const a = c.reg[i.reg], b = c.rd32(c.ea(i));
  c.setLazy(LZ_SUB, a, b, (a - b) | 0, 4);
}
function xorRM(c: Cpu, i: Insn): void {
  const r = c.reg[i.reg] ^ c.rd32(c.ea(i));
  c.reg[i.reg] = r; c.setLazy(LZ_LOGIC, 0, 0, r, 4);
}
function andRM(c: Cpu, i: Insn): void {
  const r = c.reg[i.reg] & c.rd32(c.ea(i));
  c.reg[i.reg] = r; c.setLazy(LZ_LOGIC, 0, 0, r, 4);
}
function orRM(c: Cpu, i: Insn): void {
  const r = c.reg[i.reg] | c.rd32(c.ea(i));
  c.reg[i.reg] = r; c.setLazy(LZ_LOGIC, 0, 0, r, 4);
}

/** Shifts of a 32-bit register by a nonzero immediate count. */
function shlRI(c: Cpu, i: Insn): void {
  const a = c.reg[i.rm], n = i.imm & 31, r = a << n;
  c.reg[i.rm] = r; c.setLazy(LZ_SHL, a, n, r, 4);
}
function shrRI(c: Cpu, i: Insn): void {
  const a = c.reg[i.rm], n = i.imm & 31, r = a >>> n;
  c.reg[i.rm] = r; c.setLazy(LZ_SHR, a, n, r | 0, 4);
}
function sarRI(c: Cpu, i: Insn): void {
  const a = c.reg[i.rm], n = i.imm & 31, r = a >> n;
  c.reg[i.rm] = r; c.setLazy(LZ_SAR, a, n, r, 4);
}

function movzxRM8(c: Cpu, i: Insn): void { c.reg[i.reg] = c.rd8(c.ea(i)); }
function movzxRR8(c: Cpu, i: Insn): void { c.reg[i.reg] = c.reg8[R8[i.rm]]; }
function movsxRM8(c: Cpu, i: Insn): void { c.reg[i.reg] = (c.rd8(c.ea(i)) << 24) >> 24; }
function movzxRM16(c: Cpu, i: Insn): void { c.reg[i.reg] = c.rd16(c.ea(i)); }
function movRI(c: Cpu, i: Insn): void { c.reg[i.rm] = i.imm; }
function leaR(c: Cpu, i: Insn): void { c.reg[i.reg] = c.ea(i); }
function pushR(c: Cpu, i: Insn): void { c.push32(c.reg[i.rm]); }
function popR(c: Cpu, i: Insn): void { const v = c.pop32(); c.reg[i.rm] = v; }
function movGM(c: Cpu, i: Insn): void { c.reg[i.reg] = c.rd32(c.ea(i)); }
function movMG(c: Cpu, i: Insn): void { c.wr32(c.ea(i), c.reg[i.reg]); }
function movRR(c: Cpu, i: Insn): void { c.reg[i.rm] = c.reg[i.reg]; }
function movRRrev(c: Cpu, i: Insn): void { c.reg[i.reg] = c.reg[i.rm]; }
function movMI(c: Cpu, i: Insn): void { c.wr32(c.ea(i), i.imm); }

const RR: (Handler | null)[] = [addRR, orRR, null, null, andRR, subRR, xorRR, cmpRR];
const RI: (Handler | null)[] = [addRI, orRI, null, null, andRI, subRI, xorRI, cmpRI];
const RM: (Handler | null)[] = [addRM, orRM, null, null, andRM, subRM, xorRM, cmpRM];

/** A faster handler for this decoded instruction, or null to keep the table's. */
export function fastHandler(i: Insn, d: OpDef): Handler | null {
  if (i.size !== 4 || i.rep !== 0) return null;
  const h = d.exec, reg = !i.mem;
  if (h === H.aluEG) return reg ? RR[i.arg] : null;
  if (h === H.aluGE) return reg ? null : RM[i.arg];
  if (h === H.aluEI) return reg ? RI[i.arg] : null;
  if (h === H.testEG) return reg ? testRR : null;
  if (h === H.shiftE && reg && (i.arg >> 4) === 2 && (i.imm & 31) !== 0) {
    const s = i.arg & 7;
    return s === SH_SHL || s === SH_SAL ? shlRI : s === SH_SHR ? shrRI : s === SH_SAR ? sarRI : null;
  }
  if (h === H.movxGE) {
    if (i.arg === 1) return reg ? movzxRR8 : movzxRM8;
    if (i.arg === 9 && !reg) return movsxRM8;
    if (i.arg === 2 && !reg) return movzxRM16;
    return null;
  }
  if (h === H.movGE) return reg ? movRRrev : movGM;
  if (h === H.movEG) return reg ? movRR : movMG;
  if (h === H.movEI) return reg ? movRI : movMI;
  if (h === H.lea && !reg) return leaR;
  if (h === H.pushE && reg) return pushR;
  if (h === H.popE && reg) return popR;
  return null;
}
