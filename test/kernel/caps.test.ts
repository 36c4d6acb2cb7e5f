// The capability system, operation by operation: every success path and every error code of
// createSpace, createRoot, mint, grant, delete, revoke, retype, inspect, lookup, bind, unbind
// and removePrincipal; the work each reports; the change events and the inspection views.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CAP, CAP_WORD, ERR, EXO_DEFAULT_SLOTS, EXO_SLOT_NONE, RIGHT, RIGHTS_ALL, capWordDecode, fieldGet } from '../../kernel/abi.js';
import type { Binding } from '../../kernel/caps/binding.js';
import type { Cap } from '../../kernel/caps/cap.js';
import { CapSystem, MAX_SLOTS } from '../../kernel/caps/cap-system.js';
import { capCosts, workCycles } from '../../kernel/caps/cost.js';
import { capCounts, principalTree, treeViews } from '../../kernel/caps/inspect.js';
import { loadProfile } from '../../machine/profile.js';

const PAGE = 4096;
const { READ: R, WRITE: W, MAP: M, DMA: D, GRANT: G } = RIGHT;

/** Two principals (1 and 2) and a 64-page Untyped root in principal 1's slot 0. */
function setup(): CapSystem {
  const s = new CapSystem();
  assert.is(s.createSpace(1).value, ERR.OK);
  assert.is(s.createSpace(2, 8).value, ERR.OK);
  assert.is(s.createRoot(1, { type: CAP.UNTYPED, base: 0x100000, size: 64 * PAGE }).value, 0);
  return s;
}

function cap(s: CapSystem, p: number, slot: number): Cap {
  const c = s.lookup(p, slot, null, 0);
  assert.type(c, 'object', `no capability at ${p}:${slot}`);
  return c as Cap;
}

/** A binding under `caps` whose undo counts into `undone`. */
function bindCounted(s: CapSystem, caps: Cap | Cap[], undone: string[], desc: string): Binding {
  const b = s.bind(caps, { kind: 'pte', desc, undo: () => undone.push(desc) });
  assert.type(b, 'object');
  return b as Binding;
}

const GARBAGE = [NaN, -0.5, 1.5, 2 ** 32, -(2 ** 31) - 1, Infinity, -Infinity, 2 ** 53];

// ---- spaces and roots ------------------------------------------------------------------

test('createSpace: default size, EXISTS twice, BAD_ARG for garbage ids and sizes', () => {
  const s = new CapSystem();
  assert.is(s.createSpace(3).value, ERR.OK);
  assert.is(s.space(3)!.size, EXO_DEFAULT_SLOTS);
  assert.is(s.createSpace(3).value, ERR.EXISTS);
  for (const g of [...GARBAGE, -1]) assert.is(s.createSpace(g).value, ERR.BAD_ARG);
  for (const g of [...GARBAGE, 0, MAX_SLOTS + 1]) assert.is(s.createSpace(4, g).value, ERR.BAD_ARG);
  assert.equal(s.principals(), [3]);
});

test('createRoot: every type, lowest free or chosen slot, rights default to the type\'s', () => {
  const s = new CapSystem();
  s.createSpace(0);
  const roots = [
    { type: CAP.UNTYPED, base: 0, size: 16 * PAGE },
    { type: CAP.FRAME, base: 0xfee00000, size: PAGE },
    { type: CAP.CORE_SLICE, base: 1 },
    { type: CAP.DEVICE_QUEUE, base: 0x00010002 },
    { type: CAP.MSI_VECTOR, base: 40 },
    { type: CAP.DMA_DOMAIN, base: 3 },
    { type: CAP.UART, base: 0 },
  ];
  roots.forEach((r, i) => assert.is(s.createRoot(0, r).value, i));
  assert.is(cap(s, 0, 2).rights, R | RIGHT.EXECUTE | G);
  assert.is(s.createRoot(0, { type: CAP.CORE_SLICE, base: 2, rights: RIGHT.EXECUTE, slot: 9 }).value, 9);
  assert.is(cap(s, 0, 9).rights, RIGHT.EXECUTE);
  assert.is(s.createRoot(0, { type: CAP.CORE_SLICE, base: 3 }).value, 7);
  assert.is([...s.trees()].length, 9);
});

