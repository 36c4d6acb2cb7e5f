// The exo-calls (DESIGN section 3, numbers in kernel/abi.ts): decode every argument first and
// answer an EXO_E_* code without touching state, then act. Secure bindings (PTEs, IOMMU
// entries, IRQ routes, queues) are made here and recorded under the capabilities that
// authorised them, with an undo that removes them from the machine when any of those goes.
// Operations that must wait for a device (a DMA drain, an IOMMU invalidation) return WAIT and
// finish from the machine's event.

import type { Cpu } from '../../machine/cpu/cpu.js';
import { EAX, EBX, ECX, EDX, ESI, EDI } from '../../machine/cpu/cpu.js';
import {
  BLK, CAP, ERR, EXO_SLOT_NONE, errName, EXO_USER_MAX, PTE_BITS, RIGHT, SYS, UPCALL, capTypeName, rightsString, type ExoErr,
} from '../abi.js';
import type { Binding } from '../caps/binding.js';
import { CapSystem, type RootSpec } from '../caps/cap-system.js';
import { capDescendants, type Cap } from '../caps/cap.js';
import { capCosts, workCycles, type OpResult } from '../caps/cost.js';
import { MAP_PERMS, permsOk } from '../caps/frame.js';
import { irqModeOk } from '../caps/msi-vector.js';
import type { Exokernel } from './kernel.js';
import { IRQ_MODE_DIRECT, WAIT } from './kernel.js';
import type { KernelDevices } from './kdev.js';
import { USER_MIN } from './layout.js';
import { PTE_RW, PTE_US } from './paging.js';
import type { Context, Principal } from './principal.js';

const PAGE = 4096;
/** The capability space of the kernel itself: it holds every root and grants children. */
export const KERNEL_SPACE = 0xffff;
const PTE_PCD = 0x10, PTE_A = 0x20, PTE_D = 0x40;
const CONSOLE_MAX = 4096;

type Result = number | typeof WAIT;

/** A NIC queue bound to a principal. */
export interface QueueBinding { q: number; principal: Principal; domain: number; vector: number | null; va: number; binding: Binding }

/** One DMA mapping: a frame's pages in a domain. */
interface DmaMapping {
  domain: number; iova: number; pages: number; binding: Binding;
  /** Set when the safe path invalidates and waits itself (the undo then does not). */
  waited?: boolean;
}

/** A visible revocation in progress: the kernel asked for `cap` back by `deadline`. */
export interface RevokeRequest { id: number; principal: Principal; cap: Cap; slot: number; asked: number; deadline: number; outcome: 'pending' | 'returned' | 'repossessed' | 'gone' }

export class ExoCalls {
  readonly caps = new CapSystem();
  private readonly costs;
  readonly queues = new Map<number, QueueBinding>();
  /** Domain -> iova page -> its mapping. */
  private readonly dma = new Map<number, Map<number, DmaMapping>>();
  /** Each DMA binding's mapping, for what a delete or revoke takes with it. */
  private readonly dmaByBinding = new Map<Binding, DmaMapping>();
  readonly requests = new Map<number, RevokeRequest>();
  private nextRequest = 1;
  /** Fault injection: the next DMA unmaps skip fence and drain. */
  unsafeUnmaps = 0;
  /** Per call number, how many times it was made. */
  readonly counts = new Map<number, number>();

  constructor(private readonly k: Exokernel, private readonly dev: KernelDevices) {
    this.costs = capCosts({ kernel: k.costs });
    this.caps.createSpace(KERNEL_SPACE, 4096);
  }

  // ---- boot ----------------------------------------------------------------------------------

  /** A root in the kernel's space; returns its slot there (throws on a kernel bug). */
  root(spec: RootSpec): number {
    const r = this.caps.createRoot(KERNEL_SPACE, spec);
    if (r.value < 0) throw new Error(`kernel: root ${capTypeName(spec.type)} 0x${spec.base.toString(16)}: ${r.value}`);
    return r.value;
  }

  private readonly blockRoots = new Map<string, number>();

  /** The kernel's BlockRange root over these sectors (one per distinct range, shared by grants). */
  blockRoot(base: number, size: number): number {
    const key = `${base}+${size}`;
    let slot = this.blockRoots.get(key);
    if (slot === undefined) {
      slot = this.root({ type: CAP.BLOCK_RANGE, base, size, rights: RIGHT.READ | RIGHT.WRITE | RIGHT.GRANT });
      this.blockRoots.set(key, slot);
    }
    return slot;
  }

