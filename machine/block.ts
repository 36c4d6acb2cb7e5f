// An NVMe-flavoured block device on PCI (NVM Express Base 2.0 sections 3.1 and 4, much
// simplified; DESIGN section 2, "Block device"): I/O submission/completion queue pairs in guest
// memory, doorbells, one MSI-X vector per completion queue, READ/WRITE/FLUSH of 512-byte
// sectors, all data moved by DMA through the machine's DMA port (and so through the IOMMU).
//
// Simplifications, documented:
// - No admin queue. Each I/O queue pair is configured directly through registers (bases,
//   sizes, enable, interrupt enable, MSI-X vector), and there is one namespace (NSID ignored).
// - Submission entries keep NVMe's 64-byte layout where it matters (opcode, command id, data
//   pointer, starting LBA) but the sector count is ONE-based (NVMe's NLB is zero-based), and the
//   data pointer is either one contiguous IOVA buffer or a list of 32-bit 4 KiB page addresses.
// - Registers are 32-bit only; other access sizes are counted and ignored (reads: all ones).
// - Timing: a command enters the device when its SQ tail doorbell is written (or, past the
//   queue-depth limit, when a slot frees up). It completes `latency` later plus its transfer
//   time bytes * perByte; transfers share one device-wide channel (the drive's bandwidth), so
//   a transfer starts at max(start + latency, channel free). Completions of a queue are posted
//   in submission order. A lone command: done = doorbell + latency + bytes * perByte, exactly.
// - Data moves when the command completes: WRITE reads guest memory then, READ writes it then.
//   On a data-transfer error a READ buffer may be partly written (as NVMe allows).
// - Faults of the queues themselves (configuration, SQ fetch or CQ post DMA faults) stop that
//   queue only: its QSTATUS shows FATAL and a reason, CSTS.CFS shows that some queue failed.
//   Writing QCTRL.EN = 0 resets the queue (in-flight commands are dropped unexecuted).

import type { MmioDevice } from './bus.js';
import { DMA_OK, type DeviceHost } from './device.js';
import type { EventOwner } from './events.js';
import { Msix, type MsixState } from './msix.js';
import type { PciBus, PciFunction } from './pci.js';
import type { Profile } from './profile.js';
import { ratioApply } from './units.js';
import { SECTOR_SIZE, type BlockBackend, type BlockBackendState } from './disk-image.js';

export { SECTOR_SIZE } from './disk-image.js';

/** PCI identity. 0x0e10 is exolab's own vendor number, not one the PCI-SIG assigned. */
export const BLOCK_VENDOR_ID = 0x0e10;
export const BLOCK_DEVICE_ID = 0xb10c;
export const BLOCK_CLASS = 0x010802;          // mass storage, non-volatile memory, NVM Express
export const BLOCK_DEFAULT_DEV = 4;           // PCI 00:04.0 unless told otherwise
export const BLOCK_BAR0_SIZE = 0x2000;        // registers (0x000-0xfff) and doorbells (0x1000-)
export const BLOCK_MAX_QUEUES = 32;
export const BLOCK_MAX_ENTRIES = 4096;        // entries per queue (NVMe CAP.MQES + 1)
export const BLOCK_MAX_TRANSFER = 256;        // sectors per command: 128 KiB (NVMe MDTS)
export const BLOCK_QUEUE_DEPTH = 64;          // commands a queue may have in the device at once
export const BLOCK_VERSION = 0x00010000;      // 1.0, as NVMe's VS register
export const BLOCK_STATE_VERSION = 1;
/** PCI devices own event ids 0x10000 + their requester ID. */
export const PCI_EVENT_BASE = 0x10000;
const KIND_COMPLETE = 1;
const PAGE = 4096;

// ---- Register map (BAR0) ---------------------------------------------------------------------

interface BlockReg {
  offset: number;
  name: string;
  reset: number;
  /** Bits a guest write stores; 0: read-only (value fixed at construction or computed). */
  writable: number;
}

export const BLOCK_REGS: readonly BlockReg[] = [
  { offset: 0x00, name: 'VERSION', reset: BLOCK_VERSION,      writable: 0 },          // 1.0
  { offset: 0x04, name: 'QUEUES',  reset: 0,                  writable: 0 },          // I/O queue pairs
  { offset: 0x08, name: 'CAP_LO',  reset: 0,                  writable: 0 },          // capacity in sectors, low
  { offset: 0x0c, name: 'CAP_HI',  reset: 0,                  writable: 0 },          //   and high dword
  { offset: 0x10, name: 'SECTOR',  reset: SECTOR_SIZE,        writable: 0 },          // bytes per sector
  { offset: 0x14, name: 'MAXXFER', reset: BLOCK_MAX_TRANSFER, writable: 0 },          // sectors per command
  { offset: 0x18, name: 'MAXQ',    reset: BLOCK_MAX_ENTRIES,  writable: 0 },          // entries per queue
  { offset: 0x1c, name: 'QDEPTH',  reset: BLOCK_QUEUE_DEPTH,  writable: 0 },          // in flight per queue
  { offset: 0x20, name: 'CTRL',    reset: 0,                  writable: 0x00000001 }, // controller control
  { offset: 0x24, name: 'CSTS',    reset: 0,                  writable: 0 },          // controller status (computed)
  { offset: 0x28, name: 'DMAERR',  reset: 0,                  writable: 0 },          // DMA faults seen (computed)
];
export const   CTRL_RESET = 0x1;       // write 1: controller reset (all queues); reads back 0
export const   CSTS_RDY = 0x1;         // always ready: there is no enable sequence
export const   CSTS_CFS = 0x2;         // some queue is FATAL
export const   CSTS_REASON_SHIFT = 8;  // bits 15:8: fatal reason of the lowest failed queue
export const   CSTS_QUEUE_SHIFT = 16;  // bits 23:16: that queue's number

