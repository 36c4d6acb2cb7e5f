// Intel-syntax disassembler in the dialect of `objdump -d -M intel`, for the TUI's code view
// and the decoder tests. It decodes with the CPU's own decode(), so it shows what the CPU would
// execute, and takes mnemonics and operand kinds from the opcode table (SDM vol. 2, ch. 2).
// Only what decode() does not keep, the prefix bytes and the ModRM form, is re-read here.

import type { Cpu } from './cpu.js';
import { DEFAULT_CPU_COSTS } from './costs.js';
import { decode, type Fetch } from './decode.js';
import { Insn } from './insn.js';
import { ESP, MASK } from './arch.js';
import { STRING, type OpDef, type Operand } from './opcodes.js';

export interface Disassembled {
  text: string;
  len: number;
  bytes: number[];
}

const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const R8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const SREG = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', '?', '?'];
const PTR: Record<number, string> = { 1: 'BYTE PTR', 2: 'WORD PTR', 4: 'DWORD PTR', 8: 'QWORD PTR' };
/** Memory operand size objdump gives an `M` operand; other M operands (lea, lgdt) print no size. */
const M_SIZE: Record<string, number> = { invlpg: 1, cmpxchg8b: 8 };
const SEG_PREFIX: Record<number, string> = { 0x26: 'es', 0x2e: 'cs', 0x36: 'ss', 0x3e: 'ds', 0x64: 'fs', 0x65: 'gs' };

/** Operand kinds whose width follows the operand-size prefix: a 66 before them is consumed. */
const SIZED_BY_66 = new Set<Operand>(['Ev', 'Gv', 'Zv', 'Zd', 'eAX', 'Iz', 'Iv', 'Ov', 'Xv', 'Yv', 'Jz']);
const BYTE_KINDS = new Set<Operand>(['Eb', 'Gb', 'Zb', 'AL', 'Ob', 'Xb', 'Yb']);

/** objdump's names where they differ from the table's, or take a 'w' with the 66 prefix. */
const NAMES: Record<string, string> = { sal: 'shl', sgdt: 'sgdtd', sidt: 'sidtd', lgdt: 'lgdtd', lidt: 'lidtd' };
const NAMES_16: Record<string, string> = {
  cwde: 'cbw', cdq: 'cwd', pushf: 'pushfw', popf: 'popfw', pusha: 'pushaw', popa: 'popaw', iret: 'iretw', ret: 'retw',
  enter: 'enterw', leave: 'leavew', sgdt: 'sgdtw', sidt: 'sidtw', lgdt: 'lgdtw', lidt: 'lidtw',
};
/** Hint encodings the table runs as nop (0F 18 /0-3, 0F 0D) keep their hint names. */
const PREFETCH_18 = ['prefetchnta', 'prefetcht0', 'prefetcht1', 'prefetcht2'];
const PREFETCH_0D = ['prefetch', 'prefetchw', 'prefetchwt1'];

/** decode() reports an undefined encoding through Cpu.raise; this stand-in turns it into a throw. */
const UNDEFINED = Symbol('undefined encoding');
const decoderHost = {
  costs: DEFAULT_CPU_COSTS,
  raise(): never { throw UNDEFINED; },
} as unknown as Cpu;

const insn = new Insn();

/** Disassemble one instruction from `fetch(k)` (byte at offset k, or -1 beyond the window); address for relative targets. */
export function disasm(fetch: (k: number) => number, address: number): Disassembled {
  let ok: boolean;
  try {
    ok = decode(decoderHost, insn, fetch);
  } catch (e) {
    if (e !== UNDEFINED) throw e;
    ok = false;
  }
  if (!ok) return bad(fetch);
  const bytes: number[] = [];
  for (let k = 0; k < insn.len; k++) bytes.push(fetch(k));
  return { text: disasmText(insn, bytes, address), len: insn.len, bytes };
}

/** Disassemble a whole buffer loaded at `address`. */
export function disasmBytes(bytes: Uint8Array, address: number): Disassembled[] {
  const out: Disassembled[] = [];
  for (let at = 0; at < bytes.length;) {
    const d = disasm((k) => (at + k < bytes.length ? bytes[at + k] : -1), (address + at) >>> 0);
    out.push(d);
    at += d.len;
  }
  return out;
}

/** An undefined encoding, or one cut off by the end of the window: one byte, as objdump says it. */
function bad(fetch: Fetch): Disassembled {
  const b = fetch(0);
  return { text: '(bad)', len: 1, bytes: b < 0 ? [] : [b] };
}

/** What the prefix bytes and the ModRM byte say beyond the decoded Insn. */
interface Form {
  prefixes: number[];
  /** Operand size in bytes, 2 after a 66 prefix. */
  opsize: number;
  /** ModRM.mod of a memory operand: 1 and 2 always print a displacement, even zero. */
  mod: number;
  /** A SIB byte is present: its "no index" prints as eiz. */
  sib: boolean;
}

