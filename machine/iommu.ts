// A DMA-remapping unit, VT-d-flavoured (Intel VT-d specification rev. 3: 3.4 requester ID to
// domain through a context table, 6.5 queued invalidation with a wait descriptor, 7.3 primary
// fault logging with fault-recording registers and a fault-event MSI, 10.4 register layout).
//
// Simplified, and documented as such:
// - One flat context table of 256 8-byte entries (bus 0 only, no root table), indexed by the
//   requester ID bus<<8 | dev<<3 | fn. Lower dword: bit 0 present, bit 1 pass-through, bits
//   31:12 the physical address of the domain's I/O page directory (bits 11:2 reserved). Upper
//   dword: bits 7:0 the domain ID (as VT-d keeps the DID in the upper half), the rest reserved. Context entries are read from RAM (never through DMA or MMIO); an
//   entry outside RAM reads as not present.
// - The I/O page table is the x86 two-level format (PDE/PTE): P means readable, RW writable
//   (both levels must allow the access); US, PWT, PCD, A, D, G are ignored, PS is ignored (a PDE
//   always points to a page table), and the walker sets no A/D bits. 4 KiB pages, 32-bit IOVAs.
// - Caches: a context cache (present entries only, by requester ID) and an IOTLB of
//   `iotlbEntries` entries keyed by (domain, IOVA page), least recently used evicted first, so
//   deterministic. Neither caches a fault. Writing CTXPTR or changing PTEs flushes nothing:
//   software invalidates through the queue, as on VT-d after SRTP.
// - Costs: a context-cache miss costs one walkLevel, an IOTLB miss two (PDE, PTE; one if the PDE
//   is not present), a hit nothing. `lastCost` is the cost of the last DMA, for the device to
//   add to its completion time; `totalCost` accumulates.
// - GCMD is write-only and reads 0: bit 31 (TE) is the desired translation-enable state (write
//   it with every write, there are no other command bits); GSTS.TES follows at once. With
//   translation off, DMA goes to physical memory (bounds-checked).
// - Invalidation queue: IQBASE (16-byte aligned physical address), IQSIZE (descriptor count,
//   1..4096), IQHEAD (read-only index), IQTAIL (index the guest writes). Writing IQBASE or
//   IQSIZE resets head and tail to 0 and abandons a WAIT in progress. Invalidation descriptors
//   take effect when the queue reaches them (at the tail write); a WAIT holds the queue for the
//   profile's invalidationLatency, then writes its status dword and the queue goes on. A bad
//   descriptor sets FSTS.IQE, records IQERR and halts the queue with head at that descriptor;
//   writing 1 to FSTS.IQE clears it and retries from head. Reserved descriptor fields are
//   ignored; a WAIT's address and value are taken when the queue reaches it.
// - Faults: every DMA fault is recorded once (its first faulting page) in the next of eight
//   fault-recording slots (FSTS.FRI). A slot still valid (F set) means overflow: FSTS.PFO is set
//   and the record dropped. Each recorded fault sends the fault-event MSI, or sets FECTL.IP
//   while FECTL.IM is set; clearing IM with IP set sends one message. A DMA refused because the
//   function's bus-master bit is off is not an IOMMU fault (the device never issued it): it is
//   counted only.

import type { MmioDevice } from './bus.js';
import {
  DMA_FAULT_NAMES, DMA_NO_CONTEXT, DMA_NO_PERMISSION, DMA_NOT_MAPPED, DMA_NOT_MASTER, DMA_OK, DMA_OUTSIDE_RAM,
  type DeviceHost, type DmaPort, type DmaStatus,
} from './device.js';
import type { EventOwner } from './events.js';
import { PAGE_SHIFT, type PhysicalMemory } from './memory.js';
import type { Profile } from './profile.js';

export const IOMMU_BASE = 0xfed00000;
export const IOMMU_SIZE = 0x1000;
export const IOMMU_STATE_VERSION = 1;
/** Default event-owner id (the machine is 0, local APICs 1..64). */
export const IOMMU_EVENT_ID = 0x10000;
/** Event kind: the WAIT descriptor at the head of the queue completes. */
export const KIND_WAIT_DONE = 1;

export const FAULT_SLOTS = 8;
export const FAULT_HISTORY = 64;
export const IQ_MAX_ENTRIES = 4096;
export const IQ_DESC_SIZE = 16;

export type IommuRegName =
  'VER' | 'CAP' | 'GCMD' | 'GSTS' | 'CTXPTR' | 'FSTS' | 'FECTL' | 'FEDATA' | 'FEADDR' | 'FEUADDR' | 'FCOUNT' |
  'IQBASE' | 'IQSIZE' | 'IQHEAD' | 'IQTAIL' | 'IQERR' | 'FR_ADDR' | 'FR_INFO' | 'FR_TIME_LO' | 'FR_TIME_HI';

interface IommuReg {
  offset: number;
  name: IommuRegName;
  access: 'r' | 'w' | 'rw';
  reset: number;
  /** Bits a guest write stores. */
  writable: number;
  /** Bits a guest write of 1 clears. */
  w1c: number;
}

function reg(offset: number, name: IommuRegName, access: IommuReg['access'], reset: number, writable: number, w1c = 0): IommuReg {
  return { offset, name, access, reset, writable, w1c };
}

