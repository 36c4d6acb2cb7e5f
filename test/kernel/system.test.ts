// The System runner: how a run is cut into slices (the TUI's frames, headless progress) never
// changes the simulation. Only the per-slice utilisation samples depend on it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';

function runIn(sliceUs: number | null) {
  const s = new System(loadScenario('demo', { for: '6ms' }));
  if (sliceUs === null) s.runToEnd();
  else while (!s.done) s.runSlice(Math.round((sliceUs * s.machine.config.clockHz) / 1e6));
  s.close();
  const report = JSON.stringify(s.report(), (k, v) => (k === 'utilisation' ? undefined : v));
  return { hash: s.machine.stateHash(), report, now: s.machine.now };
}

test('the demo cut into 20, 37, 500 or 1000 us slices ends in the same state and report as headless', () => {
  const headless = runIn(null);
  assert.is(headless.now, 12_000_000, 'ran the whole 6 ms');
  for (const us of [20, 37, 500, 1000]) {
    const r = runIn(us);
    assert.is(r.hash, headless.hash, `state hash with ${us} us slices`);
    assert.is(r.report, headless.report, `report with ${us} us slices`);
  }
});

test.run();
