// The TLB as the profile sizes it: lookups, hits, misses and walks counted per core, FIFO
// replacement, and the charge per walk level. Code runs in ring 0 on a bare core with paging on.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PhysicalMemory } from '../../../machine/memory.js';
import { Cpu, CR0_PE, CR0_PG, PTE_P, PTE_RW } from '../../../machine/cpu/cpu.js';
import { DEFAULT_CPU_COSTS } from '../../../machine/cpu/costs.js';

const PD = 0x1000, PT = 0x2000, CODE = 0x3000, DATA = 0x10000;

/** A core with the first 4 MiB identity-mapped in 4 KiB pages, running `code` at CODE. */
function core(code: number[], tlbEntries: number): Cpu {
  const mem = new PhysicalMemory(4 << 20);
  mem.write32(PD, PT | PTE_P | PTE_RW);
  for (let k = 0; k < 1024; k++) mem.write32(PT + 4 * k, (k << 12) | PTE_P | PTE_RW);
  mem.writeBytes(CODE, Uint8Array.from(code));
  const cpu = new Cpu(mem, { tlbEntries });
  cpu.cr3 = PD;
  cpu.writeCr0(CR0_PE | CR0_PG);
  cpu.eip = CODE;
  return cpu;
}

/** mov eax, [DATA + 0x1000 * k] for each k, then hlt. */
function touches(pages: number[]): number[] {
  const out: number[] = [];
  for (const k of pages) {
    const a = DATA + 0x1000 * k;
    out.push(0xa1, a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, a >>> 24);
  }
  return [...out, 0xf4];
}

test('each new page misses once; a page seen again hits; walks charge two levels each', () => {
  const cpu = core(touches([0, 1, 2, 0, 1, 2, 2]), 64);
  const before = cpu.cycles;
  cpu.run(1e6);
  const c = cpu.counterValues();
  assert.is(cpu.state, 'halted');
  assert.is(c.tlbMisses, 4, 'the code page and three data pages');
  assert.is(c.pageWalks, 4);
  assert.is(c.tlbLookups, 1 + 7, 'one fetch for the block and seven loads');
  assert.is(c.tlbHits, 4);
  const walkCycles = 4 * 2 * DEFAULT_CPU_COSTS.walkLevel;
  const insnCycles = 7 * (DEFAULT_CPU_COSTS.classes.mov + DEFAULT_CPU_COSTS.memOperand) + DEFAULT_CPU_COSTS.classes.system;
  assert.is(cpu.cycles - before, walkCycles + insnCycles);
});

test('a TLB of two entries replaces first-in first-out', () => {
  // slots: [code] [code d0] [d1 d0] [d1 d2] [d0 d2]: the oldest goes, so every load misses
  // (the code page is looked up once, at the block's fetch)
  const cpu = core(touches([0, 1, 2, 0]), 2);
  cpu.run(1e6);
  const c = cpu.counterValues();
  assert.is(c.tlbMisses, 1 + 4);
  assert.is(c.tlbHits, 0);
  assert.equal(cpu.tlbEntries().length, 2);
});

test('a CR3 write flushes, INVLPG drops one page', () => {
  const cpu = core(touches([0, 1]), 64);
  cpu.run(1e6);
  assert.is(cpu.tlbEntries().length, 3);
  cpu.tlbInvalidate(DATA);
  assert.equal(cpu.tlbEntries().map((e) => e.vpn).sort((a, b) => a - b), [CODE >> 12, (DATA >> 12) + 1]);
  cpu.writeCr3(PD);
  assert.is(cpu.tlbEntries().length, 0);
  assert.is(cpu.counterValues().tlbFlushes, 2, 'the CR0 write at start and this CR3 write');
});

test.run();
