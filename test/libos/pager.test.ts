// The pager (libos/pager) through pagestress (apps/pagestress) in the exo placement: a
// working set three times the frame quota, paged to a block range of the disk, under FIFO and
// under CLOCK. The app checks every line it reads back and prints its counters; this file
// holds them against each other and against the kernel's own count of page faults.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestTools } from '../../kernel/guest-build.js';
import { parseScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';
import { repoPath } from '../helpers/paths.js';

const outDir = repoPath('build', 'pager-test');
let missing = '';
try { guestTools(); } catch (e) { missing = (e as Error).message; }
const skip = () => { if (missing) { console.log(`  skipped: ${missing}`); return true; } return false; };

/** One pagestress run's counters, from its `pagestress: policy=...` line. */
type Counters = Record<string, number> & { policy: string; pattern: string };

interface Run { m: any; console: string; passed: boolean; runs: Counters[] }

function run(yaml: string, file = join(outDir, 'scenario.yaml')): Run {
  mkdirSync(outDir, { recursive: true });
  const s = new System(parseScenario(yaml, file, outDir));
  s.runToEnd();
  const r = s.report();
  const runs = r.console.split('\n').filter((l) => l.startsWith('pagestress: policy=')).map((l) => {
    const c: Record<string, string | number> = {};
    for (const [, k, v] of l.matchAll(/(\w+)=(\S+)/g)) c[k!] = /^\d+$/.test(v!) ? Number(v) : v!;
    return c as Counters;
  });
  return { m: r.metrics, console: r.console, passed: r.passed, runs };
}

/** A scenario of pagestress principals, each paging to its own 4096 sectors of a 4 MiB disk. */
function scenario(principals: { name: string; arg: number; caps?: string }[]): string {
  const lines = principals.map((p, k) => `  - { name: ${p.name}, image: pagestress, cores: [${k}], memory: 2MiB, args: { value: ${p.arg} }, ` +
    `caps: ${p.caps ?? `[{ type: block_range, base: ${k * 4096}, size: 4096, rights: rw }]`} }\n`);
  return `name: pager\nseed: 1\nmachine: { cores: ${principals.length}, ram: 32MiB, disk: { size: 4MiB } }\n` +
    `principals:\n${lines.join('')}run: { for: 1s }\n`;
}

/** Exit 0, every data check passed, and the app's fault count is the kernel's. */
function clean(r: Run, name: string, runs: Counters[]): void {
  const p = r.m.principals[name];
  const fails = r.console.split('\n').filter((l) => l.startsWith('FAIL')).join('\n');
  assert.is(p.state, 'exited', `${name} ${p.state}:\n${r.console}`);
  assert.is(p.exit_status, 0, `${name} exit ${p.exit_status}:\n${fails}`);
  for (const c of runs) {
    assert.is(c.bad_lines, 0, `${c.policy} ${c.pattern}: lines that read back wrong`);
    assert.is(c.pages, 3 * c.frames, 'a working set three times the quota');
    assert.is(c.zerofills, c.pages, 'every page zero-filled once, on its first touch');
    assert.is(c.pageins + c.zerofills, c.faults);
    assert.ok(c.writebacks <= c.evictions && c.evictions < c.faults);
    assert.ok(c.words_checked >= c.pages * 1024 * 2, 'every word written and read back at least once');
  }
  const total = runs.reduce((n, c) => n + c.faults, 0);
  assert.is(p.page_faults, total, `${name}: the kernel counted ${p.page_faults} page faults, the pager ${total}`);
  assert.is(p.upcalls.page_fault, total, 'each one delivered as an upcall');
}

test('apps/scenarios/pagestress.yaml: locality under FIFO and CLOCK side by side; CLOCK keeps the hot set', () => {
  if (skip()) return;
  const file = repoPath('apps', 'scenarios', 'pagestress.yaml');
  const r = run(readFileSync(file, 'utf8'), file);
  assert.ok(r.passed, 'the scenario\'s own expectations hold');
  const fifo = r.runs.find((c) => c.policy === 'fifo')!, clock = r.runs.find((c) => c.policy === 'clock')!;
  assert.ok(fifo && clock, r.console);
  clean(r, 'ps-fifo', [fifo]);
  clean(r, 'ps-clock', [clock]);
  assert.is(fifo.pattern, 'locality');
  assert.is(clock.pattern, 'locality');
  // The hot set is half the frames; the cold stream (the rest of the set) goes round three
  // times. CLOCK faults on each cold touch and on each hot page once (the fill left them
  // out), never again: the exact minimum for a policy that keeps the hot set.
  const hot = clock.frames / 2, cold = clock.pages - hot;
  assert.is(clock.pattern_faults, 3 * cold + hot, 'CLOCK: the cold stream and one fault per hot page');
  assert.ok(fifo.pattern_faults > clock.pattern_faults * 1.3, `FIFO ${fifo.pattern_faults} vs CLOCK ${clock.pattern_faults} in the pattern`);
  assert.ok(clock.faults <= fifo.faults);
  assert.ok(clock.scanned > 0, 'CLOCK read A bits');
  assert.is(fifo.scanned, 0);
});

test('the random pattern (seeded) under FIFO then CLOCK in one principal: data checked, faults the kernel\'s', () => {
  if (skip()) return;
  const r = run(scenario([{ name: 'rnd', arg: 6420 }]));
  assert.is(r.runs.map((c) => `${c.policy} ${c.pattern}`).join(', '), 'fifo random, clock random');
  clean(r, 'rnd', r.runs);
  // 4 touches a page, uniform: a touch finds its page resident about frames/pages = 1/3 of the time
  for (const c of r.runs) {
    const n = 4 * c.pages, rate = c.pattern_faults / n;
    assert.ok(rate > 0.5 && rate < 0.8, `${c.policy}: ${c.pattern_faults} faults in ${n} random touches`);
  }
  assert.match(r.console, /random faults per policy: fifo \d+ clock \d+/);
});

test('a small quota (8 frames, 24 pages), both patterns and policies: the app\'s CLOCK <= FIFO check holds', () => {
  if (skip()) return;
  const r = run(scenario([{ name: 'small', arg: 800 }]));
  assert.is(r.runs.length, 4, r.console);
  clean(r, 'small', r.runs);
  assert.not.match(r.console, /FAIL/);
  assert.match(r.console, /done, 0 failed/);
});

test('a page-fault storm (the kernel takes 32 of its mappings) is survived: remapped or written back, data intact', () => {
  if (skip()) return;
  const yaml = scenario([{ name: 'storm', arg: 6412 }]).replace('run: { for: 1s }', 'faults:\n  - { at: 3ms, kind: pf-storm, target: storm, pages: 32 }\nrun: { for: 1s }');
  const r = run(yaml);
  assert.is(r.m.principals.storm.exit_status, 0, r.console);
  assert.match(r.console, /bad_lines=0/);
  assert.match(r.console, /done, 0 failed/);
  assert.is(r.m.faults.pf_storm, 1);
  assert.ok(r.runs[0]!.faults! > 864, 'the storm cost faults beyond the undisturbed run\'s 864');
});

test('no writable block range: pager_init refuses (EXO_E_EMPTY), the app says so and fails', () => {
  if (skip()) return;
  const r = run(scenario([{ name: 'ro', arg: 811, caps: '[{ type: block_range, base: 0, size: 4096, rights: r }]' }]));
  assert.match(r.console, /FAIL pager_init: got -3 want 0/);
  assert.is(r.m.principals.ro.state, 'exited');
  assert.ok(r.m.principals.ro.exit_status > 0);
  assert.is(r.m.principals.ro.page_faults, 0);
});

test('a store that does not fit the range: pager_init refuses (EXO_E_BAD_ARG)', () => {
  if (skip()) return;
  // 64 frames -> 192 pages -> 1536 sectors; the range has 1000
  const r = run(scenario([{ name: 'tiny', arg: 6411, caps: '[{ type: block_range, base: 0, size: 1000, rights: rw }]' }]));
  assert.match(r.console, /FAIL pager_init: got -6 want 0/);
  assert.ok(r.m.principals.tiny.exit_status > 0);
});

test.run();
