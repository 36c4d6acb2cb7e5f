// The kernel's side of the devices (DESIGN section 3): the IOMMU it owns (context table,
// one I/O page table per DMA domain, the invalidation queue with WAIT descriptors) and the
// NIC queues it hands out (per-queue requester IDs, the queue's MSI-X entry, FENCE). All of it
// through the devices' registers and tables in guest memory, as a ring-0 kernel would.

import { CAP_MSIX, CFG_COMMAND, CMD_MASTER, CMD_MEMORY } from '../../machine/pci.js';
import {
  GCMD_TE, GRAN_ONE, GRAN_PAGE, INV_CONTEXT, INV_IOTLB, INV_WAIT, IQ_DESC_SIZE,
} from '../../machine/iommu.js';
import { MSIX_CTRL_ENABLE } from '../../machine/msix.js';
import { CTRL_QRID, NIC_QUEUE_BASE, NIC_QUEUE_STRIDE, Q_FENCE, type Nic } from '../../machine/nic.js';
import type { Machine } from '../../machine/machine.js';
import { CTX_TABLE, IQ_BASE, IQ_ENTRIES, IQ_STATUS, VEC } from './layout.js';
import { FramePool, PageTable } from './paging.js';

// IOMMU register offsets (machine/iommu.ts IOMMU_REGS).
const IO_GCMD = 0x018, IO_CTXPTR = 0x020, IO_FECTL = 0x038, IO_FEDATA = 0x03c, IO_FEADDR = 0x040;
const IO_IQBASE = 0x080, IO_IQSIZE = 0x084, IO_IQTAIL = 0x08c;
const IOPTE_P = 0x1, IOPTE_RW = 0x2;
// NIC registers.
const NIC_CTRL = 0x000;
const Q_QCTRL = 0x20, Q_VEC = 0x2c;
/** Queues a requester ID each can tell apart (machine/nic.ts CTRL_QRID: functions 1..7). */
export const NIC_RID_QUEUES = 7;

export class KernelDevices {
  private readonly domains = new Map<number, PageTable>();
  private iqTail = 0;
  private waitToken = 1;
  private readonly waits = new Map<number, () => void>();
  readonly nic: Nic | null;
  /** Descriptors the kernel has put on the invalidation queue. */
  invalidations = 0;

  constructor(private readonly m: Machine, private readonly pool: FramePool) {
    this.nic = m.nic;
    m.iommu.onWaitDone = (address, value) => {
      if (address !== IQ_STATUS) return;
      const k = this.waits.get(value);
      this.waits.delete(value);
      k?.();
    };
  }

  /** Take the IOMMU (translation on, every requester blocked) and the NIC (per-queue IDs). */
  init(faultCore: number): void {
    const io = (r: number, v: number) => this.m.iommu.mmioWrite(r, 4, v);
    this.m.mem.writeBytes(CTX_TABLE, new Uint8Array(4096));
    io(IO_CTXPTR, CTX_TABLE);
    io(IO_IQBASE, IQ_BASE);
    io(IO_IQSIZE, IQ_ENTRIES);
    io(IO_FEADDR, 0xfee00000 | (faultCore << 12));
    io(IO_FEDATA, VEC.IOMMU_FAULT);
    io(IO_FECTL, 0);
    io(IO_GCMD, GCMD_TE);
    const nic = this.nic;
    if (nic === null) return;
    const fn = nic.fn;
    fn.mmioWrite(CFG_COMMAND, 2, CMD_MEMORY | CMD_MASTER);
    const cap = fn.capOffsets.get(CAP_MSIX);
    if (cap !== undefined) fn.mmioWrite(cap + 2, 2, MSIX_CTRL_ENABLE);
    this.nicWrite(NIC_CTRL, nic.mmioRead(NIC_CTRL, 4) | CTRL_QRID);
  }

  // ---- DMA domains --------------------------------------------------------------------------

  /** The I/O page table of domain `id` (1..255), made on first use; null if the pool is dry. */
  domain(id: number): PageTable | null {
    let pt = this.domains.get(id);
    if (pt === undefined) {
      try { pt = new PageTable(this.m.mem, this.pool, false); } catch { return null; }
      this.domains.set(id, pt);
    }
    return pt;
  }

