// The IOMMU: registers, translation through context table and two-level I/O page tables, faults
// (recorded, MSI, nothing written), per-direction permissions, multi-page DMA, IOTLB hits,
// misses, staleness until invalidated, the invalidation queue and its WAIT latency,
// pass-through, translation off, bus mastering, garbage never throwing, state save/restore.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { EventQueue } from '../../machine/events.js';
import { PhysicalMemory } from '../../machine/memory.js';
import { Prng } from '../../machine/prng.js';
import {
  DMA_NO_CONTEXT, DMA_NO_PERMISSION, DMA_NOT_MAPPED, DMA_NOT_MASTER, DMA_OK, DMA_OUTSIDE_RAM, type DeviceHost,
} from '../../machine/device.js';
import {
  FECTL_IM, FECTL_IP, FR_VALID, FR_WRITE, FSTS_IQE, FSTS_PFO, FSTS_PPF, GCMD_TE, GRAN_ALL, GRAN_ONE, GRAN_PAGE,
  INV_CONTEXT, INV_IOTLB, INV_WAIT, Iommu, IOMMU_BASE, IOMMU_SIZE, IqError,
} from '../../machine/iommu.js';

const VER = 0x000, CAP = 0x008, GCMD = 0x018, GSTS = 0x01c, CTXPTR = 0x020, FSTS = 0x034, FECTL = 0x038;
const FEDATA = 0x03c, FEADDR = 0x040, FCOUNT = 0x048, IQBASE = 0x080, IQSIZE = 0x084, IQHEAD = 0x088, IQTAIL = 0x08c, IQERR = 0x090;
const FR = (k: number) => 0x100 + 16 * k;

const COSTS = { iotlbEntries: 4, walkLevel: 10, invalidationLatency: 500, unmap: 50 };
const CTX_TABLE = 0x10000, PD = 0x20000, IQ = 0x30000, STATUS = 0x31000;
const NIC = 0x18; // 00:03.0

class FakeHost implements DeviceHost {
  t = 0;
  readonly events = new EventQueue();
  readonly rng = new Prng(1);
  readonly msis: { address: number; data: number }[] = [];
  readonly dma = { read: () => DMA_OK, write: () => DMA_OK };
  now(): number { return this.t; }
  msi(address: number, data: number): void { this.msis.push({ address, data }); }
  advance(t: number): void { this.t = t; this.events.runUntil(t); }
}

interface Rig { io: Iommu; h: FakeHost; mem: PhysicalMemory; notMaster: Set<number>; nextPt: number }

function rig(costs = COSTS): Rig {
  const h = new FakeHost();
  const mem = new PhysicalMemory(4 << 20);
  const notMaster = new Set<number>();
  const io = new Iommu(h, mem, costs, (rid) => !notMaster.has(rid));
  return { io, h, mem, notMaster, nextPt: PD + 0x1000 };
}

const rd = (r: Rig, off: number) => r.io.mmioRead(off, 4) >>> 0;
const wr = (r: Rig, off: number, v: number) => r.io.mmioWrite(off, 4, v);

function context(r: Rig, rid: number, domain: number, pd = PD, flags = 1): void {
  r.mem.write32(CTX_TABLE + rid * 8, (pd | flags) >>> 0);
  r.mem.write32(CTX_TABLE + rid * 8 + 4, domain);
}

/** Map one 4 KiB page in the page directory at `pd` (allocating a page table when needed). */
function map(r: Rig, iova: number, pa: number, write: boolean, pd = PD, pdeRw = true): void {
  const pdeAt = pd + (iova >>> 22) * 4;
  let pde = r.mem.read32(pdeAt);
  if ((pde & 1) === 0) { pde = r.nextPt | 1 | (pdeRw ? 2 : 0); r.nextPt += 0x1000; r.mem.write32(pdeAt, pde); }
  r.mem.write32((pde & ~0xfff) + ((iova >>> 12) & 0x3ff) * 4, (pa | 1 | (write ? 2 : 0)) >>> 0);
}

/** Translation on, context table set, fault events unmasked to APIC 0 vector 0x40. */
function enabled(costs = COSTS): Rig {
  const r = rig(costs);
  wr(r, CTXPTR, CTX_TABLE);
  wr(r, FEADDR, 0xfee00000);
  wr(r, FEDATA, 0x40);
  wr(r, FECTL, 0);
  wr(r, GCMD, GCMD_TE);
  context(r, NIC, 7);
  return r;
}

