// The posix-read and zero-copy labs against their models, with the chapter's parameters and
// with others, so that no constant could pass: read()'s overhead is its phases but the DMA,
// the DMA phase holds the device's own time (latency + bytes * per_byte), the bounce path's
// extra time grows with the size as memcpy's per-byte cost (timed alone) predicts, on a word
// loop and on a byte loop; G measured follows 1 + s * C_copy / t_0 from the measured C_copy
// and t_0, and falls as the device's fixed time grows.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findLab } from '../../apps/labs/index.js';
import { labParameters, type LabFigure, type LabResult } from '../../apps/labs/lab.js';
import { zeroCopySizes } from '../../apps/labs/zero-copy.js';
import { guestTools } from '../../kernel/guest-build.js';
import { loadProfile } from '../../machine/profile.js';

let missing = '';
try { guestTools(); } catch (e) { missing = (e as Error).message; }
const skip = () => { if (missing) { console.log(`  skipped: ${missing}`); return true; } return false; };

const runs = new Map<string, LabResult>();
/** A lab's result, run once per parameter set for the whole file (the runs take seconds). */
function run(name: string, sets: string[] = []): LabResult {
  const key = `${name} ${sets.join(' ')}`;
  if (!runs.has(key)) {
    const lab = findLab(name)!;
    runs.set(key, lab.run(labParameters(lab, sets)));
  }
  return runs.get(key)!;
}
const fig = (r: LabResult, name: string): LabFigure => {
  const f = r.figures.find((x) => x.name === name);
  assert.ok(f, `no figure "${name}" in ${r.figures.map((x) => x.name).join(', ')}`);
  return f!;
};
const near = (a: number, b: number, rel: number, what: string) =>
  assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: ${a} against ${b} (more than ${rel * 100}% apart)`);

// ---- posix-read ------------------------------------------------------------------------------

const seed = loadProfile('seed-chapter');
const usOf = (c: number) => (c * 1e6) / seed.clockHz;
/** The device's rule for one command of `bytes` (machine/block.ts), in us. */
const deviceUs = (bytes: number) => usOf(seed.block.latency + (bytes * seed.block.perByte.num) / seed.block.perByte.den);

const WHERE = ['exo', 'unikernel'] as const;

function checkPhases(r: LabResult, size: number): void {
  for (const w of WHERE) {
    for (const path of ['zero-copy', 'bounce']) {
      const f = fig(r, `overhead, ${w}, ${path} path`), b = f.breakdown!;
      near(f.measured, b.lookup_us! + b.cap_us! + b.sg_us! + b.copy_us!, 1e-9, `${w} ${path}: the phases but the DMA`);
      for (const k of ['lookup_us', 'cap_us', 'sg_us']) assert.ok(b[k]! > 0, `${w} ${path}: ${k}`);
      assert.is(b.commands_per_read, 1);
      near(b.dma_device_us!, deviceUs(Math.ceil(size / 512) * 512), 1e-6, `${w} ${path}: the device's own time`);
      assert.ok(b.dma_path_us! > 0 && b.dma_path_us! < 2, `${w} ${path}: the DMA phase beyond the device ${b.dma_path_us} us`);
    }
    const zc = fig(r, `overhead, ${w}, zero-copy path`), bo = fig(r, `overhead, ${w}, bounce path`);
    assert.is(zc.breakdown!.copied_B_per_read, 0, `${w}: whole sectors into a page-aligned buffer are not copied`);
    assert.is(bo.breakdown!.copied_B_per_read, size);
    // within 2%, or 50 ns: the bounce path's own bookkeeping is a few tens of ns beside a fast copy
    assert.ok(Math.abs(bo.measured - bo.model!) <= Math.max(0.02 * bo.model!, 0.05),
      `${w}: the bounce path ${bo.measured} us against the zero-copy one plus size x C_copy, ${bo.model} us`);
    assert.ok(zc.measured < 1, `${w}: the zero-copy overhead ${zc.measured} us is LibOS code only`);
  }
}

test('posix-read lab, the chapter\'s case (4 KiB): phases, the device\'s time in the DMA, bounce = model', () => {
  if (skip()) return;
  const r = run('posix-read', ['reads=4']);
  assert.is(fig(r, 'overhead, exo, zero-copy path').chapter, 0.7048);
  checkPhases(r, 4096);
});