/** Queue pair q's registers sit at QUEUE_BASE + q * QUEUE_STRIDE. */
export const QUEUE_BASE = 0x100;
export const QUEUE_STRIDE = 0x40;
export const QUEUE_REGS: readonly BlockReg[] = [
  { offset: 0x00, name: 'SQBASE',  reset: 0, writable: 0xffffffc0 }, // SQ IOVA, 64-byte aligned; only while EN = 0
  { offset: 0x04, name: 'SQSIZE',  reset: 0, writable: 0x0000ffff }, // SQ entries, 2..MAXQ; only while EN = 0
  { offset: 0x08, name: 'CQBASE',  reset: 0, writable: 0xfffffff0 }, // CQ IOVA, 16-byte aligned; only while EN = 0
  { offset: 0x0c, name: 'CQSIZE',  reset: 0, writable: 0x0000ffff }, // CQ entries, 2..MAXQ; only while EN = 0
  { offset: 0x10, name: 'QCTRL',   reset: 0, writable: 0x00000003 }, // enable, interrupt enable
  { offset: 0x14, name: 'QVEC',    reset: 0, writable: 0x000007ff }, // MSI-X vector of the CQ (reset: q)
  { offset: 0x18, name: 'QSTATUS', reset: 0, writable: 0 },          // computed
  { offset: 0x1c, name: 'SQHEAD',  reset: 0, writable: 0 },          // next SQ entry the device fetches
  { offset: 0x20, name: 'CQTAIL',  reset: 0, writable: 0 },          // next CQ entry the device writes
];
export const   QCTRL_EN = 0x1;            // 0 -> 1: check the configuration and start; 0: reset the queue
export const   QCTRL_IEN = 0x2;           // CQ interrupt enable: MSI-X fire after each CQ entry
export const   QSTATUS_RUN = 0x1;         // enabled and processing
export const   QSTATUS_FATAL = 0x2;       // stopped on a fault; reason in bits 15:8
export const   QSTATUS_DBERR = 0x4;       // an invalid doorbell value was ignored (sticky until reset)
export const   QSTATUS_PHASE = 0x8;       // the phase the device writes in this pass of the CQ
export const   QSTATUS_REASON_SHIFT = 8;
const SQBASE = 0, SQSIZE = 1, CQBASE = 2, CQSIZE = 3, QCTRL = 4, QVEC = 5;
const G_QUEUES = 1, G_CAP_LO = 2, G_CAP_HI = 3, G_CTRL = 8, G_CSTS = 9, G_DMAERR = 10;

/** Doorbells: SQ tail of q at DOORBELL_BASE + 8q, CQ head at DOORBELL_BASE + 8q + 4 (NVMe, stride 0). */
export const DOORBELL_BASE = 0x1000;

// ---- Faults: one reporting function, one reason enum ----------------------------------------

export const BlockFault = {
  BadAccess: 1,     // wrong size, misaligned, unmapped offset, read-only or locked register
  BadDoorbell: 2,   // doorbell value out of range, or to a stopped queue
  BadConfig: 3,     // queue enabled with a bad size or a ring that wraps 4 GiB       (fatal)
  SqFetch: 4,       // DMA fault reading a submission entry: SQ base outside memory  (fatal)
  CqPost: 5,        // DMA fault writing a completion entry                          (fatal)
  DataDma: 6,       // DMA fault moving a command's data (or its page list)
  BadVector: 7,     // the CQ's MSI-X vector is beyond the table: interrupt not sent
} as const;
export type BlockFault = typeof BlockFault[keyof typeof BlockFault];
export const BLOCK_FAULT_NAMES = ['', 'bad access', 'bad doorbell', 'bad queue configuration', 'SQ fetch DMA fault',
  'CQ post DMA fault', 'data DMA fault', 'bad MSI-X vector'] as const;
const FATAL_FAULTS: readonly number[] = [BlockFault.BadConfig, BlockFault.SqFetch, BlockFault.CqPost];

// ---- Commands: the 64-byte submission entry and the 16-byte completion entry ----------------

