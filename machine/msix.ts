// MSI-X for one PCI function (PCI Local Bus 3.0, section 6.8.2): the capability in
// configuration space (6.8.2.1-6.8.2.5), the vector table and the pending-bit array in a
// memory BAR (6.8.2.6-6.8.2.9), and the masking rules of 6.8.3.4 (a masked vector latches
// its pending bit; unmasking sends the message and clears the bit).
//
// Simplifications, documented: the table and PBA share one BAR (table at offset 0, PBA right
// after it, qword-aligned); only aligned 32-bit accesses are architectural here (the bus has
// no 64-bit cycles); a message whose upper address dword is not zero targets memory above
// 4 GiB, which this 32-bit machine does not have, so it is counted (`highAddress`) and dropped.

import type { MmioDevice } from './bus.js';
import type { DeviceHost } from './device.js';
import { CAP_MSIX, type PciFunction } from './pci.js';

export const MSIX_STATE_VERSION = 1;
export const MSIX_MAX_VECTORS = 2048;
export const MSIX_ENTRY_SIZE = 16;

// Message Control (capability offset +2, 16 bits)
export const MSIX_CTRL_TABLE_SIZE = 0x07ff;  // N - 1, read-only
export const MSIX_CTRL_FUNC_MASK  = 0x4000;  // function mask: every vector behaves as masked
export const MSIX_CTRL_ENABLE     = 0x8000;  // MSI-X enable

// One table entry (16 bytes)
interface MsixEntryReg {
  offset: number;
  name: 'ADDR_LO' | 'ADDR_HI' | 'DATA' | 'VECTOR_CTRL';
  reset: number;
  /** Bits a guest write stores; the others are reserved and read as their reset value. */
  writable: number;
}
export const MSIX_ENTRY_REGS: readonly MsixEntryReg[] = [
  { offset: 0x0, name: 'ADDR_LO',     reset: 0x00000000, writable: 0xfffffffc }, // bits 1:0 reserved (dword-aligned)
  { offset: 0x4, name: 'ADDR_HI',     reset: 0x00000000, writable: 0xffffffff },
  { offset: 0x8, name: 'DATA',        reset: 0x00000000, writable: 0xffffffff },
  { offset: 0xc, name: 'VECTOR_CTRL', reset: 0x00000001, writable: 0x00000001 }, // bit 0 mask; masked at reset (6.8.2.9)
];
const ADDR_LO = 0, ADDR_HI = 1, DATA = 2, VECTOR_CTRL = 3;
export const MSIX_VECTOR_MASKED = 0x1;

/** Why a BAR access was not architectural: counted in `badAccesses`, never thrown. */
export const MsixBadAccess = { Size: 0, Misaligned: 1, Outside: 2, ReadOnly: 3, Vector: 4 } as const;
export type MsixBadAccess = typeof MsixBadAccess[keyof typeof MsixBadAccess];
export const MSIX_BAD_ACCESS_NAMES = ['size', 'misaligned', 'outside', 'read-only', 'vector out of range'] as const;

export interface MsixCounters {
  /** Messages sent at once by fire(). */
  fired: number;
  /** fire() calls that latched a pending bit instead (vector or function masked, or MSI-X off). */
  deferred: number;
  /** Pending messages sent later, on unmask or enable. Messages sent = fired + releasedOnUnmask. */
  releasedOnUnmask: number;
  badAccesses: number;
  /** Messages dropped because the upper address dword was not zero. */
  highAddress: number;
}

export interface MsixInspect {
  enabled: boolean;
  functionMask: boolean;
  vectors: { address: number; data: number; masked: boolean; pending: boolean }[];
  counters: MsixCounters;
  lastBadAccess: { reason: string; offset: number; size: number; write: boolean } | null;
}

export interface MsixState {
  version: number;
  vectors: number;
  /** Four dwords per entry. */
  table: number[];
  pending: number[];
  counters: MsixCounters;
}

function zeroCounters(): MsixCounters {
  return { fired: 0, deferred: 0, releasedOnUnmask: 0, badAccesses: 0, highAddress: 0 };
}

export class Msix implements MmioDevice {
  readonly name: string;
  readonly vectors: number;
  private readonly table: Uint32Array;
  private readonly pending: Uint8Array;
  private fn: PciFunction | null = null;
  private capOffset = -1;
  private counters = zeroCounters();
  private lastBadAccess: MsixInspect['lastBadAccess'] = null;