  /** Give a principal a child of a kernel root with `rights`; returns its slot. */
  give(p: Principal, rootSlot: number, rights: number): number {
    const r = this.caps.grant(KERNEL_SPACE, rootSlot, p.id, rights, 0);
    if (r.value < 0) throw new Error(`kernel: grant to ${p.name}: ${r.value}`);
    return r.value;
  }

  // ---- dispatch ------------------------------------------------------------------------------

  dispatch(cpu: Cpu, ctx: Context): Result {
    const r = cpu.reg;
    const n = r[EAX]! >>> 0, a = r[EBX]! >>> 0, b = r[ECX]! >>> 0, c = r[EDX]! >>> 0, d = r[ESI]! >>> 0, e = r[EDI]! >>> 0;
    const p = ctx.principal;
    this.counts.set(n, (this.counts.get(n) ?? 0) + 1);
    p.stats.exoCallsByNumber.set(n, (p.stats.exoCallsByNumber.get(n) ?? 0) + 1);
    switch (n) {
      case SYS.CAP_MINT: return this.op(cpu, ctx, this.caps.mint(p.id, a, b, c, d));
      case SYS.CAP_GRANT: return this.grant(cpu, ctx, a, b, c, d);
      case SYS.CAP_DELETE: return this.remove(cpu, ctx, a, false);
      case SYS.CAP_REVOKE: return this.remove(cpu, ctx, a, true);
      case SYS.CAP_RETYPE: return this.retype(cpu, ctx, a, b, c, d, e);
      case SYS.CAP_INSPECT: return this.inspect(cpu, ctx, a, b);
      case SYS.MAP_FRAME: return this.mapFrame(cpu, ctx, a, b, c);
      case SYS.UNMAP_FRAME: return this.unmapFrame(cpu, ctx, a);
      case SYS.MAP_QUERY: return this.mapQuery(cpu, ctx, a, b);
      case SYS.BLOCK_IO: return this.blockIo(cpu, ctx, a, b, c, d, e);
      case SYS.UPCALL_ENTRY: return this.upcallEntry(p, a, b, c);
      case SYS.IRQ_BIND: return this.irqBind(cpu, ctx, a, b, c);
      case SYS.IRQ_UNBIND: return this.irqUnbind(cpu, ctx, a);
      case SYS.QUEUE_BIND: return this.queueBind(cpu, ctx, a, b, c, d);
      case SYS.QUEUE_UNBIND: return this.queueUnbind(cpu, ctx, a);
      case SYS.DMA_MAP: return this.dmaMap(cpu, ctx, a, b, c, d);
      case SYS.DMA_UNMAP: return this.dmaUnmap(cpu, ctx, a, b);
      case SYS.YIELD: return this.k.yieldCore(cpu, ctx);
      case SYS.DONATE: return this.k.donate(cpu, ctx, a);
      case SYS.REVOKE_REPLY: return this.revokeReply(cpu, ctx, a, b);
      case SYS.REPO_NOTICE: return this.repoNotice(p, a, b);
      case SYS.CONSOLE_WRITE: return this.consoleWrite(cpu, ctx, a, b, c);
      case SYS.EXIT: this.k.exit(p, a | 0); return 0;
      default: return ERR.BAD_CALL;
    }
  }

  /** Charge a capability operation's work and return its value. */
  private op(cpu: Cpu, ctx: Context, r: OpResult): number {
    this.k.charge(cpu, ctx, workCycles(r.work, this.costs));
    return r.value;
  }

  private lookup(cpu: Cpu, ctx: Context, slot: number, type: number | null, rights: number): Cap | ExoErr {
    this.k.charge(cpu, ctx, this.costs.capLookup);
    return this.caps.lookup(ctx.principal.id, slot, type as never, rights);
  }

  // ---- capabilities --------------------------------------------------------------------------

  private grant(cpu: Cpu, ctx: Context, src: number, target: number, rights: number, badge: number): number {
    const to = this.k.principals[target];
    if (target === KERNEL_SPACE || to === undefined || !to.alive) {
      const from = this.lookup(cpu, ctx, src, null, 0);
      if (typeof from === 'number') return from;
      if (!(from.rights & RIGHT.GRANT)) return ERR.RIGHTS;
      return ERR.NO_PRINCIPAL;
    }
    return this.op(cpu, ctx, this.caps.grant(ctx.principal.id, src, target, rights, badge));
  }

