// The exo-call ABI (DESIGN section 3), defined once: call numbers, error codes, rights bits,
// capability types, interrupt modes, upcall kinds and the capability layouts a LibOS reads.
// libos/include/exo.h is generated from this file by kernel/gen-exo-h.ts; a test keeps them equal.
//
// Convention: `int 0x80`; the call number in EAX; arguments in EBX, ECX, EDX, ESI, EDI;
// the result in EAX, a negative value being one of the error codes below.
// Numbers start at 0x100 so that a Linux binary run as a LibOS (write = 4, exit = 1) gets
// EXO_E_BAD_CALL instead of an exo-call it never meant.

export const EXO_VECTOR = 0x80;
export const EXO_PAGE_SIZE = 4096;
/** A slot argument meaning "none" (an optional capability left out): -1 as a 32-bit register. */
export const EXO_SLOT_NONE = 0xffffffff;
/** Slots per capability space unless the scenario says otherwise. */
export const EXO_DEFAULT_SLOTS = 256;
/** Where a principal's address space has what (kernel/exo/layout.ts keeps the same numbers). */
export const EXO_USER_MIN = 0x800000;         // below: the kernel's, never mappable
export const EXO_USER_STACK_TOP = 0xbfff0000; // the initial stack grows down from here (64 KiB)
export const EXO_BOOT_INFO_VA = 0xbfff0000;   // the boot-info page
export const EXO_USER_MAX = 0xbfff0000;       // MAP_FRAME and QUEUE_BIND addresses stay below

// ---- call numbers ------------------------------------------------------------------------

export const SYS = {
  CAP_MINT: 0x100,
  CAP_GRANT: 0x101,
  CAP_DELETE: 0x102,
  CAP_REVOKE: 0x103,
  CAP_RETYPE: 0x104,
  CAP_INSPECT: 0x105,
  MAP_FRAME: 0x110,
  UNMAP_FRAME: 0x111,
  MAP_QUERY: 0x112,
  UPCALL_ENTRY: 0x118,
  IRQ_BIND: 0x120,
  IRQ_UNBIND: 0x121,
  QUEUE_BIND: 0x128,
  QUEUE_UNBIND: 0x129,
  DMA_MAP: 0x130,
  DMA_UNMAP: 0x131,
  YIELD: 0x138,
  DONATE: 0x139,
  REVOKE_REPLY: 0x140,
  REPO_NOTICE: 0x141,
  CONSOLE_WRITE: 0x148,
  EXIT: 0x149,
  BLOCK_IO: 0x150,
} as const;
export type SysName = keyof typeof SYS;

export interface CallDoc {
  /** Meaning of EBX, ECX, EDX, ESI, EDI in that order; fewer entries = fewer arguments. */
  args: readonly string[];
  /** What EAX holds on success. */
  result: string;
  doc: string;
  /** True while only the number is reserved and the kernel answers EXO_E_BAD_CALL. */
  reserved?: boolean;
}