test('createRoot errors: NO_PRINCIPAL, BAD_ARG, BAD_SLOT, SLOT_FULL, NO_MEMORY, OVERLAP, EXISTS', () => {
  const s = new CapSystem();
  s.createSpace(0, 4);
  assert.is(s.createRoot(5, { type: CAP.UART, base: 0 }).value, ERR.NO_PRINCIPAL);
  for (const type of [CAP.NULL, 99, NaN, -1]) assert.is(s.createRoot(0, { type, base: 0 }).value, ERR.BAD_ARG);
  assert.is(s.createRoot(0, { type: CAP.UNTYPED, base: 100, size: PAGE }).value, ERR.BAD_ARG);
  assert.is(s.createRoot(0, { type: CAP.UNTYPED, base: 0, size: 0 }).value, ERR.BAD_ARG);
  assert.is(s.createRoot(0, { type: CAP.UNTYPED, base: 0xfffff000, size: 2 * PAGE }).value, ERR.BAD_ARG);
  assert.is(s.createRoot(0, { type: CAP.MSI_VECTOR, base: 5 }).value, ERR.BAD_ARG);
  assert.is(s.createRoot(0, { type: CAP.UART, base: 0, rights: RIGHT.MAP }).value, ERR.BAD_ARG);
  assert.is(s.createRoot(0, { type: CAP.UART, base: 0, slot: 4 }).value, ERR.BAD_SLOT);
  assert.is(s.createRoot(0, { type: CAP.UNTYPED, base: 0x10000, size: 4 * PAGE }).value, 0);
  assert.is(s.createRoot(0, { type: CAP.UART, base: 0, slot: 0 }).value, ERR.SLOT_FULL);
  assert.is(s.createRoot(0, { type: CAP.FRAME, base: 0x13000, size: 2 * PAGE }).value, ERR.OVERLAP);
  assert.is(s.createRoot(0, { type: CAP.UART, base: 0 }).value, 1);
  assert.is(s.createRoot(0, { type: CAP.UART, base: 0 }).value, ERR.EXISTS);
  assert.is(s.createRoot(0, { type: CAP.UART, base: 1 }).value, 2);
  assert.is(s.createRoot(0, { type: CAP.UART, base: 2 }).value, 3);
  assert.is(s.createRoot(0, { type: CAP.UART, base: 3 }).value, ERR.NO_MEMORY);
});

test('a root range or device index is free again once its last capability is gone', () => {
  const s = new CapSystem();
  s.createSpace(0);
  s.createRoot(0, { type: CAP.UNTYPED, base: 0, size: 2 * PAGE });
  s.createRoot(0, { type: CAP.MSI_VECTOR, base: 33 });
  assert.is(s.objects, 2);
  s.delete(0, 0);
  s.delete(0, 1);
  assert.is(s.objects, 0);
  assert.is([...s.trees()].length, 0);
  assert.is(s.createRoot(0, { type: CAP.FRAME, base: PAGE, size: PAGE }).value, 0);
  assert.is(s.createRoot(0, { type: CAP.MSI_VECTOR, base: 33 }).value, 1);
});

// ---- mint ---------------------------------------------------------------------------------

test('mint: a child with a subset of the rights; the badge is set once and inherited', () => {
  const s = setup();
  assert.is(s.mint(1, 0, 5, R | W | G, 0).value, ERR.OK);
  const parent = cap(s, 1, 0), child = cap(s, 1, 5);
  assert.is(child.parent, parent);
  assert.is(child.object, parent.object);
  assert.is(child.rights, R | W | G);
  assert.is(s.mint(1, 5, 6, R, 0x77).value, ERR.OK);
  assert.is(cap(s, 1, 6).badge, 0x77);
  assert.is(s.mint(1, 6, 7, R, 0).value, ERR.OK);
  assert.is(cap(s, 1, 7).badge, 0x77, 'badge 0 keeps the source\'s');
  assert.is(s.mint(1, 6, 8, R, 0x78).value, ERR.PERM, 'a badged capability cannot be rebadged');
  assert.is(s.mint(1, 6, 8, R, 0x77).value, ERR.PERM);
  assert.is(s.mint(1, 5, 8, 0, 0).value, ERR.OK, 'no rights at all is a subset too');
  assert.is(s.mint(1, 0, 9, R, 0xffffffff).value, ERR.OK);
  assert.is(s.mint(1, 0, 10, R, -1).value, ERR.OK, 'a signed register is the same badge');
  assert.is(cap(s, 1, 10).badge, 0xffffffff);
});