  private retype(cpu: Cpu, ctx: Context, src: number, type: number, off: number, size: number, dst: number): number {
    return this.op(cpu, ctx, this.caps.retype(ctx.principal.id, src, type, off, size, dst));
  }

  private inspect(cpu: Cpu, ctx: Context, slot: number, out: number): number {
    const r = this.caps.inspect(ctx.principal.id, slot);
    this.k.charge(cpu, ctx, workCycles(r.work, this.costs));
    if (r.value < 0 || out === 0 || r.info === null) return r.value;
    const i = r.info;
    if (!this.k.copyOut(ctx.principal, out, [i.word, i.badge, i.base, i.size, i.parent_slot, i.children])) return ERR.BAD_ARG;
    return r.value;
  }

  /**
   * CAP_DELETE and CAP_REVOKE. When a Frame that goes has DMA mappings, the device must stop
   * first: the queues on those domains are fenced and drained before the capabilities go,
   * and the call returns after the IOTLB invalidation (the same path as DMA_UNMAP).
   */
  private remove(cpu: Cpu, ctx: Context, slot: number, descendants: boolean): Result {
    const cap = this.lookup(cpu, ctx, slot, null, 0);
    if (typeof cap === 'number') return cap;
    const going = descendants ? capDescendants(cap) : [cap];
    const maps: DmaMapping[] = [];
    for (const c of going) for (const b of c.bindings) if (b.kind === 'iommu') { const m = this.dmaByBinding.get(b); if (m) maps.push(m); }
    const act = () => descendants ? this.caps.revoke(ctx.principal.id, slot) : this.caps.delete(ctx.principal.id, slot);
    if (maps.length === 0) return this.op(cpu, ctx, act());
    return this.dmaRevoke(cpu, ctx, maps, () => this.op(cpu, ctx, act()));
  }

  // ---- memory --------------------------------------------------------------------------------

  private mapFrame(cpu: Cpu, ctx: Context, slot: number, va: number, perms: number): number {
    const p = ctx.principal;
    if (!permsOk(perms, MAP_PERMS)) return ERR.BAD_ARG;
    const frame = this.lookup(cpu, ctx, slot, CAP.FRAME, RIGHT.MAP | perms);
    if (typeof frame === 'number') return frame;
    const size = frame.object.size;
    if (va % PAGE !== 0 || va < USER_MIN || va + size > EXO_USER_MAX) return ERR.BAD_ARG;
    for (let off = 0; off < size; off += PAGE) if (p.vmaps.has(va + off) || (p.pt.pte(va + off) & 1) !== 0) return ERR.EXISTS;
    const flags = PTE_US | ((perms & RIGHT.WRITE) !== 0 ? PTE_RW : 0);
    for (let off = 0; off < size; off += PAGE) {
      if (!p.pt.map(va + off, frame.object.base + off, flags)) {
        for (let u = 0; u < off; u += PAGE) p.pt.unmap(va + u);
        return ERR.NO_MEMORY;
      }
    }
    this.k.charge(cpu, ctx, this.k.costs.pteInstall * (size / PAGE));
    const b = this.caps.bind(frame, {
      kind: 'pte', desc: `va 0x${hex8(va)} -> pa 0x${hex8(frame.object.base)} ${rightsString(perms).slice(0, 3)}, ${size / PAGE} page(s)`,
      undo: () => this.unmapPages(p, va, size),
    });
    if (typeof b === 'number') { this.unmapPages(p, va, size); return b; }
    for (let off = 0; off < size; off += PAGE) p.vmaps.set(va + off, b);
    return 0;
  }

  private unmapPages(p: Principal, va: number, size: number): void {
    for (let off = 0; off < size; off += PAGE) {
      p.pt.unmap(va + off);
      p.vmaps.delete(va + off);
    }
    this.k.shootdown(p, va, size);
  }

  private unmapFrame(cpu: Cpu, ctx: Context, va: number): number {
    const b = ctx.principal.vmaps.get(va & ~(PAGE - 1));
    if (b === undefined || b.kind !== 'pte') return ERR.NOT_BOUND;
    return this.op(cpu, ctx, this.caps.unbind(b));
  }

