// Lab "posix-read": what the LibOS's read() costs on top of the device, phase by phase (chapter:
// about 0.7048 us per read). The readcost app reads `size` bytes with read() (libos/posix/rw.c),
// each phase timed by rdtsc: fd lookup -> the capability for the block range -> the
// scatter-gather list -> DMA, straight into a page-aligned buffer or into the bounce buffer
// and a copy. The overhead is every phase but the DMA, per read: lookup + cap + sg (+ copy).
// The DMA phase is shown apart, split into the device's own time (its timing rule, for the
// commands the read issued) and the rest: in the exo placement the exo-call and BLOCK_IO's
// capability check, the per-command IOMMU mapping and the wake-up; as a unikernel, the
// LibOS's own disk driver. The bounce path's model: the zero-copy path's phases plus size x
// the per-byte cost of memcpy timed alone.

import { cyclesToUs, labDir, type Lab, type LabFigure, type LabResult } from './lab.js';
import { copyCyclesPerByte, deviceCycles, phaseUs, runReadCost, type PathTotals, type ReadCostRun } from './readcost.js';

const CHAPTER_US = 0.7048;
const PROFILE = 'seed-chapter';

/** When the first read into the buffer cost much more than the others, what it cost. */
function firstNote(t: PathTotals, us: (c: number) => number): string {
  const each = Object.values(t.cycles).reduce((a, b) => a + b, 0) / t.reads;
  return t.first > 2 * each ? `; the first read into this buffer took ${us(t.first).toFixed(1)} us (the platform maps a new buffer for the device once)` : '';
}

function figure(r: ReadCostRun, where: string, path: 'zc' | 'bounce', size: number, offset: number): LabFigure {
  const e = r.sizes[0]!, t: PathTotals = e[path], pr = r.profile, hz = pr.clockHz;
  const us = (c: number) => cyclesToUs(c, hz);
  const ph = (k: 'lookup' | 'cap' | 'sg' | 'dma' | 'copy', x = t) => phaseUs(x, k, pr);
  const measured = ph('lookup') + ph('cap') + ph('sg') + ph('copy');
  const device = us(deviceCycles(pr, size, t.commands / t.reads));
  const cB = copyCyclesPerByte(r), cNs = us(cB) * 1000;
  const breakdown: Record<string, number> = {
    lookup_us: ph('lookup'), cap_us: ph('cap'), sg_us: ph('sg'), copy_us: ph('copy'),
    dma_us: ph('dma'), dma_device_us: device, dma_path_us: ph('dma') - device,
    first_read_us: us(t.first), commands_per_read: t.commands / t.reads, copied_B_per_read: t.copied / t.reads,
  };
  const plain = ph('lookup', e.zc) + ph('cap', e.zc) + ph('sg', e.zc);
  if (path === 'zc') {
    const why = size < 512 ? `; under 512 B read() bounces here too (the device moves whole sectors), so it copies ${t.copied / t.reads} B`
      : size % 512 ? `; the partial last sector (${size % 512} B) still goes by the bounce buffer` : '';
    return {
      name: `overhead, ${where}, zero-copy path`, chapter: CHAPTER_US, measured, unit: 'us', breakdown,
      note: `what this LibOS's code costs at the ${PROFILE} profile's instruction prices (each phase holds one rdtsc, ${r.memcpy.timer} cycles); no parameter is set from the chapter's figure${why}${firstNote(t, us)}`,
    };
  }
  breakdown.c_copy_ns_per_B = cNs;
  return {
    name: `overhead, ${where}, bounce path`, chapter: CHAPTER_US, measured, unit: 'us', breakdown,
    model: plain + us(r.memcpy.timer + cB * size),   // the copy phase holds one more rdtsc
    note: `the copy of ${size} B to ${offset} B past a page takes ${ph('copy').toFixed(3)} us at ${cNs.toFixed(3)} ns/B (the LibOS's memcpy: rep movsl on the emulated CPU at the profile's string cost; the chapter's C_copy is 0.1 ns/B)${firstNote(t, us)}`,
  };
}

export const posixReadLab: Lab = {
  name: 'posix-read',
  title: 'read()\'s user-level translation overhead, phase by phase',
  chapter: 'user-level translation overhead about 0.7048 us per read',
  params: [
    { name: 'size', unit: 'B', default: 4096, describe: 'bytes per read() (from offset 0 of the file)', min: 1, max: 1 << 20, integer: true },
    { name: 'reads', unit: '', default: 16, describe: 'reads per path, averaged (after one more, timed apart)', min: 1, max: 256, integer: true },
    { name: 'offset', unit: 'B', default: 64, describe: 'the bounce path\'s buffer: bytes past a page boundary (not a multiple of 4: memcpy goes byte by byte)', min: 1, max: 4095, integer: true },
  ],
  run(p): LabResult {
    const dir = labDir('posix-read');
    const o = { sizes: [p.size!], reps: p.reads!, offset: p.offset!, profile: PROFILE, dir };
    const exo = runReadCost({ ...o, placement: 'exo' });
    const uni = runReadCost({ ...o, placement: 'unikernel' });
    return {
      lab: 'posix-read',
      parameters: p,
      figures: [
        figure(exo, 'exo', 'zc', p.size!, p.offset!), figure(exo, 'exo', 'bounce', p.size!, p.offset!),
        figure(uni, 'unikernel', 'zc', p.size!, p.offset!), figure(uni, 'unikernel', 'bounce', p.size!, p.offset!),
      ],
    };
  },
};
