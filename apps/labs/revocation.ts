// Lab "revocation": the time a safe DMA revocation takes, t_safe = t_fence + q/r + t_unmap.
// A ring-3 principal (guests/revdma.c) keeps its NIC queue's fetch window full with TX
// descriptors on the loop wire, then asks the kernel to unmap their buffers (EXO_DMA_UNMAP):
// the kernel fences the queue, waits for DRAINED, tears the I/O mapping down and waits for the
// IOTLB invalidation, and only then returns. The parameters go into the cost profile (fence
// latency, queue rate, the fetch window that sets q, the unmap and invalidation costs); the
// figure is the kernel's own timeline of that call. The unsafe variant skips fence and drain,
// and the in-flight descriptors meet the IOMMU instead.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRawGuest } from '../../kernel/guest-build.js';
import { InputError } from '../../machine/errors.js';
import type { ExoPlugin } from '../../kernel/exo/plugin.js';
import { cyclesToUs, labDir, runScenario, type Lab, type LabResult } from './lab.js';

/** The guest's TX ring (guests/revdma.c RING): it can keep at most RING - 1 descriptors posted. */
const RING = 4096;
/** The kernel's share of t_unmap (tearing down the mappings); the rest is the invalidation wait. */
const UNMAP_SHARE = 1 / 7;

export const revocationLab: Lab = {
  name: 'revocation',
  title: 'safe DMA revocation: fence, drain, unmap',
  chapter: 't_safe = t_fence + q/r + t_unmap = 1.00 ms',
  params: [
    { name: 'q', unit: '', default: 64, describe: 'descriptors in flight when the fence takes effect (the queue\'s fetch window)', min: 1, max: 128, integer: true },
    { name: 'r', unit: '/ms', default: 160, describe: 'descriptors the queue drains per ms', min: 1, max: 1e6 },
    { name: 't_fence', unit: 'ms', default: 0.25, describe: 'time for the fence to take effect', min: 0.000001, max: 100 },
    { name: 't_unmap', unit: 'ms', default: 0.35, describe: 'unmapping and the IOTLB invalidation wait', min: 0.000002, max: 100 },
  ],
  run(p): LabResult {
    const dir = labDir('revocation');
    const unmapUs = p.t_unmap! * 1000 * UNMAP_SHARE, invalUs = p.t_unmap! * 1000 - unmapUs;
    const profile = join(dir, 'profile.yaml');
    writeFileSync(profile, [
      'name: revocation-lab', 'extends: seed-chapter',
      `iommu: { unmap: ${unmapUs}us, invalidation_latency: ${invalUs}us }`,
      `nic: { fence_latency: ${p.t_fence! * 1000}us, queue_rate: ${p.r}/ms, fetch_window: ${p.q} }`, '',
    ].join('\n'));
    const elf = buildRawGuest(join('apps', 'labs', 'guests', 'revdma.c')).elf;
    // Post enough that the window stays full through the fence latency (what the model assumes).
    const posted = Math.ceil(p.q! + p.r! * p.t_fence!) + 2;
    if (posted > RING - 1) {
      throw new InputError(`revocation lab: keeping q = ${p.q} in flight through a ${p.t_fence} ms fence at ${p.r}/ms takes ${posted} posted descriptors; the ring holds ${RING - 1}: lower r or t_fence`);
    }
    const scenario = (unsafe: boolean) => `name: revocation\nseed: 1\n` +
      `machine: { cores: 1, ram: 64MiB, profile: ${profile}, nic: { queues: 1, wire: loop } }\n` +
      `principals:\n  - { name: dma, image: ${elf}, nic_queues: [0], memory: 4MiB, args: { value: ${posted} } }\n` +
      (unsafe ? 'faults:\n  - { at: 0ms, kind: unsafe-unmap, target: dma }\n' : '') + `run: { for: 1s }\n`;
    const safe = runScenario(scenario(false), dir, 'safe');
    const t = (safe.system.kernel as ExoPlugin).kernel.revocations[0];
    if (t === undefined) throw new Error(`revocation lab: the guest made no DMA unmap; console:\n${safe.console}`);
    const ms = (c: number) => cyclesToUs(c) / 1000;
    const unsafe = runScenario(scenario(true), dir, 'unsafe');
    const u = (unsafe.system.kernel as ExoPlugin).kernel.revocations[0]!;
    const modelMs = p.t_fence! + p.q! / p.r! + p.t_unmap!;
    const measured = ms(t.done - t.start);
    const faultsDuring = safe.system.snapshot().iommu.faults.filter((f) => f.at < t.done).length;
    return {
      lab: 'revocation',
      parameters: p,
      figures: [
        {
          name: 't_safe', chapter: 1.0, measured, model: modelMs, unit: 'ms',
          breakdown: {
            fence_and_drain_ms: ms(t.drained - t.start), unmap_ms: ms(t.unmapped - t.drained), invalidation_ms: ms(t.invalidated - t.unmapped),
            in_flight_at_start: t.inFlight, iommu_faults_during: faultsDuring,
          },
          note: Math.abs(measured - modelMs) > 1e-9
            ? `completions are pipelined at 1/r, so the last in-flight descriptor finishes up to 1/r = ${(1 / p.r!).toFixed(4)} ms before q/r`
            : undefined,
        },
        {
          name: 't_unsafe (no fence, no drain)', chapter: 'faster, and unsafe', measured: ms(u.done - u.start), unit: 'ms',
          breakdown: {
            posted, sent: unsafe.metrics.nic.sent, iommu_faults: unsafe.metrics.iommu.faults, tx_dropped_iommu_fault: unsafe.metrics.nic.tx_dropped.iommu_fault,
          },
          note: 'each descriptor the NIC reaches once the page is unmapped is blocked and recorded by the IOMMU, r of them per ms, until the '
            + `call returns and the guest exits (its queue fenced): about min(posted - sent, r x the invalidation wait) = min(${posted - Number(unsafe.metrics.nic.sent)}, `
            + `${Math.round(p.r! * ms(u.invalidated - u.unmapped))}); q counts only through posted = q + r x t_fence + 2`,
        },
      ],
    };
  },
};
