// Partitions (DESIGN section 3): the unikernel and mono placements. The kernel hands a ring-0
// image whole cores, its memory and its NIC queues: a page directory of its own (the image's
// addresses onto its memory, the UART and the local APIC identity-mapped, the queue's register
// page), an IOMMU domain that holds exactly its memory at the same addresses (so the image's
// pointers are its I/O addresses too), and the queue's MSI-X entry routed to its first core.
// From then on its cores run its code and its IDT: no kernel entries, no crossings. The
// capabilities and bindings are still the kernel's records, so reclaiming the partition (its
// exit gate, a triple fault, a kill) is retiring a principal: the IOMMU stays the confinement
// throughout. What the kernel cannot do is keep a ring-0 image out of memory it did not map
// for it: the CPU's paging is the image's to change. That is the placement's trade.
//
// Crossings: the kernel sees none of a partition's (its IDT is its own), so it reads the
// CPU's: ring 3 -> 0 and 0 -> 3 transitions counted by each core (CTR_RING3_TO_0,
// CTR_RING0_TO_3) from the moment the partition gets the core to the moment the kernel
// takes it back. A unikernel never leaves ring 0: 0. A mono kernel's app in ring 3: two per
// system call, and two per interrupt taken in ring 3.

import {
  CR0_PE, CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, CTR_RING0_TO_3, CTR_RING3_TO_0, EAX, ECX, EDX, EBX, ESP, CS, SS, DS, ES, type Cpu,
} from '../../machine/cpu/cpu.js';
import { PART_MAGIC, GATE, CAP } from '../abi.js';
import type { Exokernel, PrincipalSpec } from './kernel.js';
import { KERNEL_CS, KERNEL_SS, MSI_VECTOR_FIRST } from './layout.js';
import { PageTable, PTE_RW } from './paging.js';
import { Principal } from './principal.js';

const PAGE = 4096;
const PTE_PCD = 0x10;
const UART_PAGE = 0xfe000000, LAPIC_PAGE = 0xfee00000;
/** Where a partition finds its queue's register page. */
export const PART_QUEUE_VA = 0xf0000000;
const SLOT_NONE = 0xffffffff;

export interface PartitionState {
  entry: number;
  /** Physical address of its info page. */
  info: number;
  infoVa: number;
  memVa: number;
  queue: number | null;
  domain: number;
  /** The cores it holds and each one's crossing count when it got it. */
  held: { cpu: Cpu; base: number }[];
  /** Crossings on cores it no longer holds. */
  crossingsDone: number;
}

const cpuCrossings = (cpu: Cpu) => cpu.counters[CTR_RING3_TO_0]! + cpu.counters[CTR_RING0_TO_3]!;

/** Its privilege crossings so far, as its cores' CPUs counted them while it held them. */
export function partitionCrossings(p: Principal): number {
  const st = p.partition!;
  let n = st.crossingsDone;
  for (const h of st.held) n += cpuCrossings(h.cpu) - h.base;
  return n;
}

/** Its cores go back to the kernel: what they counted for it is final. */
function partitionRelease(p: Principal): void {
  const st = p.partition!;
  st.crossingsDone = partitionCrossings(p);
  st.held.length = 0;
}

/**
 * The kernel takes a partition's cores back when it ends (exit gate, triple fault, kill), then
 * says so: 'exited' or 'killed' comes before any instruction runs on a reclaimed core, so the
 * count is frozen there. One listener pair per kernel.
 */
const watched = new WeakSet<Exokernel>();
function watchEnds(k: Exokernel): void {
  if (watched.has(k)) return;
  watched.add(k);
  const ended = (name: string) => {
    for (const q of k.principals) if (q.name === name && q.partition !== null) partitionRelease(q);
  };
  k.emitter.on('exited', ended);
  k.emitter.on('killed', ended);
}

/** Make a partition principal: memory, page directory, IOMMU domain, capabilities, info page. */
export function partitionCreate(k: Exokernel, spec: PrincipalSpec, id: number, memBase: number, memSize: number): Principal {
  const m = k.machine;
  const segs = spec.image.segments.filter((s) => s.memsz > 0);
  const lo = Math.min(...segs.map((s) => s.vaddr)) & ~0xfff;
  const hi = Math.max(...segs.map((s) => s.vaddr + s.memsz));
  if (hi - lo + PAGE > memSize) throw new RangeError(`${spec.name}: the image (${Math.ceil((hi - lo) / 1024)} KiB) does not fit its ${memSize >> 20} MiB`);
  if (lo < PAGE || lo + memSize > PART_QUEUE_VA) throw new RangeError(`${spec.file}: a partition image must lie between 4 KiB and 0x${PART_QUEUE_VA.toString(16)} (it starts at 0x${lo.toString(16)})`);
  const pt = new PageTable(m.mem, k.pool, false);
  const p = new Principal(id, spec.name, spec.placement!, pt, spec.cores, memBase, memSize);
  m.mem.writeBytes(memBase, new Uint8Array(memSize));
  for (const s of segs) m.mem.writeBytes(memBase + (s.vaddr - lo), s.data);
  for (let off = 0; off < memSize; off += PAGE) pt.map(lo + off, memBase + off, PTE_RW);
  pt.map(UART_PAGE, UART_PAGE, PTE_RW | PTE_PCD);
  pt.map(LAPIC_PAGE, LAPIC_PAGE, PTE_RW | PTE_PCD);
  const st: PartitionState = {
    entry: spec.image.entry, info: memBase + memSize - PAGE, infoVa: lo + memSize - PAGE, memVa: lo, queue: null, domain: id + 1,
    held: [], crossingsDone: 0,
  };
  p.partition = st;
  watchEnds(k);
  p.imageEnd = memSize;
  return p;
}