  /** MAP_QUERY: the accessed and dirty bits of one of the caller's pages, cleared as asked. */
  private mapQuery(cpu: Cpu, ctx: Context, va: number, clear: number): number {
    const p = ctx.principal, page = va & ~(PAGE - 1);
    if ((clear & ~(PTE_BITS.ACCESSED | PTE_BITS.DIRTY)) !== 0) return ERR.BAD_ARG;
    const b = p.vmaps.get(page);
    if (b === undefined || b.kind !== 'pte') return ERR.NOT_BOUND;
    const mask = ((clear & PTE_BITS.ACCESSED) ? PTE_A : 0) | ((clear & PTE_BITS.DIRTY) ? PTE_D : 0);
    const old = mask === 0 ? p.pt.pte(page) : p.pt.clearBits(page, mask);
    if (mask !== 0) this.k.shootdown(p, page, PAGE);
    this.k.charge(cpu, ctx, this.k.costs.pteInstall);
    return ((old & PTE_A) ? PTE_BITS.ACCESSED : 0) | ((old & PTE_D) ? PTE_BITS.DIRTY : 0);
  }

  // ---- the block device ----------------------------------------------------------------------

  /**
   * BLOCK_IO: sectors of a BlockRange to or from the caller's own pages, by DMA; the caller
   * waits in the kernel until the device completes.
   */
  private blockIo(cpu: Cpu, ctx: Context, slot: number, op: number, sector: number, count: number, va: number): Result {
    const p = ctx.principal, blk = this.k.block;
    if (op !== BLK.READ && op !== BLK.WRITE && op !== BLK.FLUSH) return ERR.BAD_ARG;
    const cap = this.lookup(cpu, ctx, slot, CAP.BLOCK_RANGE, op === BLK.READ ? RIGHT.READ : RIGHT.WRITE);
    if (typeof cap === 'number') return cap;
    if (blk === null) return ERR.GONE;
    const size = cap.object.size;
    const n = op === BLK.FLUSH ? 0 : count;
    if (op !== BLK.FLUSH && (count < 1 || count > 256 || sector >= size || sector + count > size)) return ERR.BAD_ARG;
    if (op !== BLK.FLUSH && va % PAGE !== 0) return ERR.BAD_ARG;
    const pages: number[] = [];
    for (let off = 0; off < n * 512; off += PAGE) {
      const pa = this.k.userPhys(p, va + off, op === BLK.READ);
      if (pa < 0 || pa >= this.k.machine.config.ramBytes) return ERR.BAD_ARG;
      pages.push(pa);
    }
    this.k.charge(cpu, ctx, this.k.costs.pteInstall * pages.length);
    const lba = cap.object.base + sector;
    const ok = blk.submit(op, lba, n || 1, pages, (status) => {
      p.stats.blockIos++;
      this.k.resume(cpu, ctx, status === 0 ? 0 : ERR.IO);
    });
    if (!ok) return ERR.WOULD_BLOCK;
    this.k.waitOn(cpu, `disk ${op === BLK.READ ? 'read' : op === BLK.WRITE ? 'write' : 'flush'} of ${n} sector(s)`);
    return WAIT;
  }

  // ---- upcalls and console -------------------------------------------------------------------

  private upcallEntry(p: Principal, kind: number, handler: number, stackTop: number): number {
    if (kind > UPCALL.TIMER) return ERR.BAD_ARG;
    if (handler === 0) { p.upcalls.delete(kind); return 0; }
    const user = (x: number) => x >= USER_MIN && x <= EXO_USER_MAX + 0x10000;
    if (!user(handler) || !user(stackTop) || stackTop % 4 !== 0) return ERR.BAD_ARG;
    p.upcalls.set(kind, { handler, stackTop });
    return 0;
  }

  private consoleWrite(cpu: Cpu, ctx: Context, slot: number, buf: number, len: number): number {
    const uart = this.lookup(cpu, ctx, slot, CAP.UART, RIGHT.WRITE);
    if (typeof uart === 'number') return uart;
    if (len > CONSOLE_MAX) return ERR.BAD_ARG;
    const bytes = this.k.copyIn(ctx.principal, buf, len);
    if (bytes === null) return ERR.BAD_ARG;
    this.k.charge(cpu, ctx, Math.ceil(len * this.k.copyPerByte));
    this.k.console(ctx.principal, bytes);
    return len;
  }

  // ---- interrupts ----------------------------------------------------------------------------

