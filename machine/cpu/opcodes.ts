// The opcode table: one declarative list of every instruction the CPU implements. It drives
// the decoder (operand kinds say what bytes follow), the dispatcher (each entry names its
// handler), the disassembler (mnemonic and operands, Intel syntax) and the instruction tests
// (flags each entry writes, reads and leaves undefined). Operand kinds follow the notation of
// the SDM's opcode map (vol. 2, appendix A): E = ModRM r/m, G = ModRM reg, I = immediate,
// J = relative offset, O = moffs, Z = register in the opcode's low bits; b/w/d/v/z sizes.

import type { Handler } from './insn.js';
import type { CostClass } from './costs.js';
import * as H from './handlers.js';
import { ALU_NAMES, SHIFT_NAMES } from './alu.js';
import { CF, PF, AF, ZF, SF, OF, DF, IF, ES, CS, SS, DS, FS, GS } from './arch.js';

export type Operand =
  | 'Eb' | 'Ew' | 'Ed' | 'Ev' | 'Gb' | 'Gw' | 'Gv' | 'M' | 'Sw' | 'Cd' | 'Rd'
  | 'Ib' | 'Ibs' | 'Iw' | 'Iz' | 'Iv' | 'Jb' | 'Jz' | 'Ob' | 'Ov' | 'Zb' | 'Zv' | 'Zd'
  | 'AL' | 'AX' | 'eAX' | 'CL' | 'DX' | '1' | 'Xb' | 'Xv' | 'Yb' | 'Yv';

/** Attribute bits. */
export const PRIV = 1;       // ring 0 only: #GP in ring 3
export const ENDS = 2;       // ends a decoded block (control flow or state the cache depends on)
export const STRING = 4;     // string instruction: rep/repe/repne apply
export const NO_FUZZ = 8;    // not drawn by the random-sequence tests (faults, control flow, system)
export const LOCKABLE = 16;  // accepts the lock prefix

export interface FlagUse {
  /** Flags the instruction reads. */
  read: number;
  /** Flags it writes with defined values. */
  write: number;
  /** Flags the manuals leave undefined after it. */
  undef: number;
}

export interface OpDef {
  /** Opcode byte; the two-byte map is 0x100 | second byte. */
  readonly code: number;
  /** ModRM.reg digit for group opcodes, -1 otherwise. */
  readonly ext: number;
  /** A mandatory prefix that selects this entry (0xF3 for tzcnt, lzcnt, pause), else 0. */
  readonly prefix: number;
  readonly mnem: string;
  readonly ops: readonly Operand[];
  readonly exec: Handler;
  /** Parameter passed to the handler in Insn.arg. */
  readonly arg: number;
  readonly cls: CostClass;
  readonly flags: FlagUse;
  readonly attrs: number;
  /** Count-dependent flag notes for the tests: 'shift' (OF only for count 1), 'rotate'. */
  readonly note?: 'shift' | 'rotate' | 'rcx' | 'shiftd';
}

const OSZAPC = OF | SF | ZF | AF | PF | CF;
const F = (read: number, write: number, undef = 0): FlagUse => ({ read, write, undef });
const NONE = F(0, 0);
const ARITH = F(0, OSZAPC);
const WITH_CARRY = F(CF, OSZAPC);
const LOGIC = F(0, OF | SF | ZF | PF | CF, AF);
const INCDEC = F(0, OF | SF | ZF | AF | PF);
const MUL = F(0, OF | CF, SF | ZF | AF | PF);
const DIV = F(0, 0, OSZAPC);
const SHIFT = F(0, SF | ZF | PF | CF, OF | AF);
const ROT = F(0, CF, OF);
const RCX = F(CF, CF, OF);
const BITSCAN = F(0, ZF, OF | SF | AF | PF | CF);
const BITTEST = F(0, CF, OF | SF | AF | PF);
const CNT = F(0, CF | ZF, OF | SF | AF | PF);
const CC_READS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, SF | OF | ZF, SF | OF | ZF];
export const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

export const OPCODES: OpDef[] = [];

interface More { ext?: number; prefix?: number; arg?: number; attrs?: number; flags?: FlagUse; note?: OpDef['note'] }