export const SQE_SIZE = 64;
export const CQE_SIZE = 16;
export const OP_FLUSH = 0x00;
export const OP_WRITE = 0x01;
export const OP_READ = 0x02;
/** Byte 1 of a submission entry, in NVMe's PSDT position: how the data pointer reads. */
export const DPTR_BUFFER = 0x00;     // one contiguous buffer at the IOVA
export const DPTR_PAGE_LIST = 0x40;  // the IOVA holds 32-bit addresses of 4 KiB pages, one per page

/** Status codes (NVMe generic command status, status code type 0). */
export const SC_SUCCESS = 0x00;
export const SC_INVALID_OPCODE = 0x01;
export const SC_INVALID_FIELD = 0x02;     // zero count, count over MAXXFER, bad flags, high pointer dword
export const SC_DATA_TRANSFER = 0x04;     // a DMA fault on the data or the page list
export const SC_PRP_OFFSET = 0x13;        // a page-list entry that is not 4 KiB aligned
export const SC_LBA_RANGE = 0x80;         // LBA + count beyond the capacity
export const BLOCK_STATUS_NAMES: Readonly<Record<number, string>> = {
  [SC_SUCCESS]: 'success', [SC_INVALID_OPCODE]: 'invalid opcode', [SC_INVALID_FIELD]: 'invalid field',
  [SC_DATA_TRANSFER]: 'data transfer error', [SC_PRP_OFFSET]: 'page-list offset invalid', [SC_LBA_RANGE]: 'LBA out of range',
};

/**
 * Submission entry (64 bytes, little-endian). Fields not listed are reserved and ignored.
 *   0x00 u8  opcode          FLUSH 0, WRITE 1, READ 2
 *   0x01 u8  flags           DPTR_BUFFER (0x00) or DPTR_PAGE_LIST (0x40); anything else: invalid field
 *   0x02 u16 command id      echoed in the completion
 *   0x04 u32 NSID            ignored (one namespace)
 *   0x18 u32 data pointer    IOVA (PRP1 low); 0x1c (PRP1 high) must be 0
 *   0x28 u32 starting LBA    low; 0x2c (LBA high) must be 0, else LBA out of range
 *   0x30 u32 sector count    1-based; 1..MAXXFER (ignored by FLUSH)
 */
export interface Sqe {
  opcode: number;
  flags: number;
  cid: number;
  nsid: number;
  dptr: number;
  dptrHi: number;
  lba: number;
  lbaHi: number;
  count: number;
}

export function encodeSqe(e: Partial<Sqe> & Pick<Sqe, 'opcode' | 'cid'>): Uint8Array {
  const b = new Uint8Array(SQE_SIZE), v = new DataView(b.buffer);
  b[0] = e.opcode & 0xff;
  b[1] = (e.flags ?? 0) & 0xff;
  v.setUint16(0x02, e.cid & 0xffff, true);
  v.setUint32(0x04, (e.nsid ?? 1) >>> 0, true);
  v.setUint32(0x18, (e.dptr ?? 0) >>> 0, true);
  v.setUint32(0x1c, (e.dptrHi ?? 0) >>> 0, true);
  v.setUint32(0x28, (e.lba ?? 0) >>> 0, true);
  v.setUint32(0x2c, (e.lbaHi ?? 0) >>> 0, true);
  v.setUint32(0x30, (e.count ?? 0) >>> 0, true);
  return b;
}

export function decodeSqe(b: Uint8Array): Sqe {
  const v = new DataView(b.buffer, b.byteOffset, SQE_SIZE);
  return {
    opcode: b[0], flags: b[1], cid: v.getUint16(0x02, true), nsid: v.getUint32(0x04, true),
    dptr: v.getUint32(0x18, true), dptrHi: v.getUint32(0x1c, true),
    lba: v.getUint32(0x28, true), lbaHi: v.getUint32(0x2c, true), count: v.getUint32(0x30, true),
  };
}

/**
 * Completion entry (16 bytes, little-endian), as NVMe's:
 *   0x00 u32 command specific (0)   0x04 u32 reserved (0)
 *   0x08 u16 SQ head                0x0a u16 SQ identifier (the queue number)
 *   0x0c u16 command id             0x0e u16 status: bit 0 phase, bits 8:1 status code
 * The phase is 1 on the first pass through the CQ and flips on every wrap.
 */
export interface Cqe { sqHead: number; sqId: number; cid: number; status: number; phase: number }

export function encodeCqe(e: Cqe): Uint8Array {
  const b = new Uint8Array(CQE_SIZE), v = new DataView(b.buffer);
  v.setUint16(0x08, e.sqHead & 0xffff, true);
  v.setUint16(0x0a, e.sqId & 0xffff, true);
  v.setUint16(0x0c, e.cid & 0xffff, true);
  v.setUint16(0x0e, ((e.status & 0xff) << 1) | (e.phase & 1), true);
  return b;
}

