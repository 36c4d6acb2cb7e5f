// One i386-subset core (DESIGN section 2): registers, lazily computed EFLAGS, CPL 0/3, the
// paging MMU with a per-core TLB, IDT-based exception and interrupt delivery with x86 frames,
// and the block-cached interpreter loop. Intel SDM vol. 3A chapters 4 (paging) and 6
// (interrupts); flat memory: segment registers load but every base is 0 and limit 4 GiB.

import { PhysicalMemory, PAGE_SHIFT } from '../memory.js';
import type { MmioDevice } from '../bus.js';
import { DEFAULT_CPU_COSTS, type CpuCosts } from './costs.js';
import { Insn } from './insn.js';
import { decode, MAX_BLOCK } from './decode.js';
import {
  ESP, CS, SS, DS, ES, CF, PF, AF, ZF, SF, TF, IF, OF, NT, RF, VM, ARITH_FLAGS, FLAGS_WRITABLE,
  CR0_PE, CR0_ET, CR0_WP, CR0_PG, CR4_PSE, CR4_PGE, PTE_P, PTE_RW, PTE_US, PTE_A, PTE_D, PTE_PS,
  PTE_G, GP, NP, PF_, DF_, COUNTER_NAMES, CTR_PAGE_WALKS, CTR_PAGE_FAULTS, CTR_TLB_MISSES,
  CTR_TLB_FLUSHES, CTR_EXCEPTIONS, CTR_INTERRUPTS, CTR_TLB_LOOKUPS, CTR_RING3_TO_0, HAS_ERROR_CODE, EXCEPTION_MNEMONICS, MSR_TSC, MSR_EXO_ESP0, MSR_EXO_SS0,
  LZ_NONE, LZ_ADD, LZ_ADC, LZ_SUB, LZ_SBB, LZ_LOGIC, LZ_INC, LZ_DEC, LZ_SHL, LZ_SHR, LZ_SAR, SIGN, PARITY, R8,
} from './arch.js';

export * from './arch.js';

/** Physical address of the per-core local APIC window (xAPIC default). */
export const LOCAL_MMIO_BASE = 0xfee00000;
const LOCAL_MMIO_PAGE = LOCAL_MMIO_BASE >>> PAGE_SHIFT;

/** The value thrown to unwind an instruction that faulted; never an Error, never leaves the CPU. */
export const GUEST_FAULT: unique symbol = Symbol('guest fault');

// Host TLB entry bits: the physical page base in bits 31:12; permissions below.
const T_RS = 0x1, T_WS = 0x2, T_RU = 0x4, T_WU = 0x8, T_GLOBAL = 0x10;
/**
 * Permission bits moved up by this shift: permitted, but kept off the fast path. Pages of
 * decoded code have their write bits here (a write must drop the code first); MMIO pages have
 * all of them here (accesses go to the device).
 */
const T_SLOW_SHIFT = 6;
const T_W = T_WS | T_WU;

/** A service routine reached through the native gate `0F 3F ib` in ring 0. */
export type NativeGate = (c: Cpu) => void;

/** Something that raises maskable interrupts on this core (the local APIC). */
export interface InterruptSource {
  /** The vector to deliver now, or -1. Called only when IF is set. */
  pendingVector(): number;
  /** The core accepted `vector` (moves it from IRR to ISR). */
  acknowledge(vector: number): void;
}

export interface CpuOptions {
  id?: number;
  costs?: CpuCosts;
  tlbEntries?: number;
}

/** 'waiting': an application processor before its start IPI (INIT/SIPI-like). */
export type CpuState = 'running' | 'halted' | 'shutdown' | 'waiting';

export const CPU_STATE_VERSION = 1;

export interface TlbEntryView {
  vpn: number; ppn: number; global: boolean; user: boolean; writable: boolean;
  /** Kept off the fast path: an MMIO page, or a page holding decoded code (writes). */
  slow: boolean;
}

export interface CpuSaved {
  version: number;
  reg: number[]; sreg: number[]; eip: number; flags: number; cpl: number;
  cr0: number; cr2: number; cr3: number; cr4: number;
  idt: [number, number]; gdt: [number, number];
  msrs: [number, number, number][];
  state: CpuState; intShadow: boolean; shutdownReason: string;
  cycles: number; instructions: number;
  counters: number[];
  /** Closed cycles per class, then the open class and when it began; absent in older snapshots. */
  classCycles?: number[]; idleCycles?: number;
  tlbSlots: number[]; tlbNext: number; tlb: [number, number][];
}

/** Code classes a block can be in (Cpu.codeClass); Cpu.classCycles has one more, CLASS_DELIVERY. */
export const CODE_CLASSES = 4;
/** Cycles of interrupt and exception delivery: no code's. */
export const CLASS_DELIVERY = CODE_CLASSES;

class Block {
  insns: Insn[] = [];
  n = 0;
  /** Its code class (Cpu.codeClass), fixed when it is decoded. */
  cls = 0;
  /** cost[k]: cycles of the first k instructions; off[k]: their length in bytes; refs[k]: their TLB references (with the fetch). */
  cost: Float64Array = EMPTY_COST;
  off: Int32Array = EMPTY_OFF;
  refs: Int32Array = EMPTY_OFF;
  seal(): void {
    this.cost = new Float64Array(this.n + 1);
    this.off = new Int32Array(this.n + 1);
    this.refs = new Int32Array(this.n + 1);
    this.refs[0] = 1; // the block's instruction fetch
    for (let k = 0; k < this.n; k++) {
      this.cost[k + 1] = this.cost[k] + this.insns[k].cost;
      this.off[k + 1] = this.off[k] + this.insns[k].len;
      this.refs[k + 1] = this.refs[k] + this.insns[k].refs;
    }
  }
}
const EMPTY_COST = new Float64Array(1);
const EMPTY_OFF = new Int32Array(1);

export class Cpu {
  readonly id: number;
  readonly mem: PhysicalMemory;
  readonly costs: CpuCosts;
  readonly reg = new Int32Array(8);
  readonly reg8 = new Uint8Array(this.reg.buffer);
  readonly reg16 = new Uint16Array(this.reg.buffer);
  readonly sreg = new Uint16Array(6);