function op(code: number, mnem: string, ops: Operand[], exec: Handler, cls: CostClass, more: More = {}): void {
  OPCODES.push({
    code, ext: more.ext ?? -1, prefix: more.prefix ?? 0, mnem, ops, exec, arg: more.arg ?? 0, cls,
    flags: more.flags ?? NONE, attrs: more.attrs ?? 0, note: more.note,
  });
}
const X = (b: number) => 0x100 | b; // two-byte map

// ---- Group 1 ALU: add or adc sbb and sub xor cmp, six encodings each, plus 80/81/83 ----
for (let a = 0; a < 8; a++) {
  const m = ALU_NAMES[a], base = a * 8;
  const flags = a === 2 || a === 3 ? WITH_CARRY : a === 1 || a === 4 || a === 6 ? LOGIC : ARITH;
  const lock = a === 7 ? 0 : LOCKABLE;
  op(base + 0, m, ['Eb', 'Gb'], H.aluEG, 'alu', { arg: a, flags, attrs: lock });
  op(base + 1, m, ['Ev', 'Gv'], H.aluEG, 'alu', { arg: a, flags, attrs: lock });
  op(base + 2, m, ['Gb', 'Eb'], H.aluGE, 'alu', { arg: a, flags });
  op(base + 3, m, ['Gv', 'Ev'], H.aluGE, 'alu', { arg: a, flags });
  op(base + 4, m, ['AL', 'Ib'], H.aluEI, 'alu', { arg: a, flags });
  op(base + 5, m, ['eAX', 'Iz'], H.aluEI, 'alu', { arg: a, flags });
  op(0x80, m, ['Eb', 'Ib'], H.aluEI, 'alu', { ext: a, arg: a, flags, attrs: lock });
  op(0x81, m, ['Ev', 'Iz'], H.aluEI, 'alu', { ext: a, arg: a, flags, attrs: lock });
  op(0x82, m, ['Eb', 'Ib'], H.aluEI, 'alu', { ext: a, arg: a, flags, attrs: lock });
  op(0x83, m, ['Ev', 'Ibs'], H.aluEI, 'alu', { ext: a, arg: a, flags, attrs: lock });
}

// ---- Segment register push/pop (flat memory: the selectors are only stored) ----
op(0x06, 'push', ['Sw'], H.pushSreg, 'stack', { arg: ES, attrs: NO_FUZZ });
op(0x07, 'pop', ['Sw'], H.popSreg, 'stack', { arg: ES, attrs: NO_FUZZ });
op(0x0e, 'push', ['Sw'], H.pushSreg, 'stack', { arg: CS, attrs: NO_FUZZ });
op(0x16, 'push', ['Sw'], H.pushSreg, 'stack', { arg: SS, attrs: NO_FUZZ });
op(0x17, 'pop', ['Sw'], H.popSreg, 'stack', { arg: SS, attrs: NO_FUZZ | ENDS });
op(0x1e, 'push', ['Sw'], H.pushSreg, 'stack', { arg: DS, attrs: NO_FUZZ });
op(0x1f, 'pop', ['Sw'], H.popSreg, 'stack', { arg: DS, attrs: NO_FUZZ });
op(X(0xa0), 'push', ['Sw'], H.pushSreg, 'stack', { arg: FS, attrs: NO_FUZZ });
op(X(0xa1), 'pop', ['Sw'], H.popSreg, 'stack', { arg: FS, attrs: NO_FUZZ });
op(X(0xa8), 'push', ['Sw'], H.pushSreg, 'stack', { arg: GS, attrs: NO_FUZZ });
op(X(0xa9), 'pop', ['Sw'], H.popSreg, 'stack', { arg: GS, attrs: NO_FUZZ });