test('mint errors, in decode order', () => {
  const s = setup();
  s.mint(1, 0, 1, R, 0);
  assert.is(s.mint(9, 0, 2, R, 0).value, ERR.NO_PRINCIPAL);
  assert.is(s.mint(1, EXO_DEFAULT_SLOTS, 2, R, 0).value, ERR.BAD_SLOT);
  assert.is(s.mint(1, 3, 2, R, 0).value, ERR.EMPTY);
  assert.is(s.mint(1, 0, 1, R, 0).value, ERR.SLOT_FULL);
  assert.is(s.mint(1, 0, 0, R, 0).value, ERR.SLOT_FULL);
  assert.is(s.mint(1, 0, EXO_SLOT_NONE, R, 0).value, ERR.BAD_SLOT, 'mint has no "lowest free"');
  assert.is(s.mint(1, 1, 2, R | W, 0).value, ERR.RIGHTS);
  assert.is(s.mint(1, 0, 2, 0x40, 0).value, ERR.BAD_ARG);
  assert.is(s.mint(1, 0, 2, -1, 0).value, ERR.BAD_ARG);
  for (const g of GARBAGE) {
    assert.is(s.mint(1, g, 2, R, 0).value, ERR.BAD_SLOT);
    assert.is(s.mint(1, 0, g, R, 0).value, ERR.BAD_SLOT);
    assert.is(s.mint(1, 0, 2, g, 0).value, ERR.BAD_ARG);
    assert.is(s.mint(1, 0, 2, R, g).value, ERR.BAD_ARG);
  }
  assert.is(s.space(1)!.used, 2, 'no error changed anything');
});

// ---- grant ---------------------------------------------------------------------------------

test('grant: needs GRANT, lands in the target\'s lowest free slot, returns it', () => {
  const s = setup();
  s.createRoot(2, { type: CAP.UART, base: 0 });
  assert.is(s.grant(1, 0, 2, R | W, 5).value, 1);
  const given = cap(s, 2, 1);
  assert.is(given.parent, cap(s, 1, 0));
  assert.is(given.badge, 5);
  assert.is(given.rights, R | W);
  assert.is(s.grant(2, 1, 1, R, 0).value, ERR.RIGHTS, 'the child lacks GRANT');
  assert.is(s.grant(1, 0, 1, R, 0).value, 1, 'to oneself is allowed');
  assert.is(s.grant(1, 0, -2 >>> 0, R, 0).value, ERR.NO_PRINCIPAL);
  assert.is(s.grant(1, 0, 2, 0x80, 0).value, ERR.BAD_ARG);
  s.mint(1, 0, 9, R | G, 3);
  assert.is(s.grant(1, 9, 2, W, 0).value, ERR.RIGHTS);
  assert.is(s.grant(1, 9, 2, R, 4).value, ERR.PERM);
  assert.is(s.grant(7, 0, 2, R, 0).value, ERR.NO_PRINCIPAL);
  assert.is(s.grant(1, 4, 2, R, 0).value, ERR.EMPTY);
  for (let i = 2; i < 8; i++) assert.is(s.grant(1, 0, 2, R, 0).value, i);
  assert.is(s.grant(1, 0, 2, R, 0).value, ERR.NO_MEMORY);
  s.delete(2, 4);
  assert.is(s.grant(1, 0, 2, R, 0).value, 4, 'a freed slot is the lowest again');
  for (const g of GARBAGE) assert.is(s.grant(1, 0, g, R, 0).value, ERR.NO_PRINCIPAL);
});

// ---- delete and revoke --------------------------------------------------------------------