/** Fault-recording slot k: four dwords at 0x100 + 16k. */
function faultSlot(k: number): IommuReg[] {
  const at = 0x100 + 16 * k;
  return [
    reg(at + 0x0, 'FR_ADDR', 'r', 0, 0),                  // faulting IOVA
    reg(at + 0x4, 'FR_INFO', 'rw', 0, 0, FR_VALID),       // F (31) W1C, write (24), reason 23:16, requester 15:0
    reg(at + 0x8, 'FR_TIME_LO', 'r', 0, 0),               // simulated cycle of the fault, low dword
    reg(at + 0xc, 'FR_TIME_HI', 'r', 0, 0),
  ];
}

export const GCMD_TE       = 0x80000000;  // translation enable (desired state)
export const GSTS_TES      = 0x80000000;  // translation enabled
export const FSTS_PFO      = 0x00000001;  // primary fault overflow (W1C)
export const FSTS_PPF      = 0x00000002;  // primary pending fault: some slot has F set (read-only, computed)
export const FSTS_IQE      = 0x00000010;  // invalidation queue error (W1C; clearing retries)
export const FSTS_FRI      = 0x0000ff00;  // fault record index: the slot the next fault goes to
export const FECTL_IM      = 0x80000000;  // fault-event interrupt mask
export const FECTL_IP      = 0x40000000;  // fault-event interrupt pending (read-only)
export const FR_VALID      = 0x80000000;  // F: the slot holds an unread fault
export const FR_WRITE      = 0x01000000;
/** The domain ID of a folded context entry (see iommuContext). */
function ctxDomain(ctx: number): number { return (ctx >>> 4) & 0xff; }
export const CTX_PRESENT   = 0x1;
export const CTX_PASSTHRU  = 0x2;
export const PTE_P         = 0x1;
export const PTE_RW        = 0x2;

// The register map (offsets in the 4 KiB window; all 32-bit).
export const IOMMU_REGS: readonly IommuReg[] = [
  reg(0x000, 'VER',     'r',  0x00000010, 0),                      // version 1.0
  reg(0x008, 'CAP',     'r',  0,          0),                      // 7:0 fault slots, 23:8 IOTLB entries (saturated), 24 pass-through
  reg(0x018, 'GCMD',    'w',  0,          GCMD_TE),                // write-only, reads 0
  reg(0x01c, 'GSTS',    'r',  0,          0),
  reg(0x020, 'CTXPTR',  'rw', 0,          0xfffff000),             // context table, 4 KiB aligned
  reg(0x034, 'FSTS',    'rw', 0,          0, FSTS_PFO | FSTS_IQE),
  reg(0x038, 'FECTL',   'rw', FECTL_IM,   FECTL_IM),               // masked at reset
  reg(0x03c, 'FEDATA',  'rw', 0,          0xffffffff),
  reg(0x040, 'FEADDR',  'rw', 0,          0xfffffffc),
  reg(0x044, 'FEUADDR', 'rw', 0,          0xffffffff),             // non-zero: the message is dropped (no memory above 4 GiB)
  reg(0x048, 'FCOUNT',  'r',  0,          0),                      // faults recorded or overflowed, wrapping
  reg(0x080, 'IQBASE',  'rw', 0,          0xfffffff0),
  reg(0x084, 'IQSIZE',  'rw', 0,          0x00001fff),             // descriptors; 0 or > 4096: no queue
  reg(0x088, 'IQHEAD',  'r',  0,          0),
  reg(0x08c, 'IQTAIL',  'rw', 0,          0x00001fff),
  reg(0x090, 'IQERR',   'r',  0,          0),                      // 31:24 IqError, 15:0 descriptor index
  ...Array.from({ length: FAULT_SLOTS }, (_, k) => faultSlot(k)).flat(),
];

const REG_AT = new Map<number, IommuReg>(IOMMU_REGS.map((r) => [r.offset, r]));
const R = (name: IommuRegName) => IOMMU_REGS.find((r) => r.name === name)!.offset >> 2;
const CAP = R('CAP'), GCMD = R('GCMD'), GSTS = R('GSTS'), CTXPTR = R('CTXPTR'), FSTS = R('FSTS'), FECTL = R('FECTL');
const FEDATA = R('FEDATA'), FEADDR = R('FEADDR'), FEUADDR = R('FEUADDR'), FCOUNT = R('FCOUNT');
const IQBASE = R('IQBASE'), IQSIZE = R('IQSIZE'), IQHEAD = R('IQHEAD'), IQTAIL = R('IQTAIL'), IQERR = R('IQERR');
const FR0 = 0x100 >> 2;

// Invalidation descriptors (16 bytes). dw0: 3:0 type, 5:4 granularity, 31:16 requester or domain.
export const INV_CONTEXT = 1;   // granularity 1: all, 2: the requester in 31:16
export const INV_IOTLB = 2;     // granularity 1: global, 2: domain in 31:16, 3: page dw1 in domain
export const INV_WAIT = 3;      // dw1: status address (4-byte aligned, in RAM), dw2: status value
export const GRAN_ALL = 1, GRAN_ONE = 2, GRAN_PAGE = 3;

/** Invalidation-queue errors: FSTS.IQE with the reason in IQERR 31:24. */
export const IqError = { BadType: 1, BadGranularity: 2, BadRequester: 3, BadDomain: 4, FetchOutsideRam: 5, BadStatusAddress: 6, TailOutOfRange: 7, BadSize: 8 } as const;
export type IqError = typeof IqError[keyof typeof IqError];
export const IQ_ERROR_NAMES = ['', 'bad type', 'bad granularity', 'bad requester', 'bad domain', 'descriptor outside RAM', 'bad status address', 'tail out of range', 'bad queue size'] as const;

