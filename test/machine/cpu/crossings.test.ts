// The CPU's own count of privilege crossings (counters ring3To0 and ring0To3): every interrupt,
// exception or int n taken from CPL 3, every iret to CPL 3; transitions within ring 0 are not
// crossings. Flat memory, paging off, a hand-written IDT.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PhysicalMemory } from '../../../machine/memory.js';
import { Cpu, MSR_EXO_ESP0, MSR_EXO_SS0 } from '../../../machine/cpu/cpu.js';

const IDT = 0x8000, KSTACK = 0x7000, USTACK = 0x9000;
const START = 0x1000, SYSCALL = 0x2000, GPF = 0x2100, RING0_INT = 0x2200, USER = 0x3000;

function gate(mem: PhysicalMemory, v: number, handler: number, dpl: number): void {
  mem.write32(IDT + 8 * v, (0x08 << 16) | (handler & 0xffff));
  mem.write32(IDT + 8 * v + 4, ((handler & 0xffff0000) | 0x8000 | (dpl << 13) | (0x0e << 8)) >>> 0);
}

const imm32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24];

/** Ring 0 does an int within ring 0, then irets to ring 3, which makes `calls` int 0x80s and a hlt (#GP). */
function machine(calls: number): Cpu {
  const mem = new PhysicalMemory(1 << 20);
  gate(mem, 0x80, SYSCALL, 3);
  gate(mem, 0x81, RING0_INT, 0);
  gate(mem, 13, GPF, 0);
  mem.writeBytes(START, Uint8Array.from([
    0xcd, 0x81,                              // int 0x81: ring 0 to ring 0
    0x6a, 0x23, 0x68, ...imm32(USTACK),      // push ss, esp
    0x6a, 0x02, 0x6a, 0x1b, 0x68, ...imm32(USER), // push eflags, cs, eip
    0xcf,                                    // iret to ring 3
  ]));
  mem.writeBytes(SYSCALL, Uint8Array.of(0xcf));          // iret back to ring 3
  mem.writeBytes(RING0_INT, Uint8Array.of(0xcf));        // iret within ring 0
  mem.writeBytes(GPF, Uint8Array.of(0xf4));              // hlt: the end
  mem.writeBytes(USER, Uint8Array.from([...Array.from({ length: calls }, () => [0xcd, 0x80]).flat(), 0xf4]));
  const cpu = new Cpu(mem, {});
  cpu.idtBase = IDT;
  cpu.idtLimit = 256 * 8 - 1;
  cpu.msrs.set(MSR_EXO_ESP0, [KSTACK, 0]);
  cpu.msrs.set(MSR_EXO_SS0, [0x10, 0]);
  cpu.reg[4] = KSTACK;
  cpu.eip = START;
  return cpu;
}

test('int n and an exception from ring 3 count as entries, iret to ring 3 as exits; ring 0 to ring 0 counts neither', () => {
  for (const calls of [0, 1, 5]) {
    const cpu = machine(calls);
    cpu.run(1e6);
    const c = cpu.counterValues();
    assert.is(cpu.state, 'halted');
    assert.is(cpu.cpl, 0, 'the #GP handler runs in ring 0');
    assert.is(c.ring3To0, calls + 1, `${calls} int 0x80 and the #GP of hlt in ring 3`);
    assert.is(c.ring0To3, calls + 1, 'the first iret and one per system call');
    assert.is(c.softInterrupts, calls + 1, 'int 0x81 in ring 0 is an interrupt but no crossing');
  }
});

test.run();