test('delete: children (in any space) move up to the parent; bindings undone', () => {
  const s = setup();
  s.mint(1, 0, 1, RIGHTS_ALL, 0);
  s.mint(1, 1, 2, R | G, 0);
  s.grant(1, 1, 2, R, 0);
  const undone: string[] = [];
  bindCounted(s, cap(s, 1, 1), undone, 'b1');
  const r = s.delete(1, 1);
  assert.is(r.value, ERR.OK);
  assert.equal(undone, ['b1']);
  assert.is(cap(s, 1, 2).parent, cap(s, 1, 0));
  assert.is(cap(s, 2, 0).parent, cap(s, 1, 0));
  assert.equal([...cap(s, 1, 0).children].map((c) => c.slot), [2, 0]);
  assert.equal(r.work, { lookups: 1, created: 0, removed: 1, moved: 2, unbound: 1 });
  assert.is(s.delete(1, 1).value, ERR.EMPTY);
  assert.is(s.delete(1, -1).value, ERR.BAD_SLOT);
  assert.is(s.delete(8, 0).value, ERR.NO_PRINCIPAL);
});

test('delete of a root leaves its children as tops of the same tree; the object lives on', () => {
  const s = setup();
  s.mint(1, 0, 1, R | W, 0);
  s.grant(1, 0, 2, R, 0);
  s.delete(1, 0);
  const [tree] = [...s.trees()];
  assert.equal([...tree!.tops].map((c) => [c.principal, c.slot]), [[1, 1], [2, 0]]);
  assert.is(cap(s, 1, 1).parent, null);
  assert.is(s.objects, 1);
  s.delete(1, 1);
  s.delete(2, 0);
  assert.is([...s.trees()].length, 0);
  assert.is(s.objects, 0);
});

test('revoke: every descendant in every space goes, bindings undone once; the capability stays', () => {
  const s = setup();
  s.mint(1, 0, 1, RIGHTS_ALL, 0);
  s.grant(1, 1, 2, R | G, 0);            // 2:0
  s.grant(2, 0, 1, R, 0);                // 1:2, grandchild back in 1
  s.retype(1, 1, CAP.FRAME, 0, PAGE, 3);
  const undone: string[] = [];
  bindCounted(s, cap(s, 1, 3), undone, 'pte');
  bindCounted(s, cap(s, 2, 0), undone, 'irq');
  bindCounted(s, cap(s, 1, 0), undone, 'root');
  const r = s.revoke(1, 0);
  assert.is(r.value, 4);
  assert.equal(r.work, { lookups: 1, created: 0, removed: 4, moved: 0, unbound: 2 });
  assert.equal(undone.sort(), ['irq', 'pte']);
  assert.is(s.space(1)!.used, 1);
  assert.is(s.space(2)!.used, 0);
  assert.is(cap(s, 1, 0).children.size, 0);
  assert.is(s.bindingsOfPrincipal(2).length, 0);
  assert.is(s.revoke(1, 0).value, 0);
  assert.is(s.retype(1, 0, CAP.FRAME, 0, PAGE, 3).value, ERR.OK, 'the carved range was freed');
  assert.is(s.revoke(1, 200).value, ERR.EMPTY);
  assert.is(s.revoke(1, 1e9).value, ERR.BAD_SLOT);
  assert.is(s.revoke(3, 0).value, ERR.NO_PRINCIPAL);
});

test('revoke is linear: a chain and a fan of 2000 go with removed = 2000 and no host recursion', () => {
  const s = new CapSystem();
  s.createSpace(0, 4096);
  s.createRoot(0, { type: CAP.UART, base: 0 });
  for (let i = 1; i <= 2000; i++) assert.is(s.mint(0, i - 1, i, R | W | G, 0).value, ERR.OK);
  for (let i = 2001; i <= 4000; i++) s.mint(0, 0, i, R, 0);
  const r = s.revoke(0, 0);
  assert.is(r.value, 4000);
  assert.is(r.work.removed, 4000);
  assert.is(s.space(0)!.used, 1);
});

// ---- retype --------------------------------------------------------------------------------