export function decodeCqe(b: Uint8Array): Cqe {
  const v = new DataView(b.buffer, b.byteOffset, CQE_SIZE);
  const st = v.getUint16(0x0e, true);
  return { sqHead: v.getUint16(0x08, true), sqId: v.getUint16(0x0a, true), cid: v.getUint16(0x0c, true), status: (st >>> 1) & 0xff, phase: st & 1 };
}

// ---- Device state ---------------------------------------------------------------------------

/** A command inside the device: decoded, checked, timed. */
interface Command {
  cid: number;
  opcode: number;
  flags: number;
  lba: number;
  count: number;
  dptr: number;
  /** The status from decoding; after execution, the final one. */
  status: number;
  /** Cycle at which the command completes. */
  doneAt: number;
  /** Data moved (or the error known): waiting only for room in the CQ. */
  executed: boolean;
}

export interface BlockQueueCounters {
  submitted: number;
  completed: number;
  errors: number;
  bytesRead: number;
  bytesWritten: number;
  interrupts: number;
  badDoorbells: number;
}

interface Queue {
  regs: Uint32Array;
  sqHead: number;
  sqTail: number;
  cqHead: number;
  cqTail: number;
  phase: number;
  running: boolean;
  fatal: number;
  dbErr: boolean;
  inflight: Command[];
  /** Completion time of the last command admitted: later ones never complete before it. */
  lastDone: number;
  counters: BlockQueueCounters;
}

export interface BlockQueueInspect extends BlockQueueCounters {
  queue: number;
  state: 'off' | 'running' | 'fatal';
  fatalReason: string | null;
  sqBase: number; sqSize: number; sqHead: number; sqTail: number;
  cqBase: number; cqSize: number; cqHead: number; cqTail: number; phase: number;
  interruptEnable: boolean;
  vector: number;
  inFlight: number;
  /** Completed commands waiting for room in a full CQ. */
  waitingForCq: number;
}

export interface BlockInspect {
  name: string;
  rid: number;
  sectors: number;
  sectorSize: number;
  backing: string;
  overlaySectors: number;
  dmaFaults: number;
  faults: Record<string, number>;
  lastFault: { reason: string; queue: number; at: number } | null;
  queues: BlockQueueInspect[];
}

export interface BlockState {
  version: number;
  ctrl: number;
  busyUntil: number;
  dmaFaults: number;
  faults: number[];
  badAccesses: number;
  queues: {
    regs: number[]; sqHead: number; sqTail: number; cqHead: number; cqTail: number; phase: number;
    running: boolean; fatal: number; dbErr: boolean; lastDone: number; inflight: Command[]; counters: BlockQueueCounters;
  }[];
  msix: MsixState;
  backend: BlockBackendState;
}

export interface BlockOptions {
  /** I/O queue pairs, 1..32 (default 4); one MSI-X vector each. */
  queues?: number;
  /** PCI device number on bus 0 (default 4); the function is 0. */
  dev?: number;
  /** Event-queue identity (default PCI_EVENT_BASE + requester ID). */
  eventId?: number;
  name?: string;
}

export class BlockDevice implements MmioDevice, EventOwner {
  readonly name: string;
  readonly eventId: number;
  readonly fn: PciFunction;
  readonly msix: Msix;
  readonly queueCount: number;
  /** Accesses that were not architectural (also in faults[BadAccess]). */
  badAccesses = 0;
  dmaFaults = 0;
  readonly faults = new Array<number>(BLOCK_FAULT_NAMES.length).fill(0);
  /** Told after each completion entry is posted, as a kernel polling its CQ would see it. */
  onCompletion: ((queue: number, cid: number, status: number, at: number) => void) | null = null;
  lastFault: BlockInspect['lastFault'] = null;

  private readonly globals = new Uint32Array(BLOCK_REGS.length);
  private readonly queues: Queue[] = [];
  /** When the device-wide transfer channel is next free. */
  private busyUntil = 0;

  constructor(
    private readonly host: DeviceHost,
    pci: PciBus,
    private readonly costs: Profile['block'],
    readonly backend: BlockBackend,
    opts: BlockOptions = {},
  ) {
    const n = opts.queues ?? 4;
    if (!Number.isInteger(n) || n < 1 || n > BLOCK_MAX_QUEUES) throw new RangeError(`block: queues must be 1 to ${BLOCK_MAX_QUEUES}, got ${n}`);
    this.queueCount = n;
    this.name = opts.name ?? 'nvme';
    this.msix = new Msix(`${this.name}-msix`, n, host);
    this.fn = pci.attach(opts.dev ?? BLOCK_DEFAULT_DEV, 0, {
      name: this.name, vendor: BLOCK_VENDOR_ID, device: BLOCK_DEVICE_ID, classCode: BLOCK_CLASS,
      bars: [{ size: BLOCK_BAR0_SIZE, device: this }, { size: this.msix.barSize(), device: this.msix }],
      capabilities: [this.msix.capability(1)],
    });
    this.msix.attach(this.fn);
    this.eventId = opts.eventId ?? PCI_EVENT_BASE + this.fn.rid;
    for (let q = 0; q < n; q++) this.queues.push(newQueue());
    host.events.register(this);
    this.reset();
  }