function queue(r: Rig, size = 16): void {
  wr(r, IQBASE, IQ);
  wr(r, IQSIZE, size);
}

/** Append descriptors at the tail and ring it. */
function submit(r: Rig, ...descs: number[][]): void {
  let tail = rd(r, IQTAIL);
  const size = rd(r, IQSIZE);
  for (const d of descs) {
    for (let k = 0; k < 4; k++) r.mem.write32(IQ + tail * 16 + k * 4, d[k] ?? 0);
    tail = (tail + 1) % size;
  }
  wr(r, IQTAIL, tail);
}
const invIotlbPage = (domain: number, iova: number) => [INV_IOTLB | (GRAN_PAGE << 4) | (domain << 16), iova];
const invIotlbDomain = (domain: number) => [INV_IOTLB | (GRAN_ONE << 4) | (domain << 16)];
const invIotlbAll = () => [INV_IOTLB | (GRAN_ALL << 4)];
const invContext = (rid: number) => [INV_CONTEXT | (GRAN_ONE << 4) | (rid << 16)];
const wait = (addr: number, value: number) => [INV_WAIT, addr, value];

const bytes = (...b: number[]) => Uint8Array.from(b);

test('window constants and read-only identification registers', () => {
  assert.is(IOMMU_BASE, 0xfed00000);
  assert.is(IOMMU_SIZE, 0x1000);
  const r = rig();
  assert.is(rd(r, VER), 0x10);
  assert.is(rd(r, CAP) & 0xff, 8);
  assert.is((rd(r, CAP) >>> 8) & 0xffff, 4);
  wr(r, VER, 0x1234);
  assert.is(rd(r, VER), 0x10);
  assert.is(rd(r, FECTL), FECTL_IM); // fault events masked at reset
  assert.is(r.io.mmioRead(GCMD, 4), -1); // write-only
  wr(r, CTXPTR, 0x12345fff);
  assert.is(rd(r, CTXPTR), 0x12345000);
  assert.is(r.io.inspect().counters.badAccesses, 2);
});

test('GCMD.TE drives GSTS.TES', () => {
  const r = rig();
  assert.is(rd(r, GSTS), 0);
  wr(r, GCMD, GCMD_TE | 0x1234);
  assert.is(rd(r, GSTS), 0x80000000);
  assert.ok(r.io.enabled);
  wr(r, GCMD, 0);
  assert.is(rd(r, GSTS), 0);
});

test('a mapped DMA translates both ways and costs two walk levels plus the context read', () => {
  const r = enabled();
  map(r, 0x40000000, 0x100000, true);
  assert.is(r.io.dma.write(NIC, 0x40000010, bytes(1, 2, 3)), DMA_OK);
  assert.equal(Array.from(r.mem.readBytes(0x100010, 3)), [1, 2, 3]);
  assert.is(r.io.lastCost, 30);
  const dst = new Uint8Array(3);
  assert.is(r.io.dma.read(NIC, 0x40000010, dst), DMA_OK);
  assert.equal(Array.from(dst), [1, 2, 3]);
  assert.is(r.io.lastCost, 0); // context cache and IOTLB hits
  assert.is(r.io.totalCost, 30);
});

test('DMA to an unmapped IOVA: blocked, recorded, fault MSI sent, nothing written', () => {
  const r = enabled();
  r.h.t = 1234;
  const before = r.mem.ram8.slice();
  assert.is(r.io.dma.write(NIC, 0x50000000, new Uint8Array(64).fill(0xaa)), DMA_NOT_MAPPED);
  assert.ok(before.every((b, k) => r.mem.ram8[k] === b));
  assert.equal(r.h.msis, [{ address: 0xfee00000, data: 0x40 }]);
  assert.is(rd(r, FR(0)), 0x50000000);
  assert.is(rd(r, FR(0) + 4), (FR_VALID | FR_WRITE | (DMA_NOT_MAPPED << 16) | NIC) >>> 0);
  assert.is(rd(r, FR(0) + 8), 1234);
  assert.is(rd(r, FSTS) & FSTS_PPF, FSTS_PPF);
  assert.is((rd(r, FSTS) >>> 8) & 0xff, 1);
  assert.is(rd(r, FCOUNT), 1);
  const f = r.io.inspect().faults;
  assert.equal(f, [{ at: 1234, rid: NIC, iova: 0x50000000, reason: 'not mapped', code: DMA_NOT_MAPPED, write: true, recorded: true }]);
  // A read fault leaves the destination untouched too.
  const dst = new Uint8Array(4).fill(9);
  assert.is(r.io.dma.read(NIC, 0x50000000, dst), DMA_NOT_MAPPED);
  assert.equal(Array.from(dst), [9, 9, 9, 9]);
  // The guest reads the record and clears F (write 1 to clear).
  wr(r, FR(0) + 4, FR_VALID);
  assert.is(rd(r, FR(0) + 4) & FR_VALID, 0);
});

