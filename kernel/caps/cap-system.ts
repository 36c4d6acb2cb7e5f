// The exokernel's capability system (DESIGN section 3): one capability space per principal, one
// derivation tree per root resource, the CAP_* exo-calls of kernel/abi.ts and the records of
// secure bindings. Every guest-facing operation decodes all its arguments first (register
// values, garbage included) and returns an EXO_E_* code without touching state; only then
// does it mutate. Each reports its work (cost.ts) so the kernel charges cycles linearly.

import { EventEmitter } from 'node:events';
import type TypedEventEmitter from 'typed-emitter';
import {
  CAP, ERR, EXO_DEFAULT_SLOTS, EXO_SLOT_NONE, RIGHT, RIGHTS_ALL, capWordEncode, type CapInfo, type CapType, type ExoErr,
} from '../abi.js';
import { BindingTable, bindingView, type Binding, type BindingSpec, type BindingView } from './binding.js';
import { Cap, DerivTree, capDescendants, type CapRef } from './cap.js';
import { noWork, type OpResult, type Work } from './cost.js';
import { CSpace } from './cspace.js';
import { KObject, reg } from './object.js';
import { objectType } from './types.js';
import { IntervalSet, RETYPE_EDGES, objectRelease, untypedCarve, untypedSubrangeOk } from './untyped.js';

/** The largest capability space a principal may have. */
export const MAX_SLOTS = 1 << 16;

export type CapEvents = {
  root: (cap: CapRef) => void;
  minted: (cap: CapRef, from: CapRef) => void;
  granted: (cap: CapRef, from: CapRef) => void;
  retyped: (cap: CapRef, from: CapRef) => void;
  /** One capability gone by delete or with its principal. */
  deleted: (cap: CapRef) => void;
  /** `removed` in the order they went, deepest first. */
  revoked: (cap: CapRef, removed: CapRef[]) => void;
  bound: (binding: BindingView) => void;
  unbound: (binding: BindingView) => void;
};

/** What a boot-time root capability names; `rights` defaults to every right the type has. */
export interface RootSpec { type: number; base: number; size?: number; rights?: number; slot?: number }

/** The result of CAP_INSPECT: EAX and, on success, the struct exo_cap_info fields. */
export interface InspectResult extends OpResult { info: CapInfo | null }

const isErr = (v: Cap | number): v is number => typeof v === 'number';

export class CapSystem {
  readonly events = new EventEmitter() as TypedEventEmitter.default<CapEvents>;
  private readonly spaces = new Map<number, CSpace>();
  private readonly treeSet = new Map<number, DerivTree>();
  private readonly bindingTable = new BindingTable();
  /** Live root objects: memory ones by range, the others by type and index. */
  private readonly memoryRoots = new IntervalSet();
  private readonly otherRoots = new Map<string, KObject>();
  private nextCap = 1;
  private nextObject = 1;
  private nextTree = 1;
  /** Objects alive now (roots and carved). */
  objects = 0;

  // ---- principals --------------------------------------------------------------------