  private irqBind(cpu: Cpu, ctx: Context, slot: number, mode: number, core: number): number {
    const p = ctx.principal;
    if (!irqModeOk(mode)) return ERR.BAD_ARG;
    const vec = this.lookup(cpu, ctx, slot, CAP.MSI_VECTOR, RIGHT.MAP);
    if (typeof vec === 'number') return vec;
    if (!p.contexts.has(core)) return ERR.BAD_ARG; // the owner's handler runs on one of its cores
    const vector = vec.object.base;
    if (this.k.irqs.has(vector)) return ERR.EXISTS;
    const route = { principal: p, core, mode, vector };
    const b = this.caps.bind(vec, {
      kind: 'irq', desc: `vector ${vector} -> core ${core} (${['direct', 'ipi', 'workqueue'][mode]})`,
      undo: () => { if (this.k.irqs.get(vector) === route) this.k.irqs.delete(vector); this.rerouteQueues(vector); },
    });
    if (typeof b === 'number') return b;
    this.k.irqs.set(vector, route);
    this.k.charge(cpu, ctx, this.k.costs.pteInstall);
    this.rerouteQueues(vector);
    return 0;
  }

  private irqUnbind(cpu: Cpu, ctx: Context, slot: number): number {
    const vec = this.lookup(cpu, ctx, slot, CAP.MSI_VECTOR, 0);
    if (typeof vec === 'number') return vec;
    const b = [...vec.bindings].find((x) => x.kind === 'irq');
    if (b === undefined) return ERR.NOT_BOUND;
    return this.op(cpu, ctx, this.caps.unbind(b));
  }

  /** Where an MSI for `vector` should land: the owner's core in direct mode, else the kernel's. */
  msiDest(vector: number): number {
    const r = this.k.irqs.get(vector);
    if (r === undefined) return this.k.irqCore;
    return r.mode === IRQ_MODE_DIRECT ? r.core : this.k.irqCore;
  }

  private rerouteQueues(vector: number): void {
    for (const qb of this.queues.values()) if (qb.vector === vector) this.dev.queueVector(qb.q, vector, this.msiDest(vector));
  }

  // ---- NIC queues ----------------------------------------------------------------------------

  private queueBind(cpu: Cpu, ctx: Context, qslot: number, dslot: number, vslot: number, va: number): number {
    const p = ctx.principal;
    if (this.dev.nic === null) return ERR.GONE;
    const qc = this.lookup(cpu, ctx, qslot, CAP.DEVICE_QUEUE, RIGHT.MAP);
    if (typeof qc === 'number') return qc;
    const dc = this.lookup(cpu, ctx, dslot, CAP.DMA_DOMAIN, RIGHT.MAP);
    if (typeof dc === 'number') return dc;
    let vc: Cap | null = null;
    if (vslot !== EXO_SLOT_NONE) {
      const v = this.lookup(cpu, ctx, vslot, CAP.MSI_VECTOR, RIGHT.MAP);
      if (typeof v === 'number') return v;
      vc = v;
    }
    if (va % PAGE !== 0 || va < USER_MIN || va + PAGE > EXO_USER_MAX) return ERR.BAD_ARG;
    if (p.vmaps.has(va) || (p.pt.pte(va) & 1) !== 0) return ERR.EXISTS;
    const q = qc.object.base & 0xffff;
    if (this.queues.has(q)) return ERR.EXISTS;
    if (!p.pt.map(va, this.dev.queuePage(q), PTE_US | PTE_RW | PTE_PCD)) return ERR.NO_MEMORY;
    const domain = dc.object.base, vector = vc === null ? null : vc.object.base;
    const b = this.caps.bind([qc, dc], {
      kind: 'queue', desc: `NIC queue ${q} at va 0x${hex8(va)}, domain ${domain}`,
      undo: () => this.queueRelease(q),
    });
    if (typeof b === 'number') { p.pt.unmap(va); return b; }
    const qb: QueueBinding = { q, principal: p, domain, vector, va, binding: b };
    this.queues.set(q, qb);
    // The interrupt route is a binding of its own, under the vector: revoking the vector
    // silences the queue (its MSI-X entry masked) and leaves the rings to a polling LibOS.
    if (vc !== null) {
      const ib = this.caps.bind(vc, {
        kind: 'irq', desc: `NIC queue ${q} interrupts -> vector ${vector}`,
        undo: () => { if (this.queues.get(q) === qb) { qb.vector = null; this.dev.queueVector(q, null, 0); } },
      });
      if (typeof ib === 'number') qb.vector = null;
    }
    p.vmaps.set(va, b);
    this.dev.attach(this.dev.queueRid(q), domain);
    this.dev.queueVector(q, vector, vector === null ? 0 : this.msiDest(vector));
    this.k.charge(cpu, ctx, this.k.costs.pteInstall * 3);
    return 0;
  }