/** Why a register access was not architectural: counted, never thrown. */
export const IommuBadAccess = { Size: 0, Misaligned: 1, Reserved: 2, ReadOnly: 3, WriteOnly: 4 } as const;
export type IommuBadAccess = typeof IommuBadAccess[keyof typeof IommuBadAccess];
export const IOMMU_BAD_ACCESS_NAMES = ['size', 'misaligned', 'reserved', 'read-only', 'write-only'] as const;

/** A DMA fault's reason: one of the DmaStatus codes NOT_MAPPED, NO_PERMISSION, NO_CONTEXT, OUTSIDE_RAM. */
export type IommuFaultReason = typeof DMA_NOT_MAPPED | typeof DMA_NO_PERMISSION | typeof DMA_NO_CONTEXT | typeof DMA_OUTSIDE_RAM;

export interface IommuFault { at: number; rid: number; iova: number; reason: string; code: number; write: boolean; recorded: boolean }

export interface IommuCounters {
  dmaReads: number; dmaWrites: number; bytes: number;
  faults: number; faultsOverflowed: number; faultMsis: number;
  notMaster: number; passThrough: number;
  iotlbHits: number; iotlbMisses: number; walks: number; evictions: number;
  contextHits: number; contextMisses: number;
  descriptors: number; waitsCompleted: number; iqErrors: number;
  badAccesses: number;
}

export interface IommuMapping { iova: number; pa: number; read: boolean; write: boolean }

export interface IommuInspect {
  enabled: boolean;
  contextTable: number;
  domains: { id: number; pageDirectory: number; requesters: number[]; passThrough: boolean; mappingCount: number; mappings: IommuMapping[]; truncated: boolean }[];
  passThroughSwitches: number[];
  faults: IommuFault[];
  faultStatus: { overflow: boolean; pending: boolean; nextSlot: number; count: number; eventMasked: boolean; eventPending: boolean };
  iotlb: { capacity: number; entries: { domain: number; iova: number; pa: number; write: boolean }[]; hits: number; misses: number; walks: number; evictions: number; lastCost: number; totalCost: number };
  contextCache: number[];
  queue: { base: number; size: number; head: number; tail: number; waitingUntil: number; error: string | null; errorIndex: number; descriptors: number; waitsCompleted: number };
  counters: IommuCounters;
  lastBadAccess: { reason: string; offset: number; size: number; write: boolean } | null;
}

export interface IommuState {
  version: number;
  regs: [number, number][];
  iotlb: [number, number][];
  context: [number, number][];
  passThrough: number[];
  history: IommuFault[];
  counters: IommuCounters;
  lastCost: number;
  totalCost: number;
  wait: IommuWait | null;
}

/** A WAIT descriptor in progress: fetched (address, value) when the queue reached it. */
interface IommuWait { until: number; handle: number; address: number; value: number }

function zeroCounters(): IommuCounters {
  return {
    dmaReads: 0, dmaWrites: 0, bytes: 0, faults: 0, faultsOverflowed: 0, faultMsis: 0, notMaster: 0, passThrough: 0,
    iotlbHits: 0, iotlbMisses: 0, walks: 0, evictions: 0, contextHits: 0, contextMisses: 0,
    descriptors: 0, waitsCompleted: 0, iqErrors: 0, badAccesses: 0,
  };
}

const PAGE = 4096;
const DOMAIN_KEY = 0x100000; // IOTLB key = domain * 2^20 + IOVA page number

/**
 * The IOTLB's store: key -> value, ordered least recently used first. A Map finds an entry's
 * slot; the use order is a doubly linked list through typed arrays, so a hit (the common case,
 * several per DMA'd frame) reorders without touching the Map or allocating.
 */
class IotlbStore {
  private readonly index = new Map<number, number>();
  private keys = new Float64Array(8);
  private vals = new Float64Array(8);
  private prev = new Int32Array(8);
  private next = new Int32Array(8);
  private oldest = -1;
  private newest = -1;
  private free: number[] = [7, 6, 5, 4, 3, 2, 1, 0];

  get size(): number { return this.index.size; }

  /** The value for `key`, now the most recently used; -1 if absent. */
  use(key: number): number {
    const k = this.index.get(key);
    if (k === undefined) return -1;
    if (k !== this.newest) { this.unlink(k); this.link(k); }
    return this.vals[k]!;
  }

  /** Add `key` (absent) as the most recently used. */
  add(key: number, val: number): void {
    if (this.free.length === 0) this.grow();
    const k = this.free.pop()!;
    this.keys[k] = key;
    this.vals[k] = val;
    this.index.set(key, k);
    this.link(k);
  }

  /** Remove the least recently used entry, if any. */
  dropOldest(): void { if (this.oldest >= 0) this.delete(this.keys[this.oldest]!); }

  delete(key: number): void {
    const k = this.index.get(key);
    if (k === undefined) return;
    this.index.delete(key);
    this.unlink(k);
    this.free.push(k);
  }

  clear(): void {
    for (let k = this.oldest; k >= 0; k = this.next[k]!) this.free.push(k);
    this.index.clear();
    this.oldest = this.newest = -1;
  }

