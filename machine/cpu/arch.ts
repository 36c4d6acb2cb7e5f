// Architectural constants of the i386 subset: register numbers, EFLAGS, control-register and
// page-table bits, exception vectors and MSR numbers (Intel SDM vol. 3A). No code, no imports,
// so that every part of the CPU can share them without import cycles.

// General registers, in ModRM order.
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
// Segment registers, in ModRM.reg order of mov Sw.
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

// EFLAGS
export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200,
  DF = 0x400, OF = 0x800, IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000,
  AC = 0x40000, ID = 0x200000;
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
/** Bits software can change at all (the rest read as fixed: bit 1 is 1, 3/5/15 are 0). */
export const FLAGS_WRITABLE = ARITH_FLAGS | TF | IF | DF | IOPL | NT | RF | AC | ID;

// CR0 / CR4
export const CR0_PE = 0x1, CR0_ET = 0x10, CR0_WP = 0x10000, CR0_PG = 0x80000000 | 0;
export const CR4_PSE = 0x10, CR4_PGE = 0x80;

// Page-table entry bits
export const PTE_P = 0x1, PTE_RW = 0x2, PTE_US = 0x4, PTE_A = 0x20, PTE_D = 0x40, PTE_PS = 0x80, PTE_G = 0x100;

// Exception vectors
export const DE = 0, DB = 1, BP = 3, UD = 6, DF_ = 8, NP = 11, SS_ = 12, GP = 13, PF_ = 14;
export const EXCEPTION_NAMES: Record<number, string> = {
  0: 'divide error', 1: 'debug', 3: 'breakpoint', 4: 'overflow', 5: 'bound range', 6: 'invalid opcode',
  7: 'device not available', 8: 'double fault', 10: 'invalid TSS', 11: 'segment not present',
  12: 'stack fault', 13: 'general protection', 14: 'page fault', 17: 'alignment check',
};
export const EXCEPTION_MNEMONICS: Record<number, string> = {
  0: '#DE', 1: '#DB', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 8: '#DF', 10: '#TS',
  11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 17: '#AC',
};
export const HAS_ERROR_CODE = (v: number) => v === 8 || (v >= 10 && v <= 14) || v === 17;

// MSRs
export const MSR_TSC = 0x10;
/** Stands in for TSS.esp0: the ring-0 stack pointer loaded on a 3 -> 0 transition. */
export const MSR_EXO_ESP0 = 0x40000100;
/** Stands in for TSS.ss0: the ring-0 stack selector loaded with it. */
export const MSR_EXO_SS0 = 0x40000101;

// Lazy flag operations: the last arithmetic op's kind, operands and result.
export const LZ_NONE = 0, LZ_ADD = 1, LZ_ADC = 2, LZ_SUB = 3, LZ_SBB = 4, LZ_LOGIC = 5, LZ_INC = 6, LZ_DEC = 7,
  LZ_SHL = 8, LZ_SHR = 9, LZ_SAR = 10;

export const SIGN = [0, 0x80, 0x8000, 0, 0x80000000 | 0];
export const MASK = [0, 0xff, 0xffff, 0, -1];
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let p = 1;
  for (let b = i; b; b >>= 1) p ^= b & 1;
  PARITY[i] = p ? PF : 0;
}
/** Byte-register number (AL, CL, DL, BL, AH, CH, DH, BH) -> index into the register file's bytes. */
export const R8 = [0, 4, 8, 12, 1, 5, 9, 13];


// Per-core counters: indices into Cpu.counters (a Float64Array, so counting never allocates).
// The two privilege crossings: an interrupt, exception or int n taken from CPL 3 (into ring 0),
// and an iret to CPL 3 (out of it). Counted by the CPU itself, whoever's IDT is in use.
export const CTR_TLB_MISSES = 0, CTR_PAGE_WALKS = 1, CTR_TLB_FLUSHES = 2, CTR_PAGE_FAULTS = 3,
  CTR_EXCEPTIONS = 4, CTR_INTERRUPTS = 5, CTR_SOFT_INTERRUPTS = 6, CTR_GATE_CALLS = 7, CTR_TLB_LOOKUPS = 8,
  CTR_RING3_TO_0 = 9, CTR_RING0_TO_3 = 10;
export const COUNTER_NAMES = [
  'tlbMisses', 'pageWalks', 'tlbFlushes', 'pageFaults', 'exceptions', 'interrupts', 'softInterrupts', 'gateCalls',
  'tlbLookups', 'ring3To0', 'ring0To3',
] as const;
export type CounterName = typeof COUNTER_NAMES[number];