// ---- inc/dec/push/pop with the register in the opcode ----
for (let r = 0; r < 8; r++) {
  op(0x40 + r, 'inc', ['Zv'], H.incE, 'alu', { flags: INCDEC });
  op(0x48 + r, 'dec', ['Zv'], H.decE, 'alu', { flags: INCDEC });
  op(0x50 + r, 'push', ['Zv'], H.pushE, 'stack');
  op(0x58 + r, 'pop', ['Zv'], H.popE, 'stack');
  op(0x90 + r, r === 0 ? 'nop' : 'xchg', r === 0 ? [] : ['Zv', 'eAX'], r === 0 ? H.nop : H.xchgEG, 'mov');
  op(0xb0 + r, 'mov', ['Zb', 'Ib'], H.movEI, 'mov');
  op(0xb8 + r, 'mov', ['Zv', 'Iv'], H.movEI, 'mov');
  op(X(0xc8 + r), 'bswap', ['Zd'], H.bswapZ, 'bit');
}
op(0x90, 'pause', [], H.nop, 'alu', { prefix: 0xf3 });
op(0x60, 'pusha', [], H.pusha, 'stack', { attrs: NO_FUZZ });
op(0x61, 'popa', [], H.popa, 'stack', { attrs: NO_FUZZ });
op(0x68, 'push', ['Iz'], H.pushI, 'stack');
op(0x6a, 'push', ['Ibs'], H.pushI, 'stack');
op(0x69, 'imul', ['Gv', 'Ev', 'Iz'], H.imulGEI, 'mul', { flags: MUL });
op(0x6b, 'imul', ['Gv', 'Ev', 'Ibs'], H.imulGEI, 'mul', { flags: MUL });

// ---- Conditional jumps, setcc, cmovcc ----
for (let cc = 0; cc < 16; cc++) {
  const n = CC_NAMES[cc], reads = F(CC_READS[cc], 0);
  op(0x70 + cc, 'j' + n, ['Jb'], H.jcc, 'branch', { arg: cc, flags: reads, attrs: ENDS | NO_FUZZ });
  op(X(0x80 + cc), 'j' + n, ['Jz'], H.jcc, 'branch', { arg: cc, flags: reads, attrs: ENDS | NO_FUZZ });
  op(X(0x90 + cc), 'set' + n, ['Eb'], H.setcc, 'alu', { arg: cc, flags: reads });
  op(X(0x40 + cc), 'cmov' + n, ['Gv', 'Ev'], H.cmovcc, 'alu', { arg: cc, flags: reads });
}