  // Hot scalar state lives in typed arrays: V8 boxes object fields holding doubles or int32
  // values outside the 31-bit small-integer range, and a store there would allocate.
  private readonly s32 = new Int32Array(9);
  private readonly f64 = new Float64Array(6);
  get eip(): number { return this.s32[0]; }
  set eip(v: number) { this.s32[0] = v; }
  /** Address of the instruction being executed: where a fault restarts. */
  get curEip(): number { return this.s32[1]; }
  set curEip(v: number) { this.s32[1] = v; }
  // EFLAGS: `flags` holds every bit not described by the lazy state (last op, operands, result).
  get flags(): number { return this.s32[2]; }
  set flags(v: number) { this.s32[2] = v; }
  get lzOp(): number { return this.s32[3]; }
  set lzOp(v: number) { this.s32[3] = v; }
  get lzA(): number { return this.s32[4]; }
  set lzA(v: number) { this.s32[4] = v; }
  get lzB(): number { return this.s32[5]; }
  set lzB(v: number) { this.s32[5] = v; }
  get lzR(): number { return this.s32[6]; }
  set lzR(v: number) { this.s32[6] = v; }
  get lzSize(): number { return this.s32[7]; }
  set lzSize(v: number) { this.s32[7] = v; }
  get lzCin(): number { return this.s32[8]; }
  set lzCin(v: number) { this.s32[8] = v; }
  /** Cycles: the time-stamp counter. */
  get cycles(): number { return this.f64[0]; }
  set cycles(v: number) { this.f64[0] = v; }
  /** Retired instructions. */
  get instructions(): number { return this.f64[1]; }
  set instructions(v: number) { this.f64[1] = v; }
  /** Cycles that passed with the core executing nothing (halted, waiting, shut down): the machine adds them. */
  get idleCycles(): number { return this.f64[2]; }
  set idleCycles(v: number) { this.f64[2] = v; }
  /** When the open class (classCycles) began. */
  private get classStart(): number { return this.f64[3]; }
  private set classStart(v: number) { this.f64[3] = v; }
  private openClass = 0;


  cpl = 0;
  cr0 = CR0_ET;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  idtBase = 0;
  idtLimit = 0x3ff;
  gdtBase = 0;
  gdtLimit = 0xffff;
  readonly msrs = new Map<number, [number, number]>();

  state: CpuState = 'running';
  /** Set by sti/mov ss: the next instruction runs before interrupts are looked at. */
  intShadow = false;
  /** Set when the current block must stop after this instruction (code written, IF changed). */
  stop = false;
  /** Why the core shut down (triple fault). */
  shutdownReason = '';

  /** The exception being raised: vector and error code (-1: none). */
  excVector = 0;
  excError = -1;
  /** Nesting of exception delivery: 1 while delivering, 2 while delivering #DF. */
  private delivering = 0;

  intr: InterruptSource | null = null;
  /** This core's own MMIO page at LOCAL_MMIO_BASE (its local APIC): each core sees its own. */
  localMmio: MmioDevice | null = null;
  /** Set by the machine to make run() return at the next block boundary. */
  yieldRequested = false;
  readonly gates: (NativeGate | undefined)[] = new Array(256).fill(undefined);
  /**
   * Called for every exception as it is raised (before its delivery, which may itself fail),
   * and for every interrupt and int n once delivered (vector, error code, soft int).
   */
  onDeliver: ((vector: number, error: number, soft: boolean) => void) | null = null;

  // Memory views (RAM is shared with the other cores and the devices).
  readonly ram8: Uint8Array;
  readonly ram32: Int32Array;

  // The MMU. `tlb` maps a virtual page number to a host entry, and holds exactly the pages
  // that the architectural TLB of `tlbSlots.length` entries holds (FIFO replacement).
  private readonly tlb = new Int32Array(1 << 20);
  readonly tlbSlots: Int32Array;
  private tlbNext = 0;
  private rBit = T_RS;
  private wBit = T_WS;
  /** Event counters, indexed by the CTR_* constants (names in COUNTER_NAMES). */
  readonly counters = new Float64Array(COUNTER_NAMES.length);
  /**
   * Where the cycles went, exact to the block: `codeClass` (software's, e.g. the kernel's map
   * of app and LibOS code) gives each block a class from its address and the CPL when it is
   * decoded (0 while unset). Cycles go to the class of the block running when they are spent,
   * whatever charges them (the block's instructions, page walks, a native gate's work); the
   * open class changes only where a block of another class starts (one compare per block)
   * and for delivering an interrupt or exception (CLASS_DELIVERY). Time with the core idle
   * is idleCycles, in no class. The class must hold for the physical block wherever it runs
   * (code is cached by physical address). classCyclesOf() reads them, the open one included.
   */
  codeClass: ((cpu: Cpu, va: number) => number) | null = null;
  private readonly classCycles = new Float64Array(CODE_CLASSES + 1);

  private readonly scratch = new Insn();
  /** Scratch for popa, so that it reads all eight values before writing any. */
  readonly popaScratch = new Int32Array(8);

  constructor(mem: PhysicalMemory, opts: CpuOptions = {}) {
    this.id = opts.id ?? 0;
    this.flags = 0x2;
    this.lzOp = LZ_NONE;
    this.lzSize = 4;
    this.mem = mem;
    this.costs = opts.costs ?? DEFAULT_CPU_COSTS;
    this.ram8 = mem.ram8;
    this.ram32 = mem.ram32;
    this.tlbSlots = new Int32Array(opts.tlbEntries ?? 64).fill(-1);
    this.sreg[CS] = 0x08;
    this.sreg[SS] = this.sreg[DS] = this.sreg[ES] = 0x10;
    this.msrs.set(MSR_EXO_ESP0, [0, 0]);
    this.msrs.set(MSR_EXO_SS0, [0x10, 0]);
    mem.codeWatchers.push((ppn) => this.protectCodePage(ppn));
  }

  // ---- Flags -------------------------------------------------------------------------------

