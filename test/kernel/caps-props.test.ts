// Property tests of the capability system: random sequences of operations by several principals,
// garbage register values included, run against CapSystem and against a reference model written
// here as plainly as possible (a flat list of capabilities with parent ids, everything else
// recomputed from scratch by scanning). After every operation the return values and the whole
// state must agree, and the invariants of DESIGN section 3 must hold on the real structure:
// monotonic attenuation, type safety (allowed edges, no overlap of live carved objects),
// acyclic derivation, complete revocation (each undo exactly once), no binding without a live
// capability.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { CAP, ERR, EXO_SLOT_NONE, RIGHT } from '../../kernel/abi.js';
import type { Binding } from '../../kernel/caps/binding.js';
import type { Cap } from '../../kernel/caps/cap.js';
import { CapSystem } from '../../kernel/caps/cap-system.js';

const PAGE = 4096;
const SLOTS = 8;
const { READ: R, WRITE: W, EXECUTE: X, MAP: M, DMA: D, GRANT: G } = RIGHT;
const ALL = R | W | X | M | D | G;

/** Rights each type can hold, restated from DESIGN section 3. */
const VALID: Record<number, number> = {
  [CAP.UNTYPED]: ALL, [CAP.FRAME]: ALL, [CAP.CORE_SLICE]: R | X | G, [CAP.DEVICE_QUEUE]: R | W | M | D | G,
  [CAP.MSI_VECTOR]: R | M | G, [CAP.DMA_DOMAIN]: M | D | G, [CAP.UART]: R | W | G, [CAP.BLOCK_RANGE]: R | W | G,
};
const MEMORY = new Set<number>([CAP.UNTYPED, CAP.FRAME]);
/** Untyped may become Untyped or Frame; nothing else retypes. */
const EDGES = new Set<number>([CAP.UNTYPED, CAP.FRAME]);

/** A register value: 32 bits, signed or not; anything else is garbage (NaN). */
function u32(v: number): number {
  return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 32 ? v >>> 0 : NaN;
}

// ---- the reference model ------------------------------------------------------------------

interface MCap { id: number; p: number; slot: number; obj: number; rights: number; badge: number; parent: number | null; realId: number }
interface MObj { id: number; type: number; base: number; size: number; from: number | null }
interface MBinding { id: number; caps: number[]; live: boolean; real: Binding }

class Model {
  spaces = new Map<number, number>();   // principal -> slots
  caps: MCap[] = [];
  objs: MObj[] = [];
  bindings: MBinding[] = [];
  private ids = 0;

  at(p: number, slot: number): MCap | undefined {
    return this.caps.find((c) => c.p === p && c.slot === slot);
  }
  obj(id: number): MObj {
    return this.objs.find((o) => o.id === id)!;
  }
  descendants(id: number): MCap[] {
    const out: MCap[] = [];
    let frontier = [id];
    while (frontier.length > 0) {
      const next = this.caps.filter((c) => c.parent !== null && frontier.includes(c.parent));
      out.push(...next);
      frontier = next.map((c) => c.id);
    }
    return out;
  }
  /** Live objects: those a capability names, and every object they were carved from. */
  gc(): void {
    const live = new Set(this.caps.map((c) => c.obj));
    for (let grew = true; grew;) {
      grew = false;
      for (const o of this.objs) if (live.has(o.id) && o.from !== null && !live.has(o.from)) { live.add(o.from); grew = true; }
    }
    this.objs = this.objs.filter((o) => live.has(o.id));
  }
  remove(gone: MCap[]): void {
    const ids = new Set(gone.map((c) => c.id));
    for (const b of this.bindings) if (b.live && b.caps.some((c) => ids.has(c))) b.live = false;
    this.caps = this.caps.filter((c) => !ids.has(c.id));
    this.gc();
  }
  add(c: Omit<MCap, 'id' | 'realId'>): MCap {
    const cap = { ...c, id: ++this.ids, realId: 0 };
    this.caps.push(cap);
    return cap;
  }
  newObj(o: Omit<MObj, 'id'>): MObj {
    const obj = { ...o, id: ++this.ids };
    this.objs.push(obj);
    return obj;
  }
  /** The source capability named by a slot register, or the error. */
  source(p: number, slot: number): MCap | number {
    const s = u32(slot);
    if (!(s < this.spaces.get(p)!)) return ERR.BAD_SLOT;
    return this.at(p, s) ?? ERR.EMPTY;
  }
  dest(p: number, slot: number): number {
    const s = u32(slot);
    if (!(s < this.spaces.get(p)!)) return ERR.BAD_SLOT;
    return this.at(p, s) ? ERR.SLOT_FULL : s;
  }
  lowestFree(p: number): number {
    for (let s = 0; s < this.spaces.get(p)!; s++) if (!this.at(p, s)) return s;
    return ERR.NO_MEMORY;
  }
  rightsBadge(src: MCap, rights: number, badge: number): number {
    const r = u32(rights), b = u32(badge);
    if (Number.isNaN(r) || r > ALL) return ERR.BAD_ARG;
    if ((r & ~src.rights) !== 0) return ERR.RIGHTS;
    if (Number.isNaN(b)) return ERR.BAD_ARG;
    if (b !== 0 && src.badge !== 0) return ERR.PERM;
    return 0;
  }
}