/**
 * Its resources as capabilities and secure bindings in its own space, like any principal's:
 * the DMA domain with its memory mapped, the queue bound to the domain and routed to its core.
 */
export function partitionBind(k: Exokernel, p: Principal, spec: PrincipalSpec, slots: { queue: number; vector: number; domain: number; untyped: number }): void {
  const st = p.partition!, dev = k.dev, caps = k.calls.caps;
  const dc = caps.lookup(p.id, slots.domain, CAP.DMA_DOMAIN, 0), uc = caps.lookup(p.id, slots.untyped, CAP.UNTYPED, 0);
  if (typeof dc === 'number' || typeof uc === 'number') throw new Error(`kernel: partition ${p.name} has no domain or memory capability`);
  const dmaBytes = p.memSize - PAGE; // all but the info page
  for (let off = 0; off < dmaBytes; off += PAGE) dev.ioMap(st.domain, st.memVa + off, p.memBase + off, true);
  caps.bind([dc, uc], {
    kind: 'iommu', desc: `domain ${st.domain}: iova 0x${st.memVa.toString(16)} -> pa 0x${p.memBase.toString(16)} rw, ${dmaBytes / PAGE} page(s) (partition)`,
    undo: () => {
      const pages: number[] = [];
      for (let off = 0; off < dmaBytes; off += PAGE) { dev.ioUnmap(st.domain, st.memVa + off); pages.push(st.memVa + off); }
      dev.invalidate(st.domain, pages, () => {});
    },
  });
  const q = spec.nicQueues?.[0];
  if (q === undefined || slots.queue < 0) return;
  const qc = caps.lookup(p.id, slots.queue, CAP.DEVICE_QUEUE, 0), vc = caps.lookup(p.id, slots.vector, CAP.MSI_VECTOR, 0);
  if (typeof qc === 'number' || typeof vc === 'number') throw new Error(`kernel: partition ${p.name} lacks its queue capabilities`);
  const va = PART_QUEUE_VA;
  p.pt.map(va, dev.queuePage(q), PTE_RW | PTE_PCD);
  dev.attach(dev.queueRid(q), st.domain);
  dev.queueVector(q, MSI_VECTOR_FIRST + q, spec.cores[0]!);
  st.queue = q;
  caps.bind([qc, dc, vc], {
    kind: 'queue', desc: `NIC queue ${q} at va 0x${va.toString(16)}, domain ${st.domain}, vector ${MSI_VECTOR_FIRST + q} (partition)`,
    undo: () => { dev.fence(q, true); dev.queueReset(q); dev.attach(dev.queueRid(q), 0); dev.queueVector(q, null, 0); p.pt.unmap(va); },
  });
}

/** The info page: what the image needs to know of its partition (struct exo_part_info). */
export function partitionInfo(k: Exokernel, p: Principal, arg: number, mac: number[]): void {
  const st = p.partition!;
  const words = [
    PART_MAGIC, p.id, st.queue ?? SLOT_NONE, st.queue === null ? 0 : PART_QUEUE_VA, st.queue === null ? 0 : MSI_VECTOR_FIRST + st.queue,
    (mac[0]! | (mac[1]! << 8) | (mac[2]! << 16) | (mac[3]! << 24)) >>> 0, mac[4]! | (mac[5]! << 8),
    st.memVa, p.memSize, arg >>> 0, p.memBase, st.queue === null ? 0 : k.dev.queuePage(st.queue),
  ];
  words.forEach((w, i) => k.machine.mem.write32(st.info + 4 * i, w >>> 0));
}

/** Hand `cpu` to the partition: its CR3, ring 0, interrupts off, the exit gate; core 0 of it starts. */
export function partitionStart(k: Exokernel, p: Principal, cpu: Cpu, first: boolean): void {
  const st = p.partition!;
  const lapic = k.machine.lapics[cpu.id]!;
  lapic.mmioWrite(0x320, 4, 0x10000);                // the kernel's timer off: the core is the image's
  lapic.mmioWrite(0x380, 4, 0);
  for (let v = 0; v < 256; v++) cpu.gates[v] = undefined;
  cpu.gates[GATE.EXIT] = (c) => k.partitionExit(p, c.reg[EAX]! | 0);
  cpu.writeCr4(CR4_PSE | CR4_PGE);
  cpu.writeCr3(p.pt.pd);
  cpu.writeCr0(CR0_PE | CR0_PG | CR0_WP);
  cpu.sreg[CS] = KERNEL_CS;
  cpu.sreg[SS] = cpu.sreg[DS] = cpu.sreg[ES] = KERNEL_SS;
  cpu.setCpl(0);
  cpu.flags &= ~0x200;
  cpu.reg.fill(0);
  cpu.reg[EAX] = PART_MAGIC;
  cpu.reg[EBX] = p.cores.length;
  cpu.reg[ECX] = st.infoVa;                          // the end of the memory it may use
  cpu.reg[EDX] = st.infoVa;
  cpu.reg[ESP] = st.infoVa;
  cpu.eip = st.entry;
  cpu.state = first ? 'running' : 'halted';
  st.held.push({ cpu, base: cpuCrossings(cpu) });
}