test('retype: Untyped -> Frame and Untyped -> Untyped, children of the untyped capability', () => {
  const s = setup();
  assert.is(s.retype(1, 0, CAP.FRAME, 2 * PAGE, 3 * PAGE, 1).value, ERR.OK);
  const f = cap(s, 1, 1);
  assert.is(f.object.type, CAP.FRAME);
  assert.is(f.object.base, 0x100000 + 2 * PAGE);
  assert.is(f.object.size, 3 * PAGE);
  assert.is(f.parent, cap(s, 1, 0));
  assert.is(f.rights, RIGHTS_ALL);
  assert.is(s.retype(1, 0, CAP.UNTYPED, 8 * PAGE, 8 * PAGE, 2).value, ERR.OK);
  assert.is(s.retype(1, 2, CAP.FRAME, 0, 8 * PAGE, 3).value, ERR.OK, 'a sub-untyped carves its own range');
  assert.is(cap(s, 1, 3).object.base, 0x100000 + 8 * PAGE);
  s.mint(1, 0, 4, R | W | M, 0);
  assert.is(s.retype(1, 4, CAP.FRAME, 20 * PAGE, PAGE, 5).value, ERR.OK);
  assert.is(cap(s, 1, 5).rights, R | W | M, 'rights come from the untyped capability used');
  assert.is(s.retype(1, 4, CAP.FRAME, 0, PAGE, 6).value, ERR.OK, 'copies share the carved set');
  assert.is(s.retype(1, 0, CAP.FRAME, 0, PAGE, 7).value, ERR.OVERLAP);
});

test('retype errors, in decode order', () => {
  const s = setup();
  s.createRoot(1, { type: CAP.CORE_SLICE, base: 0, slot: 1 });
  s.mint(1, 0, 2, R, 0);
  s.retype(1, 0, CAP.FRAME, 0, 4 * PAGE, 3);
  assert.is(s.retype(4, 0, CAP.FRAME, 0, PAGE, 9).value, ERR.NO_PRINCIPAL);
  assert.is(s.retype(1, 300, CAP.FRAME, 0, PAGE, 9).value, ERR.BAD_SLOT);
  assert.is(s.retype(1, 8, CAP.FRAME, 0, PAGE, 9).value, ERR.EMPTY);
  assert.is(s.retype(1, 1, CAP.FRAME, 0, PAGE, 9).value, ERR.WRONG_TYPE);
  assert.is(s.retype(1, 3, CAP.FRAME, 0, PAGE, 9).value, ERR.WRONG_TYPE, 'a Frame does not retype');
  assert.is(s.retype(1, 2, CAP.FRAME, 0, PAGE, 9).value, ERR.RIGHTS);
  for (const t of [CAP.NULL, 99, 0xffffffff, ...GARBAGE]) assert.is(s.retype(1, 0, t, 8 * PAGE, PAGE, 9).value, ERR.BAD_ARG);
  for (const t of [CAP.CORE_SLICE, CAP.DEVICE_QUEUE, CAP.MSI_VECTOR, CAP.DMA_DOMAIN, CAP.UART]) {
    assert.is(s.retype(1, 0, t, 8 * PAGE, PAGE, 9).value, ERR.EDGE);
  }
  for (const [off, len] of [[1, PAGE], [0, 0], [0, PAGE + 1], [63 * PAGE, 2 * PAGE], [64 * PAGE, PAGE], [NaN, PAGE], [0, -PAGE]]) {
    assert.is(s.retype(1, 0, CAP.FRAME, off!, len!, 9).value, ERR.BAD_ARG, `offset ${off} size ${len}`);
  }
  assert.is(s.retype(1, 0, CAP.FRAME, 8 * PAGE, PAGE, 3).value, ERR.SLOT_FULL);
  assert.is(s.retype(1, 0, CAP.FRAME, 8 * PAGE, PAGE, EXO_SLOT_NONE).value, ERR.BAD_SLOT);
  assert.is(s.retype(1, 0, CAP.FRAME, 3 * PAGE, 2 * PAGE, 9).value, ERR.OVERLAP);
  assert.is(s.retype(1, 0, CAP.UNTYPED, 0, 64 * PAGE, 9).value, ERR.OVERLAP);
  assert.is(s.space(1)!.used, 4, 'no error changed anything');
});

test('a carved range frees only when its object\'s last capability goes; an untyped outlives its capabilities while objects carved from it live', () => {
  const s = setup();
  s.retype(1, 0, CAP.UNTYPED, 0, 8 * PAGE, 1);
  s.retype(1, 1, CAP.FRAME, 0, PAGE, 2);
  s.mint(1, 2, 3, R, 0);
  s.delete(1, 2);
  assert.is(s.retype(1, 1, CAP.FRAME, 0, PAGE, 4).value, ERR.OVERLAP, 'the minted copy keeps the frame alive');
  s.delete(1, 1);
  assert.is(s.objects, 3, 'the sub-untyped has no capability but a live frame');
  assert.is(cap(s, 1, 3).parent, cap(s, 1, 0), 'the frame moved up to the root untyped');
  assert.is(s.retype(1, 0, CAP.FRAME, 7 * PAGE, PAGE, 4).value, ERR.OVERLAP);
  s.delete(1, 3);
  assert.is(s.objects, 1, 'frame and sub-untyped died together');
  assert.is(s.retype(1, 0, CAP.FRAME, 0, 8 * PAGE, 4).value, ERR.OK);
});

