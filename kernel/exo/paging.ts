// The kernel's page tables: a pool of frames for page directories, page tables and I/O page
// tables, and the two-level x86 format written straight into guest physical memory (the
// CPU's walker and the IOMMU read the same words).

import type { PhysicalMemory } from '../../machine/memory.js';
import { PTE_G, PTE_P, PTE_PS, PTE_RW, PTE_US } from '../../machine/cpu/arch.js';
import { KERNEL_END, POOL_BASE, POOL_END } from './layout.js';

const PAGE = 4096;

/** Zeroed 4 KiB frames from the kernel's own region, reused once freed. */
export class FramePool {
  private next = POOL_BASE;
  private readonly free: number[] = [];
  used = 0;
  constructor(private readonly mem: PhysicalMemory) {}

  /** A zeroed frame, or -1 when the pool is exhausted. */
  alloc(): number {
    let f = this.free.pop();
    if (f === undefined) {
      if (this.next >= POOL_END) return -1;
      f = this.next;
      this.next += PAGE;
    }
    this.mem.writeBytes(f, new Uint8Array(PAGE));
    this.used++;
    return f;
  }

  release(f: number): void {
    this.free.push(f);
    this.used--;
  }
}

/**
 * One two-level page directory. `user` directories get the kernel's region as two global,
 * supervisor-only 4 MiB pages; I/O page tables (for the IOMMU) are plain.
 */
export class PageTable {
  readonly pd: number;
  /** Live leaf mappings, for inspection and teardown. */
  mappings = 0;

  constructor(private readonly mem: PhysicalMemory, private readonly pool: FramePool, kernelMapped: boolean) {
    const pd = pool.alloc();
    if (pd < 0) throw new RangeError('kernel frame pool exhausted');
    this.pd = pd;
    if (kernelMapped) {
      for (let base = 0; base < KERNEL_END; base += 0x400000) {
        mem.write32(pd + (base >>> 22) * 4, base | PTE_P | PTE_RW | PTE_PS | PTE_G);
      }
    }
  }

  /** The PTE of `va`, or 0 if no page table covers it. */
  pte(va: number): number {
    const pde = this.mem.read32(this.pd + (va >>> 22) * 4);
    if ((pde & PTE_P) === 0 || (pde & PTE_PS) !== 0) return 0;
    return this.mem.read32((pde & ~0xfff) + ((va >>> 12) & 0x3ff) * 4);
  }

  /** Map one page; false if the pool is out of frames or `va` is in the kernel's region. */
  map(va: number, pa: number, flags: number): boolean {
    if ((va >>> 0) < KERNEL_END && (flags & PTE_US) !== 0) return false;
    const pdeAddr = this.pd + (va >>> 22) * 4;
    let pde = this.mem.read32(pdeAddr);
    if ((pde & PTE_PS) !== 0) return false;
    if ((pde & PTE_P) === 0) {
      const pt = this.pool.alloc();
      if (pt < 0) return false;
      pde = pt | PTE_P | PTE_RW | PTE_US; // leaf PTEs decide the real permissions
      this.mem.write32(pdeAddr, pde);
    }
    const at = (pde & ~0xfff) + ((va >>> 12) & 0x3ff) * 4;
    if ((this.mem.read32(at) & PTE_P) === 0) this.mappings++;
    this.mem.write32(at, ((pa & ~0xfff) | flags | PTE_P) >>> 0);
    return true;
  }

  /** Clear `bits` of a present PTE (the accessed and dirty bits, say); returns the PTE before. */
  clearBits(va: number, bits: number): number {
    const pde = this.mem.read32(this.pd + (va >>> 22) * 4);
    if ((pde & PTE_P) === 0 || (pde & PTE_PS) !== 0) return 0;
    const at = (pde & ~0xfff) + ((va >>> 12) & 0x3ff) * 4;
    const old = this.mem.read32(at);
    if ((old & PTE_P) !== 0) this.mem.write32(at, (old & ~bits) >>> 0);
    return old;
  }

  /** Remove one page's mapping; returns the old PTE (0 if there was none). */
  unmap(va: number): number {
    const pde = this.mem.read32(this.pd + (va >>> 22) * 4);
    if ((pde & PTE_P) === 0 || (pde & PTE_PS) !== 0) return 0;
    const at = (pde & ~0xfff) + ((va >>> 12) & 0x3ff) * 4;
    const old = this.mem.read32(at);
    if ((old & PTE_P) !== 0) this.mappings--;
    this.mem.write32(at, 0);
    return old;
  }

  /** Give every page table (not the kernel's large pages) and the directory back to the pool. */
  destroy(): void {
    for (let i = 0; i < 1024; i++) {
      const pde = this.mem.read32(this.pd + i * 4);
      if ((pde & PTE_P) !== 0 && (pde & PTE_PS) === 0) this.pool.release(pde & ~0xfff);
    }
    this.pool.release(this.pd);
    this.mappings = 0;
  }
}

export { PTE_P, PTE_RW, PTE_US };