  /** [key, value] pairs, least recently used first. */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    for (let k = this.oldest; k >= 0; k = this.next[k]!) out.push([this.keys[k]!, this.vals[k]!]);
    return out;
  }

  private link(k: number): void {
    this.prev[k] = this.newest;
    this.next[k] = -1;
    if (this.newest >= 0) this.next[this.newest] = k; else this.oldest = k;
    this.newest = k;
  }
  private unlink(k: number): void {
    const p = this.prev[k]!, n = this.next[k]!;
    if (p >= 0) this.next[p] = n; else this.oldest = n;
    if (n >= 0) this.prev[n] = p; else this.newest = p;
  }
  private grow(): void {
    const n = this.keys.length, m = n * 2;
    const keys = new Float64Array(m), vals = new Float64Array(m), prev = new Int32Array(m), next = new Int32Array(m);
    keys.set(this.keys); vals.set(this.vals); prev.set(this.prev); next.set(this.next);
    this.keys = keys; this.vals = vals; this.prev = prev; this.next = next;
    for (let k = m - 1; k >= n; k--) this.free.push(k);
  }
}

export class Iommu implements MmioDevice, EventOwner {
  readonly name = 'iommu';
  readonly dma: DmaPort;
  /** Translation cost in cycles of the last DMA (0 when untranslated). */
  lastCost = 0;
  totalCost = 0;
  private readonly regs = new Uint32Array(IOMMU_SIZE >> 2);
  /** (domain, page) -> frame number * 2 + writable, least recently used first. */
  private iotlb = new IotlbStore();
  /** iommuMap's result: the physical address and length of each segment of the DMA. */
  private segPa = new Float64Array(8);
  private segLen = new Float64Array(8);
  /** Requester ID -> context entry dword 0 (present entries only). */
  private context = new Map<number, number>();
  private readonly passThrough = new Set<number>();
  private history: IommuFault[] = [];
  private counters = zeroCounters();
  private lastBadAccess: IommuInspect['lastBadAccess'] = null;
  /** The WAIT at the head of the queue, while it is in progress. */
  private wait: IommuWait | null = null;
  /** Told when a WAIT descriptor completes (after its status write), as a kernel polling that word would see. */
  onWaitDone: ((address: number, value: number) => void) | null = null;

  constructor(
    private readonly host: DeviceHost,
    private readonly mem: PhysicalMemory,
    private readonly costs: Profile['iommu'],
    private readonly busMaster: (rid: number) => boolean,
    readonly eventId = IOMMU_EVENT_ID,
  ) {
    host.events.register(this);
    this.reset();
    this.dma = {
      read: (rid, iova, dst) => this.iommuDma(rid, iova, dst, false),
      write: (rid, iova, src) => this.iommuDma(rid, iova, src, true),
    };
  }

  /** Registers from the table; caches, faults and the queue emptied. */
  reset(): void {
    this.regs.fill(0);
    for (const r of IOMMU_REGS) this.regs[r.offset >> 2] = r.reset;
    this.regs[CAP] = FAULT_SLOTS | (Math.min(this.costs.iotlbEntries, 0xffff) << 8) | (1 << 24);
    this.iotlb.clear();
    this.context.clear();
    if (this.wait !== null) this.host.events.cancel(this.wait.handle);
    this.wait = null;
  }

  get enabled(): boolean { return (this.regs[GSTS] & GSTS_TES) !== 0; }

  /** Fault injection: DMA from `rid` bypasses translation even while it is enabled. */
  setPassThrough(rid: number, on: boolean): void {
    if (on) this.passThrough.add(rid & 0xffff); else this.passThrough.delete(rid & 0xffff);
  }

  // ---- registers --------------------------------------------------------------------------

  private bad(reason: IommuBadAccess, offset: number, size: number, write: boolean): void {
    this.counters.badAccesses++;
    this.lastBadAccess = { reason: IOMMU_BAD_ACCESS_NAMES[reason], offset, size, write };
  }

  private decode(offset: number, size: number, write: boolean): IommuReg | null {
    if (size !== 4) { this.bad(IommuBadAccess.Size, offset, size, write); return null; }
    if ((offset & 3) !== 0) { this.bad(IommuBadAccess.Misaligned, offset, size, write); return null; }
    const r = REG_AT.get(offset);
    if (r === undefined) { this.bad(IommuBadAccess.Reserved, offset, size, write); return null; }
    if (write && r.access === 'r') { this.bad(IommuBadAccess.ReadOnly, offset, size, write); return null; }
    if (!write && r.access === 'w') { this.bad(IommuBadAccess.WriteOnly, offset, size, write); return null; }
    return r;
  }

  mmioRead(offset: number, size: number): number {
    const r = this.decode(offset, size, false);
    if (r === null) return size === 4 ? -1 : (1 << (size * 8)) - 1;
    if (r.name === 'FSTS') return (this.regs[FSTS] & ~FSTS_PPF) | (this.anyFaultPending() ? FSTS_PPF : 0);
    return this.regs[r.offset >> 2] | 0;
  }

  mmioWrite(offset: number, size: number, value: number): void {
    const r = this.decode(offset, size, true);
    if (r === null) return;
    const at = r.offset >> 2, old = this.regs[at];
    this.regs[at] = (((old & ~r.writable) | (value & r.writable)) & ~(value & r.w1c)) >>> 0;
    switch (r.name) {
      case 'GCMD': this.onGcmdWrite(value); break;
      case 'FSTS': this.onFstsWrite(old); break;
      case 'FECTL': this.onFectlWrite(); break;
      case 'IQBASE': case 'IQSIZE': this.onIqConfigWrite(); break;
      case 'IQTAIL': this.onIqTailWrite(old); break;
      default: break;
    }
  }

  private onGcmdWrite(value: number): void {
    this.regs[GCMD] = 0; // write-only
    this.regs[GSTS] = ((this.regs[GSTS] & ~GSTS_TES) | (value & GCMD_TE)) >>> 0;
  }