test('permissions per direction: read-only PTE, read-only PDE', () => {
  const r = enabled();
  map(r, 0x1000, 0x100000, false);
  map(r, 0x00400000, 0x101000, true, PD, false); // PTE writable, PDE not
  r.mem.write32(0x100000, 0x11223344);
  const dst = new Uint8Array(4);
  assert.is(r.io.dma.read(NIC, 0x1000, dst), DMA_OK);
  assert.is(r.io.dma.write(NIC, 0x1000, bytes(0, 0, 0, 0)), DMA_NO_PERMISSION);
  assert.is(r.mem.read32(0x100000), 0x11223344);
  assert.is(r.io.dma.read(NIC, 0x00400000, dst), DMA_OK);
  assert.is(r.io.dma.write(NIC, 0x00400000, bytes(5)), DMA_NO_PERMISSION);
  assert.is(r.mem.read8(0x101000), 0);
  assert.equal(r.io.inspect().faults.map((f) => [f.reason, f.write]), [['no permission', true], ['no permission', true]]);
  assert.is(r.h.msis.length, 2);
});

test('a DMA spanning two pages where the second is unmapped writes nothing', () => {
  const r = enabled();
  map(r, 0x2000, 0x100000, true);
  const src = new Uint8Array(32).fill(0x5a);
  assert.is(r.io.dma.write(NIC, 0x2ff0, src), DMA_NOT_MAPPED);
  assert.ok(r.mem.readBytes(0x100ff0, 16).every((b) => b === 0));
  assert.is(r.io.inspect().faults[0].iova, 0x3000);
  // Map the second page somewhere not contiguous: the DMA is split.
  map(r, 0x3000, 0x200000, true);
  assert.is(r.io.dma.write(NIC, 0x2ff0, src), DMA_OK);
  assert.ok(r.mem.readBytes(0x100ff0, 16).every((b) => b === 0x5a));
  assert.ok(r.mem.readBytes(0x200000, 16).every((b) => b === 0x5a));
  assert.is(r.mem.read8(0x200010), 0);
});

test('a requester without a context entry faults with no context', () => {
  const r = enabled();
  assert.is(r.io.dma.read(0x20, 0, new Uint8Array(1)), DMA_NO_CONTEXT);
  assert.is(r.io.inspect().faults[0].reason, 'no context');
  assert.is(r.io.dma.read(0x1234, 0, new Uint8Array(1)), DMA_NO_CONTEXT); // beyond bus 0
});

test('a translation to an address without RAM is refused and recorded', () => {
  const r = enabled();
  map(r, 0x1000, 0x00ff0000, true); // 16 MiB: RAM is 4 MiB
  assert.is(r.io.dma.write(NIC, 0x1000, bytes(1)), DMA_OUTSIDE_RAM);
  assert.is(r.io.inspect().faults[0].reason, 'outside RAM');
});