// ---- Moves, test, xchg, lea ----
op(0x84, 'test', ['Eb', 'Gb'], H.testEG, 'alu', { flags: LOGIC });
op(0x85, 'test', ['Ev', 'Gv'], H.testEG, 'alu', { flags: LOGIC });
op(0xa8, 'test', ['AL', 'Ib'], H.testEI, 'alu', { flags: LOGIC });
op(0xa9, 'test', ['eAX', 'Iz'], H.testEI, 'alu', { flags: LOGIC });
op(0x86, 'xchg', ['Eb', 'Gb'], H.xchgEG, 'atomic', { attrs: LOCKABLE });
op(0x87, 'xchg', ['Ev', 'Gv'], H.xchgEG, 'atomic', { attrs: LOCKABLE });
op(0x88, 'mov', ['Eb', 'Gb'], H.movEG, 'mov');
op(0x89, 'mov', ['Ev', 'Gv'], H.movEG, 'mov');
op(0x8a, 'mov', ['Gb', 'Eb'], H.movGE, 'mov');
op(0x8b, 'mov', ['Gv', 'Ev'], H.movGE, 'mov');
op(0x8c, 'mov', ['Ew', 'Sw'], H.movESw, 'mov', { attrs: NO_FUZZ });
op(0x8d, 'lea', ['Gv', 'M'], H.lea, 'mov');
op(0x8e, 'mov', ['Sw', 'Ew'], H.movSwE, 'mov', { attrs: NO_FUZZ | ENDS });
op(0x8f, 'pop', ['Ev'], H.popE, 'stack', { ext: 0 });
op(0x98, 'cwde', [], H.cbw, 'mov');
op(0x99, 'cdq', [], H.cwd, 'mov');
op(0x9c, 'pushf', [], H.pushf, 'stack', { flags: F(OSZAPC, 0) });
op(0x9d, 'popf', [], H.popf, 'stack', { flags: F(0, OSZAPC), attrs: ENDS | NO_FUZZ });
op(0x9e, 'sahf', [], H.sahf, 'alu', { flags: F(0, SF | ZF | AF | PF | CF) });
op(0x9f, 'lahf', [], H.lahf, 'alu', { flags: F(SF | ZF | AF | PF | CF, 0) });
op(0xa0, 'mov', ['AL', 'Ob'], H.movGE, 'mov');
op(0xa1, 'mov', ['eAX', 'Ov'], H.movGE, 'mov');
op(0xa2, 'mov', ['Ob', 'AL'], H.movEG, 'mov');
op(0xa3, 'mov', ['Ov', 'eAX'], H.movEG, 'mov');
op(0xc6, 'mov', ['Eb', 'Ib'], H.movEI, 'mov', { ext: 0 });
op(0xc7, 'mov', ['Ev', 'Iz'], H.movEI, 'mov', { ext: 0 });
op(0xd7, 'xlat', [], H.xlat, 'mov', { attrs: NO_FUZZ });
op(X(0xb6), 'movzx', ['Gv', 'Eb'], H.movxGE, 'mov', { arg: 1 });
op(X(0xb7), 'movzx', ['Gv', 'Ew'], H.movxGE, 'mov', { arg: 2 });
op(X(0xbe), 'movsx', ['Gv', 'Eb'], H.movxGE, 'mov', { arg: 9 });
op(X(0xbf), 'movsx', ['Gv', 'Ew'], H.movxGE, 'mov', { arg: 10 });
op(X(0xb0), 'cmpxchg', ['Eb', 'Gb'], H.cmpxchgEG, 'atomic', { flags: ARITH, attrs: LOCKABLE });
op(X(0xb1), 'cmpxchg', ['Ev', 'Gv'], H.cmpxchgEG, 'atomic', { flags: ARITH, attrs: LOCKABLE });
op(X(0xc7), 'cmpxchg8b', ['M'], H.cmpxchg8b, 'atomic', { ext: 1, flags: F(0, ZF), attrs: LOCKABLE | NO_FUZZ });
op(X(0xc0), 'xadd', ['Eb', 'Gb'], H.xaddEG, 'atomic', { flags: ARITH, attrs: LOCKABLE });
op(X(0xc1), 'xadd', ['Ev', 'Gv'], H.xaddEG, 'atomic', { flags: ARITH, attrs: LOCKABLE });

// ---- Strings ----
const S = STRING | NO_FUZZ;
op(0xa4, 'movsb', ['Yb', 'Xb'], H.movs, 'string', { attrs: S });
op(0xa5, 'movs', ['Yv', 'Xv'], H.movs, 'string', { attrs: S });
op(0xa6, 'cmpsb', ['Xb', 'Yb'], H.cmps, 'string', { attrs: S, flags: ARITH });
op(0xa7, 'cmps', ['Xv', 'Yv'], H.cmps, 'string', { attrs: S, flags: ARITH });
op(0xaa, 'stosb', ['Yb', 'AL'], H.stos, 'string', { attrs: S });
op(0xab, 'stos', ['Yv', 'eAX'], H.stos, 'string', { attrs: S });
op(0xac, 'lodsb', ['AL', 'Xb'], H.lods, 'string', { attrs: S });
op(0xad, 'lods', ['eAX', 'Xv'], H.lods, 'string', { attrs: S });
op(0xae, 'scasb', ['AL', 'Yb'], H.scas, 'string', { attrs: S, flags: ARITH });
op(0xaf, 'scas', ['eAX', 'Yv'], H.scas, 'string', { attrs: S, flags: ARITH });