  /** Clearing IQE lets the queue retry the descriptor at head. */
  private onFstsWrite(old: number): void {
    if ((old & FSTS_IQE) !== 0 && (this.regs[FSTS] & FSTS_IQE) === 0) this.iqProcess();
  }

  private onFectlWrite(): void {
    if ((this.regs[FECTL] & FECTL_IM) === 0 && (this.regs[FECTL] & FECTL_IP) !== 0) {
      this.regs[FECTL] &= ~FECTL_IP;
      this.sendFaultMsi();
    }
  }

  private onIqConfigWrite(): void {
    this.regs[IQHEAD] = 0;
    this.regs[IQTAIL] = 0;
    if (this.wait !== null) { this.host.events.cancel(this.wait.handle); this.wait = null; }
  }

  private onIqTailWrite(old: number): void {
    const size = this.iqSize();
    if (size === 0) { this.regs[IQTAIL] = old; this.iqError(IqError.BadSize, this.regs[IQHEAD]); return; }
    if (this.regs[IQTAIL] >= size) { this.regs[IQTAIL] = old; this.iqError(IqError.TailOutOfRange, this.regs[IQHEAD]); return; }
    this.iqProcess();
  }

  // ---- faults ---------------------------------------------------------------------------

  private anyFaultPending(): boolean {
    for (let k = 0; k < FAULT_SLOTS; k++) if ((this.regs[FR0 + 4 * k + 1] & FR_VALID) !== 0) return true;
    return false;
  }

  /** The one place DMA faults are reported: history, fault-recording slot, fault-event MSI. */
  private iommuFault(rid: number, iova: number, reason: IommuFaultReason, write: boolean): void {
    const at = this.host.now();
    this.counters.faults++;
    this.regs[FCOUNT] = (this.regs[FCOUNT] + 1) >>> 0;
    const slot = (this.regs[FSTS] & FSTS_FRI) >>> 8;
    const base = FR0 + 4 * slot;
    const recorded = (this.regs[base + 1] & FR_VALID) === 0;
    this.history.push({ at, rid, iova: iova >>> 0, reason: DMA_FAULT_NAMES[reason], code: reason, write, recorded });
    if (this.history.length > FAULT_HISTORY) this.history.shift();
    if (!recorded) {
      this.counters.faultsOverflowed++;
      this.regs[FSTS] |= FSTS_PFO;
      return;
    }
    this.regs[base] = iova >>> 0;
    this.regs[base + 1] = (FR_VALID | (write ? FR_WRITE : 0) | (reason << 16) | (rid & 0xffff)) >>> 0;
    this.regs[base + 2] = at % 0x100000000;
    this.regs[base + 3] = Math.floor(at / 0x100000000) >>> 0;
    this.regs[FSTS] = ((this.regs[FSTS] & ~FSTS_FRI) | (((slot + 1) % FAULT_SLOTS) << 8)) >>> 0;
    if ((this.regs[FECTL] & FECTL_IM) !== 0) this.regs[FECTL] |= FECTL_IP;
    else this.sendFaultMsi();
  }

  private sendFaultMsi(): void {
    if (this.regs[FEUADDR] !== 0) return;
    this.counters.faultMsis++;
    this.host.msi(this.regs[FEADDR] >>> 0, this.regs[FEDATA] >>> 0);
  }

  // ---- translation ----------------------------------------------------------------------

  /** RAM dword or 0 (not present) when outside RAM: tables are never read through MMIO. */
  private ramRead32(pa: number): number {
    pa >>>= 0;
    return pa + 4 <= this.mem.size ? this.mem.read32(pa) >>> 0 : 0;
  }

  /**
   * The requester's context entry, or 0 if not present: the lower dword with the domain ID of
   * the upper one folded into its reserved bits 11:4 (ctxDomain), so one number caches it.
   */
  private iommuContext(rid: number): number {
    const hit = this.context.get(rid);
    if (hit !== undefined) { this.counters.contextHits++; return hit; }
    this.counters.contextMisses++;
    this.lastCost += this.costs.walkLevel;
    if (!Number.isInteger(rid) || rid < 0 || rid > 0xff) return 0; // bus 0 only
    const ctx = this.ctxRead(rid);
    if ((ctx & CTX_PRESENT) !== 0) this.context.set(rid, ctx);
    return ctx & CTX_PRESENT ? ctx : 0;
  }

  /** Context entry `rid` from RAM in the folded form iommuContext returns. */
  private ctxRead(rid: number): number {
    const at = this.regs[CTXPTR] + rid * 8;
    const lo = this.ramRead32(at), hi = this.ramRead32(at + 4);
    return ((lo & 0xfffff003) | ((hi & 0xff) << 4)) >>> 0;
  }

  /**
   * Where a DMA of requester `rid` to `iova` would land, read from the tables in memory with no
   * cache, counter, cost or fault touched (fault injection, inspection): -1 where it would fault.
   */
  probe(rid: number, iova: number): number {
    iova >>>= 0;
    if (!this.enabled || this.passThrough.has(rid)) return iova;
    if (!Number.isInteger(rid) || rid < 0 || rid > 0xff) return -1;
    const ctx = this.ctxRead(rid);
    if ((ctx & CTX_PRESENT) === 0) return -1;
    if ((ctx & CTX_PASSTHRU) !== 0) return iova;
    const pde = this.ramRead32((ctx & ~0xfff) + (iova >>> 22) * 4);
    if ((pde & PTE_P) === 0) return -1;
    const pte = this.ramRead32((pde & ~0xfff) + ((iova >>> 12) & 0x3ff) * 4);
    return (pte & PTE_P) === 0 ? -1 : ((pte & ~0xfff) | (iova & 0xfff)) >>> 0;
  }

