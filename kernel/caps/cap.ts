// A capability: a typed reference to a kernel object with a rights mask and an optional badge,
// sitting in one slot of one principal's space and in the derivation tree of the root resource
// it came from (DESIGN section 3). seL4's CDT in spirit: minted, granted and retyped
// capabilities are children of their source, so revoking a capability reaches all of them.

import type { Binding } from './binding.js';
import type { KObject } from './object.js';

/** Names a capability in events and views: `id` is never reused, (principal, slot) may be. */
export interface CapRef { id: number; principal: number; slot: number }

export class Cap {
  /** Null for a top of its tree: a root, or a capability whose ancestors were all deleted. */
  parent: Cap | null = null;
  /** Insertion-ordered, so walks (and so revocation order) are deterministic. */
  readonly children = new Set<Cap>();
  /** Secure bindings this capability authorised (alone or with others). */
  readonly bindings = new Set<Binding>();
  live = true;

  constructor(
    readonly id: number,
    readonly principal: number,
    readonly slot: number,
    readonly object: KObject,
    readonly rights: number,
    /** 0: none. */
    readonly badge: number,
    readonly tree: DerivTree,
  ) {}

  ref(): CapRef {
    return { id: this.id, principal: this.principal, slot: this.slot };
  }
}

/**
 * The derivation tree of one root resource the kernel handed out at boot. Deleting a capability
 * moves its children up, so a tree may have several tops; it ends when its last capability goes.
 */
export class DerivTree {
  readonly tops = new Set<Cap>();
  constructor(readonly id: number, readonly root: KObject) {}
}

/** Every capability below `cap`, parents before children, without recursion. */
export function capDescendants(cap: Cap): Cap[] {
  const out: Cap[] = [];
  const stack = [...cap.children].reverse();
  while (stack.length > 0) {
    const c = stack.pop()!;
    out.push(c);
    for (const k of [...c.children].reverse()) stack.push(k);
  }
  return out;
}