  /** Point requester `rid` at domain `id` (or block it with id 0) and drop its cached context. */
  attach(rid: number, id: number): void {
    const pt = id === 0 ? null : this.domain(id);
    this.m.mem.write32(CTX_TABLE + 8 * rid, pt === null ? 0 : (pt.pd | 1) >>> 0);
    this.m.mem.write32(CTX_TABLE + 8 * rid + 4, id);
    this.iqPut(INV_CONTEXT | (GRAN_ONE << 4) | (rid << 16), 0, 0);
  }

  /** One page of a domain: readable, and writable when `write`. False if out of table frames. */
  ioMap(id: number, iova: number, pa: number, write: boolean): boolean {
    const pt = this.domain(id);
    if (pt === null) return false;
    return pt.map(iova, pa, IOPTE_P | (write ? IOPTE_RW : 0));
  }

  ioUnmap(id: number, iova: number): void {
    this.domains.get(id)?.unmap(iova);
  }

  ioMapped(id: number, iova: number): boolean {
    const pt = this.domains.get(id);
    return pt !== undefined && (pt.pte(iova) & IOPTE_P) !== 0;
  }

  /** Queue IOTLB invalidations for these pages, then a WAIT; `done` runs when it completes. */
  invalidate(id: number, pages: readonly number[], done: () => void): void {
    for (const iova of pages) this.iqPut(INV_IOTLB | (GRAN_PAGE << 4) | (id << 16), iova, 0);
    const token = this.waitToken++;
    this.waits.set(token, done);
    this.iqPut(INV_WAIT, IQ_STATUS, token);
  }

  private iqPut(dw0: number, dw1: number, dw2: number): void {
    const at = IQ_BASE + this.iqTail * IQ_DESC_SIZE;
    this.m.mem.write32(at, dw0 >>> 0);
    this.m.mem.write32(at + 4, dw1 >>> 0);
    this.m.mem.write32(at + 8, dw2 >>> 0);
    this.m.mem.write32(at + 12, 0);
    this.iqTail = (this.iqTail + 1) % IQ_ENTRIES;
    this.invalidations++;
    this.m.iommu.mmioWrite(IO_IQTAIL, 4, this.iqTail);
  }

  // ---- NIC queues -------------------------------------------------------------------------

  /** The requester ID queue q's DMA carries. */
  queueRid(q: number): number {
    return this.nic!.fn.rid + 1 + Math.min(q, NIC_RID_QUEUES - 1);
  }

  /** Physical address of queue q's register page (what a queue binding maps). */
  queuePage(q: number): number {
    return (this.nic!.fn.barAddress(0) + NIC_QUEUE_BASE + NIC_QUEUE_STRIDE * q) >>> 0;
  }

  /** Route queue q's interrupts (MSI-X entry q) to `vector` on core `dest`, or mask them. */
  queueVector(q: number, vector: number | null, dest: number): void {
    const nic = this.nic!;
    this.queueWrite(q, Q_VEC, q);
    const e = 16 * q;
    nic.msix.mmioWrite(e + 0, 4, (0xfee00000 | (dest << 12)) >>> 0);
    nic.msix.mmioWrite(e + 4, 4, 0);
    nic.msix.mmioWrite(e + 8, 4, vector ?? 0);
    nic.msix.mmioWrite(e + 12, 4, vector === null ? 1 : 0);
  }

  fence(q: number, on: boolean): void {
    const v = this.nic!.mmioRead(NIC_QUEUE_BASE + NIC_QUEUE_STRIDE * q + Q_QCTRL, 4);
    this.queueWrite(q, Q_QCTRL, on ? v | Q_FENCE : v & ~Q_FENCE);
  }

  /** Stop a queue the kernel takes back: rings off, fence lifted. */
  queueReset(q: number): void {
    this.queueWrite(q, Q_QCTRL, 0);
  }

  inFlight(q: number): number {
    const v = this.nic!.mmioRead(NIC_QUEUE_BASE + NIC_QUEUE_STRIDE * q + 0x38, 4);
    return (v & 0xffff) + (v >>> 16);
  }

  private queueWrite(q: number, reg: number, v: number): void {
    this.nic!.mmioWrite(NIC_QUEUE_BASE + NIC_QUEUE_STRIDE * q + reg, 4, v >>> 0);
  }

  private nicWrite(reg: number, v: number): void {
    this.nic!.mmioWrite(reg, 4, v >>> 0);
  }
}

