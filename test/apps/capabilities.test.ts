// The capabilities lab: no invariant is broken by random operation sequences on the real
// CapSystem (the chapter's 0), for the default parameters and others; the same checker finds
// violations in deliberately broken capability systems, so its 0 is a measurement; and the live
// run on the exokernel takes a shared subtree with its mappings, by exo-call and by the revoke
// fault's repossession.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { capSequences, INVARIANTS } from '../../apps/labs/capabilities.js';
import { findLab } from '../../apps/labs/index.js';
import { labParameters } from '../../apps/labs/lab.js';
import { ERR, RIGHTS_ALL } from '../../kernel/abi.js';
import { CapSystem } from '../../kernel/caps/cap-system.js';
import { guestTools } from '../../kernel/guest-build.js';
import type { OpResult } from '../../kernel/caps/cost.js';

let missing = '';
try { guestTools(); } catch (e) { missing = (e as Error).message; }

for (const o of [{ sequences: 200, ops: 60, principals: 5, seed: 1 }, { sequences: 40, ops: 150, principals: 2, seed: 99 }, { sequences: 30, ops: 40, principals: 12, seed: 5 }]) {
  test(`random sequences keep every invariant: ${JSON.stringify(o)}`, () => {
    const r = capSequences(o);
    assert.is(r.operations, o.sequences * o.ops);
    for (const inv of INVARIANTS) {
      assert.is(r.tallies[inv].violations, 0, `${inv}: ${r.tallies[inv].examples.join('; ')}`);
      assert.ok(r.tallies[inv].checks > 0, `${inv} was checked`);
    }
  });
}

/** A revoke that deletes only the direct children: their own children move up and survive. */
class ShallowRevoke extends CapSystem {
  override revoke(principal: number, slot: number): OpResult {
    const c = this.lookup(principal, slot, null, 0);
    if (typeof c === 'number') return super.revoke(principal, slot);
    const kids = [...c.children];
    for (const k of kids) this.delete(k.principal, k.slot);
    return { value: kids.length, work: super.revoke(principal, 0xffffffff).work };
  }
}
/** A mint that hands out every right. */
class GenerousMint extends CapSystem {
  override mint(principal: number, src: number, dst: number, rights: number, badge: number): OpResult {
    const r = super.mint(principal, src, dst, rights, badge);
    const c = r.value === ERR.OK ? this.lookup(principal, dst >>> 0, null, 0) : ERR.EMPTY;
    if (typeof c !== 'number') (c as { rights: number }).rights = RIGHTS_ALL;
    return r;
  }
}

test('the checker finds what a broken capability system breaks (so its zeros are measured)', () => {
  const o = { sequences: 60, ops: 60, principals: 4, seed: 3 };
  const shallow = capSequences(o, () => new ShallowRevoke());
  assert.ok(shallow.tallies.revocation.violations > 0, 'a shallow revoke leaves descendants');
  const generous = capSequences(o, () => new GenerousMint());
  assert.ok(generous.tallies.attenuation.violations > 0, 'a mint that adds rights');
  assert.ok(generous.tallies.type_safety.violations > 0, 'rights a type does not have');
});

test('capabilities lab: zeros with checks counted, and the live subtree gone by exo-call and by repossession', () => {
  if (missing) { console.log(`  skipped: ${missing}`); return; }
  const lab = findLab('capabilities')!;
  const r = lab.run(labParameters(lab, ['sequences=20', 'ops=30']));
  for (const inv of INVARIANTS) {
    const f = r.figures.find((x) => x.name.startsWith(inv.replace('_', ' ')))!;
    assert.is(f.measured, 0);
    assert.ok(f.breakdown!.checks! > 0);
    assert.is(f.breakdown!.operations, 600);
  }
  const rev = r.figures.find((x) => x.name.startsWith('live EXO_CAP_REVOKE'))!;
  assert.is(rev.measured, 0);
  assert.equal(rev.breakdown, { removed: 3, spaces: 2, bindings_undone: 2, owner_mapping_kept: 1 });
  const rep = r.figures.find((x) => x.name.startsWith('live revoke fault'))!;
  assert.is(rep.measured, 0);
  assert.equal(rep.breakdown, { subtree: 3, bindings_before: 2, bindings_left: 0, repossessed: 1, bindings_at_end: 0 });
});

test.run();
