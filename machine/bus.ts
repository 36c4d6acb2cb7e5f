// The MMIO bus: physical addresses above RAM are routed to device register windows.
// Devices see (offset within their window, access size in bytes); unknown addresses read as
// all-ones and ignore writes, as an unclaimed PCI/ISA cycle does on real hardware.

export interface MmioDevice {
  readonly name: string;
  /** Read `size` (1, 2 or 4) bytes at `offset` within the device's window. */
  mmioRead(offset: number, size: number): number;
  /** Write the low `size` bytes of `value` at `offset` within the device's window. */
  mmioWrite(offset: number, size: number, value: number): void;
}

export interface MmioRegion {
  base: number;
  size: number;
  device: MmioDevice;
}

export class MmioBus {
  private regions: MmioRegion[] = [];
  /** Accesses nobody claimed: (physical address, was a write). Kept as a count, never thrown. */
  unclaimed = 0;

  map(base: number, size: number, device: MmioDevice): void {
    base >>>= 0;
    for (const r of this.regions) {
      if (base < r.base + r.size && r.base < base + size) {
        throw new Error(`MMIO window of ${device.name} at 0x${base.toString(16)} overlaps ${r.device.name}`);
      }
    }
    this.regions.push({ base, size, device });
  }

  /** Remove the window that starts at `base` (a BAR moved or was disabled). */
  unmap(base: number): void {
    base >>>= 0;
    this.regions = this.regions.filter((r) => r.base !== base);
  }

  find(pa: number): MmioRegion | undefined {
    pa >>>= 0;
    for (const r of this.regions) if (pa >= r.base && pa - r.base < r.size) return r;
    return undefined;
  }

  read(pa: number, size: number): number {
    const r = this.find(pa);
    if (!r) { this.unclaimed++; return size === 4 ? -1 : (1 << (size * 8)) - 1; }
    return r.device.mmioRead((pa >>> 0) - r.base, size);
  }

  write(pa: number, size: number, value: number): void {
    const r = this.find(pa);
    if (!r) { this.unclaimed++; return; }
    r.device.mmioWrite((pa >>> 0) - r.base, size, value);
  }
}