  /** Controller reset: registers from the tables, every queue stopped and emptied. The disk keeps its data. */
  reset(): void {
    BLOCK_REGS.forEach((r, i) => { this.globals[i] = r.reset; });
    this.globals[G_QUEUES] = this.queueCount;
    this.globals[G_CAP_LO] = this.backend.sectors % 0x100000000;
    this.globals[G_CAP_HI] = Math.floor(this.backend.sectors / 0x100000000);
    this.queues.forEach((q, k) => {
      QUEUE_REGS.forEach((r, i) => { q.regs[i] = r.reset; });
      q.regs[QVEC] = k;
      this.queueReset(q);
    });
  }

  // ---- MMIO ---------------------------------------------------------------------------------

  mmioRead(offset: number, size: number): number {
    if (!this.checkAccess(offset, size)) return size === 4 ? -1 : (1 << (size * 8)) - 1;
    if (offset >= DOORBELL_BASE) return 0; // doorbells are write-only (NVMe: reads undefined)
    if (offset >= QUEUE_BASE) {
      const at = this.queueReg(offset);
      return at === null ? this.badAccessValue(offset) : this.queueRead(at.q, at.i);
    }
    const i = offset >> 2;
    if (i >= BLOCK_REGS.length) return this.badAccessValue(offset);
    if (i === G_CSTS) return this.csts();
    if (i === G_DMAERR) return this.dmaFaults >>> 0;
    return this.globals[i];
  }

  mmioWrite(offset: number, size: number, value: number): void {
    if (!this.checkAccess(offset, size)) return;
    value >>>= 0;
    if (offset >= DOORBELL_BASE) { this.onDoorbellWrite(offset - DOORBELL_BASE, value); return; }
    if (offset >= QUEUE_BASE) {
      const at = this.queueReg(offset);
      if (at === null) { this.blockFault(BlockFault.BadAccess, -1); return; }
      this.queueWrite(at.q, at.i, value);
      return;
    }
    const i = offset >> 2;
    const reg = BLOCK_REGS[i];
    if (reg === undefined || reg.writable === 0) { this.blockFault(BlockFault.BadAccess, -1); return; }
    if (i === G_CTRL) this.onCtrlWrite(value & reg.writable);
  }

  private checkAccess(offset: number, size: number): boolean {
    if (size === 4 && (offset & 3) === 0 && offset >= 0 && offset < BLOCK_BAR0_SIZE) return true;
    this.blockFault(BlockFault.BadAccess, -1);
    return false;
  }

  private badAccessValue(_offset: number): number {
    this.blockFault(BlockFault.BadAccess, -1);
    return -1;
  }

  /** Queue number and register index of a queue-bank offset, or null past the last queue. */
  private queueReg(offset: number): { q: number; i: number } | null {
    const q = Math.floor((offset - QUEUE_BASE) / QUEUE_STRIDE), i = ((offset - QUEUE_BASE) % QUEUE_STRIDE) >> 2;
    return q < this.queueCount && i < QUEUE_REGS.length ? { q, i } : null;
  }

  private queueRead(k: number, i: number): number {
    const q = this.queues[k];
    switch (QUEUE_REGS[i].name) {
      case 'QSTATUS':
        return (q.running ? QSTATUS_RUN : 0) | (q.fatal !== 0 ? QSTATUS_FATAL : 0) | (q.dbErr ? QSTATUS_DBERR : 0) |
          (q.phase ? QSTATUS_PHASE : 0) | (q.fatal << QSTATUS_REASON_SHIFT);
      case 'SQHEAD': return q.sqHead;
      case 'CQTAIL': return q.cqTail;
      default: return q.regs[i];
    }
  }

  private queueWrite(k: number, i: number, value: number): void {
    const q = this.queues[k], reg = QUEUE_REGS[i];
    if (reg.writable === 0) { this.blockFault(BlockFault.BadAccess, k); return; }
    // The ring geometry is locked while the queue is enabled, as NVMe forbids changing a live queue.
    if (i <= CQSIZE && (q.regs[QCTRL] & QCTRL_EN) !== 0) { this.blockFault(BlockFault.BadAccess, k); return; }
    const old = q.regs[i];
    q.regs[i] = ((old & ~reg.writable) | (value & reg.writable)) >>> 0;
    if (i === QCTRL) this.onQctrlWrite(k, old, q.regs[i]);
  }

  private onCtrlWrite(value: number): void {
    if (value & CTRL_RESET) this.reset();
  }

  private csts(): number {
    const k = this.queues.findIndex((q) => q.fatal !== 0);
    if (k < 0) return CSTS_RDY;
    return (CSTS_RDY | CSTS_CFS | (this.queues[k].fatal << CSTS_REASON_SHIFT) | (k << CSTS_QUEUE_SHIFT)) >>> 0;
  }