  getCF(): number {
    const a = this.lzA >>> 0, b = this.lzB >>> 0, r = this.lzR >>> 0;
    switch (this.lzOp) {
      case LZ_ADD: return r < a ? 1 : 0;
      case LZ_ADC: return (this.lzCin ? r <= a : r < a) ? 1 : 0;
      case LZ_SUB: return a < b ? 1 : 0;
      case LZ_SBB: return (this.lzCin ? a <= b : a < b) ? 1 : 0;
      case LZ_LOGIC: return 0;
      case LZ_SHL: case LZ_SHR: case LZ_SAR: return this.shiftCF();
      default: return this.flags & CF;
    }
  }
  getZF(): boolean { return this.lzOp === LZ_NONE ? (this.flags & ZF) !== 0 : this.lzR === 0; }
  getSF(): boolean {
    return this.lzOp === LZ_NONE ? (this.flags & SF) !== 0 : (this.lzR & SIGN[this.lzSize]) !== 0;
  }
  getOF(): boolean {
    const a = this.lzA, b = this.lzB, r = this.lzR, s = SIGN[this.lzSize];
    switch (this.lzOp) {
      case LZ_ADD: case LZ_ADC: case LZ_INC: return ((a ^ r) & (b ^ r) & s) !== 0;
      case LZ_SUB: case LZ_SBB: case LZ_DEC: return ((a ^ b) & (a ^ r) & s) !== 0;
      case LZ_LOGIC: case LZ_SAR: return false;
      case LZ_SHL: return (((r & s) !== 0 ? 1 : 0) ^ this.shiftCF()) !== 0;
      case LZ_SHR: return (a & s) !== 0;
      default: return (this.flags & OF) !== 0;
    }
  }
  getPF(): boolean { return this.lzOp === LZ_NONE ? (this.flags & PF) !== 0 : PARITY[this.lzR & 0xff] !== 0; }
  getAF(): boolean {
    if (this.lzOp === LZ_NONE) return (this.flags & AF) !== 0;
    if (this.lzOp === LZ_LOGIC || this.lzOp >= LZ_SHL) return false;
    return ((this.lzA ^ this.lzB ^ this.lzR) & 0x10) !== 0;
  }

  /** CF after a lazy shift: the last bit shifted out (lzA = operand, lzB = count 1..31). */
  private shiftCF(): number {
    const a = this.lzA, n = this.lzB, bits = this.lzSize * 8;
    switch (this.lzOp) {
      case LZ_SHL: return n <= bits ? (a >>> (bits - n)) & 1 : 0;
      case LZ_SHR: return n <= bits ? (a >>> (n - 1)) & 1 : 0;
      default: { // SAR
        const sa = (a << (32 - bits)) >> (32 - bits);
        return n < bits ? (sa >> (n - 1)) & 1 : (sa >>> 31) & 1;
      }
    }
  }

  /** The full EFLAGS value. */
  getFlags(): number {
    if (this.lzOp === LZ_NONE) return this.flags;
    let f = this.flags & ~ARITH_FLAGS;
    f |= this.getCF();
    if (this.getPF()) f |= PF;
    if (this.getAF()) f |= AF;
    if (this.getZF()) f |= ZF;
    if (this.getSF()) f |= SF;
    if (this.getOF()) f |= OF;
    return f;
  }

  /** Fold the lazy state into `flags`, so that single flags can be updated in place. */
  materialize(): void {
    if (this.lzOp !== LZ_NONE) {
      this.flags = this.getFlags();
      this.lzOp = LZ_NONE;
    }
  }

  /** Set EFLAGS bits in `mask` from `value`; the reserved bits keep their fixed values. */
  setFlags(value: number, mask: number): void {
    this.materialize();
    mask &= FLAGS_WRITABLE;
    this.flags = (this.flags & ~mask) | (value & mask) | 0x2;
  }

  setLazy(op: number, a: number, b: number, r: number, size: number): void {
    this.lzOp = op; this.lzA = a; this.lzB = b; this.lzR = r; this.lzSize = size;
  }

  /** Evaluate condition code cc (0..15: o no b ae e ne be a s ns p np l ge le g). */
  cond(cc: number): boolean {
    const op = this.lzOp;
    if (op === LZ_SUB) {
      // Straight from the operands of the last cmp/sub: the common case before a jcc.
      const a = this.lzA, b = this.lzB, sh = 32 - 8 * this.lzSize;
      let t: boolean;
      switch (cc >> 1) {
        case 1: t = (a >>> 0) < (b >>> 0); break;
        case 2: t = this.lzR === 0; break;
        case 3: t = (a >>> 0) <= (b >>> 0); break;
        case 6: t = (a << sh) >> sh < (b << sh) >> sh; break;
        case 7: t = (a << sh) >> sh <= (b << sh) >> sh; break;
        default: return this.condSlow(cc);
      }
      return (cc & 1) === 0 ? t : !t;
    }
    return this.condSlow(cc);
  }

  private condSlow(cc: number): boolean {
    let t: boolean;
    switch (cc >> 1) {
      case 0: t = this.getOF(); break;
      case 1: t = this.getCF() !== 0; break;
      case 2: t = this.getZF(); break;
      case 3: t = this.getCF() !== 0 || this.getZF(); break;
      case 4: t = this.getSF(); break;
      case 5: t = this.getPF(); break;
      case 6: t = this.getSF() !== this.getOF(); break;
      default: t = this.getZF() || this.getSF() !== this.getOF(); break;
    }
    return (cc & 1) === 0 ? t : !t;
  }

  // ---- Registers ---------------------------------------------------------------------------

  getReg8(n: number): number { return this.reg8[R8[n]]; }
  setReg8(n: number, v: number): void { this.reg8[R8[n]] = v; }

  /** Effective address of a memory operand. */
  ea(i: Insn): number {
    let a = i.disp;
    if (i.base >= 0) a += this.reg[i.base];
    if (i.index >= 0) a += this.reg[i.index] << i.scale;
    return a | 0;
  }

  readE(i: Insn): number {
    if (i.mem) {
      const a = this.ea(i);
      return i.size === 4 ? this.rd32(a) : i.size === 1 ? this.rd8(a) : this.rd16(a);
    }
    return i.size === 4 ? this.reg[i.rm] : i.size === 1 ? this.reg8[R8[i.rm]] : this.reg16[i.rm << 1];
  }
  writeE(i: Insn, v: number): void {
    if (i.mem) {
      const a = this.ea(i);
      if (i.size === 4) this.wr32(a, v); else if (i.size === 1) this.wr8(a, v); else this.wr16(a, v);
    } else if (i.size === 4) this.reg[i.rm] = v;
    else if (i.size === 1) this.reg8[R8[i.rm]] = v;
    else this.reg16[i.rm << 1] = v;
  }
  readG(i: Insn): number {
    return i.size === 4 ? this.reg[i.reg] : i.size === 1 ? this.reg8[R8[i.reg]] : this.reg16[i.reg << 1];
  }
  writeG(i: Insn, v: number): void {
    if (i.size === 4) this.reg[i.reg] = v;
    else if (i.size === 1) this.reg8[R8[i.reg]] = v;
    else this.reg16[i.reg << 1] = v;
  }

