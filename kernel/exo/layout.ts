// Where the exokernel keeps its own state in physical memory (DESIGN section 3). The first
// KERNEL_END bytes are the kernel's: identity-mapped, supervisor-only and global in every
// principal's page directory, so an interrupt or exo-call can reach the IDT, the entry stubs
// and the kernel stacks whatever CR3 holds. Principals' memory lies above.

import { EXO_BOOT_INFO_VA, EXO_USER_MIN, EXO_USER_STACK_TOP } from '../abi.js';

export const KERNEL_END = EXO_USER_MIN;      // two 4 MiB supervisor pages
export const IDT_BASE = 0x1000;              // 256 gates of 8 bytes
export const STUBS = 0x2000;                 // vector v: `0F 3F v; iret` at STUBS + 4v
export const STUB_SIZE = 4;
export const IDLE = 0x2400;                  // `sti; hlt; jmp hlt`: where a core with nothing to run waits
export const IQ_STATUS = 0x3000;             // words the IOMMU's WAIT descriptors write
export const IQ_BASE = 0x4000;               // the IOMMU invalidation queue (256 descriptors)
export const IQ_ENTRIES = 256;
export const CTX_TABLE = 0x5000;             // the IOMMU context table (256 requester IDs)
export const KSTACKS = 0x10000;              // one 4 KiB kernel stack per core
export const KSTACK_SIZE = 0x1000;
export const POOL_BASE = 0x100000;           // page directories and tables, I/O page tables
export const POOL_END = KERNEL_END;

export const KERNEL_CS = 0x08, KERNEL_SS = 0x10, USER_CS = 0x1b, USER_DS = 0x23;

/** Vectors the kernel uses for itself; devices' MSI vectors are 0x40..0xdf. */
export const VEC = {
  TIMER: 0x20,
  FORWARD: 0xf0,     // an interrupt forwarded by IPI (the `ipi` mode)
  KICK: 0xf1,        // "look at your run queue": a principal became runnable, or a revocation deadline
  IOMMU_FAULT: 0xf2, // the IOMMU's fault-event MSI
  SPURIOUS: 0xff,
  EXO_CALL: 0x80,
} as const;
export const MSI_VECTOR_FIRST = 0x40, MSI_VECTOR_LAST = 0xdf;

/** Exceptions that push an error code (SDM 6.13). */
export function hasErrorCode(v: number): boolean {
  return v === 8 || (v >= 10 && v <= 14) || v === 17;
}

export function kstackTop(core: number): number {
  return KSTACKS + (core + 1) * KSTACK_SIZE;
}

// A principal's virtual layout.
export const USER_STACK_TOP = EXO_USER_STACK_TOP;
export const USER_STACK_SIZE = 64 * 1024;
/** A read-only page describing the principal's boot capabilities (struct exo_boot_info). */
export const BOOT_INFO_VA = EXO_BOOT_INFO_VA;
/** Lowest address a principal's image may use: above the kernel's identity mapping. */
export const USER_MIN = KERNEL_END;