// ---- operations ---------------------------------------------------------------------------

/** A raw register, or (resolved against the model when the operation runs) the n-th occupied or free slot. */
type SlotArg = number | { live: number } | { free: number };

type Op =
  | { k: 'mint'; p: number; src: SlotArg; dst: SlotArg; rights: number; badge: number }
  | { k: 'grant'; p: number; src: SlotArg; to: number; rights: number; badge: number }
  | { k: 'delete' | 'revoke' | 'inspect'; p: number; slot: SlotArg }
  | { k: 'retype'; p: number; src: SlotArg; type: number; off: number; size: number; dst: SlotArg }
  | { k: 'root'; p: number; spec: number }
  | { k: 'bind'; p: number; slots: SlotArg[] }
  | { k: 'unbind'; pick: number }
  | { k: 'space' | 'remove'; p: number };

type Resolved<T> = { [K in keyof T]: T[K] extends SlotArg[] ? number[] : T[K] extends SlotArg ? number : T[K] };
type Concrete = Op extends infer U ? (U extends unknown ? Resolved<U> : never) : never;

/** The operation with every slot argument a register value. */
function concrete(m: Model, op: Op): Concrete {
  const p = 'p' in op ? op.p : 0;
  const pick = (want: boolean, n: number) => {
    const slots = [...Array(m.spaces.get(p) ?? 0).keys()].filter((sl) => !!m.at(p, sl) === want);
    return slots.length > 0 ? slots[n % slots.length]! : 0;
  };
  const one = (a: SlotArg) => (typeof a === 'number' ? a : 'live' in a ? pick(true, a.live) : pick(false, a.free));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(op)) out[k] = Array.isArray(v) ? v.map(one) : typeof v === 'object' ? one(v) : v;
  return out as Concrete;
}

/** Root specs a kernel might ask for, with whether they are well formed. */
const ROOTS: { type: number; base: number; size: number; ok: boolean }[] = [
  { type: CAP.UNTYPED, base: 0x40000, size: 8 * PAGE, ok: true },
  { type: CAP.FRAME, base: 0x44000, size: PAGE, ok: true },
  { type: CAP.UNTYPED, base: 0x80000, size: 4 * PAGE, ok: true },
  { type: CAP.MSI_VECTOR, base: 40, size: 1, ok: true },
  { type: CAP.CORE_SLICE, base: 1, size: 1, ok: true },
  { type: CAP.DEVICE_QUEUE, base: 0x10001, size: 1, ok: true },
  { type: CAP.UNTYPED, base: 0x40001, size: PAGE, ok: false },
  { type: CAP.MSI_VECTOR, base: 3, size: 1, ok: false },
  { type: CAP.NULL, base: 0, size: 1, ok: false },
];

