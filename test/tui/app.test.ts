// The Ink TUI with ink-testing-library: each panel from a real snapshot, and the keymap (help
// overlay from the same table, pause badge, fault menu injecting through the catalogue, the
// filter, focus, the too-small screen). Tests wait for content; none sleeps a fixed time.

import React from 'react';
import { render } from 'ink-testing-library';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadScenario } from '../../kernel/scenario.js';
import { System, type SystemSnapshot } from '../../kernel/system.js';
import { KEYMAP } from '../../tui/keymap.js';
import { App } from '../../tui/app/App.js';
import { CapsPanel, ChartsPanel, ConsolePanel, CoresPanel, EventLogPanel, IommuPanel, NicPanel } from '../../tui/app/panels.js';
import { LocalSim } from '../../tui/sim/client.js';
import type { FromSim, ToSim } from '../../tui/sim/protocol.js';
import { repoPath } from '../helpers/paths.js';

const h = React.createElement;

/** Poll until `cond` holds for the last frame (bounded by a count of turns, not by host time). */
async function waitFor(get: () => string | undefined, cond: (f: string) => boolean, what: string, turns = 500): Promise<string> {
  for (let k = 0; k < turns; k++) {
    const f = get() ?? '';
    if (cond(f)) return f;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}; last frame:\n${get()}`);
}

function snapshot(scenario: string, ms: string): SystemSnapshot {
  const s = new System(loadScenario(scenario, { for: ms }));
  // Faults go in while the run goes on (one at its end is refused): at nine tenths of it.
  s.runSlice(Math.floor(s.endsAt * 0.9));
  s.inject({ kind: 'ipi-lost', target: 2, params: {}, origin: 'test' });
  s.runToEnd();
  return s.snapshot();
}

/** A bare ring-0 image on 4 cores (no kernel), and the built-in demo under the exokernel. */
const snap = snapshot(repoPath('test', 'tui', 'fixtures', 'bare-demo.yaml'), '1ms');
const demo = snapshot('demo', '5ms');
const frame = { width: 100, height: 12, focused: false, mono: true };

test('cores panel: a row per core with principal, EIP, instruction, IPIs and utilisation', () => {
  const { lastFrame } = render(h(CoresPanel, { s: snap, ...frame }));
  const f = lastFrame()!;
  assert.match(f, /\[1\] Cores/);
  for (let k = 0; k < 4; k++) assert.match(f, new RegExp(`\\n.${k} +bare +(running|halted) +0 +[0-9a-f]{8} `));
  assert.match(f, /IPI s\/r/);
  assert.match(f, /%/);
});

test('cores panel under the exokernel: each core\'s principal, its upcalls and crossings', () => {
  const f = render(h(CoresPanel, { s: demo, ...frame, width: 140 })).lastFrame()!;
  assert.match(f, /\n.0 +refl-exo /);
  assert.match(f, /\n.1 +refl-uni /);
  assert.match(f, /\n.2 +refl-ipi /);
  const exoCrossings = demo.cores[0]!.crossings, uniCrossings = demo.cores[1]!.crossings;
  assert.ok(exoCrossings > 0 && uniCrossings === 0, `crossings ${exoCrossings} / ${uniCrossings}`);
});

test('NIC panel: a row per queue with rings, rates, drops and fence state', () => {
  const f = render(h(NicPanel, { s: snap, ...frame })).lastFrame()!;
  assert.match(f, /\[2\] NIC rings/);
  assert.match(f, /link up/);
  assert.match(f, /\n.3 +off +off +0 +0 +0 +off/);
});

test('IOMMU panel: translation state, domains and faults', () => {
  const f = render(h(IommuPanel, { s: snap, ...frame })).lastFrame()!;
  assert.match(f, /translation off +domains 0 +faults 0/);
  const k = render(h(IommuPanel, { s: demo, ...frame })).lastFrame()!;
  assert.match(k, /translation on +domains [1-9]/, 'the kernel gives each queue owner a domain');
});

test('charts panel: braille drawn by blessed-contrib\'s canvas', () => {
  const f = render(h(ChartsPanel, { s: snap, ...frame })).lastFrame()!;
  assert.match(f, /\[4\] Charts/);
  assert.match(f, /[\u2801-\u28ff]/);
});

test('capabilities panel: empty without the kernel, a derivation tree with it', () => {
  assert.match(render(h(CapsPanel, { s: snap, ...frame })).lastFrame()!, /no exokernel in this run/);
  const withCaps: SystemSnapshot = {
    ...snap, kernel: true,
    caps: [{ principal: 'refl', tree: [{ id: 1, type: 'Untyped', rights: 'rwmg', label: '16MiB', children: [{ id: 4, type: 'Frame', rights: 'rw', label: '', children: [] }] }] }],
  };
  const f = render(h(CapsPanel, { s: withCaps, ...frame })).lastFrame()!;
  assert.match(f, /refl:/);
  assert.match(f, /#1 Untyped rwmg 16MiB/);
  assert.match(f, /└ #4 Frame rw/);
  const k = render(h(CapsPanel, { s: demo, ...frame, height: 30 })).lastFrame()!;
  assert.match(k, /refl-exo:/);
  assert.match(k, /untyped/);
  assert.match(k, /frame/, 'frames carved from the untyped show as its children');
});

test('event log and console panels', () => {
  const ev = render(h(EventLogPanel, { s: snap, filter: '', ...frame })).lastFrame()!;
  assert.match(ev, /booted bare-demo\.c/);
  assert.match(ev, /ipi-lost 2: the next 1 IPI\(s\) to core 2 will be lost/);
  const filtered = render(h(EventLogPanel, { s: snap, filter: 'boot', ...frame })).lastFrame()!;
  assert.match(filtered, /filter: boot/);
  assert.not.match(filtered, /ipi-lost/);
  assert.match(render(h(ConsolePanel, { s: snap, ...frame })).lastFrame()!, /bare-demo: 4 cores/);
});

// ink-testing-library's stdout is 100 columns wide.
function app(columns = 100, rows = 40) {
  const sim = new LocalSim();
  const r = render(h(App, { sim, start: { scenario: 'ipi-ring' }, size: { columns, rows }, mono: true }));
  return { sim, ...r };
}

/** Let Ink's effects (its stdin listener) run after the first frame: a few event-loop turns. */
async function settle(): Promise<void> {
  for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
}

const key = { esc: '\x1b', tab: '\t', shiftTab: '\x1b[Z', down: '\x1b[B', right: '\x1b[C', enter: '\r' };

test('the app: snapshots arrive; p shows PAUSED and tells the simulation; s steps', async () => {
  const { sim, lastFrame, stdin, unmount } = app();
  sim.frame();
  await waitFor(lastFrame, (f) => f.includes('[1] Cores') && f.includes('ipi-ring'), 'the first snapshot');
  await settle();
  stdin.write('p');
  await waitFor(lastFrame, (f) => f.includes('PAUSED'), 'the PAUSED badge');
  assert.ok(sim.sent.some((m) => m.type === 'pause' && m.paused));
  const before = /ipi-ring +([\d.]+ \w+)/.exec(lastFrame()!)![1];
  stdin.write('s');
  sim.frame();
  await waitFor(lastFrame, (f) => /ipi-ring +([\d.]+ \w+)/.exec(f)![1] !== before, 'a step of simulated time');
  stdin.write('p');
  await waitFor(lastFrame, (f) => !f.includes('PAUSED'), 'the badge to go');
  unmount();
});

test('the app: ? shows every binding of the keymap table; Esc closes it', async () => {
  const { sim, lastFrame, stdin, unmount } = app();
  sim.frame();
  await waitFor(lastFrame, (f) => f.includes('[1] Cores'), 'the first snapshot');
  await settle();
  stdin.write('?');
  const f = await waitFor(lastFrame, (x) => x.includes('Keys'), 'the help overlay');
  for (const b of KEYMAP) assert.ok(f.includes(b.keys) && f.includes(b.description.slice(0, 20)), b.keys);
  stdin.write(key.esc);
  await waitFor(lastFrame, (x) => !x.includes('Keys') && x.includes('[1] Cores'), 'the panels again');
  unmount();
});

// Regression: keys a terminal delivers as one chunk ("++", two Tabs) were ignored.
test('the app: keys that arrive together each count: ++ is two speed steps, two Tabs two panels', async () => {
  const { sim, lastFrame, stdin, unmount } = app();
  sim.frame();
  await waitFor(lastFrame, (f) => f.includes('[1] Cores') && f.includes('20 us/frame'), 'the first snapshot at 20 us/frame');
  await settle();
  stdin.write('++');
  await waitFor(lastFrame, (f) => f.includes('100 us/frame'), 'two steps up: 50 then 100 us/frame');
  stdin.write('\t\t');
  await waitFor(lastFrame, (f) => f.includes('[3] IOMMU  |'), 'focus moved two panels, to [3]');
  unmount();
});

test('the app: L opens the Labs view; Enter runs the chosen lab and shows its figures', async () => {
  const { sim, lastFrame, stdin, unmount } = app(100, 40);
  sim.frame();
  await waitFor(lastFrame, (f) => f.includes('[1] Cores'), 'the first snapshot');
  await settle();
  stdin.write('L');
  await waitFor(lastFrame, (f) => f.includes('Labs: the chapter') && f.includes('revocation') && f.includes('fault-overhead'), 'the Labs view');
  stdin.write(key.down);
  await waitFor(lastFrame, (f) => /fault-overhead/.test(f), 'the cursor on fault-overhead');
  stdin.write(key.enter);
  const f = await waitFor(lastFrame, (x) => x.includes('lab fault-overhead') && x.includes('O_fault: measured'), 'the lab\'s figures', 5000);
  assert.match(f, /chapter 0\.4 us/);
  assert.ok(sim.sent.some((m) => m.type === 'lab' && m.name === 'fault-overhead'));
  stdin.write(key.esc);
  await waitFor(lastFrame, (x) => x.includes('[1] Cores'), 'back to the panels');
  unmount();
});

test('the app: f opens the fault menu; a fault key chooses it, the same key again injects it; the outcome is shown', async () => {
  const { sim, lastFrame, stdin, unmount } = app();
  sim.frame();
  await waitFor(lastFrame, (f) => f.includes('[1] Cores'), 'the first snapshot');
  await settle();
  stdin.write('f');
  await waitFor(lastFrame, (f) => f.includes('Inject a fault') && f.includes('lose an IPI'), 'the fault menu');
  // The entry under the cursor as the menu opens is chosen, not armed: its key chooses it.
  const first = /> (\S) /.exec(lastFrame()!)![1]!;
  stdin.write(first);
  await settle();
  assert.not.ok(sim.sent.some((m) => m.type === 'fault'), `the first key (${first}) only chose its fault`);
  stdin.write('l');
  await waitFor(lastFrame, (f) => /> l +lose an IPI/.test(f) && f.includes('target: core 0'), 'ipi-lost chosen, its target shown');
  assert.not.ok(sim.sent.some((m) => m.type === 'fault'), 'choosing injects nothing');
  stdin.write(key.right);
  await waitFor(lastFrame, (f) => f.includes('target: core 1'), 'the next target');
  stdin.write('l');
  await waitFor(lastFrame, (f) => f.includes('ipi-lost: the next 1 IPI(s) to core 1 will be lost'), 'the outcome');
  assert.ok(sim.sent.some((m) => m.type === 'fault' && m.request.kind === 'ipi-lost' && m.request.target === 1));
  stdin.write('k');
  await waitFor(lastFrame, (f) => /> k /.test(f) && f.includes('target: none available (principal)'), 'kill chosen: no principal on a bare image');
  stdin.write('k');
  await waitFor(lastFrame, (f) => f.includes('kill: refused'), 'a kernel fault refused on a bare image');
  stdin.write(key.esc);
  await waitFor(lastFrame, (f) => !f.includes('Inject a fault'), 'the menu to close');
  unmount();
});

test('the app: Tab moves focus, digits jump, / filters the event log', async () => {
  const { sim, lastFrame, stdin, unmount } = app();
  sim.frame();
  await waitFor(lastFrame, (f) => f.includes('[1] Cores'), 'the first snapshot');
  await settle();
  stdin.write(key.tab);
  await waitFor(lastFrame, (f) => f.split('\n').at(-1)!.startsWith('[2] NIC rings'), 'focus on the NIC');
  stdin.write('7');
  await waitFor(lastFrame, (f) => f.split('\n').at(-1)!.startsWith('[7] Console'), 'focus on the console');
  stdin.write('/');
  await waitFor(lastFrame, (f) => f.includes('filter: _'), 'the filter prompt');
  stdin.write('b');
  stdin.write('o');
  await waitFor(lastFrame, (f) => f.includes('filter: bo_'), 'typed text');
  stdin.write(key.enter);
  await waitFor(lastFrame, (f) => f.includes('[6] Event log  filter: bo'), 'the filter on the panel');
  unmount();
});

test('the app: a too-small terminal says the size it has and needs', () => {
  const { lastFrame } = app(60, 20);
  assert.match(lastFrame()!, /The terminal is 60x20; exolab needs at least 80x24/);
});

test('the app: bad input from the simulation ends it with exit code 2 and the message', async () => {
  const sim = new LocalSim();
  let code = -1, message = '';
  const r = render(h(App, { sim, start: { scenario: 'no-such-scenario' }, size: { columns: 100, rows: 30 }, mono: true, onExit: (c: number, m?: string) => { code = c; message = m ?? ''; } }));
  await waitFor(() => String(code), (c) => c === '2', 'exit code 2');
  assert.match(message, /no-such-scenario: no such scenario/);
  r.unmount();
});

test('the app: a snapshot taken before the simulation saw p does not undo the pause on the screen', async () => {
  // A worker's snapshot can cross the user's key: it says "running" because it was taken before
  // the pause arrived. The screen keeps PAUSED, and the next p resumes (it must not pause again).
  const inner = new LocalSim();
  let held: FromSim | null = null;
  const listeners: ((m: FromSim) => void)[] = [];
  inner.onMessage((m) => { if (m.type === 'snapshot' && held === null) held = m; });
  const sim = {
    onMessage: (cb: (m: FromSim) => void) => { listeners.push(cb); return inner.onMessage(cb); },
    send: (m: ToSim) => inner.send(m),
    close: () => inner.close(),
  };
  const r = render(h(App, { sim, start: { scenario: 'ipi-ring' }, size: { columns: 100, rows: 40 }, mono: true }));
  inner.frame();
  await waitFor(r.lastFrame, (f) => f.includes('[1] Cores') && held !== null, 'the first snapshot');
  await settle();
  r.stdin.write('p');
  await waitFor(r.lastFrame, (f) => f.includes('PAUSED'), 'the PAUSED badge');
  // The stale one arrives now, as a worker's would: taken before the pause.
  const stale = held as unknown as Extract<FromSim, { type: 'snapshot' }>;
  assert.is(stale.paused, false);
  for (const cb of listeners) cb(stale);
  await settle();
  assert.match(r.lastFrame()!, /PAUSED/, 'the stale snapshot left the badge alone');
  r.stdin.write('p');
  await waitFor(r.lastFrame, (f) => !f.includes('PAUSED'), 'the run to resume');
  const pauses = inner.sent.filter((m) => m.type === 'pause').map((m) => (m.type === 'pause' ? m.paused : null));
  assert.equal(pauses, [true, false]);
  r.unmount();
});

test.run();