  private onQctrlWrite(k: number, old: number, now: number): void {
    const q = this.queues[k];
    if ((now & QCTRL_EN) === 0) { if (old & QCTRL_EN || q.fatal) this.queueReset(q); return; }
    if ((old & QCTRL_EN) !== 0 || q.fatal !== 0) return; // already on, or failed: write 0 first
    if (!this.queueConfigOk(q)) {
      q.regs[QCTRL] &= ~QCTRL_EN;
      this.blockFault(BlockFault.BadConfig, k);
      return;
    }
    this.queueReset(q);
    q.running = true;
  }

  /** Sizes within 2..MAXQ and rings that do not wrap past 4 GiB. */
  private queueConfigOk(q: Queue): boolean {
    const sqn = q.regs[SQSIZE], cqn = q.regs[CQSIZE];
    if (sqn < 2 || sqn > BLOCK_MAX_ENTRIES || cqn < 2 || cqn > BLOCK_MAX_ENTRIES) return false;
    return q.regs[SQBASE] + sqn * SQE_SIZE <= 0x100000000 && q.regs[CQBASE] + cqn * CQE_SIZE <= 0x100000000;
  }

  /** Empty and stop a queue, keeping its configuration registers; in-flight commands are dropped. */
  private queueReset(q: Queue): void {
    q.sqHead = q.sqTail = q.cqHead = q.cqTail = 0;
    q.phase = 1;
    q.running = false;
    q.fatal = 0;
    q.dbErr = false;
    q.inflight = [];
    q.lastDone = 0;
  }

  private onDoorbellWrite(off: number, value: number): void {
    const k = off >>> 3;
    const q = this.queues[k];
    if (q === undefined) { this.blockFault(BlockFault.BadAccess, -1); return; }
    if (!q.running) { this.badDoorbell(q, k); return; }
    if ((off & 4) === 0) this.onSqTailWrite(q, k, value);
    else this.onCqHeadWrite(q, k, value);
  }

  private onSqTailWrite(q: Queue, k: number, tail: number): void {
    if (tail >= q.regs[SQSIZE]) { this.badDoorbell(q, k); return; }
    q.sqTail = tail;
    this.blockFetch(q, k, this.host.now());
  }

  /** The new head may only move over entries the device has posted. */
  private onCqHeadWrite(q: Queue, k: number, head: number): void {
    const n = q.regs[CQSIZE];
    if (head >= n || (head - q.cqHead + n) % n > (q.cqTail - q.cqHead + n) % n) { this.badDoorbell(q, k); return; }
    q.cqHead = head;
    this.blockPost(q, k);
    this.blockFetch(q, k, this.host.now());
  }

  private badDoorbell(q: Queue, k: number): void {
    if (q.running) q.dbErr = true;
    q.counters.badDoorbells++;
    this.blockFault(BlockFault.BadDoorbell, k);
  }

  // ---- Command processing --------------------------------------------------------------------

  /** Fetch submitted entries while the queue-depth limit allows; at most one pass of the ring. */
  private blockFetch(q: Queue, k: number, now: number): void {
    const n = q.regs[SQSIZE];
    const entry = new Uint8Array(SQE_SIZE);
    for (let budget = n; budget > 0 && q.running && q.sqHead !== q.sqTail && q.inflight.length < BLOCK_QUEUE_DEPTH; budget--) {
      if (this.host.dma.read(this.fn.rid, q.regs[SQBASE] + q.sqHead * SQE_SIZE, entry) !== DMA_OK) {
        this.dmaFaults++;
        this.blockFault(BlockFault.SqFetch, k);
        return;
      }
      q.sqHead = (q.sqHead + 1) % n;
      this.blockAdmit(q, k, decodeSqe(entry), now);
    }
  }

  /** Decode, check and time one command; it completes in its queue's order. */
  private blockAdmit(q: Queue, k: number, e: Sqe, now: number): void {
    const status = this.blockCheck(e);
    const bytes = status === SC_SUCCESS && e.opcode !== OP_FLUSH ? e.count * SECTOR_SIZE : 0;
    const xfer = ratioApply(this.costs.perByte, bytes);
    let done = now + this.costs.latency;
    if (bytes > 0) {
      done = Math.max(done, this.busyUntil) + xfer;
      this.busyUntil = done;
    }
    done = Math.max(done, q.lastDone);
    q.lastDone = done;
    q.inflight.push({ cid: e.cid, opcode: e.opcode, flags: e.flags, lba: e.lba, count: e.count, dptr: e.dptr, status, doneAt: done, executed: false });
    q.counters.submitted++;
    this.host.events.schedule(done, this, KIND_COMPLETE, k);
  }

  /** Decode-time checks: everything that needs no memory access. */
  private blockCheck(e: Sqe): number {
    if (e.opcode !== OP_READ && e.opcode !== OP_WRITE && e.opcode !== OP_FLUSH) return SC_INVALID_OPCODE;
    if (e.opcode === OP_FLUSH) return SC_SUCCESS;
    if (e.flags !== DPTR_BUFFER && e.flags !== DPTR_PAGE_LIST) return SC_INVALID_FIELD;
    if (e.dptrHi !== 0) return SC_INVALID_FIELD;
    if (e.flags === DPTR_PAGE_LIST && (e.dptr & 3) !== 0) return SC_INVALID_FIELD;
    if (e.count === 0 || e.count > BLOCK_MAX_TRANSFER) return SC_INVALID_FIELD;
    if (e.lbaHi !== 0 || e.lba + e.count > this.backend.sectors) return SC_LBA_RANGE;
    return SC_SUCCESS;
  }