const GARBAGE = [NaN, -1, 1.5, 2 ** 32, -(2 ** 31), EXO_SLOT_NONE, 2 ** 40, -Infinity];
const withGarbage = (a: fc.Arbitrary<number>) => fc.oneof({ weight: 12, arbitrary: a }, { weight: 1, arbitrary: fc.constantFrom(...GARBAGE) });
// Mostly a slot that holds a capability (or, for a destination, an empty one), so that trees grow.
const raw = withGarbage(fc.integer({ min: 0, max: SLOTS + 1 }));
const slot: fc.Arbitrary<SlotArg> = fc.oneof({ weight: 4, arbitrary: fc.record({ live: fc.nat() }) }, raw);
const dest: fc.Arbitrary<SlotArg> = fc.oneof({ weight: 4, arbitrary: fc.record({ free: fc.nat() }) }, raw);
const who = withGarbage(fc.integer({ min: 0, max: 4 }));
const caller = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 3 }) }, fc.constant(4));
const rights = withGarbage(fc.oneof(fc.constantFrom(ALL, R | W | G, R | G, R, W | M | D, 0), fc.integer({ min: 0, max: 0x7f })));
const badge = withGarbage(fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 3 })));
const pages = (max: number) => withGarbage(fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max }).map((n) => n * PAGE) }, fc.integer({ min: 0, max: max * PAGE })));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('mint' as const), p: caller, src: slot, dst: dest, rights, badge }) },
  { weight: 8, arbitrary: fc.record({ k: fc.constant('grant' as const), p: caller, src: slot, to: who, rights, badge }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('delete' as const), p: caller, slot }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('revoke' as const), p: caller, slot }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('inspect' as const), p: caller, slot }) },
  { weight: 8, arbitrary: fc.record({
    k: fc.constant('retype' as const), p: caller, src: slot,
    type: withGarbage(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(CAP.UNTYPED, CAP.FRAME) }, fc.integer({ min: 0, max: 9 }))),
    off: pages(9), size: pages(4), dst: dest,
  }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('root' as const), p: caller, spec: fc.integer({ min: 0, max: ROOTS.length - 1 }) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('bind' as const), p: caller, slots: fc.array(slot, { minLength: 1, maxLength: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('unbind' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('space' as const), p: caller }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('remove' as const), p: caller }) },
);

/** Principals 0..3 with 8 slots (4 starts without a space) and a root or two each. */
function boot(): { s: CapSystem; m: Model } {
  const s = new CapSystem(), m = new Model();
  const roots: [number, number, number, number][] = [
    [0, CAP.UNTYPED, 0, 16 * PAGE], [1, CAP.UNTYPED, 0x20000, 8 * PAGE], [2, CAP.MSI_VECTOR, 33, 1], [2, CAP.UART, 0, 1],
    [3, CAP.DMA_DOMAIN, 1, 1],
  ];
  for (let p = 0; p < 4; p++) { s.createSpace(p, SLOTS); m.spaces.set(p, SLOTS); }
  for (const [p, type, base, size] of roots) {
    const slot = s.createRoot(p, { type, base, size }).value;
    const o = m.newObj({ type, base, size, from: null });
    m.add({ p, slot, obj: o.id, rights: VALID[type]!, badge: 0, parent: null }).realId = realAt(s, p, slot)!.id;
  }
  return { s, m };
}

function realAt(s: CapSystem, p: number, slot: number): Cap | null {
  const c = s.lookup(p, slot, null, 0);
  return typeof c === 'number' ? null : c;
}

