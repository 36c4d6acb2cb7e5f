// The kernel's side of the block device: one I/O queue pair the kernel owns (in its own
// memory), through which BLOCK_IO moves sectors between the disk and a principal's pages. The
// device's DMA goes through an IOMMU domain of its own that holds, for the length of each
// command, exactly the caller's pages it names (identity I/O addresses), so the disk can reach
// nothing else. A command's page list lives in kernel memory.

import { DOORBELL_BASE, DPTR_PAGE_LIST, QUEUE_BASE, QCTRL_EN, SQE_SIZE, encodeSqe, type BlockDevice } from '../../machine/block.js';
import { CFG_COMMAND, CMD_MASTER, CMD_MEMORY } from '../../machine/pci.js';
import type { Machine } from '../../machine/machine.js';
import type { KernelDevices } from './kdev.js';
import type { FramePool } from './paging.js';

const PAGE = 4096;
/** Queue entries; each SQ slot has its page list (up to 64 pages: 256 sectors) in one page. */
const ENTRIES = 16;
/** The block device's own IOMMU domain (principals' domains are 1 + their id, below 255). */
export const BLOCK_DOMAIN = 255;

interface Pending { done: (status: number, at: number) => void; pages: number[] }

export class KernelBlock {
  readonly disk: BlockDevice;
  readonly sectors: number;
  private sq = 0;
  private cq = 0;
  private list = 0;
  private tail = 0;
  private head = 0;
  private nextCid = 1;
  private readonly pending = new Map<number, Pending>();
  /** Commands and bytes moved, for reports. */
  commands = 0;
  bytes = 0;

  constructor(private readonly m: Machine, private readonly dev: KernelDevices, pool: FramePool) {
    this.disk = m.disk!;
    this.sectors = this.disk.backend.sectors;
    this.sq = pool.alloc();
    this.cq = pool.alloc();
    this.list = pool.alloc();
    if (this.sq < 0 || this.cq < 0 || this.list < 0) throw new Error('kernel: no frames for the block queue');
    const fn = this.disk.fn;
    fn.mmioWrite(CFG_COMMAND, 2, CMD_MEMORY | CMD_MASTER);
    // Its rings and page lists are kernel memory: identity-mapped in its domain for good.
    for (const f of [this.sq, this.cq, this.list]) dev.ioMap(BLOCK_DOMAIN, f, f, true);
    dev.attach(fn.rid, BLOCK_DOMAIN);
    const q = (r: number, v: number) => this.disk.mmioWrite(QUEUE_BASE + r, 4, v >>> 0);
    q(0x00, this.sq);
    q(0x04, ENTRIES);
    q(0x08, this.cq);
    q(0x0c, ENTRIES);
    q(0x10, QCTRL_EN);
    this.disk.onCompletion = (queue, cid, status, at) => { if (queue === 0) this.complete(cid, status, at); };
  }

  /**
   * Submit READ/WRITE/FLUSH of `count` sectors at `lba` to or from these physical pages (each
   * 4 KiB-aligned); `done` gets the NVMe status and the time. False if the queue is full.
   */
  submit(opcode: number, lba: number, count: number, pages: number[], done: (status: number, at: number) => void): boolean {
    if (this.pending.size >= ENTRIES - 1) return false;
    const cid = this.nextCid;
    this.nextCid = (this.nextCid % 0xffff) + 1;
    for (const pa of pages) this.dev.ioMap(BLOCK_DOMAIN, pa, pa, opcode === 2);
    const list = this.list + 256 * this.tail;
    pages.forEach((pa, k) => this.m.mem.write32(list + 4 * k, pa));
    const sqe = encodeSqe({ opcode, cid, flags: DPTR_PAGE_LIST, dptr: list, lba, count });
    this.m.mem.writeBytes(this.sq + this.tail * SQE_SIZE, sqe);
    this.tail = (this.tail + 1) % ENTRIES;
    this.pending.set(cid, { done, pages });
    this.commands++;
    this.bytes += count * 512;
    this.disk.mmioWrite(DOORBELL_BASE, 4, this.tail);
    return true;
  }

  private complete(cid: number, status: number, at: number): void {
    this.head = (this.head + 1) % ENTRIES;
    this.disk.mmioWrite(DOORBELL_BASE + 4, 4, this.head);
    const p = this.pending.get(cid);
    if (p === undefined) return;
    this.pending.delete(cid);
    for (const pa of p.pages) this.dev.ioUnmap(BLOCK_DOMAIN, pa);
    this.dev.invalidate(BLOCK_DOMAIN, p.pages, () => {});
    p.done(status, at);
  }
}
