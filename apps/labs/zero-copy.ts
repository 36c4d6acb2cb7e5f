// Lab "zero-copy": what leaving the copy out of a read buys, G = 1 + s * C_copy / t_0 (chapter:
// about 1.655 at 64 KiB with C_copy = 0.1 ns/B, t_0 = 10 us). The readcost app reads s bytes
// with read() in the exo placement, for s doubling from `min` to `max`: by DMA straight into a
// page-aligned buffer (the zero-copy path) and into a buffer `offset` bytes past a page (the
// bounce buffer and a copy). G measured is the bounce path's time per read over the zero-copy
// path's: their throughputs' ratio, since both move s bytes. The model takes t_0, the
// zero-copy read's time without any copy, and C_copy, memcpy's cost per byte timed alone, both
// from the same run. The device's fixed time and its time per byte are parameters (the cost
// profile's block.latency and block.per_byte); the copy is the LibOS's memcpy on the emulated
// CPU, priced by the profile's instruction costs, not by a per-byte figure of the profile.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../machine/errors.js';
import { cyclesToUs, labDir, type Lab, type LabFigure, type LabResult } from './lab.js';
import { copyCyclesPerByte, deviceCycles, runReadCost, type PathTotals } from './readcost.js';

/** The chapter's parameters (the lab table's inputs, not results). */
const CHAPTER = { cCopyNsPerB: 0.1, t0Us: 10 };
const chapterG = (s: number) => 1 + (s * CHAPTER.cCopyNsPerB) / (CHAPTER.t0Us * 1000);

/** min, 2 min, 4 min, ... up to max, and max itself. */
export function zeroCopySizes(min: number, max: number): number[] {
  const out: number[] = [];
  for (let s = min; s < max; s *= 2) out.push(s);
  out.push(max);
  return out;
}

const sizeLabel = (s: number) => (s >= 1024 && s % 1024 === 0 ? `${s / 1024} KiB` : `${s} B`);
const total = (t: PathTotals) => Object.values(t.cycles).reduce((a, b) => a + b, 0) / t.reads;

export const zeroCopyLab: Lab = {
  name: 'zero-copy',
  title: 'throughput with and without the copy, by payload size',
  chapter: 'G = 1 + s * C_copy / t_0, about 1.655 at 64 KiB (C_copy = 0.1 ns/B, t_0 = 10 us)',
  params: [
    { name: 'min', unit: 'B', default: 64, describe: 'smallest payload s of the sweep (doubling up to max)', min: 1, max: 1 << 20, integer: true },
    { name: 'max', unit: 'B', default: 65536, describe: 'largest payload s of the sweep', min: 1, max: 1 << 20, integer: true },
    { name: 'reads', unit: '', default: 8, describe: 'reads per size and path, averaged (after one more, timed apart)', min: 1, max: 256, integer: true },
    { name: 't_dev', unit: 'us', default: 10, describe: 'the device\'s fixed time per read (profile block.latency): the bulk of t_0', min: 0.001, max: 10000 },
    { name: 'dev_per_byte', unit: 'ns', default: 0, describe: 'the device\'s transfer time per byte, ns per byte (profile block.per_byte); 0: t_0 does not grow with s, as the chapter has it', min: 0, max: 100 },
    { name: 'offset', unit: 'B', default: 64, describe: 'the copy path\'s buffer: bytes past a page boundary (not a multiple of 4: memcpy goes byte by byte)', min: 1, max: 4095, integer: true },
  ],
  run(p): LabResult {
    if (p.min! > p.max!) throw new InputError(`zero-copy lab: min (${p.min} B) is above max (${p.max} B)`);
    const dir = labDir('zero-copy');
    const profile = join(dir, 'profile.yaml');
    writeFileSync(profile, `name: zero-copy-lab\nextends: seed-chapter\nblock: { latency: ${p.t_dev}us, per_byte: ${p.dev_per_byte}ns/B }\n`);
    const sizes = zeroCopySizes(p.min!, p.max!);
    const r = runReadCost({ placement: 'exo', sizes, reps: p.reads!, offset: p.offset!, profile, dir });
    const hz = r.profile.clockHz, us = (c: number) => cyclesToUs(c, hz);
    const cB = copyCyclesPerByte(r), cNs = us(cB) * 1000;
    const rows = r.sizes.map(({ size, zc, bounce }) => {
      const tZc = total(zc), tB = total(bounce), t0 = tZc - zc.cycles.copy / zc.reads;
      return { size, zc, bounce, tZc, tB, t0, g: tB / tZc, model: 1 + (size * cB) / t0 };
    });
    const last = rows[rows.length - 1]!;
    const figures: LabFigure[] = rows.map((x) => ({
      name: `G at ${sizeLabel(x.size)}`, chapter: Number(chapterG(x.size).toFixed(4)), measured: x.g, model: x.model, unit: '',
      breakdown: {
        t0_us: us(x.t0), t_copy_path_us: us(x.tB), copy_us: us(x.bounce.cycles.copy / x.bounce.reads),
        zero_copy_MB_per_s: x.size / us(x.tZc), copy_path_MB_per_s: x.size / us(x.tB), zero_copy_reads_copied_B: x.zc.copied / x.zc.reads,
      },
      note: x.size < 512
        ? 'under 512 B read() bounces on both paths (the device moves whole sectors), so the "zero-copy" read copies too and G stays near 1'
        : `G - 1 = s C_copy / t_0 with C_copy ${(cNs / CHAPTER.cCopyNsPerB).toFixed(1)}x the chapter's and t_0 ${(us(x.t0) / CHAPTER.t0Us).toFixed(2)}x (see C_copy and t_0)`,
    }));
    const device = us(deviceCycles(r.profile, last.size, last.zc.commands / last.zc.reads));
    figures.push({
      name: 'C_copy', chapter: CHAPTER.cCopyNsPerB, measured: cNs, unit: 'ns/B',
      breakdown: { cycles_per_B: cB, memcpy_bytes: r.memcpy.bytes, bounce_copy_ns_per_B: us(last.bounce.cycles.copy / last.bounce.copied) * 1000 },
      note: `the LibOS's memcpy is rep movsl (and rep movsb for the tail) on the emulated CPU, one string iteration per 4 bytes at the profile's string cost, plus the call around it; the chapter's 0.1 ns/B is a wider move`,
    });
    figures.push({
      name: `t_0 at ${sizeLabel(last.size)}`, chapter: CHAPTER.t0Us, measured: us(last.t0), unit: 'us',
      breakdown: { device_us: device, software_us: us(last.t0) - device },
      note: `the device's ${p.t_dev} us${p.dev_per_byte ? ` plus ${p.dev_per_byte} ns/B` : ''} and the LibOS's read() path and the exo-call around it, measured`,
    });
    return { lab: 'zero-copy', parameters: p, figures };
  },
};