  /** Undo a queue binding: rings off, DMA blocked, interrupts masked, the page unmapped. */
  private queueRelease(q: number): void {
    const qb = this.queues.get(q);
    if (qb === undefined) return;
    this.queues.delete(q);
    this.dev.queueReset(q);
    this.dev.attach(this.dev.queueRid(q), 0);
    this.dev.queueVector(q, null, 0);
    qb.principal.pt.unmap(qb.va);
    qb.principal.vmaps.delete(qb.va);
    this.k.shootdown(qb.principal, qb.va, PAGE);
  }

  private queueUnbind(cpu: Cpu, ctx: Context, qslot: number): Result {
    const qc = this.lookup(cpu, ctx, qslot, CAP.DEVICE_QUEUE, 0);
    if (typeof qc === 'number') return qc;
    const qb = this.queues.get(qc.object.base & 0xffff);
    if (qb === undefined || qb.principal !== ctx.principal) return ERR.NOT_BOUND;
    // Fence and drain first, so that nothing the queue still had in flight lands after it goes.
    return this.drain(cpu, ctx, [qb.q], false, () => this.op(cpu, ctx, this.caps.unbind(qb.binding)));
  }

  // ---- DMA ------------------------------------------------------------------------------------

  private dmaMap(cpu: Cpu, ctx: Context, dslot: number, fslot: number, iova: number, perms: number): number {
    if (!permsOk(perms, RIGHT.READ | RIGHT.WRITE)) return ERR.BAD_ARG;
    const dc = this.lookup(cpu, ctx, dslot, CAP.DMA_DOMAIN, RIGHT.MAP);
    if (typeof dc === 'number') return dc;
    const fc = this.lookup(cpu, ctx, fslot, CAP.FRAME, RIGHT.DMA | perms);
    if (typeof fc === 'number') return fc;
    const size = fc.object.size, domain = dc.object.base;
    if (iova % PAGE !== 0 || iova + size > 2 ** 32) return ERR.BAD_ARG;
    let m = this.dma.get(domain);
    if (m === undefined) this.dma.set(domain, m = new Map());
    for (let off = 0; off < size; off += PAGE) if (m.has(iova + off)) return ERR.EXISTS;
    const write = (perms & RIGHT.WRITE) !== 0;
    for (let off = 0; off < size; off += PAGE) {
      if (!this.dev.ioMap(domain, iova + off, fc.object.base + off, write)) {
        for (let u = 0; u < off; u += PAGE) this.dev.ioUnmap(domain, iova + u);
        return ERR.NO_MEMORY;
      }
    }
    this.k.charge(cpu, ctx, this.k.costs.pteInstall * (size / PAGE));
    const mapping: DmaMapping = { domain, iova, pages: size / PAGE, binding: null as unknown as Binding };
    const b = this.caps.bind([dc, fc], {
      kind: 'iommu', desc: `domain ${domain}: iova 0x${hex8(iova)} -> pa 0x${hex8(fc.object.base)} ${write ? 'rw' : 'r-'}, ${size / PAGE} page(s)`,
      undo: () => this.ioRelease(mapping),
    });
    if (typeof b === 'number') { for (let off = 0; off < size; off += PAGE) this.dev.ioUnmap(domain, iova + off); return b; }
    mapping.binding = b;
    this.dmaByBinding.set(b, mapping);
    for (let off = 0; off < size; off += PAGE) m.set(iova + off, mapping);
    return 0;
  }

  /** The binding's undo: I/O PTEs cleared and their IOTLB entries invalidated (not waited for). */
  private ioRelease(mp: DmaMapping): void {
    this.dmaByBinding.delete(mp.binding);
    const m = this.dma.get(mp.domain);
    const pages: number[] = [];
    for (let k = 0; k < mp.pages; k++) {
      const iova = mp.iova + k * PAGE;
      if (m?.get(iova) === mp) m.delete(iova);
      this.dev.ioUnmap(mp.domain, iova);
      pages.push(iova);
    }
    if (!mp.waited) this.dev.invalidate(mp.domain, pages, () => {});
  }

  private dmaUnmap(cpu: Cpu, ctx: Context, dslot: number, iova: number): Result {
    const dc = this.lookup(cpu, ctx, dslot, CAP.DMA_DOMAIN, RIGHT.MAP);
    if (typeof dc === 'number') return dc;
    const mp = this.dma.get(dc.object.base)?.get(iova & ~(PAGE - 1));
    if (mp === undefined) return ERR.NOT_BOUND;
    return this.dmaRevoke(cpu, ctx, [mp], () => this.op(cpu, ctx, this.caps.unbind(mp.binding)));
  }