  /** Walk the two-level table: frame number * 2 + writable, or -1 (not mapped). */
  private iommuWalk(pd: number, page: number): number {
    this.counters.walks++;
    this.lastCost += this.costs.walkLevel;
    const pde = this.ramRead32(pd + (page >>> 10) * 4);
    if ((pde & PTE_P) === 0) return -1;
    this.lastCost += this.costs.walkLevel;
    const pte = this.ramRead32((pde & ~0xfff) + (page & 0x3ff) * 4);
    if ((pte & PTE_P) === 0) return -1;
    return (pte >>> 12) * 2 + (pde & pte & PTE_RW ? 1 : 0);
  }

  /** Translate one page of a domain through the IOTLB: the frame's address, or -status. */
  private iommuTranslate(domain: number, pd: number, iova: number, write: boolean): number {
    const page = iova >>> 12, key = domain * DOMAIN_KEY + page;
    let e = this.iotlb.use(key);
    if (e >= 0) this.counters.iotlbHits++;
    else {
      this.counters.iotlbMisses++;
      e = this.iommuWalk(pd, page);
      if (e < 0) return -DMA_NOT_MAPPED;
      this.iotlbInsert(key, e);
    }
    if (write && (e & 1) === 0) return -DMA_NO_PERMISSION;
    return Math.floor(e / 2) * PAGE;
  }

  private iotlbInsert(key: number, e: number): void {
    if (this.iotlb.size >= this.costs.iotlbEntries) {
      this.iotlb.dropOldest();
      this.counters.evictions++;
    }
    this.iotlb.add(key, e);
  }

  /** A device's DMA: check, translate every page, and copy only if all of them are fine. */
  private iommuDma(rid: number, iova: number, buf: Uint8Array, write: boolean): DmaStatus {
    iova >>>= 0;
    this.lastCost = 0;
    if (write) this.counters.dmaWrites++; else this.counters.dmaReads++;
    if (!this.busMaster(rid)) { this.counters.notMaster++; return DMA_NOT_MASTER; }
    if (buf.length === 0) return DMA_OK;
    if (!this.enabled || (this.passThrough.size > 0 && this.passThrough.has(rid))) return this.physical(iova, buf, write);
    const segs = this.iommuMap(rid, iova, buf.length, write);
    this.totalCost += this.lastCost;
    if (segs < 0) return -segs;
    if (segs === 0) return this.physical(iova, buf, write);
    if (segs === 1) ramCopy(this.mem, this.segPa[0]!, buf, 0, buf.length, write); // the common case: one page
    else {
      for (let k = 0, done = 0; k < segs; done += this.segLen[k++]!) ramCopy(this.mem, this.segPa[k]!, buf, done, this.segLen[k]!, write);
    }
    this.counters.bytes += buf.length;
    return DMA_OK;
  }

  /**
   * Physical segments for [iova, iova+len) into segPa/segLen, returning how many; 0 for a
   * pass-through context; or -status for a fault (recorded).
   */
  private iommuMap(rid: number, iova: number, len: number, write: boolean): number {
    const ctx = this.iommuContext(rid);
    if (ctx === 0) { this.iommuFault(rid, iova, DMA_NO_CONTEXT, write); return -DMA_NO_CONTEXT; }
    if ((ctx & CTX_PASSTHRU) !== 0) return 0;
    const domain = ctxDomain(ctx), pd = ctx & ~0xfff;
    let segs = 0;
    for (let at = iova, left = len; left > 0;) {
      if (at >= 0x100000000) { this.iommuFault(rid, at % 0x100000000, DMA_NOT_MAPPED, write); return -DMA_NOT_MAPPED; }
      const n = Math.min(left, PAGE - (at & 0xfff));
      const t = this.iommuTranslate(domain, pd, at, write);
      if (t < 0) { this.iommuFault(rid, at, -t as IommuFaultReason, write); return t; }
      const pa = t + (at & 0xfff);
      if (pa + n > this.mem.size) { this.iommuFault(rid, at, DMA_OUTSIDE_RAM, write); return -DMA_OUTSIDE_RAM; }
      if (segs === this.segPa.length) this.segsGrow();
      this.segPa[segs] = pa;
      this.segLen[segs++] = n;
      at += n;
      left -= n;
    }
    return segs;
  }

  private segsGrow(): void {
    const pa = new Float64Array(this.segPa.length * 2), len = new Float64Array(this.segLen.length * 2);
    pa.set(this.segPa); len.set(this.segLen);
    this.segPa = pa; this.segLen = len;
  }

  /** Untranslated DMA: straight to RAM, bounds-checked. */
  private physical(pa: number, buf: Uint8Array, write: boolean): DmaStatus {
    if (this.enabled) this.counters.passThrough++;
    if (pa + buf.length > this.mem.size) return DMA_OUTSIDE_RAM;
    if (write) this.mem.writeBytes(pa, buf);
    else buf.set(this.mem.ram8.subarray(pa, pa + buf.length));
    this.counters.bytes += buf.length;
    return DMA_OK;
  }

  // ---- invalidation queue ---------------------------------------------------------------

  private iqSize(): number {
    const n = this.regs[IQSIZE];
    return n >= 1 && n <= IQ_MAX_ENTRIES ? n : 0;
  }

