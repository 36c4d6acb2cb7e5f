// The readcost app (apps/readcost/main.c) run for a lab: read() of each size on the zero-copy
// and the bounce path, REPS times, in the exo placement (a ring-3 LibOS under the exokernel,
// BLOCK_IO and its capability check) or the unikernel placement (the LibOS alone on a bare
// machine, driving the disk itself), and the per-phase totals of struct posix_read_stats it
// prints. Shared by the posix-read and zero-copy labs.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGuestApp } from '../../kernel/guest-build.js';
import { fsImageBuild } from '../../kernel/fs-image.js';
import { parseElf32 } from '../../machine/elf.js';
import { Machine, machineConfig } from '../../machine/machine.js';
import { loadProfile, type Profile } from '../../machine/profile.js';
import { ratioApply } from '../../machine/units.js';
import { runScenario } from './lab.js';

export const PHASES = ['lookup', 'cap', 'sg', 'dma', 'copy'] as const;
export type Phase = typeof PHASES[number];
const SECTOR = 512;   // libos/include/plat.h PLAT_BLOCK_SECTOR

/** One path's totals over its reads of one size (cycles summed over the reads). */
export interface PathTotals {
  /** The whole of one read before the counted ones (first use of the buffer), in cycles. */
  first: number;
  reads: number; zeroCopy: number; bounced: number; commands: number; bytes: number; copied: number;
  cycles: Record<Phase, number>;
}

export interface ReadCostRun {
  profile: Profile;
  sizes: { size: number; zc: PathTotals; bounce: PathTotals }[];
  /** memcpy timed alone, as the bounce copy runs: bytes, cycles, and a back-to-back rdtsc. */
  memcpy: { bytes: number; cycles: number; timer: number };
  console: string;
}

export interface ReadCostOptions {
  placement: 'exo' | 'unikernel';
  sizes: number[];
  reps: number;
  /** The bounce path's buffer: this many bytes past a page boundary. */
  offset: number;
  /** A built-in profile's name or a profile file. */
  profile: string;
  dir: string;
}

/** Bytes readcost reads at most (apps/readcost/main.c MAX_SIZE). */
export const READCOST_MAX = 1 << 20;

/** The exofs image in `dir`: data.bin (`bytes`, a fixed pattern) and readcost.cfg, the sweep. */
function dataImage(dir: string, bytes: number, o: ReadCostOptions): string {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 2654435761) >>> 24;
  const cfg = new TextEncoder().encode(`${o.reps} ${o.offset} ${o.sizes.join(' ')}\n`);
  const img = join(dir, 'fs.img');
  writeFileSync(img, fsImageBuild([{ name: 'data.bin', data }, { name: 'readcost.cfg', data: cfg }]));
  return img;
}

const LINE = /^readcost: size (\d+) path (zero-copy|bounce) first (\d+) reads (\d+) zero-copy (\d+) bounced (\d+) commands (\d+) bytes (\d+) copied (\d+) cycles lookup (\d+) cap (\d+) sg (\d+) dma (\d+) copy (\d+)$/gm;

function parse(text: string, profile: Profile, o: ReadCostOptions): ReadCostRun {
  if (!/^readcost: ok$/m.test(text)) throw new Error(`readcost (${o.placement}) did not finish cleanly; console:\n${text}`);
  const by = new Map<number, { zc?: PathTotals; bounce?: PathTotals }>();
  for (const m of text.matchAll(LINE)) {
    const n = m.slice(3).map(Number) as number[];
    const t: PathTotals = {
      first: n[0]!, reads: n[1]!, zeroCopy: n[2]!, bounced: n[3]!, commands: n[4]!, bytes: n[5]!, copied: n[6]!,
      cycles: { lookup: n[7]!, cap: n[8]!, sg: n[9]!, dma: n[10]!, copy: n[11]! },
    };
    const e = by.get(Number(m[1])) ?? {};
    if (m[2] === 'zero-copy') e.zc = t; else e.bounce = t;
    by.set(Number(m[1]), e);
  }
  const sizes = o.sizes.map((size) => {
    const e = by.get(size);
    if (!e?.zc || !e.bounce) throw new Error(`readcost (${o.placement}): no report for ${size} B; console:\n${text}`);
    return { size, zc: e.zc, bounce: e.bounce };
  });
  const c = /^readcost: memcpy bytes (\d+) offset \d+ cycles (\d+) timer (\d+)$/m.exec(text);
  if (!c) throw new Error(`readcost (${o.placement}): no memcpy line; console:\n${text}`);
  return { profile, sizes, memcpy: { bytes: Number(c[1]), cycles: Number(c[2]), timer: Number(c[3]) }, console: text };
}

/** Build readcost for the sizes and run it in the placement; its reports. */
export function runReadCost(o: ReadCostOptions): ReadCostRun {
  const max = Math.max(...o.sizes);
  if (o.sizes.length > 32 || max > READCOST_MAX) throw new Error(`readcost: at most 32 sizes of at most ${READCOST_MAX} B`);
  const img = dataImage(o.dir, Math.max(max, SECTOR), o);
  const elf = buildGuestApp('readcost', o.placement).elf;
  const profile = loadProfile(o.profile);
  // Simulated time enough for every read at 20 cycles a byte and ten device latencies, twice over
  // (the run ends when the guest exits, so a generous bound costs nothing).
  const perRead = 10 * profile.block.latency + ratioApply(profile.block.perByte, max) + 20 * max;
  const seconds = Math.ceil(1 + (4 * o.sizes.length * (o.reps + 1) * perRead) / profile.clockHz);
  if (o.placement === 'exo') {
    const yaml = `name: readcost\nseed: 1\nmachine: { cores: 1, ram: 64MiB, profile: ${o.profile}, disk: { image: ${img} } }\n` +
      `principals:\n  - { name: rc, image: ${elf}, placement: exo, cores: [0], memory: 8MiB }\nrun: { for: ${seconds}s }\n`;
    return parse(runScenario(yaml, o.dir, 'readcost').console, profile, o);
  }
  // The exokernel gives a unikernel partition no disk; on a bare machine the image owns it.
  const image = parseElf32(readFileSync(elf), elf);
  const m = new Machine({ ...machineConfig(profile, { cores: 1, ramBytes: 64 << 20, seed: 1 }), disk: { image: img } });
  try {
    m.loadImage(image, elf);
    m.boot(image.entry);
    m.run(seconds * profile.clockHz);
    return parse(m.consoleText(), profile, o);
  } finally {
    m.close();
  }
}

/** The device's own time for one read of `size` bytes from offset 0 that took `commands`
 *  transfers (machine/block.ts: a lone command takes latency + bytes * per_byte). */
export function deviceCycles(profile: Profile, size: number, commands: number): number {
  return commands * profile.block.latency + ratioApply(profile.block.perByte, Math.ceil(size / SECTOR) * SECTOR);
}

/** Per-read average of a phase, in us at the profile's clock. */
export function phaseUs(t: PathTotals, phase: Phase, profile: Profile): number {
  return (t.cycles[phase] / t.reads) * 1e6 / profile.clockHz;
}

/** The measured per-byte copy cost, in cycles (memcpy alone, the timer's own cost taken off). */
export function copyCyclesPerByte(r: ReadCostRun): number {
  return (r.memcpy.cycles - r.memcpy.timer) / r.memcpy.bytes;
}