  push32(v: number): void {
    const sp = (this.reg[ESP] - 4) | 0;
    this.wr32(sp, v);
    this.reg[ESP] = sp;
  }
  pop32(): number {
    const v = this.rd32(this.reg[ESP]);
    this.reg[ESP] = (this.reg[ESP] + 4) | 0;
    return v;
  }
  push16(v: number): void {
    const sp = (this.reg[ESP] - 2) | 0;
    this.wr16(sp, v);
    this.reg[ESP] = sp;
  }
  pop16(): number {
    const v = this.rd16(this.reg[ESP]);
    this.reg[ESP] = (this.reg[ESP] + 2) | 0;
    return v;
  }

  // ---- Virtual memory ----------------------------------------------------------------------

  rd8(va: number): number {
    const e = this.tlb[va >>> PAGE_SHIFT];
    if ((e & this.rBit) !== 0) return this.ram8[(e & -4096) | (va & 4095)];
    return this.pread(this.translate(va, false), 1);
  }
  rd16(va: number): number {
    const e = this.tlb[va >>> PAGE_SHIFT];
    if ((e & this.rBit) !== 0 && (va & 4095) !== 4095) {
      const pa = (e & -4096) | (va & 4095);
      return this.ram8[pa] | (this.ram8[pa + 1] << 8);
    }
    if ((va & 4095) !== 4095) return this.pread(this.translate(va, false), 2);
    return this.rd8(va) | (this.rd8(va + 1) << 8);
  }
  rd32(va: number): number {
    const e = this.tlb[va >>> PAGE_SHIFT];
    if ((e & this.rBit) !== 0) {
      const pa = (e & -4096) | (va & 4095);
      if ((pa & 3) === 0) return this.ram32[pa >>> 2];
      if ((va & 4095) <= 4092) {
        const m = this.ram8;
        return m[pa] | (m[pa + 1] << 8) | (m[pa + 2] << 16) | (m[pa + 3] << 24);
      }
    }
    return this.rd32Slow(va);
  }
  private rd32Slow(va: number): number {
    if ((va & 4095) <= 4092) return this.pread(this.translate(va, false), 4);
    return this.rd16(va) | (this.rd16(va + 2) << 16);
  }

  wr8(va: number, v: number): void {
    const e = this.tlb[va >>> PAGE_SHIFT];
    if ((e & this.wBit) !== 0) { this.ram8[(e & -4096) | (va & 4095)] = v; return; }
    this.pwrite(this.translate(va, true), 1, v);
    this.afterSlowWrite();
  }
  wr16(va: number, v: number): void {
    const e = this.tlb[va >>> PAGE_SHIFT];
    if ((e & this.wBit) !== 0 && (va & 4095) !== 4095) {
      const pa = (e & -4096) | (va & 4095);
      this.ram8[pa] = v; this.ram8[pa + 1] = v >> 8;
      return;
    }
    if ((va & 4095) === 4095) {
      // Both pages must be writable before either byte changes.
      const p0 = this.translate(va, true), p1 = this.translate(va + 1, true);
      this.mem.write8(p0, v); this.mem.write8(p1, v >> 8);
    } else this.pwrite(this.translate(va, true), 2, v);
    this.afterSlowWrite();
  }
  wr32(va: number, v: number): void {
    const e = this.tlb[va >>> PAGE_SHIFT];
    if ((e & this.wBit) !== 0 && (va & 4095) <= 4092) {
      const pa = (e & -4096) | (va & 4095);
      if ((pa & 3) === 0) { this.ram32[pa >>> 2] = v; return; }
      const m = this.ram8;
      m[pa] = v; m[pa + 1] = v >> 8; m[pa + 2] = v >> 16; m[pa + 3] = v >> 24;
      return;
    }
    this.wr32Slow(va, v);
  }
  private wr32Slow(va: number, v: number): void {
    if ((va & 4095) <= 4092) {
      this.pwrite(this.translate(va, true), 4, v);
    } else {
      const n0 = 4096 - (va & 4095);
      const p0 = this.translate(va, true), p1 = this.translate((va + n0) | 0, true);
      for (let k = 0; k < 4; k++) this.mem.write8(k < n0 ? p0 + k : p1 + k - n0, v >> (8 * k));
    }
    this.afterSlowWrite();
  }
  /** Physical read for the slow paths: this core's local APIC page first, then memory and bus. */
  private pread(pa: number, size: number): number {
    if (pa >>> PAGE_SHIFT === LOCAL_MMIO_PAGE && this.localMmio !== null) return this.localMmio.mmioRead(pa & 4095, size);
    return size === 4 ? this.mem.read32(pa) : size === 2 ? this.mem.read16(pa) : this.mem.read8(pa);
  }
  private pwrite(pa: number, size: number, v: number): void {
    if (pa >>> PAGE_SHIFT === LOCAL_MMIO_PAGE && this.localMmio !== null) { this.localMmio.mmioWrite(pa & 4095, size, v); return; }
    if (size === 4) this.mem.write32(pa, v); else if (size === 2) this.mem.write16(pa, v); else this.mem.write8(pa, v);
  }

  /** A slow-path write may have hit decoded code or a device register: end the block. */
  private afterSlowWrite(): void { this.stop = true; }

  /** Read for the kernel and debuggers: a virtual byte, or -1 where it is not mapped. */
  peek8(va: number): number {
    const pa = this.probe(va);
    return pa < 0 ? -1 : this.mem.read8(pa);
  }