// ---- inspect and lookup ---------------------------------------------------------------------

test('inspect: the capability word and struct exo_cap_info', () => {
  const s = setup();
  s.mint(1, 0, 1, R | W | G, 9);
  s.mint(1, 1, 2, R, 0);
  s.grant(1, 1, 2, R, 0);
  const r = s.inspect(1, 1);
  assert.equal(capWordDecode(r.value), { rights: R | W | G, type: CAP.UNTYPED, badged: true, hasParent: true, children: 2 });
  assert.equal(r.info, { word: r.value, badge: 9, base: 0x100000, size: 64 * PAGE, parent_slot: 0, children: 2 });
  const foreign = s.inspect(2, 0);
  assert.is(foreign.info!.parent_slot, EXO_SLOT_NONE, 'the parent is in another space');
  assert.is(fieldGet(CAP_WORD.HAS_PARENT, foreign.value), 1);
  assert.is(fieldGet(CAP_WORD.HAS_PARENT, s.inspect(1, 0).value), 0);
  assert.equal(s.inspect(1, 5), { value: ERR.EMPTY, work: { lookups: 1, created: 0, removed: 0, moved: 0, unbound: 0 }, info: null });
  assert.is(s.inspect(1, NaN).value, ERR.BAD_SLOT);
  assert.is(s.inspect(6, 0).value, ERR.NO_PRINCIPAL);
});

test('lookup: the capability, or NO_PRINCIPAL, BAD_SLOT, EMPTY, WRONG_TYPE, RIGHTS', () => {
  const s = setup();
  s.mint(1, 0, 1, R | M, 0);
  assert.is(s.lookup(1, 1, CAP.UNTYPED, R | M), cap(s, 1, 1));
  assert.is(s.lookup(1, 1, null, 0), cap(s, 1, 1));
  assert.is(s.lookup(3, 1, null, 0), ERR.NO_PRINCIPAL);
  assert.is(s.lookup(1, -7, null, 0), ERR.BAD_SLOT);
  assert.is(s.lookup(1, 2, null, 0), ERR.EMPTY);
  assert.is(s.lookup(1, 1, CAP.FRAME, 0), ERR.WRONG_TYPE);
  assert.is(s.lookup(1, 1, CAP.UNTYPED, W), ERR.RIGHTS);
});

// ---- secure bindings ------------------------------------------------------------------------

test('bind: recorded under each capability; undone once when any of them goes', () => {
  const s = setup();
  s.retype(1, 0, CAP.FRAME, 0, PAGE, 1);
  s.createRoot(1, { type: CAP.DMA_DOMAIN, base: 1, slot: 2 });
  const undone: string[] = [];
  const b = bindCounted(s, [cap(s, 1, 2), cap(s, 1, 1)], undone, 'iova 0 -> frame');
  assert.equal(s.bindingsOf(cap(s, 1, 1)), [b]);
  assert.equal(s.bindingsOf(cap(s, 1, 2)), [b]);
  assert.equal(s.bindingsOfPrincipal(1), [b]);
  assert.is(b.principal, 1);
  s.revoke(1, 0);                          // the frame is a child of the untyped
  assert.equal(undone, ['iova 0 -> frame']);
  assert.is(b.live, false);
  assert.equal(s.bindingsOf(cap(s, 1, 2)), []);
  assert.is(s.bindingCount(), 0);
  s.delete(1, 2);
  assert.equal(undone.length, 1, 'never twice');
});

