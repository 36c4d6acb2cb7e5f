// LibOS-side tests of the exokernel: C programs in test/guest/exo/ built with libexo and the
// exo platform (kernel/guest-build.ts buildGuestProgram), each run as a ring-3 principal from a
// scenario. Every program checks itself ("ok NAME" / "FAIL NAME: ..." lines, then "done N
// failed") and exits with its failure count; this file checks the exit status, the lines and
// the kernel's own counters beside them.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildGuestProgram, guestTools } from '../../kernel/guest-build.js';
import { parseScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';
import { repoPath } from '../helpers/paths.js';

const outDir = repoPath('build', 'exo-guest');
let missing = '';
try { guestTools(); } catch (e) { missing = (e as Error).message; }

function elf(name: string, defines: Record<string, string | number> = {}): string {
  return buildGuestProgram(join('test', 'guest', 'exo', `${name}.c`), 'exo', { defines }).elf;
}

interface Run { m: any; console: string }

function run(yaml: string): Run {
  mkdirSync(outDir, { recursive: true });
  const s = new System(parseScenario(yaml, join(outDir, 'scenario.yaml'), outDir));
  s.runToEnd();
  const r = s.report();
  return { m: r.metrics, console: r.console };
}

function scenario(principals: string, opts: { cores?: number; nic?: string; faults?: string; profile?: string; runFor?: string } = {}): string {
  return `name: t\nseed: 3\nmachine: { cores: ${opts.cores ?? 2}, ram: 96MiB, profile: ${opts.profile ?? 'default'}${opts.nic ? `, nic: ${opts.nic}` : ''} }\n` +
    `principals:\n${principals}${opts.faults ?? ''}run: { for: ${opts.runFor ?? '50ms'} }\n`;
}

/** The program's verdict: exit 0 and a `done 0 failed` line, with the failures shown otherwise. */
function passed(r: Run, name: string): void {
  const p = r.m.principals[name];
  const fails = r.console.split('\n').filter((l) => l.startsWith('FAIL')).join('\n');
  assert.is(p.state, 'exited', `${name} ${p.state}; console:\n${r.console}`);
  assert.is(p.exit_status, 0, `${name} exit ${p.exit_status}:\n${fails}`);
  assert.match(r.console, /done 0 failed/);
}

const skip = () => { if (missing) { console.log(`  skipped: ${missing}`); return true; } return false; };

test('every exo-call and every error path, from ring 3 (exocalls.c)', () => {
  if (skip()) return;
  const r = run(scenario(`  - { name: x, image: ${elf('exocalls')}, cores: [0], nic_queues: [0], memory: 8MiB }\n`, { nic: '{ queues: 2, wire: loop }' }));
  passed(r, 'x');
  const oks = r.console.split('\n').filter((l) => l.startsWith('ok ')).length;
  assert.ok(oks >= 30, `${oks} checks`);
  assert.ok(r.m.principals.x.upcalls.page_fault >= 1, 'the unmap-then-touch check went through a page-fault upcall');
});

test('exocalls.c on two cores: only one runs main, the other yields', () => {
  if (skip()) return;
  const r = run(scenario(`  - { name: x, image: ${elf('exocalls')}, cores: [0, 1], nic_queues: [0], memory: 8MiB }\n`, { nic: '{ queues: 2, wire: loop }' }));
  passed(r, 'x');
});

test('page fault -> upcall -> the LibOS maps a frame -> resumes, 64 times (pagefault.c)', () => {
  if (skip()) return;
  const r = run(scenario(`  - { name: pf, image: ${elf('pagefault')}, cores: [1], memory: 8MiB }\n`));
  passed(r, 'pf');
  // The program checks its own 64; the kernel counts every #PF it turned into an upcall.
  const n = r.m.principals.pf.upcalls.page_fault;
  assert.ok(n >= 64 && n <= 66, `page-fault upcalls ${n}`);
  assert.is(r.m.principals.pf.page_faults, n);
  assert.is(r.m.cores['1'].upcalls.page_fault, n, 'counted on the core it ran on');
});

for (const mode of ['direct', 'ipi', 'workqueue'] as const) {
  test(`an interrupt in ${mode} mode reaches the owner's handler, counted and timed per mode (irq.c)`, () => {
    if (skip()) return;
    const r = run(scenario(`  - { name: q, image: ${elf('irq')}, cores: [1], nic_queues: [0], irq: ${mode}, memory: 8MiB }\n`, { nic: '{ queues: 1, wire: loop }' }));
    passed(r, 'q');
    const lat = r.m.kernel.irq;
    assert.ok(lat[mode].count >= 1, `${mode} latency samples ${lat[mode].count}`);
    for (const other of ['direct', 'ipi', 'workqueue'].filter((x) => x !== mode)) assert.is(lat[other].count, 0, `${other} samples`);
    assert.ok(lat[mode].max_cycles > 0);
    if (mode === 'ipi') assert.ok(r.m.kernel.forwarded_ipis >= 1, 'the kernel forwarded by IPI');
    assert.ok(r.m.principals.q.upcalls.interrupt >= 1);
  });
}

test('visible revocation: a LibOS that gives the capability back in time (revoke.c, arg 1)', () => {
  if (skip()) return;
  const r = run(scenario(`  - { name: v, image: ${elf('revoke')}, cores: [0], nic_queues: [0], memory: 8MiB, args: { value: 1 } }\n`,
    { nic: '{ queues: 1, wire: loop }', faults: 'faults:\n  - { at: 1ms, kind: revoke, target: v, cap: device_queue, deadline: 200us }\n' }));
  passed(r, 'v');
  assert.is(r.m.kernel.reclaims.returned, 1);
  assert.is(r.m.kernel.reclaims.repossessed, 0);
  assert.is(r.m.principals.v.upcalls.revocation, 1);
});

test('visible revocation: a LibOS that ignores the request loses it at the deadline and reads the notice (revoke.c, arg 0)', () => {
  if (skip()) return;
  const r = run(scenario(`  - { name: v, image: ${elf('revoke')}, cores: [0], nic_queues: [0], memory: 8MiB, args: { value: 0 } }\n`,
    { nic: '{ queues: 1, wire: loop }', faults: 'faults:\n  - { at: 1ms, kind: revoke, target: v, cap: device_queue, deadline: 200us }\n' }));
  passed(r, 'v');
  assert.is(r.m.kernel.reclaims.repossessed, 1);
  assert.is(r.m.kernel.reclaims.returned, 0);
  assert.match(r.console, /notice/i);
});

test.run();