test('IOTLB: hits, misses and a stale entry until invalidated through the queue', () => {
  const r = enabled();
  queue(r);
  map(r, 0x5000, 0x100000, true);
  assert.is(r.io.dma.write(NIC, 0x5000, bytes(1)), DMA_OK);
  let t = r.io.inspect().iotlb;
  assert.equal([t.hits, t.misses, t.walks], [0, 1, 1]);
  map(r, 0x5000, 0x200000, true); // the guest changes the PTE without invalidating
  assert.is(r.io.dma.write(NIC, 0x5000, bytes(2)), DMA_OK);
  assert.is(r.mem.read8(0x100000), 2); // stale translation used
  assert.is(r.mem.read8(0x200000), 0);
  t = r.io.inspect().iotlb;
  assert.equal([t.hits, t.misses, t.walks], [1, 1, 1]);
  assert.equal(t.entries, [{ domain: 7, iova: 0x5000, pa: 0x100000, write: true }]);
  submit(r, invIotlbPage(7, 0x5000));
  assert.is(r.io.dma.write(NIC, 0x5000, bytes(3)), DMA_OK);
  assert.is(r.mem.read8(0x200000), 3);
  t = r.io.inspect().iotlb;
  assert.equal([t.hits, t.misses, t.walks], [1, 2, 2]);
  // Unmapping without invalidation still leaves access through the stale entry.
  r.mem.write32(PD + 0x1000 + 5 * 4, 0);
  assert.is(r.io.dma.write(NIC, 0x5000, bytes(4)), DMA_OK);
  submit(r, invIotlbDomain(7));
  assert.is(r.io.dma.write(NIC, 0x5000, bytes(5)), DMA_NOT_MAPPED);
  assert.is(r.mem.read8(0x200000), 4);
  // Invalidating another domain or another page leaves the entry.
  map(r, 0x6000, 0x300000, true);
  r.io.dma.write(NIC, 0x6000, bytes(1));
  submit(r, invIotlbDomain(8), invIotlbPage(7, 0x7000));
  assert.is(r.io.inspect().iotlb.entries.length, 1);
  submit(r, invIotlbAll());
  assert.is(r.io.inspect().iotlb.entries.length, 0);
});

test('IOTLB is LRU with the profile capacity', () => {
  const r = enabled();
  for (let p = 0; p < 5; p++) map(r, p * 0x1000, 0x100000 + p * 0x1000, true);
  const one = new Uint8Array(1);
  for (const p of [0, 1, 2, 3, 0, 4]) r.io.dma.read(NIC, p * 0x1000, one);
  const t = r.io.inspect().iotlb;
  assert.is(t.evictions, 1);
  assert.equal(t.entries.map((e) => e.iova), [0x2000, 0x3000, 0x0000, 0x4000]); // 1 was least recent
  assert.is(t.capacity, 4);
});

test('context cache: a changed context entry is used only after INV_CONTEXT', () => {
  const r = enabled();
  queue(r);
  map(r, 0x1000, 0x100000, true);
  assert.is(r.io.dma.write(NIC, 0x1000, bytes(1)), DMA_OK);
  r.mem.write32(CTX_TABLE + NIC * 8, 0); // context removed
  assert.is(r.io.dma.write(NIC, 0x1000, bytes(2)), DMA_OK);
  submit(r, invContext(NIC));
  assert.is(r.io.dma.write(NIC, 0x1000, bytes(3)), DMA_NO_CONTEXT);
  assert.is(r.mem.read8(0x100000), 2);
});

test('WAIT completes exactly invalidationLatency after the queue reaches it, then the queue goes on', () => {
  const r = enabled();
  queue(r, 8);
  r.h.t = 1000;
  submit(r, invIotlbAll(), wait(STATUS, 0xc0ffee), invIotlbAll(), wait(STATUS + 4, 2));
  assert.is(rd(r, IQHEAD), 1);
  assert.is(r.io.inspect().queue.waitingUntil, 1500);
  r.h.advance(1499);
  assert.is(r.mem.read32(STATUS), 0);
  r.h.advance(1500);
  assert.is(r.mem.read32(STATUS) >>> 0, 0xc0ffee);
  assert.is(rd(r, IQHEAD), 3); // the next WAIT started at 1500
  assert.is(r.io.inspect().queue.waitingUntil, 2000);
  r.h.advance(1999);
  assert.is(r.mem.read32(STATUS + 4), 0);
  r.h.advance(2000);
  assert.is(r.mem.read32(STATUS + 4), 2);
  assert.is(rd(r, IQHEAD), 4);
  assert.is(r.io.inspect().counters.waitsCompleted, 2);
  // Tail written during a wait: the new descriptors wait their turn.
  r.h.t = 3000;
  submit(r, wait(STATUS, 7));
  r.h.t = 3100;
  submit(r, wait(STATUS + 8, 8));
  r.h.advance(3500);
  assert.is(r.mem.read32(STATUS), 7);
  assert.is(r.mem.read32(STATUS + 8), 0);
  r.h.advance(4000);
  assert.is(r.mem.read32(STATUS + 8), 8);
});