  /**
   * Translate a virtual address for an access at the current CPL, filling the TLB; raises #PF.
   * Returns the physical address (unsigned).
   */
  translate(va: number, write: boolean): number {
    va |= 0;
    const vpn = va >>> PAGE_SHIFT;
    const e = this.tlb[vpn];
    const user = this.cpl === 3;
    const need = write ? this.wBit : this.rBit;
    if ((e & need) !== 0) return ((e & -4096) | (va & 4095)) >>> 0;
    if ((e & (need << T_SLOW_SHIFT)) !== 0) {
      const ppn = e >>> PAGE_SHIFT;
      if (write && ppn < this.mem.code.length) {
        // A writable RAM page that holds (or held) decoded code: drop the code, then it is
        // plain RAM again and writes take the fast path.
        this.mem.invalidateCode(ppn);
        this.tlb[vpn] = (e & ~(T_W << T_SLOW_SHIFT)) | ((e >>> T_SLOW_SHIFT) & T_W);
      }
      return ((e & -4096) | (va & 4095)) >>> 0;
    }
    let pa: number, perms: number, global = 0;
    if ((this.cr0 & CR0_PG) === 0) {
      pa = va >>> 0;
      perms = T_RS | T_WS | T_RU | T_WU;
    } else {
      this.counters[CTR_PAGE_WALKS]++;
      const r = this.walk(va, write, user);
      pa = r;
      perms = this.walkPerms;
      global = this.walkGlobal;
    }
    const ppn = pa >>> PAGE_SHIFT;
    // MMIO pages and pages of decoded code stay out of the fast path for writes (and MMIO for
    // reads), so that the slow path can route or invalidate.
    if (!this.mem.isRam(pa)) perms <<= T_SLOW_SHIFT;
    else if (this.mem.code[ppn] !== undefined) perms = (perms & ~T_W) | ((perms & T_W) << T_SLOW_SHIFT);
    this.tlbFill(vpn, (ppn << PAGE_SHIFT) | perms | global);
    return ((ppn << PAGE_SHIFT) | (va & 4095)) >>> 0;
  }

  /** Translate without side effects (no A/D update, no TLB fill, no fault): -1 if unmapped. */
  probe(va: number): number {
    if ((this.cr0 & CR0_PG) === 0) return va >>> 0;
    const pde = this.mem.read32((this.cr3 & -4096) + ((va >>> 22) << 2));
    if ((pde & PTE_P) === 0) return -1;
    if ((pde & PTE_PS) !== 0 && (this.cr4 & CR4_PSE) !== 0) return ((pde & 0xffc00000) | (va & 0x3fffff)) >>> 0;
    const pte = this.mem.read32((pde & -4096) + (((va >>> 12) & 0x3ff) << 2));
    if ((pte & PTE_P) === 0) return -1;
    return ((pte & -4096) | (va & 4095)) >>> 0;
  }

  private walkPerms = 0;
  private walkGlobal = 0;

  /** The two-level page walk (SDM 4.3). Sets A (and D on a write); raises #PF. */
  private walk(va: number, write: boolean, user: boolean): number {
    const mem = this.mem;
    const pdeAddr = (this.cr3 & -4096) + ((va >>> 22) << 2);
    let pde = mem.read32(pdeAddr);
    this.cycles += this.costs.walkLevel;
    const errBase = (write ? 2 : 0) | (user ? 4 : 0);
    if ((pde & PTE_P) === 0) this.pageFault(va, errBase);
    const wp = (this.cr0 & CR0_WP) !== 0;
    if ((pde & PTE_PS) !== 0 && (this.cr4 & CR4_PSE) !== 0) {
      this.checkAccess(va, pde, write, user, wp, errBase);
      const upd = pde | PTE_A | (write ? PTE_D : 0);
      if (upd !== pde) mem.write32(pdeAddr, upd);
      this.setWalkPerms(upd, upd);
      return ((pde & 0xffc00000) | (va & 0x3ff000)) >>> 0;
    }
    const pteAddr = (pde & -4096) + (((va >>> 12) & 0x3ff) << 2);
    let pte = mem.read32(pteAddr);
    this.cycles += this.costs.walkLevel;
    if ((pte & PTE_P) === 0) this.pageFault(va, errBase);
    const both = pde & pte;
    this.checkAccess(va, both | (pte & PTE_P), write, user, wp, errBase);
    if ((pde & PTE_A) === 0) { pde |= PTE_A; mem.write32(pdeAddr, pde); }
    const upd = pte | PTE_A | (write ? PTE_D : 0);
    if (upd !== pte) { mem.write32(pteAddr, upd); pte = upd; }
    this.setWalkPerms(pde & pte, pte);
    return (pte & -4096) >>> 0;
  }

  private checkAccess(va: number, e: number, write: boolean, user: boolean, wp: boolean, err: number): void {
    if (user && (e & PTE_US) === 0) this.pageFault(va, err | 1);
    if (write && (e & PTE_RW) === 0 && (user || wp)) this.pageFault(va, err | 1);
  }

  private setWalkPerms(both: number, leaf: number): void {
    const dirty = (leaf & PTE_D) !== 0;
    const wp = (this.cr0 & CR0_WP) !== 0;
    let p = T_RS;
    if (dirty && ((both & PTE_RW) !== 0 || !wp)) p |= T_WS;
    if ((both & PTE_US) !== 0) {
      p |= T_RU;
      if (dirty && (both & PTE_RW) !== 0) p |= T_WU;
    }
    this.walkPerms = p;
    this.walkGlobal = (leaf & PTE_G) !== 0 && (this.cr4 & CR4_PGE) !== 0 ? T_GLOBAL : 0;
  }

  private pageFault(va: number, err: number): never {
    this.cr2 = va | 0;
    this.counters[CTR_PAGE_FAULTS]++;
    return this.raise(PF_, err);
  }

  private tlbFill(vpn: number, entry: number): void {
    if (this.tlb[vpn] !== 0) { this.tlb[vpn] = entry; return; }
    if ((this.cr0 & CR0_PG) !== 0) this.counters[CTR_TLB_MISSES]++;
    const slots = this.tlbSlots;
    const old = slots[this.tlbNext];
    if (old >= 0) this.tlb[old] = 0;
    slots[this.tlbNext] = vpn;
    this.tlb[vpn] = entry;
    this.tlbNext = this.tlbNext + 1 === slots.length ? 0 : this.tlbNext + 1;
  }

  /** Drop TLB entries: all of them, or all but global ones (a CR3 write). */
  tlbFlush(keepGlobal: boolean): void {
    this.counters[CTR_TLB_FLUSHES]++;
    const slots = this.tlbSlots;
    for (let k = 0; k < slots.length; k++) {
      const vpn = slots[k];
      if (vpn < 0) continue;
      if (keepGlobal && (this.tlb[vpn] & T_GLOBAL) !== 0) continue;
      this.tlb[vpn] = 0;
      slots[k] = -1;
    }
  }

