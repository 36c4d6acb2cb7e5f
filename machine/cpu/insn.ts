// A decoded instruction: the operand slots a handler reads, filled once by the decoder and
// cached per physical address, so execution never decodes or allocates.

import type { Cpu } from './cpu.js';
import type { OpDef } from './opcodes.js';

export type Handler = (c: Cpu, i: Insn) => void;

export class Insn {
  /** The handler that executes this instruction (from the opcode table). */
  h: Handler = noHandler;
  def: OpDef | null = null;
  /** Handler parameter from the table: ALU operation, condition code, shift kind, ... */
  arg = 0;
  len = 0;
  cost = 0;
  /** Memory references the instruction makes through the TLB (string instructions: per iteration, counted by the handler). */
  refs = 0;
  /** Operand size in bytes: 1, 2 or 4. */
  size = 4;
  /** The E operand (ModRM.rm, an implicit accumulator, Zv or moffs) is memory. */
  mem = false;
  /** E operand register number when !mem. */
  rm = 0;
  /** G operand register number (ModRM.reg, or an implicit accumulator). */
  reg = 0;
  /** Effective address parts when mem: base + (index << scale) + disp. -1 = none. */
  base = -1;
  index = -1;
  scale = 0;
  disp = 0;
  imm = 0;
  imm2 = 0;
  /** 0 none, 0xF3 rep/repe, 0xF2 repne. */
  rep = 0;
  /** Segment override prefix byte (flat memory: only shown by the disassembler). */
  seg = 0;
  /** The instruction ends a decoded block (control flow, or state the block cache depends on). */
  ends = false;
}

function noHandler(): void {
  throw new Error('instruction executed before it was decoded');
}
