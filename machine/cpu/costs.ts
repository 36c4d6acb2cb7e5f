// Cycle costs of instruction classes. The one table the CPU charges from; the machine's YAML
// cost profiles (machine/profiles/) override these values by name.

export const COST_CLASSES = [
  'alu',      // add, sub, logic, inc, test, cmp, setcc, cmov
  'mov',      // register and memory moves, lea, movzx/movsx, xchg with a register
  'stack',    // push, pop, pushf, popf, enter, leave
  'shift',    // shifts, rotates, shld/shrd
  'bit',      // bt*, bsf, bsr, bswap, tzcnt, lzcnt
  'mul',
  'div',
  'branch',   // jumps and conditional jumps; a taken branch adds `taken`
  'call',     // call, ret
  'string',   // per iteration of a string instruction
  'atomic',   // xchg with memory, xadd, cmpxchg
  'system',   // cpuid, rdtsc, rdmsr, wrmsr, lidt, mov crN, invlpg, cli/sti, hlt
  'interrupt',// int n, exception and interrupt entry
  'iret',
  'gate',     // native gate base cost (the service routine charges its own work)
] as const;

export type CostClass = typeof COST_CLASSES[number];

export interface CpuCosts {
  classes: Record<CostClass, number>;
  /** Extra cycles for a taken branch (pipeline refill). */
  taken: number;
  /** Extra cycles per memory operand. */
  memOperand: number;
  /** Cycles per level of a page-table walk on a TLB miss. */
  walkLevel: number;
}

export const DEFAULT_CPU_COSTS: CpuCosts = {
  classes: {
    alu: 1, mov: 1, stack: 1, shift: 1, bit: 2, mul: 3, div: 25, branch: 1, call: 2,
    string: 1, atomic: 18, system: 30, interrupt: 80, iret: 40, gate: 20,
  },
  taken: 1,
  memOperand: 1,
  walkLevel: 20,
};