  /** INVLPG: drop one page's entry, global or not. */
  tlbInvalidate(va: number): void {
    const vpn = va >>> PAGE_SHIFT;
    if (this.tlb[vpn] === 0) return;
    this.tlb[vpn] = 0;
    const k = this.tlbSlots.indexOf(vpn);
    if (k >= 0) this.tlbSlots[k] = -1;
  }

  /** A physical page now holds decoded code: writes to it must take the slow path. */
  private protectCodePage(ppn: number): void {
    const slots = this.tlbSlots;
    for (let k = 0; k < slots.length; k++) {
      const vpn = slots[k];
      const e = this.tlb[vpn];
      if (vpn >= 0 && e >>> PAGE_SHIFT === ppn) this.tlb[vpn] = (e & ~T_W) | ((e & T_W) << T_SLOW_SHIFT);
    }
  }


  setCpl(cpl: number): void {
    this.cpl = cpl;
    this.rBit = cpl === 3 ? T_RU : T_RS;
    this.wBit = cpl === 3 ? T_WU : T_WS;
  }

  writeCr0(v: number): void {
    if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) this.raise(GP, 0);
    this.cr0 = v | CR0_ET;
    this.tlbFlush(false);
    this.stop = true;
  }
  writeCr3(v: number): void {
    this.cr3 = v;
    this.tlbFlush(true);
    this.stop = true;
  }
  writeCr4(v: number): void {
    // Only PSE and PGE exist here; setting any other bit (PAE, say) is refused as x86 refuses
    // reserved bits, rather than silently running without the feature.
    if ((v & ~(CR4_PSE | CR4_PGE)) !== 0) this.raise(GP, 0);
    this.cr4 = v;
    this.tlbFlush(false);
    this.stop = true;
  }

  /** The TLB's entries, oldest first: virtual page, physical page, permissions. */
  tlbEntries(): TlbEntryView[] {
    const out: TlbEntryView[] = [];
    const n = this.tlbSlots.length;
    for (let j = 0; j < n; j++) {
      const vpn = this.tlbSlots[(this.tlbNext + j) % n];
      if (vpn < 0) continue;
      const e = this.tlb[vpn], p = (e | (e >>> T_SLOW_SHIFT)) & 0xf;
      out.push({
        vpn, ppn: e >>> PAGE_SHIFT, global: (e & T_GLOBAL) !== 0,
        user: (p & T_RU) !== 0, writable: (p & (T_WS | T_WU)) !== 0, slow: (e & (0xf << T_SLOW_SHIFT)) !== 0,
      });
    }
    return out;
  }

  /** The counters by name, with TLB hits derived (references made with paging on, less misses). */
  counterValues(): Record<string, number> {
    const out: Record<string, number> = {};
    COUNTER_NAMES.forEach((n, k) => { out[n] = this.counters[k]; });
    out.tlbHits = Math.max(0, this.counters[CTR_TLB_LOOKUPS] - this.counters[CTR_TLB_MISSES]);
    return out;
  }

  // ---- Snapshots ---------------------------------------------------------------------------

  /**
   * Everything architectural plus what shapes future timing (the TLB's contents and order);
   * the decoded-code cache is derived and rebuilt on demand.
   */
  saveState(): CpuSaved {
    const tlb: [number, number][] = [];
    for (const vpn of this.tlbSlots) if (vpn >= 0) tlb.push([vpn, this.tlb[vpn]]);
    return {
      version: CPU_STATE_VERSION,
      reg: Array.from(this.reg), sreg: Array.from(this.sreg), eip: this.eip, flags: this.getFlags(),
      cpl: this.cpl, cr0: this.cr0, cr2: this.cr2, cr3: this.cr3, cr4: this.cr4,
      idt: [this.idtBase, this.idtLimit], gdt: [this.gdtBase, this.gdtLimit],
      msrs: [...this.msrs.entries()].map(([k, v]) => [k, v[0], v[1]]),
      state: this.state, intShadow: this.intShadow, shutdownReason: this.shutdownReason,
      cycles: this.cycles, instructions: this.instructions, counters: Array.from(this.counters),
      classCycles: [...Array.from(this.classCycles), this.openClass, this.classStart], idleCycles: this.idleCycles,
      tlbSlots: Array.from(this.tlbSlots), tlbNext: this.tlbNext, tlb,
    };
  }

  loadState(s: CpuSaved): void {
    if (s.version !== CPU_STATE_VERSION) throw new Error(`CPU state version ${s.version}, expected ${CPU_STATE_VERSION}`);
    this.reg.set(s.reg);
    this.sreg.set(s.sreg);
    this.eip = s.eip;
    this.lzOp = LZ_NONE;
    this.flags = s.flags;
    this.setCpl(s.cpl);
    this.cr0 = s.cr0; this.cr2 = s.cr2; this.cr3 = s.cr3; this.cr4 = s.cr4;
    [this.idtBase, this.idtLimit] = s.idt;
    [this.gdtBase, this.gdtLimit] = s.gdt;
    this.msrs.clear();
    for (const [k, lo, hi] of s.msrs) this.msrs.set(k, [lo, hi]);
    this.state = s.state;
    this.intShadow = s.intShadow;
    this.shutdownReason = s.shutdownReason;
    this.cycles = s.cycles;
    this.instructions = s.instructions;
    this.counters.set(s.counters);
    const cc = s.classCycles ?? [];
    this.classCycles.fill(0);
    this.classCycles.set(cc.slice(0, CODE_CLASSES + 1));
    this.openClass = cc[CODE_CLASSES + 1] ?? 0;
    this.classStart = cc[CODE_CLASSES + 2] ?? s.cycles;
    this.idleCycles = s.idleCycles ?? 0;
    for (const vpn of this.tlbSlots) if (vpn >= 0) this.tlb[vpn] = 0;
    this.tlbSlots.set(s.tlbSlots);
    this.tlbNext = s.tlbNext;
    for (const [vpn, e] of s.tlb) this.tlb[vpn] = e;
  }

  // ---- MSRs --------------------------------------------------------------------------------

  readMsr(n: number): [number, number] {
    n >>>= 0;
    if (n === MSR_TSC) return [this.cycles % 0x100000000 | 0, Math.floor(this.cycles / 0x100000000) | 0];
    const v = this.msrs.get(n);
    if (v === undefined) return this.raise(GP, 0);
    return v;
  }
  writeMsr(n: number, lo: number, hi: number): void {
    n >>>= 0;
    if (n === MSR_TSC) {   // moving the clock is no class's time
      const t = (hi >>> 0) * 0x100000000 + (lo >>> 0);
      this.classStart += t - this.cycles;
      this.cycles = t;
      return;
    }
    if (!this.msrs.has(n)) this.raise(GP, 0);
    this.msrs.set(n, [lo | 0, hi | 0]);
  }

  // ---- Exceptions and interrupts -------------------------------------------------------------

  /** Raise exception `vector` from the current instruction. Unwinds to the run loop. */
  raise(vector: number, error = -1): never {
    this.excVector = vector;
    this.excError = error;
    throw GUEST_FAULT;
  }

  /**
   * Enter the handler for `vector` through the IDT (SDM 6.12): a privilege change to ring 0
   * switches to the stack in MSR_EXO_ESP0; pushes [SS, ESP,] EFLAGS, CS, EIP [, error code].
   * `soft` is int n / int3: the gate's DPL must admit the CPL.
   */
  interrupt(vector: number, retEip: number, error: number, soft: boolean): void {
    const off = vector << 3;
    if (off + 7 > this.idtLimit) this.raise(GP, off + 2);
    const gateAddr = (this.idtBase + off) | 0;
    const saved = this.cpl;
    this.setCpl(0); // descriptor-table reads are supervisor accesses
    let lo: number, hi: number;
    try {
      lo = this.rd32(gateAddr);
      hi = this.rd32((gateAddr + 4) | 0);
    } finally {
      this.setCpl(saved);
    }
    const type = (hi >>> 8) & 0x1f, dpl = (hi >>> 13) & 3;
    if (type !== 0x0e && type !== 0x0f) this.raise(GP, off + 2);
    if (soft && dpl < this.cpl) this.raise(GP, off + 2);
    if ((hi & 0x8000) === 0) this.raise(NP, off + 2);
    const sel = lo >>> 16;
    const target = (hi & 0xffff0000) | (lo & 0xffff);
    const newCpl = sel & 3;
    if (newCpl > this.cpl) this.raise(GP, sel & 0xfffc);
    const eflags = this.getFlags();
    const oldEsp = this.reg[ESP], oldSs = this.sreg[SS], oldCs = this.sreg[CS];
    const oldCpl = this.cpl;
    this.setCpl(newCpl);
    try {
      if (newCpl < oldCpl) {
        const esp0 = this.msrs.get(MSR_EXO_ESP0)?.[0] ?? 0;
        const ss0 = this.msrs.get(MSR_EXO_SS0)?.[0] ?? 0x10;
        this.reg[ESP] = esp0;
        this.push32(oldSs);
        this.push32(oldEsp);
        this.sreg[SS] = ss0;
      }
      this.push32(eflags);
      this.push32(oldCs);
      this.push32(retEip);
      if (error >= 0) this.push32(error);
    } catch (e) {
      this.setCpl(oldCpl);
      this.reg[ESP] = oldEsp;
      this.sreg[SS] = oldSs;
      throw e;
    }
    if (oldCpl === 3) this.counters[CTR_RING3_TO_0]++; // the frame is pushed: the crossing happened
    this.sreg[CS] = sel;
    this.flags = eflags & ~(TF | NT | RF | VM | (type === 0x0e ? IF : 0));
    this.lzOp = LZ_NONE;
    this.eip = target;
    this.stop = true;
    if (soft || vector >= 32) this.onDeliver?.(vector, error, soft);
  }

  /** Deliver the exception recorded by raise(); escalates to #DF and to shutdown. */
  private deliverException(): void {
    const vector = this.excVector;
    const error = HAS_ERROR_CODE(vector) ? (this.excError < 0 ? 0 : this.excError) : -1;
    this.counters[CTR_EXCEPTIONS]++;
    this.eip = this.curEip;
    this.onDeliver?.(vector, error, false);
    if (this.openClass !== CLASS_DELIVERY) this.classSwitch(CLASS_DELIVERY);
    this.cycles += this.costs.classes.interrupt;
    if (this.delivering >= 2) {
      this.shutdown(`triple fault (${EXCEPTION_MNEMONICS[vector] ?? vector} while delivering #DF)`);
      return;
    }
    this.delivering++;
    try {
      this.interrupt(vector, this.curEip, error, false);
    } catch (e) {
      if (e !== GUEST_FAULT) throw e;
      if (this.delivering >= 2) {
        this.shutdown(`triple fault (${EXCEPTION_MNEMONICS[this.excVector] ?? this.excVector} while delivering #DF)`);
        return;
      }
      this.excVector = DF_;
      this.excError = 0;
      this.deliverException();
    } finally {
      this.delivering = 0;
    }
  }

  shutdown(reason: string): void {
    this.state = 'shutdown';
    this.shutdownReason = reason;
  }

  /** Take a pending maskable interrupt, if IF allows. Returns true if one was delivered. */
  private pollInterrupt(): boolean {
    if ((this.flags & IF) === 0 || this.intr === null) return false;
    const v = this.intr.pendingVector();
    if (v < 0) return false;
    this.intr.acknowledge(v);
    this.counters[CTR_INTERRUPTS]++;
    this.state = 'running';
    this.curEip = this.eip;
    if (this.openClass !== CLASS_DELIVERY) this.classSwitch(CLASS_DELIVERY);
    this.cycles += this.costs.classes.interrupt;
    try {
      this.interrupt(v, this.eip, -1, false);
    } catch (e) {
      if (e !== GUEST_FAULT) throw e;
      this.deliverException();
    }
    return true;
  }

  // ---- The interpreter loop ----------------------------------------------------------------

  /**
   * Run until `cycleLimit` (absolute TSC value), the instruction count reaches `insnLimit`,
   * or the core halts or shuts down. Returns the state.
   */
  run(cycleLimit: number, insnLimit = Number.MAX_SAFE_INTEGER): CpuState {
    this.yieldRequested = false;
    while (this.cycles < cycleLimit && this.instructions < insnLimit && !this.yieldRequested) {
      if (this.state !== 'running') {
        if (this.state === 'halted' && this.pollInterrupt()) continue;
        return this.state;
      }
      if ((this.flags & IF) !== 0 && this.intr !== null && !this.intShadow && this.pollInterrupt()) continue;
      let budget = insnLimit - this.instructions;
      if (this.intShadow) { this.intShadow = false; budget = 1; }
      // A block's cycles and instructions are charged up front and the unexecuted rest taken
      // back on an early exit, so the loop does no per-instruction bookkeeping. Instructions
      // that read the TSC end their block, so they see it exact.
      let n = 0, k = 0, start = 0;
      let blk: Block | null = null;
      try {
        this.curEip = this.eip;
        blk = this.block();
        if (blk.cls !== this.openClass) this.classSwitch(blk.cls, this.blockStart());
        const insns = blk.insns;
        n = blk.n < budget ? blk.n : budget;
        this.cycles += blk.cost[n];
        this.instructions += n;
        this.stop = false;
        // EIP is only materialized for the last instruction of the block (where control flow
        // lives) or when an instruction stops the block early; faults recompute it from offsets.
        start = this.eip;
        const last = n - 1;
        for (; k < last; k++) {
          const ins = insns[k];
          ins.h(this, ins);
          if (this.stop) break;
        }
        if (k === last && !this.stop) {
          this.eip = (start + blk.off[n]) | 0;
          const ins = insns[k];
          ins.h(this, ins);
        } else {
          this.eip = (start + blk.off[k + 1]) | 0;
        }
        k++;
        if (k < n) {
          this.cycles -= blk.cost[n] - blk.cost[k];
          this.instructions -= n - k;
        }
        if ((this.cr0 & CR0_PG) !== 0) this.counters[CTR_TLB_LOOKUPS] += blk.refs[k];
      } catch (e) {
        if (e !== GUEST_FAULT) throw e;
        if (blk !== null && n > 0) {
          // Instruction k faulted: it and the rest did not retire. EIP was advanced past it.
          this.cycles -= blk.cost[n] - blk.cost[k];
          this.instructions -= n - k;
          this.curEip = (start + blk.off[k]) | 0;
        }
        this.deliverException();
      }
    }
    return this.state;
  }

  /** Execute exactly one instruction (or deliver one pending interrupt). */
  step(): CpuState {
    return this.run(Number.MAX_SAFE_INTEGER, this.instructions + 1);
  }

  private lastBlocks: (Block | undefined)[] | null = null;
  private lastPpn = -1;

  /** The decoded block at EIP: from the cache, or decoded now. */
  private block(): Block {
    const eip = this.eip;
    const e = this.tlb[eip >>> PAGE_SHIFT];
    const pa = (e & this.rBit) !== 0 ? ((e & -4096) | (eip & 4095)) >>> 0 : this.fetchTranslate(eip);
    const ppn = pa >>> PAGE_SHIFT;
    if (ppn >= this.mem.code.length) return this.raise(GP, 0); // no execution from MMIO
    let page = this.mem.code[ppn];
    if (page === undefined) {
      page = { blocks: new Array(4096).fill(undefined) };
      this.mem.code[ppn] = page;
      for (const w of this.mem.codeWatchers) w(ppn);
    }
    const blocks = page.blocks as (Block | undefined)[];
    const cached = blocks[pa & 4095];
    if (cached !== undefined) return cached;
    const b = this.decodeBlock(pa);
    b.cls = this.classify();
    if (b.n > 0) blocks[pa & 4095] = b;
    return b.n > 0 ? b : this.straddler();
  }

  private decodeBlock(pa: number): Block {
    const b = new Block();
    const end = (pa & -4096) + 4096;
    let p = pa;
    while (b.n < MAX_BLOCK) {
      const i = new Insn();
      let ok: boolean;
      try {
        ok = decode(this, i, (k) => (p + k < end ? this.ram8[p + k] : -1));
      } catch (e) {
        // An undefined instruction later in the block faults only when execution reaches it.
        if (e === GUEST_FAULT && b.n > 0) break;
        throw e;
      }
      if (!ok) break; // runs past the page: decoded on its own, uncached
      b.insns.push(i);
      b.n++;
      p += i.len;
      if (i.ends || p >= end) break;
    }
    b.seal();
    return b;
  }

  /** An instruction that crosses a page boundary: decoded from both pages, never cached. */
  private straddler(): Block {
    const eip = this.eip;
    const i = this.scratch;
    decode(this, i, (k) => this.fetchByte((eip + k) | 0));
    const b = this.straddleBlock;
    b.insns[0] = i;
    b.n = 1;
    b.cls = this.classify();
    b.seal();
    return b;
  }
  private readonly straddleBlock = new Block();

  /** The code class of the block at EIP (see classCycles). */
  private classify(): number {
    const f = this.codeClass;
    return f === null ? 0 : f(this, this.eip) & (CODE_CLASSES - 1);
  }

  /**
   * A TLB miss on an instruction fetch: translate, and remember when the walk ended and what
   * it cost, so that a block whose fetch walked is charged its walk (blockStart).
   */
  private fetchTranslate(eip: number): number {
    const t0 = this.cycles;
    const pa = this.translate(eip, false);
    this.f64[4] = this.cycles;
    this.f64[5] = this.cycles - t0;
    return pa;
  }

  /** The cycle the block just fetched began at: before its fetch's walk, if it walked. */
  private blockStart(): number {
    return this.f64[4] === this.cycles ? this.cycles - this.f64[5] : this.cycles;
  }

  /** Close the open class at cycle `at` and open `c`. */
  private classSwitch(c: number, at = this.cycles): void {
    this.classCycles[this.openClass] += at - this.classStart;
    this.classStart = at;
    this.openClass = c;
  }

  /** Cycles spent in code class `c` (or CLASS_DELIVERY) so far, the open class's included. */
  classCyclesOf(c: number): number {
    return this.classCycles[c] + (c === this.openClass ? this.cycles - this.classStart : 0);
  }

  /** Time passes with the core executing nothing (the machine's, for a halted or waiting core). */
  idleUntil(t: number): void {
    if (t <= this.cycles) return;
    this.idleCycles += t - this.cycles;
    this.classStart += t - this.cycles;   // in no class
    this.cycles = t;
  }

  private fetchByte(va: number): number {
    return this.mem.read8(this.translate(va, false));
  }
}