test('bad descriptors set IQE, halt the queue at them, and retry when IQE is cleared', () => {
  const r = enabled();
  queue(r, 8);
  submit(r, [0xf], wait(STATUS, 1));
  assert.is(rd(r, FSTS) & FSTS_IQE, FSTS_IQE);
  assert.is(rd(r, IQERR), (IqError.BadType << 24) | 0);
  assert.is(rd(r, IQHEAD), 0);
  assert.is(r.io.inspect().queue.error, 'bad type');
  r.mem.write32(IQ, invIotlbAll()[0]); // fix it
  wr(r, FSTS, FSTS_IQE);
  assert.is(rd(r, FSTS) & FSTS_IQE, 0);
  assert.is(rd(r, IQHEAD), 1);
  r.h.advance(500);
  assert.is(r.mem.read32(STATUS), 1);
  // Other errors.
  const cases: [number[], number][] = [
    [[INV_CONTEXT | (3 << 4)], IqError.BadGranularity],
    [[INV_CONTEXT | (GRAN_ONE << 4) | (0x100 << 16)], IqError.BadRequester],
    [[INV_IOTLB], IqError.BadGranularity],
    [[INV_IOTLB | (GRAN_ONE << 4) | (0x300 << 16)], IqError.BadDomain],
    [wait(0x7fffffff, 1), IqError.BadStatusAddress],
    [wait(STATUS + 2, 1), IqError.BadStatusAddress],
  ];
  for (const [d, reason] of cases) {
    wr(r, IQBASE, IQ); // resets head and tail, so that clearing IQE has nothing to retry
    wr(r, FSTS, FSTS_IQE);
    submit(r, d);
    assert.is(rd(r, IQERR) >>> 24, reason, `descriptor ${d}`);
  }
  wr(r, IQBASE, IQ);
  wr(r, FSTS, FSTS_IQE);
  wr(r, IQTAIL, 9);
  assert.is(rd(r, IQERR) >>> 24, IqError.TailOutOfRange);
  assert.is(rd(r, IQTAIL), 0);
  wr(r, FSTS, FSTS_IQE);
  wr(r, IQSIZE, 0);
  wr(r, IQTAIL, 1);
  assert.is(rd(r, IQERR) >>> 24, IqError.BadSize);
  wr(r, FSTS, FSTS_IQE);
  wr(r, IQBASE, (4 << 20) - 16); // last descriptor in RAM, the next one outside
  wr(r, IQSIZE, 4);
  r.mem.write32((4 << 20) - 16, invIotlbAll()[0]);
  wr(r, IQTAIL, 2);
  assert.is(rd(r, IQERR), (IqError.FetchOutsideRam << 24) | 1);
});

test('fault-event MSI: masked sets IP, unmasking sends one message', () => {
  const r = enabled();
  wr(r, FECTL, FECTL_IM);
  r.io.dma.read(NIC, 0x9000, new Uint8Array(1));
  r.io.dma.read(NIC, 0x9000, new Uint8Array(1));
  assert.equal(r.h.msis, []);
  assert.is(rd(r, FECTL), (FECTL_IM | FECTL_IP) >>> 0);
  wr(r, FECTL, 0);
  assert.equal(r.h.msis, [{ address: 0xfee00000, data: 0x40 }]);
  assert.is(rd(r, FECTL), 0);
});

test('fault log: eight slots, overflow when the next slot is unread, W1C overflow', () => {
  const r = enabled();
  for (let k = 0; k < 10; k++) r.io.dma.read(NIC, 0x10000 + k * 0x1000, new Uint8Array(1));
  assert.is(rd(r, FCOUNT), 10);
  assert.is(rd(r, FSTS) & FSTS_PFO, FSTS_PFO);
  assert.is(rd(r, FR(7)), 0x17000);
  assert.is(r.h.msis.length, 8);
  assert.is(r.io.inspect().counters.faultsOverflowed, 2);
  wr(r, FSTS, FSTS_PFO);
  assert.is(rd(r, FSTS) & FSTS_PFO, 0);
  wr(r, FR(0) + 4, FR_VALID);
  r.io.dma.read(NIC, 0x77000, new Uint8Array(1));
  assert.is(rd(r, FR(0)), 0x77000);
  assert.is((rd(r, FSTS) >>> 8) & 0xff, 1);
  for (let k = 1; k < 8; k++) wr(r, FR(k) + 4, FR_VALID);
  assert.is(rd(r, FSTS) & FSTS_PPF, FSTS_PPF);
  wr(r, FR(0) + 4, FR_VALID);
  assert.is(rd(r, FSTS) & FSTS_PPF, 0);
});