// ---- Port I/O (no port devices exist: see handlers.ts; #GP in ring 3) ----
const IO = NO_FUZZ;
op(0xe4, 'in', ['AL', 'Ib'], H.inPort, 'system', { attrs: IO });
op(0xe5, 'in', ['eAX', 'Ib'], H.inPort, 'system', { attrs: IO });
op(0xe6, 'out', ['Ib', 'AL'], H.outPort, 'system', { attrs: IO });
op(0xe7, 'out', ['Ib', 'eAX'], H.outPort, 'system', { attrs: IO });
op(0xec, 'in', ['AL', 'DX'], H.inPort, 'system', { attrs: IO });
op(0xed, 'in', ['eAX', 'DX'], H.inPort, 'system', { attrs: IO });
op(0xee, 'out', ['DX', 'AL'], H.outPort, 'system', { attrs: IO });
op(0xef, 'out', ['DX', 'eAX'], H.outPort, 'system', { attrs: IO });
op(0x6c, 'insb', ['Yb', 'DX'], H.ins, 'string', { attrs: S });
op(0x6d, 'ins', ['Yv', 'DX'], H.ins, 'string', { attrs: S });
op(0x6e, 'outsb', ['DX', 'Xb'], H.outs, 'string', { attrs: S });
op(0x6f, 'outs', ['DX', 'Xv'], H.outs, 'string', { attrs: S });

// ---- Shifts and rotates: group 2 with count 1 (D0/D1), CL (D2/D3), imm8 (C0/C1) ----
for (let s = 0; s < 8; s++) {
  const m = SHIFT_NAMES[s];
  const flags = s <= 1 ? ROT : s <= 3 ? RCX : SHIFT;
  const note = s <= 1 ? 'rotate' : s <= 3 ? 'rcx' : 'shift';
  op(0xd0, m, ['Eb', '1'], H.shiftE, 'shift', { ext: s, arg: s, flags, note });
  op(0xd1, m, ['Ev', '1'], H.shiftE, 'shift', { ext: s, arg: s, flags, note });
  op(0xd2, m, ['Eb', 'CL'], H.shiftE, 'shift', { ext: s, arg: s | 0x10, flags, note });
  op(0xd3, m, ['Ev', 'CL'], H.shiftE, 'shift', { ext: s, arg: s | 0x10, flags, note });
  op(0xc0, m, ['Eb', 'Ib'], H.shiftE, 'shift', { ext: s, arg: s | 0x20, flags, note });
  op(0xc1, m, ['Ev', 'Ib'], H.shiftE, 'shift', { ext: s, arg: s | 0x20, flags, note });
}
op(X(0xa4), 'shld', ['Ev', 'Gv', 'Ib'], H.shiftDoubleE, 'shift', { arg: 0x21, flags: SHIFT, note: 'shiftd' });
op(X(0xa5), 'shld', ['Ev', 'Gv', 'CL'], H.shiftDoubleE, 'shift', { arg: 0x11, flags: SHIFT, note: 'shiftd' });
op(X(0xac), 'shrd', ['Ev', 'Gv', 'Ib'], H.shiftDoubleE, 'shift', { arg: 0x20, flags: SHIFT, note: 'shiftd' });
op(X(0xad), 'shrd', ['Ev', 'Gv', 'CL'], H.shiftDoubleE, 'shift', { arg: 0x10, flags: SHIFT, note: 'shiftd' });

// ---- Group 3 (F6/F7) and group 4/5 (FE/FF) ----
for (const [code, E] of [[0xf6, 'Eb'], [0xf7, 'Ev']] as const) {
  const I = code === 0xf6 ? 'Ib' : 'Iz';
  op(code, 'test', [E, I], H.testEI, 'alu', { ext: 0, flags: LOGIC });
  op(code, 'test', [E, I], H.testEI, 'alu', { ext: 1, flags: LOGIC, attrs: NO_FUZZ });
  op(code, 'not', [E], H.notE, 'alu', { ext: 2, attrs: LOCKABLE });
  op(code, 'neg', [E], H.negE, 'alu', { ext: 3, flags: ARITH, attrs: LOCKABLE });
  op(code, 'mul', [E], H.mulE, 'mul', { ext: 4, flags: MUL });
  op(code, 'imul', [E], H.imul1E, 'mul', { ext: 5, flags: MUL });
  op(code, 'div', [E], H.divE, 'div', { ext: 6, flags: DIV, attrs: NO_FUZZ });
  op(code, 'idiv', [E], H.idivE, 'div', { ext: 7, flags: DIV, attrs: NO_FUZZ });
}
op(0xfe, 'inc', ['Eb'], H.incE, 'alu', { ext: 0, flags: INCDEC, attrs: LOCKABLE });
op(0xfe, 'dec', ['Eb'], H.decE, 'alu', { ext: 1, flags: INCDEC, attrs: LOCKABLE });
op(0xff, 'inc', ['Ev'], H.incE, 'alu', { ext: 0, flags: INCDEC, attrs: LOCKABLE });
op(0xff, 'dec', ['Ev'], H.decE, 'alu', { ext: 1, flags: INCDEC, attrs: LOCKABLE });
op(0xff, 'call', ['Ev'], H.callE, 'call', { ext: 2, attrs: ENDS | NO_FUZZ });
op(0xff, 'jmp', ['Ev'], H.jmpE, 'branch', { ext: 4, attrs: ENDS | NO_FUZZ });
op(0xff, 'push', ['Ev'], H.pushE, 'stack', { ext: 6 });
op(X(0xaf), 'imul', ['Gv', 'Ev'], H.imulGE, 'mul', { flags: MUL });

