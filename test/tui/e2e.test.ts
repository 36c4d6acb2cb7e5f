// End to end, as a user at a terminal: `exolab` (the built-in demo) in a real tmux pane. Pause
// and resume, narrow the capability panel to refl-ipi, open the fault menu, revoke one of its
// capabilities, see the capability vanish and the core's revocation upcall count rise, quit
// with q. Every step waits for what the screen shows (polling the pane), never a fixed time.
// CI=true is set as a CI runner sets it: a terminal still gets the live screen.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../helpers/paths.js';

const tmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const session = `exolab-e2e-${process.pid}`;

function tm(...args: string[]): string {
  return spawnSync('tmux', args, { encoding: 'utf8' }).stdout ?? '';
}

const screen = () => tm('capture-pane', '-t', session, '-p');
const alive = () => spawnSync('tmux', ['has-session', '-t', session]).status === 0;
const keys = (...k: string[]) => tm('send-keys', '-t', session, ...k);
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Poll the pane until `cond` holds; after `tries` looks, fail with the last screen. */
function waitFor(cond: (s: string) => boolean, what: string, tries = 600): string {
  let s = '';
  for (let k = 0; k < tries; k++) {
    s = screen();
    if (cond(s)) return s;
    pause(50);
  }
  throw new Error(`waiting for ${what}; the screen was:\n${s}`);
}

/** The cores panel's row for core `n`. */
const coreRow = (s: string, n: number) => s.split('\n').find((l) => new RegExp(`^[║│]${n} +\\S`).test(l)) ?? '';
const revocations = (row: string) => Number(/revocation:(\d+)/.exec(row)?.[1] ?? NaN);

test('exolab in tmux: pause, resume, revoke from the fault menu, see it in the panels, quit', () => {
  if (!tmux) { console.log('  skipped: tmux is not installed (CI installs it)'); return; }
  tm('new-session', '-d', '-s', session, '-x', '200', '-y', '60', '-c', repoRoot, `CI=true node dist/tui/cli.js; echo exolab-exited-$?; sleep 30`);
  try {
    waitFor((s) => s.includes('[1] Cores') && s.includes('refl-ipi') && /exolab +demo +[1-9]/.test(s), 'the demo to run');
    keys('p');
    const paused = waitFor((s) => s.includes('PAUSED'), 'the PAUSED badge');
    const at = /exolab +demo +([\d.]+ \w+)/.exec(paused)![1];
    keys('p');
    waitFor((s) => !s.includes('PAUSED') && /exolab +demo +([\d.]+ \w+)/.exec(s)![1] !== at, 'the run to resume');

    // The capability panel shows one principal's tree with the filter.
    // One key at a time, each once the screen shows it took the last (a terminal delivers keys
    // sent together as one chunk, which a user's typing never is).
    keys('/');
    waitFor((s) => s.includes('filter: _'), 'the filter prompt');
    keys('-l', 'refl-ipi');
    waitFor((s) => s.includes('filter: refl-ipi_'), 'the filter text');
    keys('Enter');
    waitFor((s) => !s.includes('filter: refl-ipi_') && s.includes('filter: refl-ipi') && /msi_vector .*vector 66/.test(s),
      'the prompt closed and refl-ipi\'s MSI vector in the capability panel');
    const before = revocations(coreRow(screen(), 2));
    assert.ok(Number.isFinite(before), `core 2's row: ${coreRow(screen(), 2)}`);

    // The fault menu: revoke (the first entry) with refl-ipi as the target.
    keys('f');
    waitFor((s) => s.includes('Inject a fault') && s.includes('target: principal'), 'the fault menu');
    for (let k = 0; k < 4 && !screen().includes('target: principal refl-ipi'); k++) {
      keys('Right');
      pause(100);
    }
    waitFor((s) => s.includes('target: principal refl-ipi'), 'refl-ipi as the target');
    keys('Enter');
    waitFor((s) => /asked refl-ipi for slot \d+ back/.test(s), 'the kernel to take the request');
    keys('Escape');

    // The LibOS gives its vector back: it leaves the tree, and core 2 counts the upcall.
    const after = waitFor((s) => !s.includes('Inject a fault') && s.includes('[5] Capabilities') && s.includes('refl-ipi:') &&
      !/msi_vector .*vector 66/.test(s) && revocations(coreRow(s, 2)) > before,
      'the vector to vanish and the revocation upcall count to rise');
    assert.match(after, /gave back slot \d+ \(type 5\)/, 'the console shows the LibOS giving it back');

    keys('q');
    waitFor((s) => s.includes('exolab-exited-0'), 'exolab to quit with status 0', 200);
  } finally {
    if (alive()) tm('kill-session', '-t', session);
  }
});

test.run();