  /**
   * The safe DMA revocation: fence every queue that uses the mappings' domains, wait for
   * DRAINED, remove the mappings (`act`), invalidate the IOTLB and wait for the WAIT
   * descriptor, unfence; the caller gets `act`'s value only then. The timeline is kept.
   */
  private dmaRevoke(cpu: Cpu, ctx: Context, maps: DmaMapping[], act: () => number): Result {
    const domains = new Set(maps.map((m) => m.domain));
    const qs = [...this.queues.values()].filter((qb) => domains.has(qb.domain)).map((qb) => qb.q);
    const unsafe = this.unsafeUnmaps > 0;
    if (unsafe) this.unsafeUnmaps--;
    const pages = maps.reduce((n, m) => n + m.pages, 0);
    const t = this.k.revocationStart(cpu, ctx, maps[0]!.iova, pages, qs.reduce((n, q) => n + this.dev.inFlight(q), 0), !unsafe);
    return this.drain(cpu, ctx, qs, unsafe, (drainedAt) => {
      t.drained = drainedAt;
      t.queues = unsafe ? [] : qs;
      // The kernel tears the I/O mappings down (the profile's iommu.unmap), then queues the
      // IOTLB invalidation with a WAIT descriptor and waits for it.
      this.k.waitOn(cpu, 'IOMMU unmap and invalidation');
      this.k.at(drainedAt + this.k.unmapCost, (at) => {
        for (const m of maps) m.waited = true;
        const value = act();
        t.unmapped = at;
        const byDomain = new Map<number, number[]>();
        for (const m of maps) for (let k = 0; k < m.pages; k++) {
          const l = byDomain.get(m.domain) ?? [];
          l.push(m.iova + k * PAGE);
          byDomain.set(m.domain, l);
        }
        let left = byDomain.size;
        const finish = (end: number) => {
          t.invalidated = end;
          if (!unsafe) for (const q of qs) this.dev.fence(q, false);
          this.k.revocationDone(t, end);
          this.k.resume(cpu, ctx, value);
        };
        if (left === 0) { finish(at); return; }
        for (const [domain, list] of byDomain) {
          this.dev.invalidate(domain, list, () => { if (--left === 0) finish(this.k.machine.time()); });
        }
      });
      return WAIT;
    });
  }

  /**
   * Fence `qs` and wait until each reports DRAINED (or nothing, when `skip`), then run `then`
   * with the time it happened. `then` returns the call's value, or WAIT if it goes on waiting.
   */
  private drain(cpu: Cpu, ctx: Context, qs: number[], skip: boolean, then: (at: number) => Result): Result {
    const waiting = skip ? [] : qs.filter((q) => { this.dev.fence(q, true); return true; });
    if (waiting.length === 0) {
      const v = then(cpu.cycles);
      return v;
    }
    let left = new Set(waiting);
    this.k.waitOn(cpu, `DMA drain of NIC queue${waiting.length > 1 ? 's' : ''} ${waiting.join(', ')}`);
    this.k.onDrained((q, at) => {
      if (!left.has(q)) return false;
      left.delete(q);
      if (left.size > 0) return false;
      left = new Set();
      const v = then(at);
      if (v !== WAIT) this.k.resume(cpu, ctx, v);
      return true;
    });
    return WAIT;
  }

  // ---- visible revocation --------------------------------------------------------------------

  /** Ask `p` for the capability in `slot` back by `deadline` cycles from now (a revocation upcall). */
  requestBack(p: Principal, slot: number, within: number, now: number): RevokeRequest | string {
    const cap = this.caps.lookup(p.id, slot, null, 0);
    if (typeof cap === 'number') return `slot ${slot} of ${p.name}: ${cap}`;
    // A partition (unikernel, mono) runs its own ring 0 and takes no upcalls: there is no one to
    // ask, and what it holds (cores, memory under its own page tables) comes back only with the
    // whole partition.
    const ctx = [...p.contexts.values()][0];
    if (ctx === undefined) return `${p.name} is a partition: it takes no upcalls, so it cannot be asked for a capability back (kill reclaims the whole partition)`;
    const req: RevokeRequest = { id: this.nextRequest++, principal: p, cap, slot, asked: now, deadline: now + within, outcome: 'pending' };
    this.requests.set(req.id, req);
    this.k.queueUpcall(ctx, { kind: UPCALL.REVOCATION, arg0: slot, arg1: req.id, raisedAt: now, mode: -1, info: Math.min(within, 0xffffffff) });
    this.k.kick(ctx.core);
    this.k.at(req.deadline, () => this.deadline(req));
    return req;
  }