/** Runs one operation on both; returns [real value, model value] (and the model's view of what must go). */
function step(s: CapSystem, m: Model, op: Concrete, undos: Map<number, number>): void {
  const created = (c: MCap | null) => { if (c) c.realId = realAt(s, c.p, c.slot)!.id; };
  const same = (real: number, model: number) => assert.is(real, model, JSON.stringify(op));
  const has = (p: number) => m.spaces.has(p);
  switch (op.k) {
    case 'mint': {
      const real = s.mint(op.p, op.src, op.dst, op.rights, op.badge).value;
      let want: number = ERR.NO_PRINCIPAL, made: MCap | null = null;
      if (has(op.p)) {
        const src = m.source(op.p, op.src);
        const dst = typeof src === 'number' ? src : m.dest(op.p, op.dst);
        want = dst < 0 ? dst : m.rightsBadge(src as MCap, op.rights, op.badge);
        if (want === 0) {
          const c = src as MCap;
          made = m.add({ p: op.p, slot: dst, obj: c.obj, rights: u32(op.rights), badge: u32(op.badge) || c.badge, parent: c.id });
        }
      }
      same(real, want);
      created(made);
      return;
    }
    case 'grant': {
      const real = s.grant(op.p, op.src, op.to, op.rights, op.badge).value;
      let want: number = ERR.NO_PRINCIPAL, made: MCap | null = null;
      if (has(op.p)) {
        const src = m.source(op.p, op.src);
        const to = u32(op.to);
        if (typeof src === 'number') want = src;
        else if (!(src.rights & G)) want = ERR.RIGHTS;
        else if (!has(to)) want = ERR.NO_PRINCIPAL;
        else if ((want = m.rightsBadge(src, op.rights, op.badge)) === 0) {
          want = m.lowestFree(to);
          if (want >= 0) made = m.add({ p: to, slot: want, obj: src.obj, rights: u32(op.rights), badge: u32(op.badge) || src.badge, parent: src.id });
        }
      }
      same(real, want);
      created(made);
      return;
    }
    case 'delete': case 'revoke': {
      const gone = has(op.p) ? m.source(op.p, op.slot) : ERR.NO_PRINCIPAL;
      const victims = typeof gone === 'number' ? [] : op.k === 'delete' ? [gone] : m.descendants(gone.id);
      const real = (op.k === 'delete' ? s.delete(op.p, op.slot) : s.revoke(op.p, op.slot)).value;
      if (typeof gone === 'number') { same(real, gone); return; }
      same(real, op.k === 'delete' ? 0 : victims.length);
      if (op.k === 'delete') for (const c of m.caps) if (c.parent === gone.id) c.parent = gone.parent;
      m.remove(victims);
      for (const v of victims) assert.is(s.lookup(v.p, v.slot, null, 0), ERR.EMPTY, 'a removed capability stays nowhere');
      return;
    }
    case 'inspect': {
      const r = s.inspect(op.p, op.slot);
      const c = has(op.p) ? m.source(op.p, op.slot) : ERR.NO_PRINCIPAL;
      if (typeof c === 'number') { same(r.value, c); assert.is(r.info, null); return; }
      const o = m.obj(c.obj), kids = m.caps.filter((k) => k.parent === c.id).length;
      const parent = m.caps.find((k) => k.id === c.parent);
      const word = c.rights | o.type << 8 | (c.badge ? 1 << 13 : 0) | (parent ? 1 << 14 : 0) | Math.min(kids, 0x7fff) << 16;
      same(r.value, word);
      assert.equal(r.info, {
        word, badge: c.badge, base: o.base, size: o.size, parent_slot: parent && parent.p === op.p ? parent.slot : EXO_SLOT_NONE, children: kids,
      });
      return;
    }
    case 'retype': {
      const real = s.retype(op.p, op.src, op.type, op.off, op.size, op.dst).value;
      let want: number = ERR.NO_PRINCIPAL, made: MCap | null = null;
      if (has(op.p)) {
        const src = m.source(op.p, op.src);
        const t = u32(op.type), off = u32(op.off), len = u32(op.size);
        if (typeof src === 'number') want = src;
        else if (m.obj(src.obj).type !== CAP.UNTYPED) want = ERR.WRONG_TYPE;
        else if (!(src.rights & W)) want = ERR.RIGHTS;
        else if (!(t in VALID)) want = ERR.BAD_ARG;
        else if (!EDGES.has(t)) want = ERR.EDGE;
        else if (!(off % PAGE === 0 && len > 0 && len % PAGE === 0 && off + len <= m.obj(src.obj).size)) want = ERR.BAD_ARG;
        else if ((want = m.dest(op.p, op.dst)) >= 0) {
          const ut = m.obj(src.obj), base = ut.base + off;
          if (m.objs.some((o) => o.from === ut.id && o.base < base + len && base < o.base + o.size)) want = ERR.OVERLAP;
          else {
            const o = m.newObj({ type: t, base, size: len, from: ut.id });
            made = m.add({ p: op.p, slot: want, obj: o.id, rights: src.rights & VALID[t]!, badge: 0, parent: src.id });
            want = 0;
          }
        }
      }
      same(real, want);
      created(made);
      return;
    }
    case 'root': {
      const spec = ROOTS[op.spec]!;
      const real = s.createRoot(op.p, { type: spec.type, base: spec.base, size: spec.size }).value;
      let want: number = ERR.NO_PRINCIPAL, made: MCap | null = null;
      if (has(op.p)) {
        const clash = (o: MObj) => o.from === null && (MEMORY.has(spec.type)
          ? MEMORY.has(o.type) && o.base < spec.base + spec.size && spec.base < o.base + o.size
          : o.type === spec.type && o.base === spec.base);
        if (!spec.ok) want = ERR.BAD_ARG;
        else if ((want = m.lowestFree(op.p)) >= 0) {
          if (m.objs.some(clash)) want = MEMORY.has(spec.type) ? ERR.OVERLAP : ERR.EXISTS;
          else {
            const o = m.newObj({ type: spec.type, base: spec.base, size: spec.size, from: null });
            made = m.add({ p: op.p, slot: want, obj: o.id, rights: VALID[spec.type]!, badge: 0, parent: null });
          }
        }
      }
      same(real, want);
      created(made);
      return;
    }
    case 'bind': {
      const caps = op.slots.map((sl) => s.lookup(op.p, sl, null, 0));
      const mcaps = op.slots.map((sl) => (has(op.p) ? m.source(op.p, sl) : ERR.NO_PRINCIPAL));
      assert.equal(caps.map((c) => (typeof c === 'number' ? c : c.id)), mcaps.map((c) => (typeof c === 'number' ? c : c.realId)));
      if (caps.some((c) => typeof c === 'number')) return;
      const id = m.bindings.length;
      const b = s.bind(caps as Cap[], { kind: 'pte', desc: `b${id}`, undo: () => undos.set(id, (undos.get(id) ?? 0) + 1) });
      assert.type(b, 'object');
      m.bindings.push({ id, caps: [...new Set((mcaps as MCap[]).map((c) => c.id))], live: true, real: b as Binding });
      return;
    }
    case 'unbind': {
      if (m.bindings.length === 0) return;
      const b = m.bindings[op.pick % m.bindings.length]!;
      same(s.unbind(b.real).value, b.live ? ERR.OK : ERR.NOT_BOUND);
      b.live = false;
      return;
    }
    case 'space': {
      same(s.createSpace(op.p, SLOTS).value, has(op.p) ? ERR.EXISTS : ERR.OK);
      m.spaces.set(op.p, SLOTS);
      return;
    }
    case 'remove': {
      const real = s.removePrincipal(op.p).value;
      if (!has(op.p)) { same(real, ERR.NO_PRINCIPAL); return; }
      const mine = m.caps.filter((c) => c.p === op.p).sort((a, b) => a.slot - b.slot);
      same(real, mine.length);
      for (const gone of mine) {
        for (const c of m.caps) if (c.parent === gone.id) c.parent = gone.parent;
        m.remove([gone]);
      }
      m.spaces.delete(op.p);
      return;
    }
  }
}

