// What the kernel's capability work costs. Every operation counts what it touched (slots
// resolved, capabilities created, removed or re-linked, bindings undone) and the kernel turns
// the counts into cycles from the profile's kernel section, so revoke is linear in the
// number of descendants it removes.

import type { Profile } from '../../machine/profile.js';

/** The work of one capability operation, in units the profile prices. */
export interface Work {
  /** Slots resolved, and free slots found (a find-first-zero on a bitmap in a real kernel). */
  lookups: number;
  /** Capabilities created (mint, grant, retype, a root). */
  created: number;
  /** Capabilities removed (delete, revoke, a principal's end). */
  removed: number;
  /** Children re-linked to their grandparent by a delete. */
  moved: number;
  /** Secure bindings undone; the undo's own device work (a DMA drain) is charged by its caller. */
  unbound: number;
}

/** What an operation returns: the value for EAX (>= 0, or a negative EXO_E_* code) and its work. */
export interface OpResult { value: number; work: Work }

export interface CapCosts { capLookup: number; pteInstall: number; revokePerNode: number }

export function capCosts(profile: Pick<Profile, 'kernel'>): CapCosts {
  const k = profile.kernel;
  return { capLookup: k.capLookup, pteInstall: k.pteInstall, revokePerNode: k.revokePerNode };
}

/** Cycles to charge for `w`: a slot touched costs a lookup, a node unlinked revokePerNode. */
export function workCycles(w: Work, c: CapCosts): number {
  return (w.lookups + w.created) * c.capLookup + (w.removed + w.moved) * c.revokePerNode + w.unbound * c.pteInstall;
}

export function noWork(): Work {
  return { lookups: 0, created: 0, removed: 0, moved: 0, unbound: 0 };
}