  onEvent(kind: number, arg: number, at: number): void {
    if (kind !== KIND_COMPLETE) return;
    const q = this.queues[arg];
    if (q === undefined || !q.running) return; // a queue reset since: the command is gone
    for (const c of q.inflight) {
      if (c.doneAt > at) break;
      if (!c.executed) { c.status = this.blockExecute(q, c); c.executed = true; }
    }
    this.blockPost(q, arg);
    this.blockFetch(q, arg, at);
  }

  /** Move the data of a command that passed its checks; returns the final status. */
  private blockExecute(q: Queue, c: Command): number {
    if (c.status !== SC_SUCCESS) return c.status;
    if (c.opcode === OP_FLUSH) { this.backend.flush(); return SC_SUCCESS; }
    const data = new Uint8Array(c.count * SECTOR_SIZE);
    const pieces = this.blockPieces(q, c, data.length);
    if (typeof pieces === 'number') return pieces;
    if (c.opcode === OP_READ) {
      this.backend.read(c.lba, data);
      for (const p of pieces) {
        if (this.host.dma.write(this.fn.rid, p.iova, data.subarray(p.at, p.at + p.len)) !== DMA_OK) return this.dataFault(q);
      }
      q.counters.bytesRead += data.length;
    } else {
      for (const p of pieces) {
        if (this.host.dma.read(this.fn.rid, p.iova, data.subarray(p.at, p.at + p.len)) !== DMA_OK) return this.dataFault(q);
      }
      this.backend.write(c.lba, data);
      q.counters.bytesWritten += data.length;
    }
    return SC_SUCCESS;
  }

  /** The guest buffer as (IOVA, offset in the data, length) pieces, or an error status. */
  private blockPieces(q: Queue, c: Command, bytes: number): { iova: number; at: number; len: number }[] | number {
    if (c.flags === DPTR_BUFFER) {
      if (c.dptr + bytes > 0x100000000) return this.dataFault(q);
      return [{ iova: c.dptr, at: 0, len: bytes }];
    }
    const pages = Math.ceil(bytes / PAGE);
    if (c.dptr + pages * 4 > 0x100000000) return this.dataFault(q);
    const list = new Uint8Array(pages * 4);
    if (this.host.dma.read(this.fn.rid, c.dptr, list) !== DMA_OK) return this.dataFault(q);
    const v = new DataView(list.buffer);
    const out: { iova: number; at: number; len: number }[] = [];
    for (let p = 0; p < pages; p++) {
      const iova = v.getUint32(p * 4, true);
      if ((iova & (PAGE - 1)) !== 0) return SC_PRP_OFFSET;
      out.push({ iova, at: p * PAGE, len: Math.min(PAGE, bytes - p * PAGE) });
    }
    return out;
  }

  private dataFault(q: Queue): number {
    this.dmaFaults++;
    this.blockFault(BlockFault.DataDma, this.queues.indexOf(q));
    return SC_DATA_TRANSFER;
  }

  /** Post executed commands, in order, while the CQ has room; interrupt after each entry. */
  private blockPost(q: Queue, k: number): void {
    const n = q.regs[CQSIZE];
    while (q.running && q.inflight.length > 0 && q.inflight[0].executed && (q.cqTail + 1) % n !== q.cqHead) {
      const c = q.inflight[0];
      const cqe = encodeCqe({ sqHead: q.sqHead, sqId: k, cid: c.cid, status: c.status, phase: q.phase });
      if (this.host.dma.write(this.fn.rid, q.regs[CQBASE] + q.cqTail * CQE_SIZE, cqe) !== DMA_OK) {
        this.dmaFaults++;
        this.blockFault(BlockFault.CqPost, k);
        return;
      }
      q.inflight.shift();
      q.cqTail = (q.cqTail + 1) % n;
      if (q.cqTail === 0) q.phase ^= 1;
      q.counters.completed++;
      if (c.status !== SC_SUCCESS) q.counters.errors++;
      this.onCompletion?.(k, c.cid, c.status, this.host.now());
      if (q.regs[QCTRL] & QCTRL_IEN) this.blockInterrupt(q, k);
    }
  }

  private blockInterrupt(q: Queue, k: number): void {
    const vector = q.regs[QVEC];
    if (vector >= this.msix.vectors) { this.blockFault(BlockFault.BadVector, k); return; }
    q.counters.interrupts++;
    this.msix.fire(vector);
  }