function readForm(i: Insn, bytes: number[]): Form {
  let k = 0;
  while (isPrefix(bytes[k])) k++;
  const prefixes = bytes.slice(0, k);
  const opsize = prefixes.includes(0x66) ? 2 : 4;
  let mod = 0, sib = false;
  const ops = i.def!.ops;
  if (i.mem && !ops.includes('Ob') && !ops.includes('Ov')) {
    const modrm = bytes[k + (bytes[k] === 0x0f ? 2 : 1)];
    mod = modrm >> 6;
    sib = (modrm & 7) === 4;
  }
  return { prefixes, opsize, mod, sib };
}

function isPrefix(b: number): boolean {
  return b === 0x66 || b === 0x67 || b === 0xf0 || b === 0xf2 || b === 0xf3 || SEG_PREFIX[b] !== undefined;
}

function disasmText(i: Insn, bytes: number[], address: number): string {
  const d = i.def!;
  const f = readForm(i, bytes);
  if (isEndbr(d, f, bytes)) return bytes[bytes.length - 1] === 0xfb ? 'endbr32' : 'endbr64';
  const segUsed = i.mem || d.ops.includes('Xb') || d.ops.includes('Xv') || d.mnem === 'xlat';
  const sized = usesOpsize(d, i);
  const shown = prefixNames(d, f, segUsed, sized);
  const seg = segUsed ? SEG_PREFIX[f.prefixes[lastSegment(f.prefixes)]] ?? '' : '';
  let text = mnemonic(d, i, f.opsize);
  const ops = operands(d, i, f, seg, address);
  if (ops.length > 0) text += ' ' + ops.join(',');
  return shown.length > 0 ? `${shown.join(' ')} ${text}` : text;
}

/** F3 0F 1E FB/FA, a hint-space nop to the CPU, is CET's branch-target marker to objdump. */
function isEndbr(d: OpDef, f: Form, bytes: number[]): boolean {
  const last = bytes[bytes.length - 1];
  return d.code === 0x11e && bytes.length === 4 && f.prefixes.length === 1 && f.prefixes[0] === 0xf3 && (last === 0xfb || last === 0xfa);
}

/** Index of the last segment override: the one that applies. */
function lastSegment(prefixes: number[]): number {
  for (let k = prefixes.length - 1; k >= 0; k--) if (SEG_PREFIX[prefixes[k]] !== undefined) return k;
  return -1;
}

/** Whether the instruction consumes a 66 prefix (its width or its name changes). */
function usesOpsize(d: OpDef, i: Insn): boolean {
  if (prefetchName(d, i) !== undefined) return false;
  if (d.ops.some((o) => SIZED_BY_66.has(o))) return true;
  if (d.code === 0x8c || d.code === 0x8e) return !i.mem;        // mov Sw: only the register form widens
  if (isNop90(d) || NAMES_16[d.mnem] !== undefined) return true;
  return d.ops.includes('Sw') || d.code === 0x6a;                // pushw es, pushw imm8
}

/**
 * The prefixes objdump prints before the mnemonic, in byte order: lock, and rep/repz/repnz, always;
 * a segment or 66 prefix only when the instruction does not consume it (the last of each kind
 * is the one that applies); the F3 that selects pause/tzcnt/lzcnt never.
 */
function prefixNames(d: OpDef, f: Form, segUsed: boolean, sized: boolean): string[] {
  const names: string[] = [];
  const lastSeg = segUsed ? lastSegment(f.prefixes) : -1;
  const last66 = sized ? f.prefixes.lastIndexOf(0x66) : -1;
  const mandatory = d.prefix !== 0 ? f.prefixes.lastIndexOf(d.prefix) : -1;
  f.prefixes.forEach((b, k) => {
    if (b === 0xf0) names.push('lock');
    else if (b === 0xf3 || b === 0xf2) { if (k !== mandatory) names.push(repName(d, b)); }
    else if (b === 0x66) { if (k !== last66) names.push('data16'); }
    else if (SEG_PREFIX[b] !== undefined && k !== lastSeg) names.push(SEG_PREFIX[b]);
  });
  return names;
}

function repName(d: OpDef, b: number): string {
  const compares = d.mnem.startsWith('cmps') || d.mnem.startsWith('scas');
  if (b === 0xf3) return (d.attrs & STRING) !== 0 && !compares ? 'rep' : 'repz';
  const bndBranch = d.cls === 'call' || (d.cls === 'branch' && d.mnem[0] === 'j' && d.mnem !== 'jecxz');
  return bndBranch ? 'bnd' : 'repnz';      // F2 on a near branch is MPX's bnd to objdump
}

function mnemonic(d: OpDef, i: Insn, opsize: number): string {
  if ((d.attrs & STRING) !== 0) return d.mnem.slice(0, 4);        // movsb -> movs: operands say the size
  const hint = prefetchName(d, i);
  if (hint !== undefined) return hint;
  if (isNop90(d) && opsize === 2) return 'xchg';                    // 66 90 is xchg ax,ax
  if (opsize === 2) {
    if (NAMES_16[d.mnem] !== undefined) return NAMES_16[d.mnem];
    if ((d.mnem === 'push' || d.mnem === 'pop') && d.ops[0] !== 'Ev' && d.ops[0] !== 'Zv') return d.mnem + 'w';
    if ((d.mnem === 'call' || d.mnem === 'jmp') && d.ops[0] === 'Jz') return d.mnem + 'w';
  }
  return NAMES[d.mnem] ?? d.mnem;
}