  private iqError(reason: IqError, index: number): void {
    this.counters.iqErrors++;
    this.regs[FSTS] |= FSTS_IQE;
    this.regs[IQERR] = ((reason << 24) | (index & 0xffff)) >>> 0;
  }

  /** Run descriptors from head to tail until a WAIT, an error, or the end. */
  private iqProcess(): void {
    const size = this.iqSize();
    for (let guard = 0; guard <= IQ_MAX_ENTRIES; guard++) {
      if (this.wait !== null || (this.regs[FSTS] & FSTS_IQE) !== 0 || size === 0) return;
      const head = this.regs[IQHEAD];
      if (head === this.regs[IQTAIL] || head >= size) return;
      if (!this.iqExecute(head)) return;
      if (this.wait === null) this.regs[IQHEAD] = (head + 1) % size;
    }
  }

  /** Decode, check, then execute one descriptor. False if it was bad (IQE set). */
  private iqExecute(index: number): boolean {
    const at = this.regs[IQBASE] + index * IQ_DESC_SIZE;
    if (at + IQ_DESC_SIZE > this.mem.size) { this.iqError(IqError.FetchOutsideRam, index); return false; }
    const dw0 = this.ramRead32(at), dw1 = this.ramRead32(at + 4), dw2 = this.ramRead32(at + 8); // dw3 reserved, ignored
    const type = dw0 & 0xf, gran = (dw0 >>> 4) & 3, id = dw0 >>> 16;
    if (type === INV_CONTEXT) {
      if (gran !== GRAN_ALL && gran !== GRAN_ONE) { this.iqError(IqError.BadGranularity, index); return false; }
      if (gran === GRAN_ONE && id > 0xff) { this.iqError(IqError.BadRequester, index); return false; }
      if (gran === GRAN_ALL) this.context.clear(); else this.context.delete(id);
    } else if (type === INV_IOTLB) {
      if (gran === 0) { this.iqError(IqError.BadGranularity, index); return false; }
      if (gran !== GRAN_ALL && id > 0xff) { this.iqError(IqError.BadDomain, index); return false; }
      this.iotlbInvalidate(gran, id, dw1 >>> 12);
    } else if (type === INV_WAIT) {
      if ((dw1 & 3) !== 0 || dw1 + 4 > this.mem.size) { this.iqError(IqError.BadStatusAddress, index); return false; }
      const until = this.host.now() + this.costs.invalidationLatency;
      this.wait = { until, handle: this.host.events.schedule(until, this, KIND_WAIT_DONE, index), address: dw1, value: dw2 };
    } else {
      this.iqError(IqError.BadType, index);
      return false;
    }
    this.counters.descriptors++;
    return true;
  }

  private iotlbInvalidate(gran: number, domain: number, page: number): void {
    if (gran === GRAN_ALL) { this.iotlb.clear(); return; }
    if (gran === GRAN_PAGE) { this.iotlb.delete(domain * DOMAIN_KEY + page); return; }
    for (const [key] of this.iotlb.entries()) if (Math.floor(key / DOMAIN_KEY) === domain) this.iotlb.delete(key);
  }

  /** The WAIT at head completes: write its status, step past it, go on with the queue. */
  onEvent(kind: number, arg: number): void {
    const w = this.wait, size = this.iqSize();
    if (kind !== KIND_WAIT_DONE || w === null) return;
    this.wait = null;
    if (size === 0 || this.regs[IQHEAD] !== arg) return;
    this.mem.write32(w.address, w.value); // checked in RAM and aligned when fetched
    this.counters.waitsCompleted++;
    this.onWaitDone?.(w.address, w.value);
    this.regs[IQHEAD] = (arg + 1) % size;
    this.iqProcess();
  }

  // ---- inspection and state -------------------------------------------------------------

  /** Mappings of one page directory, walked on demand: at most `limit` listed, all counted. */
  private domainMappings(pd: number, limit: number): { count: number; list: IommuMapping[] } {
    const list: IommuMapping[] = [];
    let count = 0;
    for (let i = 0; i < 1024; i++) {
      const pde = this.ramRead32(pd + i * 4);
      if ((pde & PTE_P) === 0) continue;
      for (let j = 0; j < 1024; j++) {
        const pte = this.ramRead32((pde & ~0xfff) + j * 4);
        if ((pte & PTE_P) === 0) continue;
        count++;
        if (list.length < limit) list.push({ iova: ((i << 22) | (j << 12)) >>> 0, pa: (pte & ~0xfff) >>> 0, read: true, write: (pde & pte & PTE_RW) !== 0 });
      }
    }
    return { count, list };
  }

