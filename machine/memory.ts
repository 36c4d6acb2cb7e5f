// Physical memory: RAM at physical address 0 and the MMIO bus above it. Also the shared
// decoded-code cache, which is keyed by physical address and dropped page by page when
// anything (a core or a device's DMA) writes to a page that holds decoded code.

import { MmioBus } from './bus.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** What the code cache stores per physical page; opaque to memory, owned by the CPU. */
export interface CodePage { blocks: unknown[] }

export class PhysicalMemory {
  readonly size: number;
  readonly ram8: Uint8Array;
  readonly ram32: Int32Array;
  readonly bus = new MmioBus();
  /** Decoded blocks per physical page number (undefined: no decoded code there). */
  readonly code: (CodePage | undefined)[];
  /** Told when a page starts holding decoded code, so cores route writes to it slowly. */
  readonly codeWatchers: ((ppn: number) => void)[] = [];
  /** Number of code-page invalidations (self-modifying code, DMA over code). */
  codeInvalidations = 0;

  constructor(size: number) {
    if (size <= 0 || size % PAGE_SIZE !== 0 || size > 0xC0000000) {
      throw new RangeError(`RAM size must be a positive multiple of 4 KiB below 3 GiB, got ${size}`);
    }
    this.size = size;
    const buf = new ArrayBuffer(size);
    this.ram8 = new Uint8Array(buf);
    this.ram32 = new Int32Array(buf);
    this.code = new Array(size >>> PAGE_SHIFT).fill(undefined);
  }

  isRam(pa: number): boolean {
    return (pa >>> 0) < this.size;
  }

  /** Forget decoded code on a physical page because its bytes are about to change. */
  invalidateCode(ppn: number): void {
    if (this.code[ppn] === undefined) return;
    this.code[ppn] = undefined;
    this.codeInvalidations++;
  }

  // Physical accessors for slow paths, page walks and DMA. `pa` is unsigned.
  read8(pa: number): number {
    pa >>>= 0;
    return pa < this.size ? this.ram8[pa] : this.bus.read(pa, 1) & 0xff;
  }
  read16(pa: number): number {
    pa >>>= 0;
    if (pa + 1 < this.size) return this.ram8[pa] | (this.ram8[pa + 1] << 8);
    if (pa >= this.size) return this.bus.read(pa, 2) & 0xffff;
    return this.read8(pa) | (this.read8(pa + 1) << 8);
  }
  read32(pa: number): number {
    pa >>>= 0;
    if (pa + 3 < this.size) {
      if ((pa & 3) === 0) return this.ram32[pa >>> 2];
      const m = this.ram8;
      return m[pa] | (m[pa + 1] << 8) | (m[pa + 2] << 16) | (m[pa + 3] << 24);
    }
    if (pa >= this.size) return this.bus.read(pa, 4) | 0;
    return this.read16(pa) | (this.read16(pa + 2) << 16);
  }
  write8(pa: number, v: number): void {
    pa >>>= 0;
    if (pa < this.size) {
      if (this.code[pa >>> PAGE_SHIFT] !== undefined) this.invalidateCode(pa >>> PAGE_SHIFT);
      this.ram8[pa] = v;
    } else this.bus.write(pa, 1, v & 0xff);
  }
  write16(pa: number, v: number): void {
    pa >>>= 0;
    if (pa >= this.size) { this.bus.write(pa, 2, v & 0xffff); return; }
    this.write8(pa, v);
    this.write8(pa + 1, v >>> 8);
  }
  write32(pa: number, v: number): void {
    pa >>>= 0;
    if (pa + 3 < this.size && (pa & 3) === 0) {
      if (this.code[pa >>> PAGE_SHIFT] !== undefined) this.invalidateCode(pa >>> PAGE_SHIFT);
      this.ram32[pa >>> 2] = v;
      return;
    }
    if (pa >= this.size) { this.bus.write(pa, 4, v | 0); return; }
    this.write16(pa, v);
    this.write16(pa + 2, v >>> 16);
  }

  /** Copy bytes into RAM (loaders, DMA). Out-of-range bytes are an error for the caller. */
  writeBytes(pa: number, bytes: Uint8Array): void {
    pa >>>= 0;
    if (pa + bytes.length > this.size) throw new RangeError(`write of ${bytes.length} bytes at 0x${pa.toString(16)} is outside RAM`);
    for (let p = pa >>> PAGE_SHIFT; p <= (pa + bytes.length - 1) >>> PAGE_SHIFT; p++) this.invalidateCode(p);
    this.ram8.set(bytes, pa);
  }

  readBytes(pa: number, len: number): Uint8Array {
    pa >>>= 0;
    if (pa + len > this.size) throw new RangeError(`read of ${len} bytes at 0x${pa.toString(16)} is outside RAM`);
    return this.ram8.slice(pa, pa + len);
  }
}