  /** Every fault of the device comes through here; the fatal ones stop their queue. */
  private blockFault(reason: BlockFault, k: number): void {
    this.faults[reason]++;
    if (reason === BlockFault.BadAccess) this.badAccesses++;
    this.lastFault = { reason: BLOCK_FAULT_NAMES[reason], queue: k, at: this.host.now() };
    const q = this.queues[k];
    if (q !== undefined && FATAL_FAULTS.includes(reason)) {
      q.fatal = reason;
      q.running = false;
      q.inflight = [];
    }
  }

  // ---- Inspection and state ------------------------------------------------------------------

  inspect(): BlockInspect {
    return {
      name: this.name,
      rid: this.fn.rid,
      sectors: this.backend.sectors,
      sectorSize: SECTOR_SIZE,
      backing: this.backend.description,
      overlaySectors: this.backend.overlaySectors,
      dmaFaults: this.dmaFaults,
      faults: Object.fromEntries(BLOCK_FAULT_NAMES.slice(1).map((nm, i) => [nm, this.faults[i + 1]])),
      lastFault: this.lastFault === null ? null : { ...this.lastFault },
      queues: this.queues.map((q, k) => ({
        queue: k,
        state: q.running ? 'running' : q.fatal !== 0 ? 'fatal' : 'off',
        fatalReason: q.fatal !== 0 ? BLOCK_FAULT_NAMES[q.fatal] : null,
        sqBase: q.regs[SQBASE], sqSize: q.regs[SQSIZE], sqHead: q.sqHead, sqTail: q.sqTail,
        cqBase: q.regs[CQBASE], cqSize: q.regs[CQSIZE], cqHead: q.cqHead, cqTail: q.cqTail, phase: q.phase,
        interruptEnable: (q.regs[QCTRL] & QCTRL_IEN) !== 0,
        vector: q.regs[QVEC],
        inFlight: q.inflight.length,
        waitingForCq: q.inflight.filter((c) => c.executed).length,
        ...q.counters,
      })),
    };
  }

  saveState(): BlockState {
    return {
      version: BLOCK_STATE_VERSION,
      ctrl: this.globals[G_CTRL],
      busyUntil: this.busyUntil,
      dmaFaults: this.dmaFaults,
      faults: [...this.faults],
      badAccesses: this.badAccesses,
      queues: this.queues.map((q) => ({
        regs: Array.from(q.regs), sqHead: q.sqHead, sqTail: q.sqTail, cqHead: q.cqHead, cqTail: q.cqTail, phase: q.phase,
        running: q.running, fatal: q.fatal, dbErr: q.dbErr, lastDone: q.lastDone,
        inflight: q.inflight.map((c) => ({ ...c })), counters: { ...q.counters },
      })),
      msix: this.msix.saveState(),
      backend: this.backend.saveState(),
    };
  }

  /**
   * Restore. With `queueRestored` (a whole-machine snapshot) the completion events are already
   * back in the event queue. Otherwise they are scheduled again, one per in-flight command;
   * an extra copy is harmless, since an event completes only commands that are due.
   */
  loadState(s: BlockState, queueRestored = false): void {
    if (s.version !== BLOCK_STATE_VERSION) throw new Error(`${this.name}: cannot load block state version ${s.version}, expected ${BLOCK_STATE_VERSION}`);
    if (s.queues.length !== this.queueCount) throw new Error(`${this.name}: block state has ${s.queues.length} queues, this device has ${this.queueCount}`);
    this.backend.loadState(s.backend);
    this.msix.loadState(s.msix);
    this.globals[G_CTRL] = s.ctrl;
    this.busyUntil = s.busyUntil;
    this.dmaFaults = s.dmaFaults;
    this.faults.fill(0);
    s.faults.forEach((v, i) => { if (i < this.faults.length) this.faults[i] = v; });
    this.badAccesses = s.badAccesses;
    this.lastFault = null;
    s.queues.forEach((sq, k) => {
      const q = this.queues[k];
      q.regs.set(sq.regs);
      Object.assign(q, {
        sqHead: sq.sqHead, sqTail: sq.sqTail, cqHead: sq.cqHead, cqTail: sq.cqTail, phase: sq.phase, running: sq.running,
        fatal: sq.fatal, dbErr: sq.dbErr, lastDone: sq.lastDone,
        inflight: sq.inflight.map((c) => ({ ...c })), counters: { ...zeroCounters(), ...sq.counters },
      });
      if (!queueRestored) for (const c of q.inflight) if (!c.executed) this.host.events.schedule(c.doneAt, this, KIND_COMPLETE, k);
    });
  }
}

function zeroCounters(): BlockQueueCounters {
  return { submitted: 0, completed: 0, errors: 0, bytesRead: 0, bytesWritten: 0, interrupts: 0, badDoorbells: 0 };
}

function newQueue(): Queue {
  return {
    regs: new Uint32Array(QUEUE_REGS.length), sqHead: 0, sqTail: 0, cqHead: 0, cqTail: 0, phase: 1,
    running: false, fatal: 0, dbErr: false, inflight: [], lastDone: 0, counters: zeroCounters(),
  };
}