  inspect(opts: { mappings?: number; faults?: number } = {}): IommuInspect {
    const limit = opts.mappings ?? 64;
    const domains = new Map<number, IommuInspect['domains'][number]>();
    for (let rid = 0; rid < 256; rid++) {
      const ctx = this.ctxRead(rid);
      if ((ctx & CTX_PRESENT) === 0) continue;
      const id = ctxDomain(ctx);
      const d = domains.get(id);
      if (d !== undefined) { d.requesters.push(rid); continue; }
      const pt = (ctx & CTX_PASSTHRU) !== 0, pd = (ctx & ~0xfff) >>> 0;
      const m = pt ? { count: 0, list: [] } : this.domainMappings(pd, limit);
      domains.set(id, { id, pageDirectory: pd, requesters: [rid], passThrough: pt, mappingCount: m.count, mappings: m.list, truncated: m.count > m.list.length });
    }
    const fsts = this.mmioReadQuiet(FSTS);
    const err = this.regs[IQERR] >>> 24;
    return {
      enabled: this.enabled,
      contextTable: this.regs[CTXPTR] >>> 0,
      domains: [...domains.values()],
      passThroughSwitches: [...this.passThrough].sort((a, b) => a - b),
      faults: this.history.slice(-(opts.faults ?? 16)).map((f) => ({ ...f })),
      faultStatus: {
        overflow: (fsts & FSTS_PFO) !== 0, pending: (fsts & FSTS_PPF) !== 0, nextSlot: (fsts & FSTS_FRI) >>> 8,
        count: this.regs[FCOUNT], eventMasked: (this.regs[FECTL] & FECTL_IM) !== 0, eventPending: (this.regs[FECTL] & FECTL_IP) !== 0,
      },
      iotlb: {
        capacity: this.costs.iotlbEntries,
        entries: this.iotlb.entries().map(([k, e]) => ({ domain: Math.floor(k / DOMAIN_KEY), iova: ((k % DOMAIN_KEY) * PAGE) >>> 0, pa: Math.floor(e / 2) * PAGE, write: (e & 1) !== 0 })),
        hits: this.counters.iotlbHits, misses: this.counters.iotlbMisses, walks: this.counters.walks, evictions: this.counters.evictions,
        lastCost: this.lastCost, totalCost: this.totalCost,
      },
      contextCache: [...this.context.keys()],
      queue: {
        base: this.regs[IQBASE] >>> 0, size: this.regs[IQSIZE], head: this.regs[IQHEAD], tail: this.regs[IQTAIL],
        waitingUntil: this.wait?.until ?? -1,
        error: (this.regs[FSTS] & FSTS_IQE) !== 0 ? (IQ_ERROR_NAMES[err] ?? 'unknown') : null,
        errorIndex: this.regs[IQERR] & 0xffff,
        descriptors: this.counters.descriptors, waitsCompleted: this.counters.waitsCompleted,
      },
      counters: { ...this.counters },
      lastBadAccess: this.lastBadAccess,
    };
  }

  /** FSTS as the guest reads it, without counting an access. */
  private mmioReadQuiet(at: number): number {
    return at === FSTS ? (this.regs[FSTS] & ~FSTS_PPF) | (this.anyFaultPending() ? FSTS_PPF : 0) : this.regs[at];
  }

  /** Registers, caches (they affect timing), pass-through switches, fault history, a WAIT in progress. */
  saveState(): IommuState {
    return {
      version: IOMMU_STATE_VERSION,
      regs: IOMMU_REGS.map((r) => [r.offset, this.regs[r.offset >> 2]]),
      iotlb: this.iotlb.entries(), context: [...this.context], passThrough: [...this.passThrough],
      history: this.history.map((f) => ({ ...f })), counters: { ...this.counters },
      lastCost: this.lastCost, totalCost: this.totalCost,
      wait: this.wait === null ? null : { ...this.wait },
    };
  }

  /**
   * Restore. With `queueRestored` (a whole-machine snapshot whose event queue was loaded first)
   * the WAIT's event is already pending and is adopted; otherwise it is scheduled again.
   */
  loadState(s: IommuState, queueRestored = false): void {
    if (s.version !== IOMMU_STATE_VERSION) throw new Error(`iommu: cannot load state version ${s.version}, expected ${IOMMU_STATE_VERSION}`);
    if (this.wait !== null && !queueRestored) this.host.events.cancel(this.wait.handle);
    this.regs.fill(0);
    for (const [off, v] of s.regs) if (REG_AT.has(off)) this.regs[off >> 2] = v >>> 0;
    this.iotlb = new IotlbStore();
    for (const [key, e] of new Map(s.iotlb)) this.iotlb.add(key, e);
    this.context = new Map(s.context);
    this.passThrough.clear();
    for (const r of s.passThrough) this.passThrough.add(r);
    this.history = s.history.map((f) => ({ ...f }));
    this.counters = { ...zeroCounters(), ...s.counters };
    this.lastCost = s.lastCost;
    this.totalCost = s.totalCost;
    this.lastBadAccess = null;
    this.wait = null;
    if (s.wait !== null) {
      const handle = queueRestored ? s.wait.handle : this.host.events.schedule(s.wait.until, this, KIND_WAIT_DONE, this.regs[IQHEAD]);
      this.wait = { ...s.wait, handle };
    }
  }
}

/**
 * Copy `n` bytes between RAM at `pa` (checked by the caller) and buf[at..at+n): RAM <- buf for
 * a write. Short reads (descriptors) copy byte by byte: cheaper than a subarray view and set().
 */
function ramCopy(mem: PhysicalMemory, pa: number, buf: Uint8Array, at: number, n: number, write: boolean): void {
  const ram = mem.ram8;
  if (write) {
    if (n > SHORT_COPY) { mem.writeBytes(pa, at === 0 && n === buf.length ? buf : buf.subarray(at, at + n)); return; }
    // As writeBytes does: decoded code on the pages written is dropped first.
    for (let p = pa >>> PAGE_SHIFT; p <= (pa + n - 1) >>> PAGE_SHIFT; p++) mem.invalidateCode(p);
    for (let i = 0; i < n; i++) ram[pa + i] = buf[at + i]!;
    return;
  }
  if (n <= SHORT_COPY) { for (let i = 0; i < n; i++) buf[at + i] = ram[pa + i]!; return; }
  buf.set(ram.subarray(pa, pa + n), at);
}
/** Below this many bytes a loop beats set() with its view (measured: 16- and 64-byte DMAs). */
const SHORT_COPY = 128;