test('pass-through: the fault-injection switch and the context bit bypass translation', () => {
  const r = enabled();
  assert.is(r.io.dma.write(NIC, 0x123000, bytes(9)), DMA_NOT_MAPPED);
  r.io.setPassThrough(NIC, true);
  assert.is(r.io.dma.write(NIC, 0x123000, bytes(9)), DMA_OK);
  assert.is(r.mem.read8(0x123000), 9);
  assert.is(r.io.dma.write(0x99, 0x124000, bytes(8)), DMA_NO_CONTEXT);
  r.io.setPassThrough(0x99, true);
  assert.is(r.io.dma.write(0x99, 0x124000, bytes(8)), DMA_OK); // even without a context
  assert.equal(r.io.inspect().passThroughSwitches, [NIC, 0x99]);
  r.io.setPassThrough(NIC, false);
  assert.is(r.io.dma.write(NIC, 0x123000, bytes(7)), DMA_NOT_MAPPED);
  context(r, 0x20, 3, 0, 3); // present + pass-through
  assert.is(r.io.dma.write(0x20, 0x125000, bytes(6)), DMA_OK);
  assert.is(r.mem.read8(0x125000), 6);
  assert.is(r.io.dma.write(0x20, 0x3ffffff, bytes(6)), DMA_OUTSIDE_RAM);
});

test('translation disabled: straight to physical memory, bounds-checked, nothing recorded', () => {
  const r = rig();
  assert.is(r.io.dma.write(NIC, 0x1000, bytes(1, 2)), DMA_OK);
  assert.is(r.mem.read16(0x1000), 0x0201);
  assert.is(r.io.dma.write(NIC, (4 << 20) - 1, bytes(1, 2)), DMA_OUTSIDE_RAM);
  assert.is(r.mem.read8((4 << 20) - 1), 0);
  assert.is(r.io.dma.read(NIC, 0xfee00000, new Uint8Array(4)), DMA_OUTSIDE_RAM);
  assert.is(r.io.inspect().faults.length, 0);
  assert.is(r.io.lastCost, 0);
});

test('bus master off: refused, not an IOMMU fault', () => {
  const r = enabled();
  map(r, 0x1000, 0x100000, true);
  r.notMaster.add(NIC);
  assert.is(r.io.dma.write(NIC, 0x1000, bytes(1)), DMA_NOT_MASTER);
  assert.is(r.mem.read8(0x100000), 0);
  assert.is(r.io.inspect().faults.length, 0);
  assert.is(r.io.inspect().counters.notMaster, 1);
});

test('inspect: domains with their mappings, bounded', () => {
  const r = enabled();
  context(r, 0x19, 7);
  context(r, 0x20, 9, 0x28000);
  map(r, 0x1000, 0x100000, true);
  map(r, 0x00800000, 0x101000, false);
  for (let p = 0; p < 10; p++) map(r, p * 0x1000, 0x200000 + p * 0x1000, true, 0x28000);
  const d = r.io.inspect({ mappings: 4 }).domains;
  assert.is(d.length, 2);
  assert.equal(d[0].requesters, [NIC, 0x19]);
  assert.is(d[0].pageDirectory, PD);
  assert.equal(d[0].mappings, [
    { iova: 0x1000, pa: 0x100000, read: true, write: true },
    { iova: 0x00800000, pa: 0x101000, read: true, write: false },
  ]);
  assert.is(d[1].mappingCount, 10);
  assert.is(d[1].mappings.length, 4);
  assert.ok(d[1].truncated);
});