// ---- Bit test and scan ----
const BT = ['bt', 'bts', 'btr', 'btc'];
for (let b = 0; b < 4; b++) {
  op(X([0xa3, 0xab, 0xb3, 0xbb][b]), BT[b], ['Ev', 'Gv'], H.btEG, 'bit', { arg: b, flags: BITTEST, attrs: b ? LOCKABLE : 0 });
  op(X(0xba), BT[b], ['Ev', 'Ib'], H.btEI, 'bit', { ext: 4 + b, arg: b, flags: BITTEST, attrs: b ? LOCKABLE : 0 });
}
op(X(0xbc), 'bsf', ['Gv', 'Ev'], H.bsf, 'bit', { flags: BITSCAN });
op(X(0xbd), 'bsr', ['Gv', 'Ev'], H.bsr, 'bit', { flags: BITSCAN });
op(X(0xbc), 'tzcnt', ['Gv', 'Ev'], H.tzcnt, 'bit', { prefix: 0xf3, flags: CNT });
op(X(0xbd), 'lzcnt', ['Gv', 'Ev'], H.lzcnt, 'bit', { prefix: 0xf3, flags: CNT });

// ---- Control flow ----
const CF_ = ENDS | NO_FUZZ;
op(0xe8, 'call', ['Jz'], H.callRel, 'call', { attrs: CF_ });
op(0xe9, 'jmp', ['Jz'], H.jmpRel, 'branch', { attrs: CF_ });
op(0xeb, 'jmp', ['Jb'], H.jmpRel, 'branch', { attrs: CF_ });
op(0xc2, 'ret', ['Iw'], H.ret, 'call', { attrs: CF_ });
op(0xc3, 'ret', [], H.ret, 'call', { attrs: CF_ });
op(0xe0, 'loopne', ['Jb'], H.loop, 'branch', { arg: 0, flags: F(ZF, 0), attrs: CF_ });
op(0xe1, 'loope', ['Jb'], H.loop, 'branch', { arg: 1, flags: F(ZF, 0), attrs: CF_ });
op(0xe2, 'loop', ['Jb'], H.loop, 'branch', { arg: 2, attrs: CF_ });
op(0xe3, 'jecxz', ['Jb'], H.loop, 'branch', { arg: 3, attrs: CF_ });
op(0xc8, 'enter', ['Iw', 'Ib'], H.enter, 'stack', { attrs: NO_FUZZ });
op(0xc9, 'leave', [], H.leave, 'stack', { attrs: NO_FUZZ });

// ---- Flags ----
op(0xf5, 'cmc', [], H.flagOp, 'alu', { arg: 0, flags: F(CF, CF) });
op(0xf8, 'clc', [], H.flagOp, 'alu', { arg: 1, flags: F(0, CF) });
op(0xf9, 'stc', [], H.flagOp, 'alu', { arg: 2, flags: F(0, CF) });
op(0xfc, 'cld', [], H.flagOp, 'alu', { arg: 3, flags: F(0, DF) });
op(0xfd, 'std', [], H.flagOp, 'alu', { arg: 4, flags: F(0, DF), attrs: NO_FUZZ });
op(0xfa, 'cli', [], H.cli, 'system', { flags: F(0, IF), attrs: PRIV | NO_FUZZ });
op(0xfb, 'sti', [], H.sti, 'system', { flags: F(0, IF), attrs: PRIV | ENDS | NO_FUZZ });