  createSpace(principal: number, slots: number = EXO_DEFAULT_SLOTS): OpResult {
    const w = noWork();
    if (!Number.isInteger(principal) || principal < 0 || principal > 0xffffffff) return { value: ERR.BAD_ARG, work: w };
    if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS) return { value: ERR.BAD_ARG, work: w };
    if (this.spaces.has(principal)) return { value: ERR.EXISTS, work: w };
    this.spaces.set(principal, new CSpace(principal, slots));
    return { value: ERR.OK, work: w };
  }

  /**
   * Ends a principal's space: each of its capabilities is deleted in slot order (its bindings
   * undone, capabilities it gave others moving up their trees). Returns how many went.
   */
  removePrincipal(principal: number): OpResult {
    const w = noWork();
    const space = this.spaces.get(principal);
    if (!space) return { value: ERR.NO_PRINCIPAL, work: w };
    const caps = [...space.caps()];
    for (const c of caps) {
      this.removeCap(c, w, true);
      this.events.emit('deleted', c.ref());
    }
    this.spaces.delete(principal);
    return { value: caps.length, work: w };
  }

  /** Principal ids with a space, ascending. */
  principals(): number[] {
    return [...this.spaces.keys()].sort((a, b) => a - b);
  }

  space(principal: number): CSpace | undefined {
    return this.spaces.get(principal);
  }

  /** The live derivation trees, oldest first. */
  trees(): IterableIterator<DerivTree> {
    return this.treeSet.values();
  }

  // ---- boot ----------------------------------------------------------------------------

  /**
   * Gives `principal` a root capability at boot (an Untyped range, a CoreSlice, ...) in
   * `spec.slot` or its lowest free slot; returns the slot. A memory root may not overlap a live
   * one (OVERLAP); a second live root of the same device index is EXISTS: share one by
   * granting children of it (keep roots in a kernel-held space to be able to take them back).
   */
  createRoot(principal: number, spec: RootSpec): OpResult {
    const w = noWork();
    const space = this.spaces.get(principal);
    if (!space) return { value: ERR.NO_PRINCIPAL, work: w };
    const t = objectType(spec.type);
    const size = spec.size ?? 1;
    const rights = spec.rights ?? t?.validRights ?? 0;
    if (!t || !t.rootRangeOk(spec.base, size) || !Number.isInteger(rights) || (rights & ~t.validRights) !== 0) {
      return { value: ERR.BAD_ARG, work: w };
    }
    const slot = spec.slot === undefined ? this.freeSlot(space, w) : this.emptySlot(space, spec.slot, w);
    if (slot < 0) return { value: slot, work: w };
    const key = `${t.type}:${spec.base}:${size}`; // a block range is named by its sectors, the others by index
    if (t.memory ? this.memoryRoots.overlaps(spec.base, spec.base + size) : this.otherRoots.has(key)) {
      return { value: t.memory ? ERR.OVERLAP : ERR.EXISTS, work: w };
    }
    const obj = this.newObject(t.type, spec.base, size, null);
    if (t.memory) this.memoryRoots.add(spec.base, spec.base + size); else this.otherRoots.set(key, obj);
    const tree = new DerivTree(this.nextTree++, obj);
    this.treeSet.set(tree.id, tree);
    const cap = this.newCap(space, slot, obj, rights, 0, tree, null, w);
    this.events.emit('root', cap.ref());
    return { value: slot, work: w };
  }

  // ---- exo-calls -------------------------------------------------------------------------

  /** CAP_MINT: a child of `src` in the caller's empty slot `dst`, rights a subset, badge rule. */
  mint(principal: number, src: number, dst: number, rights: number, badge: number): OpResult {
    const w = noWork();
    const space = this.spaces.get(principal);
    if (!space) return { value: ERR.NO_PRINCIPAL, work: w };
    const from = this.resolve(space, src, w);
    if (isErr(from)) return { value: from, work: w };
    const slot = this.emptySlot(space, dst, w);
    if (slot < 0) return { value: slot, work: w };
    const derived = deriveCheck(from, rights, badge);
    if (derived < 0) return { value: derived, work: w };
    const cap = this.derive(space, slot, from, reg(rights), reg(badge), w);
    this.events.emit('minted', cap.ref(), from.ref());
    return { value: ERR.OK, work: w };
  }

  /** CAP_GRANT: a child of `src` (which needs GRANT) in the target's lowest free slot. */
  grant(principal: number, src: number, target: number, rights: number, badge: number): OpResult {
    const w = noWork();
    const space = this.spaces.get(principal);
    if (!space) return { value: ERR.NO_PRINCIPAL, work: w };
    const from = this.resolve(space, src, w);
    if (isErr(from)) return { value: from, work: w };
    if (!(from.rights & RIGHT.GRANT)) return { value: ERR.RIGHTS, work: w };
    const to = this.spaces.get(reg(target));
    if (!to) return { value: ERR.NO_PRINCIPAL, work: w };
    const derived = deriveCheck(from, rights, badge);
    if (derived < 0) return { value: derived, work: w };
    const slot = this.freeSlot(to, w);
    if (slot < 0) return { value: slot, work: w };
    const cap = this.derive(to, slot, from, reg(rights), reg(badge), w);
    this.events.emit('granted', cap.ref(), from.ref());
    return { value: slot, work: w };
  }

  /** CAP_DELETE: one capability and its bindings go; its children move up to its parent. */
  delete(principal: number, slot: number): OpResult {
    const w = noWork();
    const space = this.spaces.get(principal);
    if (!space) return { value: ERR.NO_PRINCIPAL, work: w };
    const cap = this.resolve(space, slot, w);
    if (isErr(cap)) return { value: cap, work: w };
    this.removeCap(cap, w, true);
    this.events.emit('deleted', cap.ref());
    return { value: ERR.OK, work: w };
  }

  /** CAP_REVOKE: every descendant, in any space, goes with its bindings; returns how many. */
  revoke(principal: number, slot: number): OpResult {
    const w = noWork();
    const space = this.spaces.get(principal);
    if (!space) return { value: ERR.NO_PRINCIPAL, work: w };
    const cap = this.resolve(space, slot, w);
    if (isErr(cap)) return { value: cap, work: w };
    // Deepest first: each capability removed is a leaf by then, so nothing needs moving.
    const gone = capDescendants(cap).reverse();
    for (const c of gone) this.removeCap(c, w, false);
    this.events.emit('revoked', cap.ref(), gone.map((c) => c.ref()));
    return { value: gone.length, work: w };
  }

  /**
   * CAP_RETYPE: carves [offset, offset + size) of an Untyped (the capability needs WRITE) into a
   * new object of `type` along RETYPE_EDGES, its capability a child of the Untyped's in `dst`.
   */
  retype(principal: number, src: number, type: number, offset: number, size: number, dst: number): OpResult {
    const w = noWork();
    const space = this.spaces.get(principal);
    if (!space) return { value: ERR.NO_PRINCIPAL, work: w };
    const ut = this.resolve(space, src, w);
    if (isErr(ut)) return { value: ut, work: w };
    if (ut.object.type !== CAP.UNTYPED) return { value: ERR.WRONG_TYPE, work: w };
    if (!(ut.rights & RIGHT.WRITE)) return { value: ERR.RIGHTS, work: w };
    const t = objectType(reg(type));
    if (!t) return { value: ERR.BAD_ARG, work: w };
    if (!RETYPE_EDGES.get(ut.object.type)?.includes(t.type)) return { value: ERR.EDGE, work: w };
    const off = reg(offset), len = reg(size);
    if (!untypedSubrangeOk(ut.object.size, off, len)) return { value: ERR.BAD_ARG, work: w };
    const slot = this.emptySlot(space, dst, w);
    if (slot < 0) return { value: slot, work: w };
    if (ut.object.carved?.overlaps(ut.object.base + off, ut.object.base + off + len)) return { value: ERR.OVERLAP, work: w };
    const obj = this.newObject(t.type, ut.object.base + off, len, ut.object);
    untypedCarve(ut.object, obj);
    const cap = this.newCap(space, slot, obj, ut.rights & t.validRights, 0, ut.tree, ut, w);
    this.events.emit('retyped', cap.ref(), ut.ref());
    return { value: ERR.OK, work: w };
  }

  /** CAP_INSPECT: the capability word in `value`, and the exo_cap_info fields. */
  inspect(principal: number, slot: number): InspectResult {
    const w = noWork();
    const space = this.spaces.get(principal);
    if (!space) return { value: ERR.NO_PRINCIPAL, work: w, info: null };
    const cap = this.resolve(space, slot, w);
    if (isErr(cap)) return { value: cap, work: w, info: null };
    const word = capWordEncode({
      rights: cap.rights, type: cap.object.type, badged: cap.badge !== 0, hasParent: cap.parent !== null,
      children: cap.children.size,
    });
    const p = cap.parent;
    const info: CapInfo = {
      word, badge: cap.badge, base: cap.object.base, size: cap.object.size,
      parent_slot: p && p.principal === principal ? p.slot : EXO_SLOT_NONE, children: cap.children.size,
    };
    return { value: word, work: w, info };
  }

  /**
   * For the kernel's other exo-calls: the capability in `slot` if it has `type` (null: any) and
   * every right of `rights`, else the error to return. One slot lookup to charge.
   */
  lookup(principal: number, slot: number, type: CapType | null, rights: number): Cap | ExoErr {
    const space = this.spaces.get(principal);
    if (!space) return ERR.NO_PRINCIPAL;
    const cap = this.resolve(space, slot, noWork());
    if (isErr(cap)) return cap as ExoErr;
    if (type !== null && cap.object.type !== type) return ERR.WRONG_TYPE;
    if ((cap.rights & rights) !== rights) return ERR.RIGHTS;
    return cap;
  }

  // ---- secure bindings -------------------------------------------------------------------

  /**
   * Records a binding the kernel has just made on the authority of `caps` (all live, all the
   * same principal's): it is undone when any of them goes. GONE if one is dead already (the
   * kernel should then undo the binding itself), BAD_ARG for no capability, PERM for a mix.
   */
  bind(caps: Cap | readonly Cap[], spec: BindingSpec): Binding | ExoErr {
    const list = Array.isArray(caps) ? [...new Set(caps as readonly Cap[])] : [caps as Cap];
    if (list.length === 0) return ERR.BAD_ARG;
    if (list.some((c) => !c.live)) return ERR.GONE;
    if (list.some((c) => c.principal !== list[0]!.principal)) return ERR.PERM;
    const b = this.bindingTable.add(list, spec);
    this.events.emit('bound', bindingView(b));
    return b;
  }

  /** Removes a binding explicitly (UNMAP_FRAME, IRQ_UNBIND, ...): runs its undo once. */
  unbind(binding: Binding): OpResult {
    const w = noWork();
    if (!binding.live) return { value: ERR.NOT_BOUND, work: w };
    this.dropBinding(binding, w);
    return { value: ERR.OK, work: w };
  }

  bindingsOf(cap: Cap): Binding[] {
    return [...cap.bindings];
  }

  bindingsOfPrincipal(principal: number): Binding[] {
    return this.bindingTable.of(principal);
  }

  bindingCount(): number {
    return this.bindingTable.count();
  }

  // ---- internals -----------------------------------------------------------------------

  /** The capability in a slot argument, or BAD_SLOT / EMPTY. */
  private resolve(space: CSpace, slot: number, w: Work): Cap | ExoErr {
    w.lookups++;
    const s = reg(slot);
    if (!space.has(s)) return ERR.BAD_SLOT;
    return space.get(s) ?? ERR.EMPTY;
  }

  /** An empty destination slot named by the caller, or BAD_SLOT / SLOT_FULL. */
  private emptySlot(space: CSpace, slot: number, w: Work): number {
    w.lookups++;
    const s = reg(slot);
    if (!space.has(s)) return ERR.BAD_SLOT;
    return space.get(s) ? ERR.SLOT_FULL : s;
  }

  /** The lowest free slot, or NO_MEMORY. */
  private freeSlot(space: CSpace, w: Work): number {
    w.lookups++;
    const free = space.lowestFree();
    return free < 0 ? ERR.NO_MEMORY : free;
  }

  private derive(space: CSpace, slot: number, from: Cap, rights: number, badge: number, w: Work): Cap {
    return this.newCap(space, slot, from.object, rights, badge || from.badge, from.tree, from, w);
  }

  private newObject(type: CapType, base: number, size: number, from: KObject | null): KObject {
    this.objects++;
    return new KObject(this.nextObject++, type, base, size, from);
  }

  private newCap(space: CSpace, slot: number, obj: KObject, rights: number, badge: number, tree: DerivTree,
    parent: Cap | null, w: Work): Cap {
    const cap = new Cap(this.nextCap++, space.principal, slot, obj, rights, badge, tree);
    cap.parent = parent;
    (parent ? parent.children : tree.tops).add(cap);
    space.put(cap);
    obj.caps++;
    w.created++;
    return cap;
  }

  /** Unlinks one capability; `moveChildren` false only when it has none left (revoke). */
  private removeCap(cap: Cap, w: Work, moveChildren: boolean): void {
    const up = cap.parent ? cap.parent.children : cap.tree.tops;
    up.delete(cap);
    if (moveChildren) {
      for (const c of cap.children) { c.parent = cap.parent; up.add(c); w.moved++; }
      cap.children.clear();
    }
    for (const b of [...cap.bindings]) this.dropBinding(b, w);
    this.spaces.get(cap.principal)!.clear(cap.slot);
    cap.live = false;
    cap.object.caps--;
    w.removed++;
    for (const o of objectRelease(cap.object)) this.objectDied(o);
    if (cap.tree.tops.size === 0) this.treeSet.delete(cap.tree.id);
  }

  private objectDied(o: KObject): void {
    this.objects--;
    if (o.from) return;
    if (objectType(o.type)!.memory) this.memoryRoots.remove(o.base);
    else this.otherRoots.delete(`${o.type}:${o.base}:${o.size}`);
  }

  private dropBinding(b: Binding, w: Work): void {
    w.unbound++;
    const view = bindingView(b);
    this.bindingTable.drop(b);
    this.events.emit('unbound', view);
  }
}

/** The mint and grant argument checks: rights a subset of the source's, at most one badge. */
function deriveCheck(from: Cap, rights: number, badge: number): ExoErr {
  const r = reg(rights), b = reg(badge);
  if (Number.isNaN(r) || (r & ~RIGHTS_ALL) !== 0) return ERR.BAD_ARG;
  if ((r & ~from.rights) !== 0) return ERR.RIGHTS;
  if (Number.isNaN(b)) return ERR.BAD_ARG;
  if (b !== 0 && from.badge !== 0) return ERR.PERM;
  return ERR.OK;
}