  constructor(name: string, vectors: number, private readonly host: DeviceHost) {
    if (!Number.isInteger(vectors) || vectors < 1 || vectors > MSIX_MAX_VECTORS) {
      throw new RangeError(`${name}: MSI-X vectors must be 1 to ${MSIX_MAX_VECTORS}, got ${vectors}`);
    }
    this.name = name;
    this.vectors = vectors;
    this.table = new Uint32Array(vectors * 4);
    this.pending = new Uint8Array(vectors);
    this.reset();
  }

  /** Offset of the pending-bit array in the BAR (right after the table; qword-aligned). */
  pbaOffset(): number { return this.vectors * MSIX_ENTRY_SIZE; }

  /** Bytes of the PBA: one bit per vector, in whole qwords. */
  pbaSize(): number { return Math.ceil(this.vectors / 64) * 8; }

  /** The smallest legal BAR (a power of two, at least 4 KiB) holding the table and the PBA. */
  barSize(): number {
    let size = 4096;
    while (size < this.pbaOffset() + this.pbaSize()) size *= 2;
    return size;
  }

  /** Every vector masked, addresses and data zero, nothing pending (6.8.2.9). */
  reset(): void {
    for (let v = 0; v < this.vectors; v++) {
      for (const r of MSIX_ENTRY_REGS) this.table[v * 4 + (r.offset >> 2)] = r.reset;
    }
    this.pending.fill(0);
  }

  /** Capability for PciFunctionSpec.capabilities: message control, table and PBA offset/BIR. */
  capability(bar: number): { id: number; body: number[] } {
    const bir = bar & 7;
    const ctrl = (this.vectors - 1) & MSIX_CTRL_TABLE_SIZE;
    const table = (0 | bir) >>> 0, pba = (this.pbaOffset() | bir) >>> 0;
    return { id: CAP_MSIX, body: [ctrl & 0xff, ctrl >>> 8, ...le32(table), ...le32(pba)] };
  }

  /** Bind to the function: follow Message Control writes (enable, function mask). */
  attach(fn: PciFunction): void {
    const off = fn.capOffsets.get(CAP_MSIX);
    if (off === undefined) throw new Error(`${this.name}: function ${fn.name} has no MSI-X capability`);
    this.fn = fn;
    this.capOffset = off;
    const before = fn.onConfigWrite;
    fn.onConfigWrite = (offset, size) => {
      before(offset, size);
      if (offset <= off + 3 && offset + size > off + 2) this.onMessageControlWrite();
    };
  }

  /** Message Control as configuration space holds it (0 before attach). */
  private messageControl(): number {
    if (this.fn === null) return 0;
    return this.fn.cfg[this.capOffset + 2] | (this.fn.cfg[this.capOffset + 3] << 8);
  }

  get enabled(): boolean { return (this.messageControl() & MSIX_CTRL_ENABLE) !== 0; }
  get functionMask(): boolean { return (this.messageControl() & MSIX_CTRL_FUNC_MASK) !== 0; }

  /** The configuration space lets the guest write the whole upper byte; keep table size read-only. */
  private onMessageControlWrite(): void {
    const fn = this.fn!, at = this.capOffset + 3;
    const sizeHigh = ((this.vectors - 1) >>> 8) & 0x07;
    fn.cfg[at] = (fn.cfg[at] & ((MSIX_CTRL_ENABLE | MSIX_CTRL_FUNC_MASK) >>> 8)) | sizeHigh;
    this.releasePending();
  }

  /** Vector `v` may send now: MSI-X on, function and vector unmasked. */
  private deliverable(v: number): boolean {
    const ctrl = this.messageControl();
    if ((ctrl & MSIX_CTRL_ENABLE) === 0 || (ctrl & MSIX_CTRL_FUNC_MASK) !== 0) return false;
    return (this.table[v * 4 + VECTOR_CTRL] & MSIX_VECTOR_MASKED) === 0;
  }