export const CALL_DOCS: Record<SysName, CallDoc> = {
  CAP_MINT: {
    args: ['source slot', 'destination slot (empty)', 'rights mask (a subset of the source\'s)', 'badge (0: keep the source\'s)'],
    result: '0', doc: 'Copy a capability within the caller\'s space as a child of the source, with fewer or equal rights.',
  },
  CAP_GRANT: {
    args: ['source slot (needs GRANT)', 'target principal', 'rights mask (a subset of the source\'s)', 'badge (0: keep)'],
    result: 'the slot chosen in the target\'s space (its lowest free one)',
    doc: 'Give another principal a child of a capability.',
  },
  CAP_DELETE: {
    args: ['slot'], result: '0',
    doc: 'Remove one capability and its bindings; its children move up to its parent.',
  },
  CAP_REVOKE: {
    args: ['slot'], result: 'the number of capabilities removed',
    doc: 'Remove every descendant of a capability (in any space) and their bindings; the capability stays.',
  },
  CAP_RETYPE: {
    args: ['untyped slot (needs WRITE)', 'new type (EXO_CAP_*)', 'offset in the untyped range (page aligned)',
      'size in bytes (page multiple)', 'destination slot (empty)'],
    result: '0', doc: 'Carve a typed object out of an Untyped range along an allowed edge.',
  },
  CAP_INSPECT: {
    args: ['slot', 'address of a struct exo_cap_info to fill, or 0'],
    result: 'the capability word (EXO_CAPW_*)', doc: 'Describe a capability.',
  },
  MAP_FRAME: {
    args: ['frame slot (needs MAP and the rights asked)', 'virtual address (page aligned)', 'EXO_R_READ|WRITE|EXECUTE'],
    result: '0', doc: 'Map a whole Frame into the caller\'s page directory (a secure binding).',
  },
  UNMAP_FRAME: { args: ['a virtual address inside the mapping'], result: '0', doc: 'Remove one of the caller\'s frame mappings.' },
  MAP_QUERY: {
    args: ['a virtual address inside one of the caller\'s frame mappings', 'EXO_PTE_ACCESSED|EXO_PTE_DIRTY: the bits to clear after reading'],
    result: 'the page\'s EXO_PTE_* bits before clearing',
    doc: 'Read (and clear) the accessed and dirty bits the CPU set on a page: what a pager\'s CLOCK needs.',
  },
  UPCALL_ENTRY: {
    args: ['upcall kind (EXO_UPCALL_*)', 'handler address', 'exception stack top'], result: '0',
    doc: 'Register where the kernel delivers an upcall (handler 0: none). The handler is called as void h(struct exo_upcall_frame *) on the exception stack and resumes itself.',
  },
  IRQ_BIND: {
    args: ['MSI vector slot (needs MAP)', 'mode (EXO_IRQ_*)', 'core (the target for direct and ipi)'], result: '0',
    doc: 'Route an interrupt vector to the caller.',
  },
  IRQ_UNBIND: { args: ['MSI vector slot'], result: '0', doc: 'Undo the caller\'s IRQ_BIND on that vector.' },
  QUEUE_BIND: {
    args: ['device queue slot (needs MAP)', 'DMA domain slot (needs MAP)', 'MSI vector slot or EXO_SLOT_NONE',
      'virtual address for the queue\'s register page (page aligned)'],
    result: '0', doc: 'Take a NIC queue: its register page mapped at the address, its DMA through the domain, its interrupts to the vector.',
  },
  QUEUE_UNBIND: { args: ['device queue slot'], result: '0', doc: 'Give the queue back (fence, drain, unbind).' },
  DMA_MAP: {
    args: ['DMA domain slot (needs MAP)', 'frame slot (needs DMA and the rights asked)', 'I/O virtual address (page aligned)',
      'EXO_R_READ|WRITE: what the device may do'],
    result: '0', doc: 'Map a Frame into an IOMMU domain (a secure binding).',
  },
  DMA_UNMAP: {
    args: ['DMA domain slot', 'an I/O virtual address inside the mapping'], result: '0',
    doc: 'Fence, drain, unmap and invalidate; returns when the device can no longer reach the frame.',
  },
  YIELD: { args: [], result: '0', doc: 'Give up the rest of the current slice on this core (an idle core halts until an interrupt).' },
  DONATE: {
    args: ['target principal'], result: '0',
    doc: 'Run the target on this core next, for a fresh slice (it must hold a CoreSlice for the core).',
  },
  REVOKE_REPLY: {
    args: ['slot of the capability asked back', 'request id from the revocation upcall'], result: '0',
    doc: 'Give back a resource the kernel asked for, before its deadline (the capability is deleted).',
  },
  REPO_NOTICE: {
    args: ['address of a buffer of struct exo_repo_notice', 'its capacity in entries'],
    result: 'the number of notices copied (they are consumed)',
    doc: 'Read the notices of resources repossessed by force.',
  },
  CONSOLE_WRITE: {
    args: ['UART slot (needs WRITE)', 'buffer address', 'length in bytes (at most 4096)'], result: 'bytes written',
    doc: 'Write to the console UART.',
  },
  EXIT: { args: ['status'], result: 'does not return', doc: 'End the calling principal: every capability and binding goes.' },
  BLOCK_IO: {
    args: ['block range slot (READ to read, WRITE to write)', 'EXO_BLK_READ, EXO_BLK_WRITE or EXO_BLK_FLUSH',
      'first sector, relative to the range', 'sectors (1..256)', 'buffer address: the caller\'s own mapped pages (writable to read into)'],
    result: '0 when the device completed it',
    doc: 'Move sectors between the block device and the caller\'s memory by DMA; returns when the device is done.',
  },
};

// ---- error codes -------------------------------------------------------------------------

export const ERR = {
  OK: 0,
  BAD_CALL: -1,
  BAD_SLOT: -2,
  EMPTY: -3,
  WRONG_TYPE: -4,
  RIGHTS: -5,
  BAD_ARG: -6,
  SLOT_FULL: -7,
  OVERLAP: -8,
  EDGE: -9,
  NO_MEMORY: -10,
  EXISTS: -11,
  NOT_BOUND: -12,
  WOULD_BLOCK: -13,
  GONE: -14,
  PERM: -15,
  NO_PRINCIPAL: -16,
  IO: -17,
} as const;
export type ErrName = keyof typeof ERR;
export type ExoErr = typeof ERR[ErrName];

