// Lab "fault-overhead": the kernel's time per page fault and the share of the CPU it takes at a
// set fault rate (chapter: O_fault = 0.4 us, lambda = 5e4 faults/s, so 2% of the CPU). A ring-3
// principal (guests/faultlat.c) takes faults at the rate lambda and times each one with the
// TSC from the faulting store to its handler's first instruction: the exception entry, the
// kernel's dispatch and upcall, the return into ring 3. It resumes itself in ring 3 without the
// kernel, so that is the whole of the kernel's part. The share is that time over the run.

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { buildRawGuest } from '../../kernel/guest-build.js';
import { consoleNumber, cyclesToUs, labDir, runScenario, CLOCK_HZ, type Lab, type LabResult } from './lab.js';

export const faultOverheadLab: Lab = {
  name: 'fault-overhead',
  title: 'the kernel\'s time per page fault and its share of the CPU',
  chapter: '2% of CPU at lambda = 5e4 faults/s, O_fault = 0.4 us',
  params: [
    { name: 'lambda', unit: '/s', default: 5e4, describe: 'page faults per second', min: 1, max: 1e6 },
    { name: 'upcall_dispatch', unit: 'ns', default: 200, describe: 'the kernel\'s work to write the upcall frame (profile kernel.upcall_dispatch)', min: 0.5, max: 1e6 },
  ],
  run(p): LabResult {
    const dir = labDir('fault-overhead');
    const profile = join(dir, 'profile.yaml');
    writeFileSync(profile, `name: fault-lab\nextends: seed-chapter\nkernel: { upcall_dispatch: ${p.upcall_dispatch}ns }\n`);
    const elf = buildRawGuest(join('apps', 'labs', 'guests', 'faultlat.c')).elf;
    const period = Math.round(CLOCK_HZ / p.lambda!);
    const r = runScenario(`name: fault-overhead\nseed: 1\nmachine: { cores: 1, ram: 32MiB, profile: ${profile} }\n` +
      `principals:\n  - { name: f, image: ${elf}, memory: 2MiB, args: { value: ${period} } }\nrun: { for: 10s }\n`, dir);
    const n = consoleNumber(r.console, 'faults'), inCycles = consoleNumber(r.console, 'kernel cycles in'), elapsed = consoleNumber(r.console, 'elapsed cycles');
    if (!(n > 0 && inCycles > 0 && elapsed > 0)) throw new Error(`fault-overhead lab: the guest did not report; console:\n${r.console}`);
    const oFaultUs = cyclesToUs(inCycles / n);
    const share = (inCycles / elapsed) * 100;
    const prof = r.system.scenario.machine.profile;
    const parts = { exception_entry: prof.interrupts.exceptionEntry, native_gate: prof.interrupts.nativeGate, exo_call_decode: prof.kernel.exoCall,
      upcall_dispatch: prof.kernel.upcallDispatch, iret: prof.interrupts.iret };
    const sum = Object.values(parts).reduce((a, b) => a + b, 0);
    return {
      lab: 'fault-overhead',
      parameters: p,
      figures: [
        {
          name: 'O_fault', chapter: 0.4, measured: oFaultUs, unit: 'us', model: cyclesToUs(sum),
          breakdown: { faults: n, cycles_per_fault: inCycles / n, ...Object.fromEntries(Object.entries(parts).map(([k, v]) => [`${k}_cycles`, v])) },
          note: Math.abs(oFaultUs - 0.4) > 0.005 ? 'the exokernel decodes every entry (kernel.exo_call) and the TSC reads around the store cost a few cycles: the chapter counts entry, dispatch and return only' : undefined,
        },
        {
          name: 'CPU share at lambda', chapter: 2, measured: share, unit: '%', model: p.lambda! * oFaultUs * 1e-6 * 100,
          breakdown: { lambda_per_s: p.lambda!, kernel_cycles: inCycles, elapsed_cycles: elapsed, page_fault_upcalls: r.metrics.principals.f.upcalls.page_fault },
        },
      ],
    };
  },
};
