// The confused-deputy lab, read off the disk after each run: with ambient authority the
// client's attacks land on exactly the ledger sectors it named; with the caller's capability
// none does, each refused for its own reason, while the legitimate requests succeed in both.
// Several parameter sets (none attacks included), so that no constant could pass.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findLab } from '../../apps/labs/index.js';
import { labParameters } from '../../apps/labs/lab.js';
import { guestTools } from '../../kernel/guest-build.js';

let missing = '';
try { guestTools(); } catch (e) { missing = (e as Error).message; }

/** The ledger sectors the ambient attacks name: request k writes [k*n mod L, +n). */
function named(attacks: number, n: number, ledger: number): number {
  const hit = new Set<number>();
  for (let k = 0; k < attacks; k++) for (let j = 0; j < n; j++) { const s = (k * n) % ledger + j; if (s < ledger) hit.add(s); }
  return hit.size;
}

for (const [sets, attacks, n, ledger] of [[[], 3, 8, 64], [['attacks=5', 'sectors=4', 'billing=16'], 5, 4, 16], [['attacks=0', 'billing=8'], 0, 8, 8], [['attacks=4', 'sectors=3', 'billing=100'], 4, 3, 100]] as [string[], number, number, number][]) {
  test(`confused-deputy lab: ${sets.join(' ') || 'the chapter\'s case'}`, () => {
    if (missing) { console.log(`  skipped: ${missing}`); return; }
    const lab = findLab('confused-deputy')!;
    const r = lab.run(labParameters(lab, sets));
    const amb = r.figures[0]!, cap = r.figures[1]!;
    assert.is(amb.measured, named(attacks, n, ledger), 'ambient: the ledger sectors the client named');
    assert.is(amb.breakdown!.with_client_data, amb.measured, 'and they hold the client\'s data');
    assert.is(amb.breakdown!.attacks_succeeded, attacks);
    assert.is(cap.measured, 0, 'capability: no ledger sector touched');
    assert.is(cap.breakdown!.ledger_intact, ledger);
    assert.is(cap.breakdown!.attacks_succeeded, 0);
    const want = (k: number) => Array.from({ length: attacks }, (_, i) => i % 3 === k).filter(Boolean).length;
    assert.is(cap.breakdown!.attacks_refused_bad_arg ?? 0, want(0), 'a sector before the granted range wraps past its end: EXO_E_BAD_ARG');
    assert.is(cap.breakdown!.attacks_refused_perm ?? 0, want(1), 'the deputy\'s own slot: not the caller\'s capability');
    assert.is(cap.breakdown!.attacks_refused_rights ?? 0, want(2), 'the read-only grant: EXO_E_RIGHTS');
    for (const f of [amb, cap]) {
      assert.is(f.breakdown!.legitimate_ok, 2, 'the deputy still does its job');
      assert.is(f.breakdown!.client_area_written, 2 * n);
    }
  });
}

test.run();