export const ERR_DOCS: Record<ErrName, string> = {
  OK: 'success',
  BAD_CALL: 'no such exo-call (or not implemented yet)',
  BAD_SLOT: 'a slot number outside the capability space',
  EMPTY: 'no capability in the slot',
  WRONG_TYPE: 'the capability is not of the type the call needs',
  RIGHTS: 'a right the call needs (or asks to pass on) is missing',
  BAD_ARG: 'a malformed argument (alignment, range, unknown mode or type, rights bits)',
  SLOT_FULL: 'the destination slot is occupied',
  OVERLAP: 'the retype overlaps an object already carved from the untyped',
  EDGE: 'the untyped cannot be retyped into that type',
  NO_MEMORY: 'no free slot, or the quota is exhausted',
  EXISTS: 'the address, vector or queue is already bound',
  NOT_BOUND: 'nothing is bound there',
  WOULD_BLOCK: 'the call would wait and the caller asked not to',
  GONE: 'the resource was revoked or repossessed',
  PERM: 'not allowed: another principal\'s binding, or a badge already set',
  NO_PRINCIPAL: 'no such principal',
  IO: 'the device reported an error',
};

export function errName(code: number): string {
  for (const k of Object.keys(ERR) as ErrName[]) if (ERR[k] === code) return k;
  return `ERR(${code})`;
}

// ---- rights ------------------------------------------------------------------------------

export const RIGHT = {
  READ: 1 << 0,
  WRITE: 1 << 1,
  EXECUTE: 1 << 2,
  MAP: 1 << 3,       // may create secure bindings with it (PTE, IOMMU entry, IRQ, queue)
  DMA: 1 << 4,       // a Frame a device may reach
  GRANT: 1 << 5,     // may be given to another principal
} as const;
export type RightName = keyof typeof RIGHT;
export const RIGHTS_ALL = 0x3f;

/** 'rwxmdg' with '-' for a missing right, in bit order. */
export function rightsString(mask: number): string {
  return 'rwxmdg'.split('').map((c, i) => (mask & (1 << i) ? c : '-')).join('');
}

// ---- capability types --------------------------------------------------------------------

export const CAP = {
  NULL: 0,
  UNTYPED: 1,
  FRAME: 2,
  CORE_SLICE: 3,
  DEVICE_QUEUE: 4,
  MSI_VECTOR: 5,
  DMA_DOMAIN: 6,
  UART: 7,
  BLOCK_RANGE: 8,
} as const;
export type CapTypeName = keyof typeof CAP;
export type CapType = typeof CAP[CapTypeName];

export const CAP_DOCS: Record<CapTypeName, string> = {
  NULL: 'an empty slot',
  UNTYPED: 'a physical range; range = bytes',
  FRAME: 'mappable memory; range = bytes',
  CORE_SLICE: 'the right to be scheduled on a core; range base = core',
  DEVICE_QUEUE: 'one NIC queue; range base = device << 16 | queue',
  MSI_VECTOR: 'an MSI-X vector; range base = vector',
  DMA_DOMAIN: 'an IOMMU domain; range base = domain id',
  UART: 'the console UART; range base = its index',
  BLOCK_RANGE: 'sectors of the block device; range base = first sector, size = sectors',
};

export function capTypeName(t: number): string {
  for (const k of Object.keys(CAP) as CapTypeName[]) if (CAP[k] === t) return k;
  return `CAP(${t})`;
}

// ---- interrupt modes and upcalls ---------------------------------------------------------

export const IRQ_MODE = { DIRECT: 0, IPI: 1, WORKQUEUE: 2 } as const;
/** BLOCK_IO operations (the device's own opcodes). */
export const BLK = { FLUSH: 0, WRITE: 1, READ: 2 } as const;
/** Bits MAP_QUERY reports and clears. */
export const PTE_BITS = { ACCESSED: 1, DIRTY: 2 } as const;
export const UPCALL = { PAGE_FAULT: 0, INTERRUPT: 1, REVOCATION: 2, TIMER: 3 } as const;

// ---- layouts -----------------------------------------------------------------------------

/** A bit field of a 32-bit word: `width` bits from bit `shift`. */
export interface BitField { shift: number; width: number; doc: string }

