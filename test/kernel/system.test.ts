// The System runner: how a run is cut into slices (the TUI's frames, headless progress) never
// changes the simulation (only the per-slice utilisation samples depend on it); faults held on
// a target end only when nothing holds them longer.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadScenario, parseScenario } from '../../kernel/scenario.js';
import { System, metricAt } from '../../kernel/system.js';
import { repoPath } from '../helpers/paths.js';

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

/** The bare 4-core demo (no kernel) with `faults` instead of its own, run for 8 ms. */
function bareWith(faults: string[]) {
  const file = repoPath('test', 'tui', 'fixtures', 'bare-demo.yaml');
  const text = readFileSync(file, 'utf8').replace(/^faults:\n(  - .*\n)+/m, `faults:\n${faults.map((f) => `  - ${f}\n`).join('')}`)
    .replace(/^expect:\n(  - .*\n)+/m, '');
  const s = new System(parseScenario(text, file, dirname(file), { for: '8ms' }));
  s.runToEnd();
  s.close();
  const fenced = metricAt(s.report().metrics, 'nic.queues.0.fenced');
  const resumed = s.snapshot().events.filter((e) => e.text === 'NIC queue 0 resumed').map((e) => e.at / 2e6);
  return { fenced, resumed };
}

test('nic-stall: a timed stall ending does not lift a permanent one; overlapping timed ones end at the latest', () => {
  assert.equal(bareWith(['{ at: 1ms, kind: nic-stall, target: 0 }']), { fenced: 1, resumed: [] });
  assert.equal(bareWith(['{ at: 1ms, kind: nic-stall, target: 0 }', '{ at: 2ms, kind: nic-stall, target: 0, for: 1ms }']), { fenced: 1, resumed: [] });
  assert.equal(bareWith(['{ at: 1ms, kind: nic-stall, target: 0, for: 5ms }', '{ at: 2ms, kind: nic-stall, target: 0, for: 1ms }']), { fenced: 0, resumed: [6] });
  assert.equal(bareWith(['{ at: 1ms, kind: nic-stall, target: 0, for: 1ms }']), { fenced: 0, resumed: [2] });
});

test('a fault after the run has ended is refused (the report is final)', () => {
  const s = new System(loadScenario('demo', { for: '1ms' }));
  s.runToEnd();
  const out = s.inject({ kind: 'ipi-lost', target: 2, params: {}, origin: 'test' });
  s.close();
  assert.is(out.applied, false);
  assert.match(out.detail, /the run has ended/);
});

test('dma-bitflip under the IOMMU: the bit flips in the buffer the queue\'s next RX descriptor names, found through the I/O page tables', () => {
  const file = repoPath('apps', 'scenarios', 'demo.yaml');
  const text = readFileSync(file, 'utf8').replace(/^faults:\n/m, 'faults:\n  - { at: 1ms, kind: dma-bitflip, target: 0, bit: 12 }\n');
  const s = new System(parseScenario(text, file, dirname(file), { for: '2ms' }));
  s.runToEnd();
  s.close();
  const f = s.report().faults.find((x) => x.kind === 'dma-bitflip')!;
  assert.is(f.applied, true, f.detail);
  const pa = Number(/bit 4 of physical (0x[0-9a-f]+) flipped/.exec(f.detail)?.[1]);
  // refl-exo owns queue 0; its memory is the first principal's 16 MiB above the kernel's.
  assert.ok(pa >= 0x800000 && pa < 0x800000 + (16 << 20), `flipped at 0x${pa.toString(16)}: ${f.detail}`);
});

test('a principal killed while the kernel waits on its disk I/O shows as killed on its core until the wait is over', () => {
  const s = new System(loadScenario('demo', { for: '20ms' }));
  for (let k = 0; k < 400 && !s.snapshot().cores[3]!.waitingOn; k++) s.runSlice(20_000);
  assert.ok(s.snapshot().cores[3]!.waitingOn, 'the pager waits on its disk at some point');
  assert.is(s.inject({ kind: 'kill', target: 'pager', params: {}, origin: 'test' }).applied, true);
  assert.is(s.snapshot().cores[3]!.principal, 'pager (killed)');
  s.runSlice(2_000_000);
  const c = s.snapshot().cores[3]!;
  s.close();
  assert.equal([c.principal, c.waitingOn], ['-', null]);
});

test.run();
