// Read-only views of the capability system for the TUI and the headless reports: a principal's
// space as a tree, every derivation tree, and global counts. Plain data, built on demand, in a
// stable order (slots ascending, children and bindings in creation order).

import { CAP, capTypeName, rightsString, type CapTypeName } from '../abi.js';
import { BINDING_KINDS, bindingView, type BindingKind, type BindingView } from './binding.js';
import type { Cap, CapRef } from './cap.js';
import type { CapSystem } from './cap-system.js';

export interface CapView extends CapRef {
  type: string;
  /** 'rwxmdg' with '-' for each missing right. */
  rights: string;
  badge: number;
  base: number;
  size: number;
  parent: CapRef | null;
  /** Every child, wherever it lives. */
  children: CapRef[];
  bindings: BindingView[];
}

/** A capability with the children that sit in the same principal's space (or, in a derivation tree, anywhere). */
export interface CapNode extends CapView { sub: CapNode[] }

export interface TreeView { id: number; type: string; base: number; size: number; tops: CapNode[] }

export interface CapCounts {
  principals: number;
  caps: number;
  objects: number;
  trees: number;
  bindings: number;
  byType: Record<CapTypeName, number>;
  byKind: Record<BindingKind, number>;
}

export function capView(c: Cap): CapView {
  return {
    ...c.ref(), type: capTypeName(c.object.type), rights: rightsString(c.rights), badge: c.badge,
    base: c.object.base, size: c.object.size, parent: c.parent?.ref() ?? null,
    children: [...c.children].map((k) => k.ref()), bindings: [...c.bindings].map(bindingView),
  };
}

/** Nests `tops` by derivation, keeping children that `keep` accepts; iterative. */
function nest(tops: Iterable<Cap>, keep: (c: Cap) => boolean): CapNode[] {
  const out: CapNode[] = [];
  const stack: [Cap, CapNode[]][] = [...tops].reverse().map((c) => [c, out]);
  while (stack.length > 0) {
    const [c, into] = stack.pop()!;
    const node: CapNode = { ...capView(c), sub: [] };
    into.push(node);
    for (const k of [...c.children].reverse()) if (keep(k)) stack.push([k, node.sub]);
  }
  return out;
}

/**
 * A principal's capabilities as a forest: a capability whose parent is in another space (or
 * none) is a top; `children` still lists the ones given away. Null for no such principal.
 */
export function principalTree(sys: CapSystem, principal: number): CapNode[] | null {
  const space = sys.space(principal);
  if (!space) return null;
  const mine = (c: Cap) => c.principal === principal;
  return nest([...space.caps()].filter((c) => !c.parent || !mine(c.parent)), mine);
}

/** Every derivation tree, across all spaces. */
export function treeViews(sys: CapSystem): TreeView[] {
  return [...sys.trees()].map((t) => ({
    id: t.id, type: capTypeName(t.root.type), base: t.root.base, size: t.root.size, tops: nest(t.tops, () => true),
  }));
}

export function capCounts(sys: CapSystem): CapCounts {
  const byType = Object.fromEntries(Object.keys(CAP).map((k) => [k, 0])) as Record<CapTypeName, number>;
  const byKind = Object.fromEntries(BINDING_KINDS.map((k) => [k, 0])) as Record<BindingKind, number>;
  let caps = 0;
  for (const p of sys.principals()) {
    for (const c of sys.space(p)!.caps()) {
      caps++;
      byType[capTypeName(c.object.type) as CapTypeName]++;
    }
    for (const b of sys.bindingsOfPrincipal(p)) byKind[b.kind]++;
  }
  return {
    principals: sys.principals().length, caps, objects: sys.objects, trees: [...sys.trees()].length,
    bindings: sys.bindingCount(), byType, byKind,
  };
}