test('unbind: runs the undo once; NOT_BOUND after; bind refuses dead, empty or mixed capabilities', () => {
  const s = setup();
  s.grant(1, 0, 2, R, 0);
  const undone: string[] = [];
  const b = bindCounted(s, cap(s, 1, 0), undone, 'x');
  bindCounted(s, cap(s, 1, 0), undone, 'y');
  const r = s.unbind(b);
  assert.is(r.value, ERR.OK);
  assert.is(r.work.unbound, 1);
  assert.is(s.unbind(b).value, ERR.NOT_BOUND);
  assert.equal(undone, ['x']);
  assert.equal(s.bindingsOfPrincipal(1).map((x) => x.desc), ['y']);
  const noop = { kind: 'irq' as const, desc: '', undo: () => undone.push('bad') };
  assert.is(s.bind([], noop), ERR.BAD_ARG);
  assert.is(s.bind([cap(s, 1, 0), cap(s, 2, 0)], noop), ERR.PERM);
  const dead = cap(s, 2, 0);
  s.delete(2, 0);
  assert.is(s.bind(dead, noop), ERR.GONE);
  assert.equal(undone, ['x']);
});

test('an undo that throws leaves no record behind', () => {
  const s = setup();
  s.bind(cap(s, 1, 0), { kind: 'queue', desc: 'q', undo: () => { throw new Error('kernel bug'); } });
  assert.throws(() => s.delete(1, 0), /kernel bug/);
  assert.is(s.bindingCount(), 0);
});

// ---- principals -------------------------------------------------------------------------------

test('removePrincipal: its capabilities and bindings go; what it gave others moves up', () => {
  const s = setup();
  s.createSpace(3);
  s.grant(1, 0, 2, RIGHTS_ALL, 0);        // 2:0
  s.grant(2, 0, 3, R, 0);                 // 3:0, child of 2:0
  s.mint(2, 0, 1, R, 0);
  const undone: string[] = [];
  bindCounted(s, cap(s, 2, 1), undone, 'p2');
  const r = s.removePrincipal(2);
  assert.is(r.value, 2);
  assert.equal(undone, ['p2']);
  assert.is(cap(s, 3, 0).parent, cap(s, 1, 0));
  assert.is(s.space(2), undefined);
  assert.equal(s.principals(), [1, 3]);
  assert.is(s.removePrincipal(2).value, ERR.NO_PRINCIPAL);
  assert.is(s.grant(1, 0, 2, R, 0).value, ERR.NO_PRINCIPAL);
  assert.is(s.createSpace(2).value, ERR.OK, 'the id can be reused');
});

// ---- events, views, costs ---------------------------------------------------------------------

test('events: one per change, in order, naming capabilities by id, principal and slot', () => {
  const s = new CapSystem();
  const log: string[] = [];
  const ev = s.events;
  ev.on('root', (c) => log.push(`root ${c.principal}:${c.slot}`));
  ev.on('minted', (c, f) => log.push(`minted ${c.principal}:${c.slot} from ${f.slot}`));
  ev.on('granted', (c, f) => log.push(`granted ${c.principal}:${c.slot} from ${f.principal}:${f.slot}`));
  ev.on('retyped', (c, f) => log.push(`retyped ${c.slot} from ${f.slot}`));
  ev.on('deleted', (c) => log.push(`deleted ${c.principal}:${c.slot}`));
  ev.on('revoked', (c, gone) => log.push(`revoked ${c.slot}: ${gone.map((g) => `${g.principal}:${g.slot}`).join(' ')}`));
  ev.on('bound', (b) => log.push(`bound ${b.kind} ${b.desc}`));
  ev.on('unbound', (b) => log.push(`unbound ${b.kind} ${b.desc}`));
  s.createSpace(1); s.createSpace(2);
  s.createRoot(1, { type: CAP.UNTYPED, base: 0, size: 4 * PAGE });
  s.mint(1, 0, 1, RIGHTS_ALL, 0);
  s.grant(1, 1, 2, R, 0);
  s.retype(1, 1, CAP.FRAME, 0, PAGE, 2);
  s.bind(cap(s, 1, 2), { kind: 'pte', desc: 'va 0x400000', undo: () => {} });
  s.delete(1, 1);
  s.revoke(1, 0);
  s.mint(1, 9, 1, 0, 0);                  // an error: no event
  assert.equal(log, [
    'root 1:0', 'minted 1:1 from 0', 'granted 2:0 from 1:1', 'retyped 2 from 1', 'bound pte va 0x400000',
    'deleted 1:1', 'unbound pte va 0x400000', 'revoked 0: 1:2 2:0',
  ]);
});

