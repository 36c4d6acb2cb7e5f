// The fault catalogue (DESIGN sections 5 and 6): every fault a scenario can schedule and the
// TUI's fault menu can inject, in one table. Faults on the hardware are applied by the System
// (kernel/system.ts) through the machine's own switches; faults on kernel objects
// (capabilities, principals, mappings) go through FaultHost, which the kernel implements.

/** Where a fault is applied: on the machine (works on a bare image too) or by the kernel. */
export type FaultLayer = 'machine' | 'kernel';

/** What a fault's `target` names. */
export type FaultTargetKind = 'principal' | 'core' | 'queue' | 'vector' | 'none';

export interface FaultParam {
  name: string;
  describe: string;
  /** Parsed as a time (cycles, 2ms), a whole number, or kept as text. */
  type: 'time' | 'integer' | 'string';
  required?: boolean;
}

export interface FaultKind {
  kind: string;
  /** The label in the fault menu. */
  title: string;
  description: string;
  layer: FaultLayer;
  target: FaultTargetKind;
  /** Whether `target` may be left out (then the fault picks: core 0, queue 0, the first principal). */
  targetOptional: boolean;
  params: readonly FaultParam[];
  /** Its key in the TUI's fault menu. */
  key: string;
}

const count: FaultParam = { name: 'count', describe: 'how many (default 1)', type: 'integer' };

/** The catalogue. Keys are unique; the order is the fault menu's. */
export const FAULTS: readonly FaultKind[] = [
  {
    kind: 'revoke', title: 'revoke a capability', key: 'r', layer: 'kernel', target: 'principal', targetOptional: false,
    description: 'Ask the principal for a capability back (a revocation upcall); at the deadline the kernel takes it by force with every capability derived from it and the bindings they authorised, and leaves a repossession notice.',
    params: [
      { name: 'cap', describe: 'a capability slot or type (default: its MSI vector, else a frame, else its last capability)', type: 'string' },
      { name: 'deadline', describe: 'how long it has to give it back before the kernel takes it (default 100us)', type: 'time' },
    ],
  },
  {
    kind: 'kill', title: 'kill a principal', key: 'k', layer: 'kernel', target: 'principal', targetOptional: false,
    description: 'Kill the principal: its cores, queues, vectors and memory go back to the kernel.',
    params: [],
  },
  {
    kind: 'msi-drop', title: 'drop an MSI', key: 'd', layer: 'machine', target: 'core', targetOptional: true,
    description: 'Drop the next MSI (or `count` of them) addressed to the core, as a lost posted write would.',
    params: [count],
  },
  {
    kind: 'msi-duplicate', title: 'duplicate an MSI', key: 'u', layer: 'machine', target: 'core', targetOptional: true,
    description: 'Deliver the next MSI addressed to the core twice: a driver must tolerate a spurious interrupt.',
    params: [count],
  },
  {
    kind: 'mask-vector', title: 'mask a vector', key: 'm', layer: 'machine', target: 'vector', targetOptional: true,
    description: 'Set the mask bit of a NIC MSI-X vector: its messages wait in the pending-bit array (for `for`, then unmasked).',
    params: [{ name: 'for', describe: 'how long before it is unmasked again (default: never)', type: 'time' }],
  },
  {
    kind: 'nic-stall', title: 'stall a NIC queue', key: 'n', layer: 'machine', target: 'queue', targetOptional: true,
    description: 'Fence a NIC queue behind the driver\'s back: it fetches no new descriptors (for `for`, then the fence is lifted).',
    params: [{ name: 'for', describe: 'how long the queue stalls (default: for good)', type: 'time' }],
  },
  {
    kind: 'unsafe-unmap', title: 'unsafe DMA unmap', key: 'x', layer: 'kernel', target: 'principal', targetOptional: false,
    description: 'Arm the principal\'s next DMA unmap (or revoke of a DMA-mapped frame) to skip fence and drain: descriptors still in flight then hit unmapped or freed memory.',
    params: [{ name: 'queue', describe: 'the NIC queue whose buffers are unmapped (default: its first)', type: 'integer' }],
  },
  {
    kind: 'iommu-passthrough', title: 'IOMMU pass-through', key: 'i', layer: 'machine', target: 'queue', targetOptional: true,
    description: 'Let the NIC\'s DMA bypass translation: every address is physical, so a bad descriptor reaches any page.',
    params: [{ name: 'for', describe: 'how long (default: for good)', type: 'time' }],
  },
  {
    kind: 'pf-storm', title: 'page-fault storm', key: 'P', layer: 'kernel', target: 'principal', targetOptional: false,
    description: 'Unmap many of the principal\'s pages at once: each touch is a page-fault upcall to its pager.',
    params: [{ name: 'pages', describe: 'how many pages (default 64)', type: 'integer' }],
  },
  {
    kind: 'irq-storm', title: 'interrupt storm', key: 'I', layer: 'machine', target: 'core', targetOptional: true,
    description: 'Raise a vector on the core over and over (`count` times, `spacing` apart): what a stuck device does.',
    params: [
      { name: 'vector', describe: 'the vector, 32 to 255 (default 0x40)', type: 'integer' },
      { name: 'count', describe: 'how many interrupts (default 1000)', type: 'integer' },
      { name: 'spacing', describe: 'the time between two (default 2us)', type: 'time' },
    ],
  },
  {
    kind: 'ipi-lost', title: 'lose an IPI', key: 'l', layer: 'machine', target: 'core', targetOptional: true,
    description: 'The next IPI (or `count` of them) sent to the core never arrives: a shootdown or a forwarded interrupt is lost.',
    params: [count],
  },
  {
    kind: 'dma-bitflip', title: 'flip a bit in a DMA buffer', key: 'b', layer: 'machine', target: 'queue', targetOptional: true,
    description: 'Flip one bit of the buffer the queue\'s next RX descriptor points at (or of `address`): a checksum must catch it.',
    params: [
      { name: 'address', describe: 'a physical address instead of the queue\'s buffer', type: 'integer' },
      { name: 'bit', describe: 'which bit of the 2 KiB after it (default: chosen by the seeded PRNG)', type: 'integer' },
    ],
  },
  {
    kind: 'malicious-map', title: 'malicious mapping', key: 'M', layer: 'kernel', target: 'principal', targetOptional: false,
    description: 'The principal asks to map a page it does not own (another principal\'s frame): the kernel must refuse.',
    params: [{ name: 'victim', describe: 'whose page (default: the next principal)', type: 'string' }],
  },
];

export function faultKind(kind: string): FaultKind | undefined {
  return FAULTS.find((f) => f.kind === kind);
}

/** A fault to apply now: from the schedule, the TUI's menu or a test. */
export interface FaultRequest {
  kind: string;
  /** A principal name, or a core, queue or vector number. */
  target?: string | number;
  params: Record<string, string | number>;
  /** Where it came from, for the event log: 'schedule', 'menu', 'test'. */
  origin: string;
}

/** What became of a fault: applied, or refused with the reason. */
export interface FaultOutcome {
  applied: boolean;
  detail: string;
}

/** What the kernel implements to take the faults of layer 'kernel'. */
export interface FaultHost {
  applyFault(f: FaultRequest, at: number): FaultOutcome;
}
