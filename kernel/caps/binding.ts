// Secure bindings (DESIGN section 3): a PTE, an IOMMU mapping, an IRQ route or a queue the
// kernel set up on the authority of one or more capabilities. The record sits under each of
// them; when any of them goes (delete, revoke, a principal's end) or the kernel unbinds it
// explicitly, the kernel-supplied undo runs exactly once and the record disappears everywhere.

import type { Cap, CapRef } from './cap.js';

export type BindingKind = 'pte' | 'iommu' | 'irq' | 'queue';
export const BINDING_KINDS: readonly BindingKind[] = ['pte', 'iommu', 'irq', 'queue'];

/** What the kernel hands to `CapSystem.bind`. */
export interface BindingSpec {
  kind: BindingKind;
  /** For views and reports, e.g. 'va 0x00400000 -> pa 0x00200000 rw, 4 pages'. */
  desc: string;
  /** Tears the binding down in the machine (clear PTEs, unmap, unroute). Called once. */
  undo: () => void;
}

export class Binding {
  live = true;
  constructor(
    readonly id: number,
    /** The principal whose capabilities authorised it. */
    readonly principal: number,
    readonly kind: BindingKind,
    readonly desc: string,
    readonly caps: readonly Cap[],
    readonly undo: () => void,
  ) {}
}

export interface BindingView { id: number; principal: number; kind: BindingKind; desc: string; caps: CapRef[] }

export function bindingView(b: Binding): BindingView {
  return { id: b.id, principal: b.principal, kind: b.kind, desc: b.desc, caps: b.caps.map((c) => c.ref()) };
}

/** All live bindings, indexed by principal (each principal's in creation order). */
export class BindingTable {
  private nextId = 1;
  private readonly byPrincipal = new Map<number, Set<Binding>>();

  add(caps: readonly Cap[], spec: BindingSpec): Binding {
    const b = new Binding(this.nextId++, caps[0]!.principal, spec.kind, spec.desc, caps, spec.undo);
    for (const c of caps) c.bindings.add(b);
    let set = this.byPrincipal.get(b.principal);
    if (!set) this.byPrincipal.set(b.principal, set = new Set());
    set.add(b);
    return b;
  }

  /** Forgets a live binding everywhere, then runs its undo (so a throwing undo leaves no record). */
  drop(b: Binding): void {
    b.live = false;
    for (const c of b.caps) c.bindings.delete(b);
    const set = this.byPrincipal.get(b.principal)!;
    set.delete(b);
    if (set.size === 0) this.byPrincipal.delete(b.principal);
    b.undo();
  }

  of(principal: number): Binding[] {
    return [...(this.byPrincipal.get(principal) ?? [])];
  }

  count(): number {
    let n = 0;
    for (const s of this.byPrincipal.values()) n += s.size;
    return n;
  }
}