/** The capability word CAP_INSPECT returns in EAX (always >= 0). */
export const CAP_WORD = {
  RIGHTS: { shift: 0, width: 6, doc: 'EXO_R_* mask' },
  TYPE: { shift: 8, width: 5, doc: 'EXO_CAP_*' },
  BADGED: { shift: 13, width: 1, doc: 'the capability carries a badge' },
  HAS_PARENT: { shift: 14, width: 1, doc: 'derived from another capability' },
  CHILDREN: { shift: 16, width: 15, doc: 'number of children, saturated at 0x7fff' },
} as const satisfies Record<string, BitField>;

export function fieldGet(f: BitField, word: number): number {
  return (word >>> f.shift) & ((1 << f.width) - 1);
}
export function fieldPut(f: BitField, word: number, v: number): number {
  const mask = ((1 << f.width) - 1) << f.shift;
  return ((word & ~mask) | ((v << f.shift) & mask)) >>> 0;
}

export interface CapWord { rights: number; type: number; badged: boolean; hasParent: boolean; children: number }

export function capWordEncode(w: CapWord): number {
  let v = 0;
  v = fieldPut(CAP_WORD.RIGHTS, v, w.rights);
  v = fieldPut(CAP_WORD.TYPE, v, w.type);
  v = fieldPut(CAP_WORD.BADGED, v, w.badged ? 1 : 0);
  v = fieldPut(CAP_WORD.HAS_PARENT, v, w.hasParent ? 1 : 0);
  return fieldPut(CAP_WORD.CHILDREN, v, Math.min(w.children, 0x7fff));
}

export function capWordDecode(v: number): CapWord {
  return {
    rights: fieldGet(CAP_WORD.RIGHTS, v), type: fieldGet(CAP_WORD.TYPE, v),
    badged: fieldGet(CAP_WORD.BADGED, v) === 1, hasParent: fieldGet(CAP_WORD.HAS_PARENT, v) === 1,
    children: fieldGet(CAP_WORD.CHILDREN, v),
  };
}

/** A C struct of 32-bit fields the kernel writes into guest memory. */
export interface StructLayout { name: string; doc: string; fields: readonly { name: string; doc: string }[] }

/** What CAP_INSPECT writes at ECX when it is not 0; every field a uint32_t, in this order. */
export const CAP_INFO = {
  name: 'exo_cap_info',
  doc: 'filled by EXO_CAP_INSPECT',
  fields: [
    { name: 'word', doc: 'the capability word, as in EAX' },
    { name: 'badge', doc: '0: none' },
    { name: 'base', doc: 'range base (see EXO_CAP_*)' },
    { name: 'size', doc: 'range size' },
    { name: 'parent_slot', doc: 'the parent\'s slot when it is in the caller\'s space, else EXO_SLOT_NONE' },
    { name: 'children', doc: 'number of children (not saturated)' },
  ],
} as const satisfies StructLayout;

/** The fields of struct exo_cap_info by name, as the kernel computes them. */
export type CapInfo = Record<typeof CAP_INFO.fields[number]['name'], number>;

/** What REPO_NOTICE copies out, one per resource repossessed by force. */
export const REPO_NOTICE = {
  name: 'exo_repo_notice',
  doc: 'filled by EXO_REPO_NOTICE',
  fields: [
    { name: 'type', doc: 'EXO_CAP_* of the capability taken' },
    { name: 'base', doc: 'its range base' },
    { name: 'size', doc: 'its range size' },
    { name: 'request', doc: 'the request id of the revocation upcall' },
    { name: 'when_lo', doc: 'cycle of the repossession, low word' },
    { name: 'when_hi', doc: 'high word' },
  ],
} as const satisfies StructLayout;

/**
 * The boot-info page, read-only at EXO_BOOT_INFO_VA (ECX at entry; EAX holds the principal id,
 * EDX the core). The header is followed by `ncaps` struct exo_boot_cap entries.
 */