// ---- System ----
const SYS = ENDS | NO_FUZZ;
op(0xcc, 'int3', [], H.int3, 'interrupt', { attrs: SYS });
op(0xcd, 'int', ['Ib'], H.intN, 'interrupt', { attrs: SYS });
op(0xcf, 'iret', [], H.iret, 'iret', { flags: F(0, OSZAPC), attrs: SYS });
op(0xf4, 'hlt', [], H.hlt, 'system', { attrs: PRIV | SYS });
op(X(0x01), 'sgdt', ['M'], H.descTable, 'system', { ext: 0, arg: 0, attrs: NO_FUZZ });
op(X(0x01), 'sidt', ['M'], H.descTable, 'system', { ext: 1, arg: 1, attrs: NO_FUZZ });
op(X(0x01), 'lgdt', ['M'], H.descTable, 'system', { ext: 2, arg: 2, attrs: PRIV | NO_FUZZ });
op(X(0x01), 'lidt', ['M'], H.descTable, 'system', { ext: 3, arg: 3, attrs: PRIV | NO_FUZZ });
op(X(0x01), 'invlpg', ['M'], H.invlpg, 'system', { ext: 7, attrs: PRIV | SYS });
op(X(0x0b), 'ud2', [], H.ud, 'system', { attrs: SYS });
for (let k = 0x18; k <= 0x1f; k++) op(X(k), 'nop', ['Ev'], H.nop, 'alu', { attrs: NO_FUZZ });
op(X(0x0d), 'nop', ['Ev'], H.nop, 'alu', { attrs: NO_FUZZ }); // prefetchw hint
op(X(0x20), 'mov', ['Rd', 'Cd'], H.movCr, 'system', { arg: 0, attrs: PRIV | NO_FUZZ });
op(X(0x22), 'mov', ['Cd', 'Rd'], H.movCr, 'system', { arg: 1, attrs: PRIV | SYS });
op(X(0x30), 'wrmsr', [], H.wrmsr, 'system', { attrs: PRIV | SYS });
op(X(0x31), 'rdtsc', [], H.rdtsc, 'system', { attrs: ENDS | NO_FUZZ });
op(X(0x32), 'rdmsr', [], H.rdmsr, 'system', { attrs: PRIV | ENDS | NO_FUZZ });
op(X(0xa2), 'cpuid', [], H.cpuid, 'system', { attrs: NO_FUZZ });
op(X(0x3f), 'native', ['Ib'], H.nativeGate, 'gate', { attrs: PRIV | SYS });

/**
 * Decoder lookup: index = code (0..0x1ff), then ModRM.reg for groups. A slot holds either one
 * entry (no ModRM.reg selection) or eight (a group), each possibly undefined (#UD).
 */
export interface OpSlot { plain?: OpDef; group?: (OpDef | undefined)[] }
export const TABLE: (OpSlot | undefined)[] = new Array(0x200).fill(undefined);
/** Entries selected by a mandatory F3 prefix. */
export const TABLE_F3: (OpSlot | undefined)[] = new Array(0x200).fill(undefined);

for (const d of OPCODES) {
  const t = d.prefix === 0xf3 ? TABLE_F3 : TABLE;
  const slot = (t[d.code] ??= {});
  if (d.ext < 0) {
    if (slot.plain || slot.group) throw new Error(`opcode table: 0x${d.code.toString(16)} defined twice`);
    slot.plain = d;
  } else {
    if (slot.plain) throw new Error(`opcode table: 0x${d.code.toString(16)} is both plain and a group`);
    slot.group ??= new Array(8).fill(undefined);
    if (slot.group[d.ext]) throw new Error(`opcode table: 0x${d.code.toString(16)} /${d.ext} defined twice`);
    slot.group[d.ext] = d;
  }
}