  private deadline(req: RevokeRequest): void {
    if (req.outcome !== 'pending') return;
    this.requests.delete(req.id);
    if (!req.cap.live) { req.outcome = 'gone'; return; }
    const p = req.principal, o = req.cap.object;
    // Abort protocol: take it by force with everything derived from it, in any space (their
    // bindings and its own go with them), and leave a notice. A delete alone would move the
    // capabilities it was minted or granted into up the tree, still naming the resource.
    this.caps.revoke(p.id, req.cap.slot);
    this.caps.delete(p.id, req.cap.slot);
    req.outcome = 'repossessed';
    const at = this.k.machine.time();
    p.notices.push([o.type, o.base, o.size, req.id, at >>> 0, Math.floor(at / 2 ** 32) >>> 0]);
    this.k.repossessed(req, at);
  }

  private revokeReply(cpu: Cpu, ctx: Context, slot: number, id: number): number {
    const req = this.requests.get(id);
    if (req === undefined || req.principal !== ctx.principal) return ERR.NOT_BOUND;
    if (req.slot !== slot) return ERR.BAD_ARG;
    this.requests.delete(id);
    if (!req.cap.live) { req.outcome = 'gone'; return ERR.GONE; }
    req.outcome = 'returned';
    this.k.returned(req, cpu.cycles);
    return this.op(cpu, ctx, this.caps.delete(ctx.principal.id, slot));
  }

  private repoNotice(p: Principal, buf: number, cap: number): number {
    const n = Math.min(cap, p.notices.length);
    if (n === 0) return 0;
    if (!this.k.copyOut(p, buf, p.notices.slice(0, n).flat())) return ERR.BAD_ARG;
    p.notices.splice(0, n);
    return n;
  }

  // ---- principals' end -----------------------------------------------------------------------

  /** Everything of `p` goes: its capabilities, and with them every binding it made. */
  retire(p: Principal): void {
    for (const req of this.requests.values()) if (req.principal === p) { req.outcome = 'gone'; this.requests.delete(req.id); }
    for (const qb of this.queues.values()) if (qb.principal === p) this.dev.fence(qb.q, true);
    this.caps.removePrincipal(p.id);
  }

  /** Fault injection (pf-storm): unmap up to `pages` pages of `p`'s frame mappings; returns how many. */
  dropMappings(p: Principal, pages: number): number {
    let n = 0;
    // Newest first: a LibOS's most recent mappings are the ones its pager manages.
    for (const b of this.caps.bindingsOfPrincipal(p.id).reverse()) {
      if (n >= pages) break;
      if (b.kind !== 'pte') continue;
      const before = p.vmaps.size;
      this.caps.unbind(b);
      n += before - p.vmaps.size;
    }
    return n;
  }

  /**
   * Fault injection (malicious-map): `p` tries MAP_FRAME on the slot where `victim` keeps a
   * frame, as a LibOS guessing slot numbers would; the kernel's check answers. Returns what it said.
   */
  maliciousMap(p: Principal, victim: Principal): string {
    const vs = this.caps.space(victim.id);
    const frame = vs === undefined ? undefined : [...vs.caps()].find((c) => c.object.type === CAP.FRAME || c.object.type === CAP.UNTYPED);
    if (frame === undefined) return `${victim.name} has no memory capability to aim at`;
    const r = this.caps.lookup(p.id, frame.slot, CAP.FRAME, RIGHT.MAP);
    const mine = typeof r !== 'number' && r.object.base === frame.object.base;
    if (typeof r !== 'number' && !mine) return `refused: slot ${frame.slot} of ${p.name} is its own frame at 0x${hex8(r.object.base)}, not ${victim.name}'s 0x${hex8(frame.object.base)}`;
    return typeof r === 'number' ? `refused: MAP_FRAME of slot ${frame.slot} (${victim.name}'s frame 0x${hex8(frame.object.base)}) -> EXO_E_${errName(r)}` : 'allowed: the frame was shared with it';
  }

  /** The slot of a principal's first capability of `type` (for faults and views), or -1. */
  firstSlot(p: Principal, type: number): number {
    const space = this.caps.space(p.id);
    if (space === undefined) return -1;
    for (const c of space.caps()) if (c.object.type === type) return c.slot;
    return -1;
  }
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