/** The real state equals the model's, slot by slot. */
function compare(s: CapSystem, m: Model, undos: Map<number, number>): void {
  assert.equal(s.principals(), [...m.spaces.keys()].sort((a, b) => a - b));
  const realId = (id: number | null) => (id === null ? null : m.caps.find((c) => c.id === id)!.realId);
  for (const [p, size] of m.spaces) {
    assert.is(s.space(p)!.size, size);
    for (let slot = 0; slot < size; slot++) {
      const mc = m.at(p, slot), rc = realAt(s, p, slot);
      if (!mc) { assert.is(rc, null, `${p}:${slot} should be empty`); continue; }
      assert.ok(rc, `${p}:${slot} should hold a capability`);
      const o = m.obj(mc.obj);
      assert.equal(
        [rc!.id, rc!.object.type, rc!.object.base, rc!.object.size, rc!.rights, rc!.badge, rc!.parent?.id ?? null],
        [mc.realId, o.type, o.base, o.size, mc.rights, mc.badge, realId(mc.parent)], `${p}:${slot}`,
      );
    }
  }
  assert.is(s.objects, m.objs.length, 'live objects');
  for (const b of m.bindings) {
    assert.is(b.real.live, b.live, `binding ${b.id}`);
    assert.is(undos.get(b.id) ?? 0, b.live ? 0 : 1, `binding ${b.id} undone exactly once when gone`);
  }
}

