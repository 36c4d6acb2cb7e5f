// The TUI's simulation driver: frames, pause, and the worker's wait for the TUI to have drawn
// the last snapshot before it posts the next.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimDriver } from '../../../tui/sim/driver.js';
import type { FromSim } from '../../../tui/sim/protocol.js';
import { SPEEDS_US } from '../../../tui/keymap.js';

const START = { type: 'start', start: { scenario: 'demo', for: '50ms' } } as const;
const SPEED_100US = SPEEDS_US.indexOf(100);

function driver(waitForDrawn: boolean) {
  const got: FromSim[] = [];
  const d = new SimDriver((m) => got.push(m), { waitForDrawn });
  d.handle(START);
  d.handle({ type: 'speed', index: SPEED_100US });
  const snapshots = () => got.filter((m) => m.type === 'snapshot').map((m) => (m.type === 'snapshot' ? m.snapshot.now : 0));
  return { d, got, snapshots };
}

test('without the wait, every frame that ran posts a snapshot, each later than the last', () => {
  const { d, snapshots } = driver(false);
  for (let k = 0; k < 3; k++) d.frame();
  const s = snapshots();
  assert.is(s.length, 3);
  assert.ok(s[0]! < s[1]! && s[1]! < s[2]!, `snapshot times ${s}`);
  d.handle({ type: 'quit' });
});

test('with the wait, frames run on but the next snapshot waits for "drawn", and is then the newest', () => {
  const { d, snapshots } = driver(true);
  d.frame(); d.frame(); d.frame();
  assert.is(snapshots().length, 1, 'one snapshot until the TUI says it drew it');
  d.handle({ type: 'drawn' });
  d.frame();
  const s = snapshots();
  assert.is(s.length, 2);
  // Four frames of 100 us ran by the second snapshot (200000 cycles each at 2 GHz).
  assert.is(s[1]! - s[0]!, 3 * 200_000, `snapshot times ${s}`);
  d.handle({ type: 'quit' });
});

test('paused, a frame runs nothing and posts nothing new', () => {
  const { d, snapshots } = driver(false);
  d.frame();
  d.handle({ type: 'pause', paused: true });
  d.frame();
  d.frame();
  const s = snapshots();
  assert.is(s.length, 2, 'the pause itself is posted once');
  assert.is(s[1], s[0]);
  d.handle({ type: 'quit' });
});

test('a step at max speed runs the longest paced slice, a fixed amount of simulated time', () => {
  const { d, snapshots } = driver(false);
  d.handle({ type: 'speed', index: SPEEDS_US.length - 1 });
  d.frame();
  d.handle({ type: 'step' });
  d.frame();
  const s = snapshots();
  assert.is(s.at(-1)! - s.at(-2)!, (SPEEDS_US[SPEEDS_US.length - 2]! * 2e9) / 1e6, `snapshot times ${s}`);
  d.handle({ type: 'quit' });
});

test.run();