  /** The device raises `vector`. An out-of-range vector is counted, never thrown. */
  fire(vector: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector >= this.vectors) {
      this.bad(MsixBadAccess.Vector, vector | 0, 0, false);
      return;
    }
    if (this.deliverable(vector)) {
      this.counters.fired++;
      this.send(vector);
    } else {
      this.counters.deferred++;
      this.pending[vector] = 1;
    }
  }

  /** Send every pending vector that may now be sent, in vector order. */
  private releasePending(): void {
    for (let v = 0; v < this.vectors; v++) {
      if (this.pending[v] !== 0 && this.deliverable(v)) this.release(v);
    }
  }

  private release(v: number): void {
    this.pending[v] = 0;
    this.counters.releasedOnUnmask++;
    this.send(v);
  }

  /** The message is read from the table when it is sent (6.8.3.4). */
  private send(v: number): void {
    const hi = this.table[v * 4 + ADDR_HI], lo = this.table[v * 4 + ADDR_LO];
    if (hi !== 0) { this.counters.highAddress++; return; }
    this.host.msi(lo >>> 0, this.table[v * 4 + DATA] >>> 0);
  }

  private bad(reason: MsixBadAccess, offset: number, size: number, write: boolean): void {
    this.counters.badAccesses++;
    this.lastBadAccess = { reason: MSIX_BAD_ACCESS_NAMES[reason], offset, size, write };
  }

  /** Classify a BAR access: a table dword, a PBA dword, or not architectural. */
  private decode(offset: number, size: number, write: boolean): { kind: 'table' | 'pba'; index: number } | null {
    if (size !== 4) { this.bad(MsixBadAccess.Size, offset, size, write); return null; }
    if ((offset & 3) !== 0) { this.bad(MsixBadAccess.Misaligned, offset, size, write); return null; }
    if (offset >= 0 && offset < this.pbaOffset()) return { kind: 'table', index: offset >>> 2 };
    const p = offset - this.pbaOffset();
    if (p >= 0 && p < this.pbaSize()) return { kind: 'pba', index: p >>> 2 };
    this.bad(MsixBadAccess.Outside, offset, size, write);
    return null;
  }

  mmioRead(offset: number, size: number): number {
    const d = this.decode(offset, size, false);
    if (d === null) return size === 4 ? -1 : (1 << (size * 8)) - 1;
    if (d.kind === 'table') return this.table[d.index] | 0;
    let bits = 0;
    for (let k = 0; k < 32; k++) {
      const v = d.index * 32 + k;
      if (v < this.vectors && this.pending[v] !== 0) bits |= 1 << k;
    }
    return bits;
  }

  mmioWrite(offset: number, size: number, value: number): void {
    const d = this.decode(offset, size, true);
    if (d === null) return;
    if (d.kind === 'pba') { this.bad(MsixBadAccess.ReadOnly, offset, size, true); return; }
    const reg = MSIX_ENTRY_REGS[d.index & 3];
    this.table[d.index] = ((this.table[d.index] & ~reg.writable) | (value & reg.writable)) >>> 0;
    if (reg.name === 'VECTOR_CTRL') this.onVectorControlWrite(d.index >>> 2);
  }

  /** Unmasking a vector with its pending bit set sends the message now. */
  private onVectorControlWrite(v: number): void {
    if (this.pending[v] !== 0 && this.deliverable(v)) this.release(v);
  }

  inspect(): MsixInspect {
    const vectors: MsixInspect['vectors'] = [];
    for (let v = 0; v < this.vectors; v++) {
      vectors.push({
        address: this.table[v * 4 + ADDR_LO] >>> 0,
        data: this.table[v * 4 + DATA] >>> 0,
        masked: (this.table[v * 4 + VECTOR_CTRL] & MSIX_VECTOR_MASKED) !== 0,
        pending: this.pending[v] !== 0,
      });
    }
    return {
      enabled: this.enabled, functionMask: this.functionMask, vectors,
      counters: { ...this.counters }, lastBadAccess: this.lastBadAccess,
    };
  }

  /** Table, pending bits and counters. Enable and function mask live in configuration space (PciFunction's state). */
  saveState(): MsixState {
    return {
      version: MSIX_STATE_VERSION, vectors: this.vectors,
      table: Array.from(this.table), pending: Array.from(this.pending), counters: { ...this.counters },
    };
  }

  loadState(s: MsixState): void {
    if (s.version !== MSIX_STATE_VERSION) throw new Error(`${this.name}: cannot load MSI-X state version ${s.version}, expected ${MSIX_STATE_VERSION}`);
    if (s.vectors !== this.vectors || s.table.length !== this.vectors * 4 || s.pending.length !== this.vectors) {
      throw new Error(`${this.name}: MSI-X state is for ${s.vectors} vectors, this function has ${this.vectors}`);
    }
    this.table.set(s.table.map((x) => x >>> 0));
    this.pending.set(s.pending.map((x) => (x ? 1 : 0)));
    this.counters = { ...zeroCounters(), ...s.counters };
    this.lastBadAccess = null;
  }
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
