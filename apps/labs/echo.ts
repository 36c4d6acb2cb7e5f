// Labs "echo" and "crossings": privilege crossings (mode switches) per request of the same UDP
// echo app (apps/udp-echo) in the three placements, counted by the CPU itself (ring 3 -> 0 and
// 0 -> 3 transitions on the principal's cores; kernel/exo/requests.ts says what a request is).
// echo: per request, mono (the chapter's Linux: 4 = two system calls) against exo and the
// unikernel (0). crossings: per blocking I/O (a receive or a send; an echo is two), mono against
// exo as the load grows: a polling exo LibOS crosses only when it runs dry and yields.

import { buildGuestApp } from '../../kernel/guest-build.js';
import { labDir, runScenario, type Lab, type LabFigure, type LabResult } from './lab.js';

type Placement = 'mono' | 'exo' | 'unikernel';

/** udp-echo in `placement`, polled or interrupt-driven, `count` requests at `rate` per ms. */
function echoRun(placement: Placement, irq: boolean, rate: number, count: number): { perRequest: number; crossings: number; requests: number; echoed: number } {
  const dir = labDir('echo');
  const elf = buildGuestApp('udp-echo', placement, { defines: { RX_MODE: irq ? 'NET_RX_IRQ' : 'NET_RX_POLL' } }).elf;
  const runMs = Math.ceil(count / rate) + 30;
  const r = runScenario(`name: echo-${placement}\nseed: 1\n` +
    `machine: { cores: 1, ram: 64MiB, nic: { queues: 1, wire: "gen:rate=${rate}/ms,size=200,flows=4,count=${count},port=7" } }\n` +
    `principals:\n  - { name: p, image: ${elf}, placement: ${placement}, cores: [0], nic_queues: [0], memory: 16MiB }\n` +
    `run: { for: ${runMs}ms }\n`, dir, `echo-${placement}-${irq ? 'irq' : 'poll'}-${rate}`);
  const p = r.metrics.principals.p;
  if (!(p.requests > 0)) throw new Error(`echo lab: ${placement} served no request; console:\n${r.console}`);
  return { perRequest: p.crossings_per_request, crossings: p.crossings, requests: p.requests, echoed: r.metrics.nic.sent };
}

export const echoLab: Lab = {
  name: 'echo',
  title: 'mode switches per request of one echo app in three placements',
  chapter: 'tau_Linux = 4 mode switches per request, tau_unikernel = 0',
  params: [
    { name: 'rate', unit: '/ms', default: 50, describe: 'requests per ms on the wire', min: 0.1, max: 1000 },
    { name: 'count', unit: '', default: 200, describe: 'requests sent', min: 10, max: 100000, integer: true },
  ],
  run(p): LabResult {
    const figures: LabFigure[] = [];
    const chapter: Record<Placement, number | string> = { mono: 4, exo: 'between, by how often it waits', unikernel: 0 };
    for (const placement of ['mono', 'exo', 'unikernel'] as Placement[]) {
      for (const irq of placement === 'exo' ? [false, true] : [true]) {
        const x = echoRun(placement, irq, p.rate!, p.count!);
        figures.push({
          name: `${placement}${placement === 'exo' ? (irq ? ' (interrupt-driven)' : ' (polling)') : ''}`, chapter: chapter[placement],
          measured: x.perRequest, unit: 'crossings/request',
          breakdown: { crossings_whole_run: x.crossings, requests: x.requests, frames_sent: x.echoed },
          ...(placement === 'mono' ? { note: 'two system calls per echo (receive, send), each an int 0x80 in and an iret out' } : {}),
          ...(placement === 'exo' ? { note: irq ? 'each wait that runs dry is a yield into the kernel, and each interrupt an upcall out of it' : 'a polling LibOS crosses only when it finds its ring empty and yields' } : {}),
        });
      }
    }
    return { lab: 'echo', parameters: p, figures };
  },
};

export const crossingsLab: Lab = {
  name: 'crossings',
  title: 'crossings per I/O: mono against exo as the load grows',
  chapter: 'tau_mono = 2 per blocking I/O; tau_exo about 0.32 (polling plus occasional upcalls)',
  params: [
    { name: 'count', unit: '', default: 200, describe: 'requests per load point', min: 10, max: 100000, integer: true },
    { name: 'low', unit: '/ms', default: 5, describe: 'the lightest load', min: 0.1, max: 1000 },
    { name: 'high', unit: '/ms', default: 500, describe: 'the heaviest load', min: 0.1, max: 5000 },
  ],
  run(p): LabResult {
    const figures: LabFigure[] = [];
    const mono = echoRun('mono', true, p.low!, p.count!);
    figures.push({
      name: 'tau_mono', chapter: 2, measured: mono.perRequest / 2, unit: 'crossings/I/O', breakdown: { crossings_whole_run: mono.crossings, requests: mono.requests, ios: mono.requests * 2 },
      note: 'per request in the steady state, from the second request\'s arrival to the last (start-up and shut-down crossings are in the whole-run count only)',
    });
    const loads = [p.low!, Number(Math.sqrt(p.low! * p.high!).toPrecision(3)), p.high!];
    for (const rate of loads) {
      const x = echoRun('exo', false, rate, p.count!);
      figures.push({
        name: `tau_exo at ${Number(rate.toPrecision(3))}/ms`, chapter: 0.32, measured: x.perRequest / 2, unit: 'crossings/I/O',
        breakdown: { crossings_whole_run: x.crossings, requests: x.requests, load_per_ms: rate },
        note: 'polling: it crosses when it runs dry and yields, so the heavier the load the fewer crossings per I/O; the chapter\'s 0.32 is one load point',
      });
    }
    return { lab: 'crossings', parameters: p, figures };
  },
};
