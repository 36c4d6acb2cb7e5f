// Cycles per principal in app, LibOS and kernel (kernel/exo/cycles.ts), and the code ranges
// they are told apart by (kernel/guest-map.ts, in each image's manifest). An app that burns a
// known number of iterations in its own code is app-bound in every placement, its app cycles
// linear in the iterations and its LibOS cycles unchanged; udp-echo on paced traffic spends
// no kernel cycles as a unikernel and some as an exo LibOS and in mono; a core's principals'
// cycles and its unowned ones are its clock; two runs give the same numbers.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGuestApp, buildGuestProgram, buildRawGuest, guestTools, type ImageManifest } from '../../kernel/guest-build.js';
import { parseScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';
import { repoPath } from '../helpers/paths.js';

const outDir = repoPath('build', 'kernel-cycles');
const PLACEMENTS = ['exo', 'unikernel', 'mono'] as const;
type Placement = typeof PLACEMENTS[number];

let missing = '';
try { guestTools(); } catch (e) { missing = (e as Error).message; }

interface Run { p: any; m: any; console: string }

/** One principal `p` running `elf` on core 0 (with NIC queue 0 on `wire`, if given). */
function run(placement: Placement, elf: string, o: { wire?: string; runFor?: string } = {}): Run {
  mkdirSync(outDir, { recursive: true });
  const nic = o.wire === undefined ? '' : `, nic: { queues: 1, wire: "${o.wire}" }`;
  const yaml = `name: cycles\nseed: 1\nmachine: { cores: 1, ram: 64MiB${nic} }\n` +
    `principals:\n  - { name: p, image: ${elf}, placement: ${placement}, cores: [0],${o.wire === undefined ? '' : ' nic_queues: [0],'} memory: 16MiB }\n` +
    `run: { for: ${o.runFor ?? '100ms'} }\n`;
  const s = new System(parseScenario(yaml, join(outDir, 'cycles.yaml'), outDir));
  s.runToEnd();
  const r = s.report();
  const m = r.metrics as any;
  return { p: m.principals.p, m, console: r.console };
}

/** app + libos + kernel + idle of the principal, and the core's unowned cycles, are core 0's clock. */
function sumsToClock(r: Run): void {
  const c = r.p.cycles;
  const sum = c.app + c.libos + c.kernel + c.idle + r.m.kernel.unowned_cycles['0'];
  assert.ok(Math.abs(sum - r.m.cores['0'].cycles) < 0.01, `split ${JSON.stringify(c)} + unowned ${r.m.kernel.unowned_cycles['0']} = ${sum}, core 0 ran ${r.m.cores['0'].cycles}`);
  for (const k of ['app', 'libos', 'kernel', 'idle']) assert.ok(c[k] >= 0, `${k} ${c[k]}`);
}

/** Defined code symbols of an ELF by name (nm). */
function symbols(elf: string): Map<string, number> {
  const r = spawnSync('nm', ['--defined-only', elf], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const out = new Map<string, number>();
  for (const l of r.stdout.split('\n')) {
    const [a, t, n] = l.trim().split(/\s+/);
    if (n !== undefined && /^[tT]$/.test(t!)) out.set(n, parseInt(a!, 16));
  }
  return out;
}

const skip = () => { if (missing) { console.log(`  skipped: ${missing}`); return true; } return false; };

test('the manifest\'s code ranges: the app\'s main is app, the LibOS\'s functions are libos, in every placement', () => {
  if (skip()) return;
  for (const placement of PLACEMENTS) {
    const b = buildGuestApp('udp-echo', placement);
    const man = JSON.parse(readFileSync(b.manifest!, 'utf8')) as ImageManifest;
    assert.ok(man.code.length >= 2, `${placement}: ${JSON.stringify(man.code)}`);
    for (let i = 1; i < man.code.length; i++) assert.ok(man.code[i]!.start >= man.code[i - 1]!.end, `${placement}: ranges overlap`);
    const partAt = (va: number) => man.code.find((r) => va >= r.start && va < r.end)?.part ?? 'none';
    const sym = symbols(b.elf);
    const user = placement === 'mono' ? '__user_' : '';   // mono: the app and its libc are the user side
    assert.is(partAt(sym.get(`${user}main`)!), 'app', `${placement}: main`);
    for (const f of ['memset', 'printf', 'net_udp_recv']) assert.is(partAt(sym.get(`${user}${f}`)!), 'libos', `${placement}: ${user}${f}`);
    if (placement === 'mono') for (const f of ['memset', 'net_udp_recv', '_start']) assert.is(partAt(sym.get(f)!), 'libos', `mono kernel: ${f}`);
    // every function of the image is in some range
    for (const [n, va] of sym) if (!n.startsWith('__') || n.startsWith('__user_')) assert.ok(partAt(va) !== 'none', `${placement}: ${n} at 0x${va.toString(16)} in no range`);
  }
});

test('an app burning iterations in its own code: app >> libos, app linear in the iterations, libos unchanged (every placement)', () => {
  if (skip()) return;
  const N = 100000;
  for (const placement of PLACEMENTS) {
    const at = (n: number) => {
      const r = run(placement, buildGuestProgram(join('test', 'guest', 'cycles', 'burn.c'), placement, { defines: { BURN: n } }).elf);
      assert.is(r.p.state, 'exited', `${placement} BURN=${n}: ${r.console}`);
      assert.is(r.p.exit_status, 0, r.console);
      assert.match(r.console, `burn: ${n} iterations`);
      sumsToClock(r);
      return r.p.cycles;
    };
    const c0 = at(0), c1 = at(N), c2 = at(2 * N);
    const perN = c1.app - c0.app;
    assert.ok(perN >= 3 * N, `${placement}: ${perN} app cycles for ${N} iterations`);
    assert.ok(Math.abs(c2.app - c1.app - perN) <= 4, `${placement}: the second ${N} iterations cost ${c2.app - c1.app}, the first ${perN}`);
    assert.is(c2.libos, c1.libos, `${placement}: the LibOS did the same work`);
    assert.ok(c2.app > 10 * c2.libos, `${placement}: app ${c2.app}, libos ${c2.libos}`);
    assert.ok(c1.libos > 0, `${placement}: memset and printf are the LibOS's`);
    if (placement === 'unikernel') assert.is(c2.kernel, 0, 'a unikernel runs no kernel code');
    else assert.ok(c2.kernel > 0, `${placement}: kernel ${c2.kernel}`);
  }
});

test('a raw image (no manifest) is all app', () => {
  if (skip()) return;
  const r = run('exo', buildRawGuest(join('test', 'guest', 'exo-k', 'sched.c')).elf, { runFor: '5ms' });
  assert.ok(r.p.cycles.app > 0, JSON.stringify(r.p.cycles));
  assert.is(r.p.cycles.libos, 0);
  assert.ok(r.p.cycles.kernel > 0, 'its yields are kernel time');
  sumsToClock(r);
});

test('udp-echo per request: kernel 0 as a unikernel, > 0 as an exo LibOS and in mono; sums are the clock; two runs agree', () => {
  if (skip()) return;
  const ECHOES = 200, INTERVAL = 40000;   // 50/ms at the default profile's 2 GHz
  const wire = `gen:rate=50/ms,size=200,flows=4,count=${ECHOES},port=7`;
  const per: Record<string, any> = {};
  for (const placement of PLACEMENTS) {
    const elf = buildGuestApp('udp-echo', placement, { defines: { RX_MODE: 'NET_RX_POLL' } }).elf;
    const r = run(placement, elf, { wire });
    assert.is(r.p.state, 'exited', r.console);
    assert.is(r.p.requests, ECHOES);
    sumsToClock(r);
    const again = run(placement, elf, { wire });
    assert.equal(again.p.cycles, r.p.cycles, `${placement}: determinism`);
    assert.equal(again.p.cycles_per_request, r.p.cycles_per_request, `${placement}: determinism`);
    const c = per[placement] = r.p.cycles_per_request;
    assert.ok(c.app > 0 && c.libos > 0, `${placement}: ${JSON.stringify(c)}`);
    if (placement !== 'exo') {
      // a partition holds its core throughout: each request's interval is all its own
      const sum = c.app + c.libos + c.kernel + c.idle;
      assert.ok(Math.abs(sum - INTERVAL) < INTERVAL * 1e-3, `${placement}: ${sum} cycles per request, ${INTERVAL} between requests`);
    }
  }
  assert.is(per.unikernel.kernel, 0);
  assert.ok(per.exo.kernel > 0, `exo ${JSON.stringify(per.exo)}`);
  assert.ok(per.mono.kernel > 0, `mono ${JSON.stringify(per.mono)}`);
  // the same app code in each placement costs the same
  for (const p of ['exo', 'mono']) assert.ok(Math.abs(per[p].app - per.unikernel.app) <= 0.05 * per.unikernel.app, `app per request ${p} ${per[p].app}, unikernel ${per.unikernel.app}`);
});

test.run();
