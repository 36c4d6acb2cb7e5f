// A PCI-style bus (PCI Local Bus 3.0 configuration header type 0, PCIe ECAM addressing):
// one bus, 32 devices, 8 functions each, 4 KiB of configuration space per function reached
// through a memory-mapped window. Memory BARs are 32-bit, sized by the usual write-all-ones
// protocol, and mapped on the MMIO bus while the function's memory-space enable bit is set.
// Firmware-like placement: at reset every BAR gets an address in the high MMIO window.

import type { MmioBus, MmioDevice } from './bus.js';

export const ECAM_BASE = 0xe0000000;
export const ECAM_SIZE = 32 * 8 * 4096; // bus 0 only
/** Where reset places the BARs, in order of function and BAR number. */
export const BAR_WINDOW_BASE = 0xc0000000;
export const BAR_WINDOW_SIZE = 0x10000000;

// Configuration header offsets (type 0)
export const CFG_VENDOR = 0x00;   // 16 bits
export const CFG_DEVICE = 0x02;   // 16 bits
export const CFG_COMMAND = 0x04;  // 16 bits
export const   CMD_MEMORY = 0x0002;  // memory-space enable: BARs decode
export const   CMD_MASTER = 0x0004;  // bus master: the function may DMA
export const CFG_STATUS = 0x06;   // 16 bits; bit 4: capability list present
export const   STATUS_CAPS = 0x0010;
export const CFG_REVISION = 0x08;
export const CFG_CLASS = 0x09;    // 24 bits: prog-if, subclass, class
export const CFG_HEADER = 0x0e;
export const CFG_BAR0 = 0x10;     // six 32-bit BARs, 0x10..0x24
export const CFG_CAP_PTR = 0x34;
export const CFG_INT_LINE = 0x3c;
export const CAP_MSIX = 0x11;

export interface BarSpec {
  /** Size in bytes: a power of two, at least 4 KiB. */
  size: number;
  device: MmioDevice;
}

export interface PciFunctionSpec {
  name: string;
  vendor: number;
  device: number;
  /** class << 16 | subclass << 8 | prog-if */
  classCode: number;
  bars: BarSpec[];
  /** Capabilities to chain from 0x40: [id, bytes after the id/next pair]. */
  capabilities?: { id: number; body: number[] }[];
}

/** One function: its configuration space and BAR decoding. */
export class PciFunction implements MmioDevice {
  readonly name: string;
  readonly cfg = new Uint8Array(4096);
  readonly bars: BarSpec[];
  /** Bus/device/function as a requester ID: bus << 8 | dev << 3 | fn. */
  readonly rid: number;
  /** Offset of each capability in configuration space, by capability id. */
  readonly capOffsets = new Map<number, number>();
  /** Where each BAR is mapped right now, or -1. */
  private readonly mapped: number[];
  badAccesses = 0;
  /** Told after a write to configuration space (offset, size), for devices that care (MSI-X enable). */
  onConfigWrite: (offset: number, size: number) => void = () => {};

  constructor(spec: PciFunctionSpec, rid: number, private readonly bus: MmioBus) {
    this.name = spec.name;
    this.rid = rid;
    this.bars = spec.bars;
    this.mapped = spec.bars.map(() => -1);
    for (const b of spec.bars) {
      if (b.size < 4096 || (b.size & (b.size - 1)) !== 0) throw new Error(`${spec.name}: BAR size ${b.size} is not a power of two >= 4 KiB`);
    }
    const v = new DataView(this.cfg.buffer);
    v.setUint16(CFG_VENDOR, spec.vendor, true);
    v.setUint16(CFG_DEVICE, spec.device, true);
    v.setUint32(CFG_REVISION, (spec.classCode << 8) >>> 0, true);
    let at = 0x40;
    const caps = spec.capabilities ?? [];
    if (caps.length > 0) {
      v.setUint16(CFG_STATUS, STATUS_CAPS, true);
      this.cfg[CFG_CAP_PTR] = at;
    }
    caps.forEach((cap, k) => {
      this.capOffsets.set(cap.id, at);
      const next = k + 1 < caps.length ? (at + 2 + cap.body.length + 3) & ~3 : 0;
      this.cfg[at] = cap.id;
      this.cfg[at + 1] = next;
      cap.body.forEach((b, j) => { this.cfg[at + 2 + j] = b; });
      at = next;
    });
  }

  get command(): number { return this.cfg[CFG_COMMAND] | (this.cfg[CFG_COMMAND + 1] << 8); }
  /** Bus mastering enabled: the device may start DMA. */
  get busMaster(): boolean { return (this.command & CMD_MASTER) !== 0; }

  barAddress(k: number): number {
    return new DataView(this.cfg.buffer).getUint32(CFG_BAR0 + 4 * k, true) & ~0xf;
  }