export const BOOT_INFO = {
  name: 'exo_boot_info',
  doc: 'the boot-info page header, at EXO_BOOT_INFO_VA',
  fields: [
    { name: 'magic', doc: 'EXO_BOOT_MAGIC' },
    { name: 'principal', doc: 'this principal\'s id (the target of EXO_CAP_GRANT and EXO_DONATE)' },
    { name: 'ncores', doc: 'cores of the machine' },
    { name: 'ncaps', doc: 'entries of struct exo_boot_cap that follow this header' },
    { name: 'quota', doc: 'bytes of memory quota' },
    { name: 'free_va', doc: 'lowest page-aligned virtual address above the image, free for the LibOS' },
    { name: 'mac_lo', doc: 'the NIC\'s station address, bytes 0..3 (little-endian)' },
    { name: 'mac_hi', doc: 'bytes 4..5' },
    { name: 'irq_mode', doc: 'EXO_IRQ_* the scenario asks for' },
    { name: 'arg', doc: 'the scenario\'s args.value for this principal (0 if none)' },
  ],
} as const satisfies StructLayout;
export const BOOT_MAGIC = 0x4f425845; // 'EXBO'
export const BOOT_CAP = {
  name: 'exo_boot_cap',
  doc: 'one boot capability, after struct exo_boot_info',
  fields: [
    { name: 'slot', doc: 'where it is in the capability space' },
    { name: 'type', doc: 'EXO_CAP_*' },
    { name: 'base', doc: 'range base (see EXO_CAP_*)' },
    { name: 'size', doc: 'range size' },
    { name: 'rights', doc: 'EXO_R_* mask' },
  ],
} as const satisfies StructLayout;

/**
 * What the kernel writes on the exception stack for an upcall. The handler gets a pointer to
 * it as its one argument; it resumes the interrupted context itself from these fields.
 * PAGE_FAULT: arg0 the address, arg1 the x86 error code. INTERRUPT: arg0 the vector, arg1 the
 * mode. REVOCATION: arg0 the slot asked back, arg1 the request id (deadline in the info word).
 * TIMER: arg0 the low word of the cycle count.
 */
export const UPCALL_FRAME = {
  name: 'exo_upcall_frame',
  doc: 'written by the kernel for an upcall',
  fields: [
    { name: 'kind', doc: 'EXO_UPCALL_*' },
    { name: 'arg0', doc: 'see the kind' },
    { name: 'arg1', doc: 'see the kind' },
    { name: 'eip', doc: 'where the interrupted context was' },
    { name: 'eflags', doc: 'its flags' },
    { name: 'esp', doc: 'its stack pointer' },
    { name: 'eax', doc: 'its registers' },
    { name: 'ecx', doc: '' },
    { name: 'edx', doc: '' },
    { name: 'ebx', doc: '' },
    { name: 'ebp', doc: '' },
    { name: 'esi', doc: '' },
    { name: 'edi', doc: '' },
    { name: 'info', doc: 'REVOCATION: cycles to the deadline (saturated); else 0' },
    { name: 'core', doc: 'the core it is delivered on' },
    { name: 'pending', doc: 'upcalls still queued behind this one' },
  ],
} as const satisfies StructLayout;

/**
 * A partition (the unikernel and mono placements): a ring-0 image given whole cores, its
 * memory and NIC queues. It starts with paging on under a page directory the kernel built
 * (its memory at the image's own addresses, the UART and the local APIC identity-mapped),
 * EAX = EXO_PART_MAGIC, ECX = the end of its memory, EDX = this page's address. Its IDT is its
 * own; it reaches the kernel only by the native gates EXO_GATE_* (it is in ring 0).
 */
export const PART_INFO = {
  name: 'exo_part_info',
  doc: 'the partition-info page, at EDX on entry',
  fields: [
    { name: 'magic', doc: 'EXO_PART_MAGIC' },
    { name: 'principal', doc: 'its principal id' },
    { name: 'queue', doc: 'its NIC queue, or EXO_SLOT_NONE' },
    { name: 'queue_va', doc: 'where the queue\'s register page is mapped' },
    { name: 'vector', doc: 'the queue\'s MSI vector (routed to this core)' },
    { name: 'mac_lo', doc: 'the NIC\'s station address, bytes 0..3' },
    { name: 'mac_hi', doc: 'bytes 4..5' },
    { name: 'mem_va', doc: 'its memory: mapped here, and at the same I/O addresses for its queue' },
    { name: 'mem_size', doc: 'bytes (this page is the last of them)' },
    { name: 'arg', doc: 'the scenario\'s args.value' },
    { name: 'mem_pa', doc: 'the physical address of mem_va, for an image that builds its own page tables (mono)' },
    { name: 'queue_pa', doc: 'the physical address of the queue\'s register page, or 0' },
  ],
} as const satisfies StructLayout;
export const PART_MAGIC = 0x504f5845; // 'EXOP'
/** Native gates a partition may run (0F 3F ib). EXIT: EAX = status; the kernel takes its cores back. */
export const GATE = { EXIT: 0xe0 } as const;

/** Byte offset of a field of a layout of uint32_t fields. */
export function structOffset(s: StructLayout, field: string): number {
  const i = s.fields.findIndex((f) => f.name === field);
  if (i < 0) throw new Error(`${s.name} has no field ${field}`);
  return i * 4;
}