test('saveState/loadState: registers, IOTLB (stale entries and all) and a WAIT in progress', () => {
  const a = enabled();
  queue(a);
  map(a, 0x5000, 0x100000, true);
  a.io.dma.write(NIC, 0x5000, bytes(1));
  a.io.dma.read(NIC, 0x9000, new Uint8Array(1));
  map(a, 0x5000, 0x200000, true);
  a.h.t = 100;
  submit(a, wait(STATUS, 5));
  const saved = JSON.parse(JSON.stringify(a.io.saveState()));

  const b = rig();
  b.mem.ram8.set(a.mem.ram8);
  b.h.t = 100;
  b.io.loadState(saved);
  assert.equal(b.io.inspect(), a.io.inspect());
  assert.is(b.io.dma.write(NIC, 0x5000, bytes(2)), DMA_OK);
  assert.is(b.mem.read8(0x100000), 2); // the stale entry survived
  b.h.advance(600);
  assert.is(b.mem.read32(STATUS), 5);
  assert.throws(() => b.io.loadState({ ...saved, version: 2 }));

  // Whole-machine style: the event queue restored first, the WAIT's event adopted.
  const c = rig();
  c.mem.ram8.set(a.mem.ram8);
  c.h.events.loadState(a.h.events.saveState());
  c.io.loadState(saved, true);
  c.h.advance(600);
  assert.is(c.mem.read32(STATUS), 5);
});

test('property: garbage registers, descriptors and DMAs never throw', () => {
  const regOffsets = [0, 4, 8, 0x18, 0x1c, 0x20, 0x34, 0x38, 0x3c, 0x40, 0x44, 0x48, 0x80, 0x84, 0x88, 0x8c, 0x90, 0x100, 0x104, 0x17c, 0x200, 0xffc, 0x1000, 3];
  const op = fc.oneof(
    fc.tuple(fc.constant('reg' as const), fc.constantFrom(...regOffsets), fc.constantFrom(1, 2, 4), fc.integer()),
    fc.tuple(fc.constant('desc' as const), fc.integer({ min: 0, max: 15 }), fc.array(fc.integer(), { minLength: 4, maxLength: 4 }), fc.constant(0)),
    fc.tuple(fc.constant('mem' as const), fc.integer({ min: 0, max: 0x3fff }), fc.constantFrom(1, 2, 4), fc.integer()),
    fc.tuple(fc.constant('dma' as const), fc.integer({ min: -1, max: 0x20000 }), fc.integer({ min: 0, max: 0x3000 }), fc.integer()),
    fc.tuple(fc.constant('time' as const), fc.integer({ min: 0, max: 2000 }), fc.constant(0), fc.constant(0)),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.boolean(), (ops, on) => {
    const r = on ? enabled() : rig();
    if (on) { queue(r, 16); map(r, 0x1000, 0x100000, true); }
    for (const [kind, a, b, c] of ops) {
      if (kind === 'reg') r.io.mmioWrite(a, b, c);
      else if (kind === 'desc') c === 0 && b.forEach((v, k) => r.mem.write32(IQ + a * 16 + k * 4, v));
      else if (kind === 'mem') r.mem.write32([CTX_TABLE, PD, PD + 0x1000][b % 3] + (a & ~3) % 0x1000, c);
      else if (kind === 'dma') {
        const buf = new Uint8Array(b);
        const st = c & 1 ? r.io.dma.write(NIC + (c & 0x10), a * 0x100, buf) : r.io.dma.read(NIC, a * 0x100, buf);
        assert.ok(st >= 0 && st <= 5);
      } else r.h.advance(r.h.t + a);
      r.io.mmioRead(a & 0xffc, 4);
    }
    const i = r.io.inspect();
    assert.ok(i.iotlb.entries.length <= COSTS.iotlbEntries);
    assert.ok(i.queue.head < Math.max(1, i.queue.size) || i.queue.size === 0 || i.queue.size > 4096);
    JSON.stringify(r.io.saveState());
  }), { numRuns: 300 });
});

// Regression: the domain ID once shared bits 15:8 with the page directory's address, so a
// domain of 16 or more over a page directory not 64 KiB-aligned walked the wrong table.
test('regression: domain 255 over a page directory at 0x104000 translates through that directory', () => {
  const r = enabled();
  const pd = 0x104000;
  r.mem.writeBytes(pd, new Uint8Array(4096));
  map(r, 0x300000, 0x300000, true, pd);
  context(r, 8, 255, pd);
  const buf = new Uint8Array(4);
  assert.is(r.io.dma.read(8, 0x300000, buf), 0);
  assert.is(r.io.inspect().domains[0]!.id, 255);
});

test.run();