test('views: a principal\'s forest, the derivation trees, the counts', () => {
  const s = setup();
  s.mint(1, 0, 1, R | W | G, 4);
  s.grant(1, 1, 2, R, 0);
  s.retype(1, 0, CAP.FRAME, 0, PAGE, 2);
  s.bind(cap(s, 1, 2), { kind: 'pte', desc: 'va 0x1000', undo: () => {} });
  s.createRoot(2, { type: CAP.MSI_VECTOR, base: 50 });
  const t1 = principalTree(s, 1)!;
  assert.is(t1.length, 1);
  assert.equal(
    { slot: t1[0]!.slot, type: t1[0]!.type, rights: t1[0]!.rights, sub: t1[0]!.sub.map((n) => [n.slot, n.type, n.rights, n.badge]) },
    { slot: 0, type: 'UNTYPED', rights: 'rwxmdg', sub: [[1, 'UNTYPED', 'rw---g', 4], [2, 'FRAME', 'rwxmdg', 0]] },
  );
  const minted = t1[0]!.sub[0]!;
  assert.equal(minted.children, [{ id: cap(s, 2, 0).id, principal: 2, slot: 0 }], 'given-away children are listed');
  assert.is(minted.sub.length, 0, 'but not nested in this principal\'s forest');
  assert.equal(t1[0]!.sub[1]!.bindings.map((b) => b.desc), ['va 0x1000']);
  const t2 = principalTree(s, 2)!;
  assert.equal(t2.map((n) => [n.slot, n.type, n.parent?.principal ?? null]), [[0, 'UNTYPED', 1], [1, 'MSI_VECTOR', null]]);
  assert.is(principalTree(s, 7), null);
  const trees = treeViews(s);
  assert.equal(trees.map((t) => [t.type, t.base, t.tops.length]), [['UNTYPED', 0x100000, 1], ['MSI_VECTOR', 50, 1]]);
  assert.equal(trees[0]!.tops[0]!.sub[0]!.sub.map((n) => [n.principal, n.slot]), [[2, 0]]);
  const n = capCounts(s);
  assert.equal({ ...n, byType: undefined, byKind: undefined },
    { principals: 2, caps: 5, objects: 3, trees: 2, bindings: 1, byType: undefined, byKind: undefined });
  assert.is(n.byType.UNTYPED, 3);
  assert.is(n.byType.FRAME, 1);
  assert.is(n.byType.MSI_VECTOR, 1);
  assert.is(n.byKind.pte, 1);
});

test('cost: cycles from the profile, linear in what an operation touched', () => {
  const c = capCosts(loadProfile('default'));
  const s = setup();
  const mint = s.mint(1, 0, 1, R | G, 0);
  assert.equal(mint.work, { lookups: 2, created: 1, removed: 0, moved: 0, unbound: 0 });
  assert.is(workCycles(mint.work, c), 3 * c.capLookup);
  for (let i = 0; i < 6; i++) s.grant(1, 1, 2, R, 0);
  const rev = s.revoke(1, 0);
  assert.is(workCycles(rev.work, c), c.capLookup + 7 * c.revokePerNode);
  assert.ok(s.createSpace(9).work.lookups === 0);
});

test('garbage in every argument of every call: an error code, never an exception, nothing changed', () => {
  const s = setup();
  s.mint(1, 0, 1, R, 0);
  const before = JSON.stringify(treeViews(s));
  for (const g of GARBAGE) {
    for (const v of [
      s.mint(g, 0, 2, R, 0).value, s.grant(1, g, 2, R, 0).value, s.delete(1, g).value, s.revoke(g, 0).value,
      s.retype(1, 0, g, 0, PAGE, 2).value, s.retype(1, 0, CAP.FRAME, g, PAGE, 2).value, s.retype(1, 0, CAP.FRAME, 0, g, 2).value,
      s.retype(1, 0, CAP.FRAME, 0, PAGE, g).value, s.inspect(1, g).value, s.lookup(1, g, null, 0) as number,
      s.removePrincipal(g).value,
    ]) assert.ok(v < 0, `${g}`);
  }
  assert.is(JSON.stringify(treeViews(s)), before);
});

test.run();