  /** Configuration read (ECAM window offset within this function's 4 KiB). */
  mmioRead(offset: number, size: number): number {
    if ((offset & (size - 1)) !== 0 || offset + size > 4096) { this.badAccesses++; return -1; }
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = (v << 8) | this.cfg[offset + k];
    return v;
  }

  mmioWrite(offset: number, size: number, value: number): void {
    if ((offset & (size - 1)) !== 0 || offset + size > 4096) { this.badAccesses++; return; }
    for (let k = 0; k < size; k++) {
      const at = offset + k, b = (value >>> (8 * k)) & 0xff;
      if (this.writable(at)) this.cfg[at] = b;
    }
    if (offset < CFG_BAR0 + 24 && offset + size > CFG_BAR0) this.fixBars();
    this.remap();
    this.onConfigWrite(offset, size);
  }

  /** Reset-time placement: BARs get `base` onward, memory decoding on. Returns the next free address. */
  place(base: number): number {
    const v = new DataView(this.cfg.buffer);
    this.bars.forEach((b, k) => {
      base = (base + b.size - 1) & ~(b.size - 1);
      v.setUint32(CFG_BAR0 + 4 * k, base >>> 0, true);
      base += b.size;
    });
    v.setUint16(CFG_COMMAND, CMD_MEMORY, true);
    this.remap();
    return base;
  }

  saveState(): { version: number; cfg: number[] } {
    return { version: 1, cfg: Array.from(this.cfg.subarray(0, 256)) };
  }
  loadState(s: { version: number; cfg: number[] }): void {
    this.cfg.set(s.cfg);
    this.remap();
  }

  /** Which configuration bytes software may change. */
  private writable(at: number): boolean {
    if (at === CFG_COMMAND) return true;
    if (at === CFG_COMMAND + 1) return true;
    if (at >= CFG_BAR0 && at < CFG_BAR0 + 4 * this.bars.length) return true;
    if (at === CFG_INT_LINE) return true;
    // Capability bodies beyond id/next: the device decides (MSI-X message control's upper byte).
    for (const off of this.capOffsets.values()) if (at === off + 3) return true;
    return false;
  }

  /** A BAR reads back its size mask: the low bits below the size are hardwired to 0. */
  private fixBars(): void {
    const v = new DataView(this.cfg.buffer);
    this.bars.forEach((b, k) => {
      const raw = v.getUint32(CFG_BAR0 + 4 * k, true);
      v.setUint32(CFG_BAR0 + 4 * k, (raw & ~(b.size - 1)) >>> 0, true); // 32-bit, non-prefetchable memory
    });
  }

  /** Keep the MMIO bus in step with the BARs and the memory-space enable bit. */
  private remap(): void {
    const on = (this.command & CMD_MEMORY) !== 0;
    this.bars.forEach((b, k) => {
      const want = on ? this.barAddress(k) >>> 0 : -1;
      const usable = want >= 0 && want !== 0 && want >= BAR_WINDOW_BASE - 0x40000000 && want + b.size <= 0xfe000000;
      const target = usable ? want : -1;
      if (this.mapped[k] === target) return;
      if (this.mapped[k] >= 0) this.bus.unmap(this.mapped[k]);
      this.mapped[k] = -1;
      if (target >= 0 && this.bus.find(target) === undefined && this.bus.find(target + b.size - 1) === undefined) {
        this.bus.map(target, b.size, b.device);
        this.mapped[k] = target;
      }
    });
  }
}

/** The bus: function slots and the ECAM window that reaches their configuration space. */
export class PciBus implements MmioDevice {
  readonly name = 'pci-ecam';
  readonly functions: (PciFunction | undefined)[] = new Array(256).fill(undefined);
  private nextBar = BAR_WINDOW_BASE;

  constructor(private readonly bus: MmioBus) {}

  /** Attach a function at device `dev`, function `fn` of bus 0 and place its BARs. */
  attach(dev: number, fn: number, spec: PciFunctionSpec): PciFunction {
    const rid = (dev << 3) | fn;
    if (this.functions[rid] !== undefined) throw new Error(`PCI 00:${dev}.${fn} is taken`);
    const f = new PciFunction(spec, rid, this.bus);
    this.functions[rid] = f;
    this.nextBar = f.place(this.nextBar);
    return f;
  }

  mmioRead(offset: number, size: number): number {
    const f = this.functions[offset >>> 12];
    if (f === undefined) return size === 4 ? -1 : (1 << (8 * size)) - 1; // no function: all ones
    return f.mmioRead(offset & 4095, size);
  }

  mmioWrite(offset: number, size: number, value: number): void {
    this.functions[offset >>> 12]?.mmioWrite(offset & 4095, size, value);
  }
}
