// Lab "capabilities": the invariants of DESIGN section 3 held by the real capability system.
// Part 1 runs seeded random sequences of capability operations (mint, grant, delete, revoke,
// retype, bind, unbind, inspect, with garbage register values now and then) by several
// principals against CapSystem, and after every operation checks each invariant on the real
// structure, counting checks made and violations found. Part 2 runs two ring-3 principals on
// the exokernel (guests/capdemo.c): a frame shared through a mint and a grant is revoked by
// EXO_CAP_REVOKE, then another is repossessed by the scenario's `revoke` fault; what went, and
// the bindings with it, is read from the kernel's own capability system.

import { join } from 'node:path';
import { CAP, ERR, RIGHTS_ALL } from '../../kernel/abi.js';
import type { Binding } from '../../kernel/caps/binding.js';
import { capDescendants, type Cap, type CapRef } from '../../kernel/caps/cap.js';
import { CapSystem } from '../../kernel/caps/cap-system.js';
import { objectType } from '../../kernel/caps/types.js';
import { RETYPE_EDGES } from '../../kernel/caps/untyped.js';
import type { ExoPlugin } from '../../kernel/exo/plugin.js';
import { parseScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';
import { buildRawGuest } from '../../kernel/guest-build.js';
import { Prng } from '../../machine/prng.js';
import { consoleNumber, labDir, type Lab, type LabFigure, type LabResult } from './lab.js';

export const INVARIANTS = ['attenuation', 'type_safety', 'acyclic', 'revocation', 'bindings'] as const;
export type Invariant = typeof INVARIANTS[number];
export interface Tally { checks: number; violations: number; examples: string[] }
export type Tallies = Record<Invariant, Tally>;

export interface SequenceOptions { sequences: number; ops: number; principals: number; seed: number }

const PAGE = 4096;
const SLOTS = 16;
const GARBAGE = [NaN, -1, 1.5, 2 ** 32, 2 ** 40];

class Checker {
  readonly t = Object.fromEntries(INVARIANTS.map((n) => [n, { checks: 0, violations: 0, examples: [] }])) as unknown as Tallies;
  check(inv: Invariant, ok: boolean, what: () => string): void {
    const t = this.t[inv];
    t.checks++;
    if (!ok) { t.violations++; if (t.examples.length < 3) t.examples.push(what()); }
  }
}

/** Every live capability of every principal. */
function liveCaps(s: CapSystem): Cap[] {
  return s.principals().flatMap((p) => [...s.space(p)!.caps()]);
}

/** The whole-structure invariants, after an operation. */
function checkState(s: CapSystem, ck: Checker): void {
  const all = liveCaps(s), live = new Set(all);
  const carved = new Map<unknown, { base: number; end: number }[]>();
  for (const c of all) {
    const valid = objectType(c.object.type)?.validRights ?? 0;
    ck.check('type_safety', (c.rights & ~valid) === 0, () => `cap ${c.id} holds rights ${c.rights} its type ${c.object.type} lacks`);
    if (c.parent) ck.check('attenuation', (c.rights & ~c.parent.rights) === 0, () => `cap ${c.id} rights ${c.rights} exceed its parent's ${c.parent!.rights}`);
    let steps = 0, closed = true;
    for (let a = c.parent; a && closed; a = a.parent) closed = live.has(a) && ++steps <= all.length;
    ck.check('acyclic', closed, () => `cap ${c.id}: its parent chain is not a finite chain of live capabilities`);
    ck.check('acyclic', c.parent ? c.parent.children.has(c) && c.tree === c.parent.tree : c.tree.tops.has(c), () => `cap ${c.id} is not where its parent link says`);
    for (let o = c.object; o.from; o = o.from) {
      ck.check('type_safety', o.from.type === CAP.UNTYPED && (RETYPE_EDGES.get(o.from.type) ?? []).includes(o.type), () => `object ${o.id} type ${o.type} carved from type ${o.from!.type}`);
      ck.check('type_safety', o.base >= o.from.base && o.base + o.size <= o.from.base + o.from.size, () => `object ${o.id} lies outside the untyped it came from`);
      const list = carved.get(o.from) ?? [];
      if (!list.some((r) => r.base === o.base && r.end === o.base + o.size)) list.push({ base: o.base, end: o.base + o.size });
      carved.set(o.from, list);
    }
    for (const b of c.bindings) ck.check('bindings', b.live && b.caps.includes(c), () => `cap ${c.id} lists a dead or foreign binding ${b.id}`);
  }
  for (const list of carved.values()) {
    list.sort((a, b) => a.base - b.base);
    for (let i = 1; i < list.length; i++) ck.check('type_safety', list[i - 1]!.end <= list[i]!.base, () => 'two live objects carved from one untyped overlap');
  }
  for (const p of s.principals()) {
    for (const b of s.bindingsOfPrincipal(p)) for (const c of b.caps) ck.check('bindings', c.live && live.has(c), () => `binding ${b.id} stands on dead capability ${c.id}`);
  }
}

interface World { s: CapSystem; rng: Prng; principals: number; bindings: Binding[]; undos: Map<Binding, number> }

const pick = <T>(w: World, xs: readonly T[]): T => xs[w.rng.below(xs.length)]!;
/** A register value: mostly the given one, now and then garbage. */
const reg = (w: World, v: number) => (w.rng.below(16) === 0 ? pick(w, GARBAGE) : v);

function slotOf(w: World, p: number, occupied: boolean): number {
  const space = w.s.space(p);
  if (!space) return w.rng.below(SLOTS);
  const slots = [...Array(SLOTS).keys()].filter((k) => (space.get(k) != null) === occupied);
  return slots.length > 0 && w.rng.below(5) !== 0 ? pick(w, slots) : w.rng.below(SLOTS + 2);
}
/** Mostly a slot whose capability has children (so that a revoke has a subtree to take). */
function parentSlot(w: World, p: number): number {
  const withKids = [...(w.s.space(p)?.caps() ?? [])].filter((c) => c.children.size > 0);
  return withKids.length > 0 && w.rng.below(4) !== 0 ? pick(w, withKids).slot : slotOf(w, p, true);
}
const capAt = (w: World, p: number, slot: number) => { const c = w.s.lookup(p, slot, null, 0); return typeof c === 'number' ? null : c; };
const rightsFor = (w: World, src: Cap | null) => (src && w.rng.below(4) !== 0 ? src.rights & w.rng.below(RIGHTS_ALL + 1) : w.rng.below(0x80));

/** One random operation on the real system, with the checks that belong to that operation. */
function step(w: World, ck: Checker): void {
  const { s, rng } = w, p = rng.below(w.principals), k = rng.below(20);
  if (k < 8) {                                   // mint or grant: attenuation at the source
    const src = slotOf(w, p, true), from = capAt(w, p, src), rights = rightsFor(w, from), badge = rng.below(3) === 0 ? 1 + rng.below(3) : 0;
    const grant = k >= 5, to = rng.below(w.principals);
    const before = new Set(liveCaps(s)), rr = reg(w, rights);
    const r = grant ? s.grant(p, reg(w, src), to, rr, badge) : s.mint(p, reg(w, src), slotOf(w, p, false), rr, badge);
    const made = liveCaps(s).filter((c) => !before.has(c));
    if (from && r.value >= 0) ck.check('attenuation', Number.isInteger(rr) && ((rr >>> 0) & ~from.rights) === 0, () => `${grant ? 'grant' : 'mint'} of rights ${rr} from ${from.rights} succeeded`);
    for (const c of made) ck.check('attenuation', from !== null && c.parent === from && (c.rights & ~from.rights) === 0, () => `derived cap ${c.id} is not a subset of its source`);
  } else if (k < 12) {                           // retype: type safety along the edges
    const src = slotOf(w, p, true), from = capAt(w, p, src);
    const type = rng.below(4) === 0 ? rng.below(10) : pick(w, [CAP.UNTYPED, CAP.FRAME]);
    const off = rng.below(10) * PAGE, size = (1 + rng.below(4)) * PAGE, dst = slotOf(w, p, false);
    const sr = reg(w, src), r = s.retype(p, sr, type, reg(w, off), size, dst);
    if (r.value === ERR.OK) {
      const c = capAt(w, p, dst)!;
      ck.check('type_safety', from !== null && from.object.type === CAP.UNTYPED && ((RETYPE_EDGES.get(CAP.UNTYPED) ?? []) as readonly number[]).includes(type) && c.object.type === type,
        () => `retype into ${type} from ${from?.object.type} succeeded`);
      ck.check('attenuation', from !== null && (c.rights & ~from.rights) === 0, () => `retyped cap ${c.id} has more rights than its untyped`);
    } else if (from && sr === src && from.object.type !== CAP.UNTYPED) {
      ck.check('type_safety', r.value === ERR.WRONG_TYPE, () => `retype of a type ${from.object.type} capability gave ${r.value}, not WRONG_TYPE`);
    }
  } else if (k < 15) {                           // revoke or delete: complete revocation
    const slot = k < 13 ? parentSlot(w, p) : slotOf(w, p, true), cap = capAt(w, p, slot), revoke = k < 14;
    const gone = cap ? (revoke ? capDescendants(cap) : [cap]) : [];
    const bound = new Set(gone.flatMap((c) => [...c.bindings]));
    const kids = cap && !revoke ? [...cap.children] : [];
    const r = revoke ? s.revoke(p, slot) : s.delete(p, slot);
    if (!cap) return;
    if (revoke) ck.check('revocation', r.value === gone.length && cap.live, () => `revoke returned ${r.value} for ${gone.length} descendants`);
    for (const c of gone) ck.check('revocation', !c.live && capAt(w, c.principal, c.slot) !== c, () => `cap ${c.id} survived the ${revoke ? 'revoke' : 'delete'}`);
    for (const b of bound) ck.check('revocation', !b.live && w.undos.get(b) === 1, () => `binding ${b.id} not undone exactly once (${w.undos.get(b) ?? 0})`);
    for (const c of kids) ck.check('revocation', c.live && c.parent === cap.parent, () => `child ${c.id} of a deleted cap did not move up`);
  } else if (k < 18) {                           // bind on one or two capabilities
    const caps = [capAt(w, p, slotOf(w, p, true)), rng.below(2) ? capAt(w, p, slotOf(w, p, true)) : null].filter((c): c is Cap => c !== null);
    if (caps.length === 0) return;
    const spec = { kind: 'pte' as const, desc: `b${w.bindings.length}`, undo: () => w.undos.set(b as Binding, (w.undos.get(b as Binding) ?? 0) + 1) };
    const b = s.bind(caps, spec);
    if (typeof b !== 'number') w.bindings.push(b);
  } else if (k < 19) {                           // unbind: undone once, and only once
    if (w.bindings.length === 0) return;
    const b = pick(w, w.bindings), was = b.live;
    const r = s.unbind(b);
    ck.check('bindings', was ? r.value === ERR.OK && w.undos.get(b) === 1 : r.value === ERR.NOT_BOUND && (w.undos.get(b) ?? 0) <= 1, () => `unbind of binding ${b.id}: ${r.value}, undone ${w.undos.get(b) ?? 0} times`);
  } else {
    s.inspect(p, reg(w, slotOf(w, p, true)));
  }
}

/** Principals 0..n-1, each with an Untyped of 16 pages and one device-like root. */
function boot(n: number, make: () => CapSystem): CapSystem {
  const s = make();
  for (let p = 0; p < n; p++) {
    s.createSpace(p, SLOTS);
    s.createRoot(p, { type: CAP.UNTYPED, base: 0x100000 + p * 16 * PAGE, size: 16 * PAGE });
    const other = [{ type: CAP.MSI_VECTOR, base: 32 + p }, { type: CAP.DMA_DOMAIN, base: p + 1 }, { type: CAP.BLOCK_RANGE, base: p * 64, size: 64 }][p % 3]!;
    s.createRoot(p, other);
  }
  return s;
}

/** Part 1: the sequences, each from a fresh system; `make` lets a test hand in a broken one. */
export function capSequences(o: SequenceOptions, make: () => CapSystem = () => new CapSystem()): { tallies: Tallies; operations: number } {
  const ck = new Checker(), rng = new Prng(o.seed);
  let operations = 0;
  for (let q = 0; q < o.sequences; q++) {
    const w: World = { s: boot(o.principals, make), rng, principals: o.principals, bindings: [], undos: new Map() };
    for (let i = 0; i < o.ops; i++) {
      step(w, ck);
      checkState(w.s, ck);
      operations++;
    }
  }
  return { tallies: ck.t, operations };
}

// ---- part 2: through the exokernel ------------------------------------------------------

export interface LiveDemo {
  console: string;
  /** EXO_CAP_REVOKE in the guest: descendants removed, in how many spaces, their bindings undone. */
  revoke: { removed: number; spaces: number; bindingsUndone: number; survivors: number; ownerMappingKept: number };
  /** The revoke fault: the capability and its descendants (captured before the deadline) and what is left of them. */
  repossess: { taken: number; bindingsBefore: number; survivors: number; bindingsLeft: number; repossessed: number };
  bindingsAtEnd: number;
}

export function capLiveDemo(): LiveDemo {
  const dir = labDir('capabilities'), elf = buildRawGuest(join('apps', 'labs', 'guests', 'capdemo.c')).elf;
  const at = 2, deadlineUs = 100;
  const yaml = `name: capabilities\nseed: 1\nmachine: { cores: 1, ram: 64MiB }\nprincipals:\n` +
    `  - { name: owner, image: ${elf}, cores: [0], memory: 2MiB, args: { value: 256 } }\n` +
    `  - { name: borrower, image: ${elf}, cores: [0], memory: 2MiB, args: { value: 1 } }\n` +
    `faults:\n  - { at: ${at}ms, kind: revoke, target: owner, cap: "53", deadline: ${deadlineUs}us }\nrun: { for: 20ms }\n`;
  const system = new System(parseScenario(yaml, join(dir, 'live.yaml'), dir));
  const caps = (system.kernel as ExoPlugin).kernel.calls.caps;
  const revokes: { removed: CapRef[]; unbound: number }[] = [];
  let unbound = 0;
  caps.events.on('unbound', () => { unbound++; });
  caps.events.on('revoked', (_c, removed) => { revokes.push({ removed, unbound }); unbound = 0; });
  caps.events.on('deleted', () => { unbound = 0; });
  // Up to the middle of the deadline: the request is out, the owner ignores it; G's subtree now.
  const hz = system.machine.config.clockHz;
  system.runSlice(Math.round(((at * 1000 + deadlineUs / 2) * hz) / 1e6));
  const owner = 0, g = caps.lookup(owner, 53, CAP.FRAME, 0);
  const subtree = typeof g === 'number' ? [] : [g, ...capDescendants(g)];
  const bindingsBefore = subtree.reduce((n, c) => n + c.bindings.size, 0);
  const heldBindings = subtree.flatMap((c) => [...c.bindings]);
  system.runToEnd();
  const rep = system.report();
  system.close();
  const first = revokes[0];
  const liveIds = new Set(caps.principals().flatMap((p) => [...caps.space(p)!.caps()].map((c) => c.id)));
  const removed = first?.removed ?? [];
  return {
    console: rep.console,
    revoke: {
      removed: removed.length, spaces: new Set(removed.map((c) => c.principal)).size, bindingsUndone: first?.unbound ?? 0,
      survivors: removed.filter((c) => liveIds.has(c.id)).length, ownerMappingKept: consoleNumber(rep.console, 'owner F mapping after revoke'),
    },
    repossess: {
      taken: subtree.length, bindingsBefore, survivors: subtree.filter((c) => c.live).length,
      bindingsLeft: heldBindings.filter((b) => b.live).length, repossessed: (rep.metrics as any).kernel.reclaims.repossessed,
    },
    bindingsAtEnd: caps.bindingCount(),
  };
}

export const capabilitiesLab: Lab = {
  name: 'capabilities',
  title: 'capability invariants under random operations, and revocation live on the exokernel',
  chapter: 'attenuation, type safety, acyclicity, complete revocation',
  params: [
    { name: 'sequences', unit: '', default: 200, describe: 'random operation sequences, each on a fresh capability system', min: 1, max: 100000, integer: true },
    { name: 'ops', unit: '', default: 60, describe: 'operations per sequence', min: 1, max: 10000, integer: true },
    { name: 'principals', unit: '', default: 5, describe: 'principals (capability spaces) taking part', min: 1, max: 64, integer: true },
    { name: 'seed', unit: '', default: 1, describe: 'seed of the operation generator', min: 0, max: 0xffffffff, integer: true },
  ],
  run(p): LabResult {
    const r = capSequences({ sequences: p.sequences!, ops: p.ops!, principals: p.principals!, seed: p.seed! });
    const figures: LabFigure[] = INVARIANTS.map((inv) => {
      const t = r.tallies[inv];
      return {
        name: `${inv.replace('_', ' ')}: violations`, chapter: 0, measured: t.violations, unit: '',
        breakdown: { checks: t.checks, operations: r.operations },
        ...(t.violations > 0 ? { note: `first: ${t.examples[0]}` } : {}),
      };
    });
    const live = capLiveDemo();
    figures.push({
      name: 'live EXO_CAP_REVOKE: descendants left', chapter: 0, measured: live.revoke.survivors, unit: 'capabilities',
      breakdown: {
        removed: live.revoke.removed, spaces: live.revoke.spaces, bindings_undone: live.revoke.bindingsUndone, owner_mapping_kept: live.revoke.ownerMappingKept,
      },
      note: 'a frame the owner minted from, granted and the borrower minted again: one exo-call takes all three, in both spaces, with their mappings',
    });
    figures.push({
      name: 'live revoke fault (repossession): capabilities left of the subtree', chapter: 0, measured: live.repossess.survivors, unit: 'capabilities',
      breakdown: {
        subtree: live.repossess.taken, bindings_before: live.repossess.bindingsBefore, bindings_left: live.repossess.bindingsLeft,
        repossessed: live.repossess.repossessed, bindings_at_end: live.bindingsAtEnd,
      },
    });
    return { lab: 'capabilities', parameters: p, figures };
  },
};