/** 90 without F3 (with it, pause): xchg eax,eax, which objdump shows as nop or xchg ax,ax. */
function isNop90(d: OpDef): boolean {
  return d.code === 0x90 && d.prefix === 0;
}

function prefetchName(d: OpDef, i: Insn): string | undefined {
  if (!i.mem) return undefined;
  if (d.code === 0x118) return PREFETCH_18[i.reg];
  if (d.code === 0x10d) return PREFETCH_0D[i.reg] ?? 'prefetch';
  return undefined;
}

function operands(d: OpDef, i: Insn, f: Form, seg: string, address: number): string[] {
  if (isNop90(d) && f.opsize === 2) return ['ax', 'ax'];
  if (d.mnem === 'xlat') return [`BYTE PTR ${seg || 'ds'}:[ebx]`];
  const out: string[] = [];
  let immN = 0;
  for (const o of d.ops) {
    const imm = o[0] === 'I' || o[0] === 'J' ? (immN++ === 0 ? i.imm : i.imm2) : 0;
    out.push(operand(o, d, i, f, seg, imm, address));
  }
  return out;
}

function operand(o: Operand, d: OpDef, i: Insn, f: Form, seg: string, imm: number, address: number): string {
  const v = f.opsize;
  switch (o) {
    case 'Eb': return rm(i, f, seg, 1);
    case 'Ew': return !i.mem && (d.code === 0x8c || d.code === 0x8e) ? reg(i.rm, v) : rm(i, f, seg, 2);
    case 'Ed': return rm(i, f, seg, 4);
    case 'Ev': return rm(i, f, seg, prefetchName(d, i) !== undefined ? 1 : v);   // a prefetch names a byte
    case 'M': return rm(i, f, seg, M_SIZE[d.mnem] ?? 0);
    case 'Rd': return R32[i.rm];
    case 'Cd': return `cr${i.reg}`;
    case 'Gb': return R8[i.reg];
    case 'Gw': return R16[i.reg];
    case 'Gv': return reg(i.reg, v);
    case 'Sw': return SREG[d.code === 0x8c || d.code === 0x8e ? i.reg : d.arg];
    case 'Zb': return R8[i.rm];
    case 'Zv': case 'Zd': return reg(i.rm, v);
    case 'AL': return 'al';
    case 'AX': return 'ax';
    case 'eAX': return reg(0, v);
    case 'CL': return 'cl';
    case 'DX': return 'dx';
    case '1': return '1';
    case 'Ib': return hex(imm & 0xff);
    case 'Iw': return hex(imm & 0xffff);
    case 'Ibs': case 'Iz': case 'Iv': return hex(imm & MASK[i.size]);    // sign-extended to the operand size
    case 'Jb': return hex(address + i.len + imm);
    case 'Jz': return hex((address + i.len + imm) & (v === 2 ? 0xffff : -1));   // a 16-bit jump truncates EIP
    case 'Ob': case 'Ov': return `${seg || 'ds'}:${hex(i.disp)}`;       // moffs: objdump gives no size
    case 'Xb': case 'Xv': return `${PTR[BYTE_KINDS.has(o) ? 1 : v]} ${seg || 'ds'}:[esi]`;
    case 'Yb': case 'Yv': return `${PTR[BYTE_KINDS.has(o) ? 1 : v]} es:[edi]`;
  }
}

function reg(n: number, size: number): string {
  return size === 1 ? R8[n] : size === 2 ? R16[n] : R32[n];
}

/** A ModRM operand: a register, or `SIZE PTR seg:[base+index*scale+disp]` (size 0: no PTR, as for lea). */
function rm(i: Insn, f: Form, seg: string, size: number): string {
  if (!i.mem) return reg(i.rm, size);
  const ptr = size === 0 ? '' : PTR[size] + ' ';
  if (i.base < 0 && i.index < 0 && !f.sib) return `${ptr}${seg || 'ds'}:${hex(i.disp)}`;   // disp32 alone
  const parts: string[] = [];
  if (i.base >= 0) parts.push(R32[i.base]);
  // A SIB byte with index 100 has no index; objdump names it eiz unless it is the plain [esp] form.
  if (i.index >= 0) parts.push(`${R32[i.index]}*${1 << i.scale}`);
  else if (f.sib && !(i.base === ESP && i.scale === 0)) parts.push(`eiz*${1 << i.scale}`);
  let addr = parts.join('+');
  if (f.mod !== 0 || i.base < 0) addr += i.disp < 0 ? `-${hex(-i.disp)}` : `+${hex(i.disp)}`;
  return `${ptr}${seg ? seg + ':' : ''}[${addr}]`;
}

function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}