/** The invariants, checked on the real structure alone. */
function invariants(s: CapSystem): void {
  const all = s.principals().flatMap((p) => [...s.space(p)!.caps()]);
  const live = new Set(all);
  const carved = new Map<unknown, { base: number; end: number }[]>();
  for (const c of all) {
    assert.ok(c.live && realAt(s, c.principal, c.slot) === c);
    // Acyclic, closed: the parent chain ends within the number of capabilities, through live ones.
    let steps = 0;
    for (let a = c.parent; a; a = a.parent) { assert.ok(live.has(a), 'a parent is live'); assert.ok(++steps <= all.length, 'cycle'); }
    if (c.parent) {
      assert.is(c.rights & ~c.parent.rights, 0, 'monotonic attenuation');
      assert.ok(c.parent.children.has(c));
      assert.is(c.tree, c.parent.tree);
    } else assert.ok(c.tree.tops.has(c));
    for (const k of c.children) assert.is(k.parent, c);
    assert.is(c.rights & ~VALID[c.object.type]!, 0, 'only rights the type has');
    // Type safety: carved objects come from an Untyped, along an edge, inside it, disjoint.
    for (let o = c.object; o.from; o = o.from) {
      assert.is(o.from.type, CAP.UNTYPED);
      assert.ok(EDGES.has(o.type));
      assert.ok(o.base >= o.from.base && o.base + o.size <= o.from.base + o.from.size);
      const list = carved.get(o.from) ?? [];
      if (!list.some((r) => r.base === o.base && r.end === o.base + o.size)) list.push({ base: o.base, end: o.base + o.size });
      carved.set(o.from, list);
    }
    for (const b of c.bindings) assert.ok(b.live && b.caps.includes(c));
  }
  for (const list of carved.values()) {
    list.sort((a, b) => a.base - b.base);
    for (let i = 1; i < list.length; i++) assert.ok(list[i - 1]!.end <= list[i]!.base, 'live carved objects overlap');
  }
  for (const p of s.principals()) {
    for (const b of s.bindingsOfPrincipal(p)) for (const c of b.caps) assert.ok(live.has(c), 'a binding without a live capability');
  }
}

test('300 random sequences of 60 operations by 5 principals agree with the reference model and keep every invariant', () => {
  fc.assert(fc.property(fc.array(opArb, { minLength: 60, maxLength: 60 }), (ops) => {
    const { s, m } = boot();
    const undos = new Map<number, number>();
    for (const op of ops) {
      step(s, m, concrete(m, op), undos);
      compare(s, m, undos);
      invariants(s);
    }
  }), { seed: 0xca95, numRuns: 300 });
});

test.run();