test('posix-read lab: the bounce path\'s extra time grows linearly with the size, at memcpy\'s per-byte cost', () => {
  if (skip()) return;
  const small = run('posix-read', ['reads=4']), big = run('posix-read', ['size=16KiB', 'reads=4']);
  checkPhases(big, 16384);
  for (const w of WHERE) {
    const extra = (r: LabResult) => fig(r, `overhead, ${w}, bounce path`).measured - fig(r, `overhead, ${w}, zero-copy path`).measured;
    const cNs = fig(big, `overhead, ${w}, bounce path`).breakdown!.c_copy_ns_per_B!;
    near(extra(big) - extra(small), (cNs * (16384 - 4096)) / 1000, 0.02, `${w}: extra(16 KiB) - extra(4 KiB)`);
    // the zero-copy overhead does not depend on the size (one SG entry either way)
    near(fig(big, `overhead, ${w}, zero-copy path`).measured, fig(small, `overhead, ${w}, zero-copy path`).measured, 0.05, `${w}: zero-copy overhead`);
    // the device's per-byte time is in the DMA phase, not in the overhead
    const dma = (r: LabResult) => fig(r, `overhead, ${w}, zero-copy path`).breakdown!.dma_us!;
    near(dma(big) - dma(small), deviceUs(16384) - deviceUs(4096), 0.05, `${w}: DMA phase growth`);
  }
});

test('posix-read lab: an odd offset still copies as the model says (rep movs pays no alignment penalty here)', () => {
  if (skip()) return;
  const word = run('posix-read', ['reads=4']), odd = run('posix-read', ['reads=4', 'offset=1']);
  checkPhases(odd, 4096);
  const c = (r: LabResult) => fig(r, 'overhead, exo, bounce path').breakdown!.c_copy_ns_per_B!;
  assert.ok(c(odd) > 0 && Math.abs(c(odd) - c(word)) < 0.5 * c(word), `odd offset ${c(odd)} ns/B, aligned ${c(word)} ns/B`);
});

// ---- zero-copy -------------------------------------------------------------------------------

function checkG(r: LabResult, sizes: number[]): number[] {
  const label = (s: number) => (s % 1024 === 0 ? `${s / 1024} KiB` : `${s} B`);
  const c = fig(r, 'C_copy'), cNs = c.measured;
  const gs = sizes.map((s) => {
    const g = fig(r, `G at ${label(s)}`), t0 = g.breakdown!.t0_us!;
    near(g.model!, 1 + (s * cNs) / (t0 * 1000), 1e-9, `G model at ${s} B`);
    near(g.measured, g.model!, 0.01, `G at ${s} B against the model`);
    near(g.measured, g.breakdown!.zero_copy_MB_per_s! / g.breakdown!.copy_path_MB_per_s!, 1e-9, 'G is the throughputs\' ratio');
    return g.measured;
  });
  for (let k = 1; k < gs.length; k++) assert.ok(gs[k]! > gs[k - 1]!, `G grows with s: ${gs.join(', ')}`);
  // the copy inside read() costs what memcpy alone does
  near(c.breakdown!.bounce_copy_ns_per_B!, cNs, 0.03, 'the bounce copy\'s per-byte cost');
  return gs;
}

test('zero-copy lab, the chapter\'s parameters at 4 KiB and 64 KiB: G as the model from measured C_copy and t_0', () => {
  if (skip()) return;
  const r = run('zero-copy', ['min=4KiB', 'max=64KiB', 'reads=4']);
  assert.equal(r.figures.filter((f) => f.name.startsWith('G at')).map((f) => f.name), zeroCopySizes(4096, 65536).map((s) => `G at ${s / 1024} KiB`));
  checkG(r, [4096, 8192, 16384, 32768, 65536]);
  assert.is(fig(r, 'G at 64 KiB').chapter, 1.6554);
  const t0 = fig(r, 't_0 at 64 KiB');
  assert.ok(t0.measured > 10 && t0.measured < 12, `t_0 ${t0.measured} us: the device's 10 us and the read() path`);
  assert.is(t0.breakdown!.device_us, 10);
});

test('zero-copy lab: a slower device (t_dev 40 us, 0.25 ns/B) and an odd offset move G as the model says', () => {
  if (skip()) return;
  const base = run('zero-copy', ['min=4KiB', 'max=64KiB', 'reads=4']);
  const slow = run('zero-copy', ['min=4KiB', 'max=16KiB', 'reads=4', 't_dev=40us', 'dev_per_byte=0.25', 'offset=1']);
  const gb = checkG(base, [4096, 8192, 16384]), gs = checkG(slow, [4096, 8192, 16384]);
  assert.ok(gs[2]! < gb[2]!, `a longer t_0 lowers G at 16 KiB: ${gs[2]} against ${gb[2]}`);
  near(fig(slow, 't_0 at 16 KiB').breakdown!.device_us!, 40 + 16384 * 0.25e-3, 1e-6, 'the device\'s time in t_0');
});

test('zero-copy lab: under a sector both reads copy, so G stays near 1', () => {
  if (skip()) return;
  const r = run('zero-copy', ['min=64', 'max=128']);
  for (const s of ['64 B', '128 B']) {
    const g = fig(r, `G at ${s}`);
    assert.ok(Math.abs(g.measured - 1) < 0.02, `G at ${s}: ${g.measured}`);
    assert.ok(g.breakdown!.zero_copy_reads_copied_B! > 0);
  }
});

test.run();
