// Any bytes executed as code end in a guest exception, a halt or the instruction limit, never
// in a host exception: random code pages run under `exolab exec` in ring 3, and on a bare core
// in ring 0 with an IDT whose handlers halt. Seeded, so a failure names the seed to rerun.
//
//   RANDOM_BYTES_SEEDS=n   number of seeds per test (default 300)

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseElf32 } from '../../../machine/elf.js';
import { execElf } from '../../../kernel/linux/exec.js';
import { Cpu } from '../../../machine/cpu/cpu.js';
import { PhysicalMemory } from '../../../machine/memory.js';
import { writeElf32 } from '../../helpers/elf-writer.js';
import { Rng, mix32 } from './fuzz-gen.js';

const SEEDS = Number(process.env.RANDOM_BYTES_SEEDS ?? 300);
const CODE = 0x08048000;
const DATA = 0x0a000000;

/** Random bytes, sometimes with runs of a few common opcodes so that longer code executes. */
function randomCode(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  const common = [0x01, 0x03, 0x0f, 0x31, 0x50, 0x58, 0x66, 0x83, 0x89, 0x8b, 0xc1, 0xd1, 0xf7, 0xff, 0xf3, 0xe8];
  const biased = rng.chance(0.5);
  for (let k = 0; k < n; k++) b[k] = biased && rng.chance(0.3) ? rng.pick(common) : rng.int(256);
  return b;
}

const hexSeed = (s: number) => `0x${s.toString(16)}`;

test('random code in ring 3 (exolab exec) ends in a fault, an exit or the limit', () => {
  const seen = new Map<string, number>();
  for (let k = 0; k < SEEDS; k++) {
    const seed = mix32(0xc0de0000 + k);
    const rng = new Rng(seed);
    const code = randomCode(rng, 4096);
    // Half the programs may also write their own code (an RWX segment): self-modifying code.
    const flags = rng.chance(0.5) ? 7 : 5;
    const data = randomCode(rng, 4096);
    const elf = writeElf32(CODE + rng.int(4096), [
      { vaddr: CODE, data: code, flags },
      { vaddr: DATA, data, memsz: 8192, flags: 6 },
    ]);
    let status: string;
    try {
      const r = execElf(parseElf32(elf, 'random.elf'), { maxInstructions: 20_000, onStdout: () => {}, onStderr: () => {} });
      status = r.status === 'fault' ? `fault ${r.signal}` : r.status;
      assert.ok(['exit', 'fault', 'limit'].includes(r.status), `seed ${hexSeed(seed)}: status ${r.status}`);
    } catch (e) {
      assert.unreachable(`seed ${hexSeed(seed)}: host exception escaped the emulator: ${(e as Error).stack ?? e}`);
      return;
    }
    seen.set(status, (seen.get(status) ?? 0) + 1);
  }
  // Most random code faults quickly; some of it must run on (the test is not vacuous).
  assert.ok((seen.get('fault SIGSEGV') ?? 0) + (seen.get('fault SIGILL') ?? 0) > 0, JSON.stringify([...seen]));
});

// Ring 0 on a bare core: physical addressing, an IDT whose 256 gates lead to `hlt`.
const RAM = 1 << 20;
const IDT = 0x1000;
const HANDLER = 0x2000;
const STACK = 0x8000;
const CODE0 = 0x10000;

function bareCore(rng: Rng): Cpu {
  const mem = new PhysicalMemory(RAM);
  const cpu = new Cpu(mem);
  for (let v = 0; v < 256; v++) {
    const target = HANDLER + v;
    mem.write32(IDT + 8 * v, (0x08 << 16) | (target & 0xffff));
    mem.write32(IDT + 8 * v + 4, (target & 0xffff0000) | 0x8e00); // present, DPL 0, 32-bit interrupt gate
    mem.write8(HANDLER + v, 0xf4); // hlt
  }
  cpu.idtBase = IDT;
  cpu.idtLimit = 256 * 8 - 1;
  mem.writeBytes(CODE0, randomCode(rng, 4096));
  for (let r = 0; r < 8; r++) cpu.reg[r] = rng.chance(0.5) ? rng.u32() | 0 : rng.int(RAM);
  cpu.reg[4] = STACK;
  cpu.eip = CODE0 + rng.int(4096);
  return cpu;
}

test('random code in ring 0 ends in a halt, a shutdown or the limit', () => {
  const seen = new Map<string, number>();
  for (let k = 0; k < SEEDS; k++) {
    const seed = mix32(0x0ead0000 + k);
    const rng = new Rng(seed);
    const cpu = bareCore(rng);
    let state: string;
    try {
      state = cpu.run(2_000_000, 20_000);
    } catch (e) {
      assert.unreachable(`seed ${hexSeed(seed)}: host exception escaped the emulator: ${(e as Error).stack ?? e}`);
      return;
    }
    assert.ok(['running', 'halted', 'shutdown'].includes(state), `seed ${hexSeed(seed)}: state ${state}`);
    seen.set(state, (seen.get(state) ?? 0) + 1);
  }
  assert.ok((seen.get('halted') ?? 0) > 0, JSON.stringify([...seen]));
});

test.run();
