// The NVMe-flavoured block device: identity and registers, READ/WRITE round trips (buffer and
// page list), exact completion timing, in-order completion and the phase bit across CQ wraps,
// a full CQ, MSI-X per completion, error statuses and queue faults, the copy-on-write file
// backend (the input file never changes), state save/restore, and garbage never throwing.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BLOCK_CLASS, BLOCK_DEVICE_ID, BLOCK_MAX_TRANSFER, BLOCK_QUEUE_DEPTH, BLOCK_VENDOR_ID, BlockDevice, BlockFault,
  CQE_SIZE, CSTS_CFS, CSTS_RDY, DOORBELL_BASE, DPTR_BUFFER, DPTR_PAGE_LIST, OP_FLUSH, OP_READ, OP_WRITE, QCTRL_EN,
  QCTRL_IEN, QSTATUS_DBERR, QSTATUS_FATAL, QSTATUS_RUN, QUEUE_BASE, QUEUE_STRIDE, SC_DATA_TRANSFER, SC_INVALID_FIELD,
  SC_INVALID_OPCODE, SC_LBA_RANGE, SC_PRP_OFFSET, SC_SUCCESS, SECTOR_SIZE, SQE_SIZE, decodeCqe, encodeSqe,
  type Cqe, type Sqe,
} from '../../machine/block.js';
import { DiskImage } from '../../machine/disk-image.js';
import { DMA_NOT_MAPPED, DMA_OK, DMA_OUTSIDE_RAM, type DeviceHost, type DmaPort } from '../../machine/device.js';
import { InputError } from '../../machine/errors.js';
import { EventQueue } from '../../machine/events.js';
import { PhysicalMemory } from '../../machine/memory.js';
import { MSIX_CTRL_ENABLE } from '../../machine/msix.js';
import { CAP_MSIX, CFG_CLASS, CFG_COMMAND, CFG_DEVICE, CFG_VENDOR, CMD_MASTER, CMD_MEMORY, PciBus } from '../../machine/pci.js';
import { Prng } from '../../machine/prng.js';
import { loadProfile, type Profile } from '../../machine/profile.js';
import { ratioApply } from '../../machine/units.js';

const RAM = 4 << 20;
const COSTS: Profile['block'] = { latency: 1000, perByte: { num: 1, den: 4 } };

/** A device host whose DMA goes straight to a PhysicalMemory, with a switchable fault window. */
class TestHost implements DeviceHost {
  t = 0;
  readonly events = new EventQueue();
  readonly rng = new Prng(1);
  readonly mem = new PhysicalMemory(RAM);
  readonly msis: { address: number; data: number; at: number }[] = [];
  /** DMA to [lo, hi) faults as unmapped. */
  fault: [number, number] | null = null;
  dmaCalls = 0;
  readonly dma: DmaPort;

  constructor() {
    const check = (iova: number, len: number): number => {
      this.dmaCalls++;
      iova >>>= 0;
      if (this.fault !== null && iova < this.fault[1] && this.fault[0] < iova + len) return DMA_NOT_MAPPED;
      return iova + len <= this.mem.size ? DMA_OK : DMA_OUTSIDE_RAM;
    };
    this.dma = {
      read: (_rid, iova, dst) => {
        const st = check(iova, dst.length);
        if (st === DMA_OK) dst.set(this.mem.ram8.subarray(iova >>> 0, (iova >>> 0) + dst.length));
        return st;
      },
      write: (_rid, iova, src) => {
        const st = check(iova, src.length);
        if (st === DMA_OK) this.mem.writeBytes(iova >>> 0, src);
        return st;
      },
    };
  }

  now(): number { return this.events.firing >= 0 ? this.events.firing : this.t; }
  msi(address: number, data: number): void { this.msis.push({ address, data, at: this.now() }); }
  /** Advance simulated time to `until`, firing every event due. */
  run(until: number): void { this.events.runUntil(until); this.t = Math.max(this.t, until); }
  /** Fire everything pending. */
  drain(): void { while (this.events.size > 0) this.run(this.events.next()); }
}

interface Setup { h: TestHost; dev: BlockDevice; pci: PciBus; disk: DiskImage }

function setup(opts: { queues?: number; disk?: DiskImage; costs?: Profile['block']; host?: TestHost } = {}): Setup {
  const h = opts.host ?? new TestHost();
  const pci = new PciBus(h.mem.bus);
  const disk = opts.disk ?? DiskImage.blank(1 << 20);
  const dev = new BlockDevice(h, pci, opts.costs ?? COSTS, disk, { queues: opts.queues ?? 2 });
  dev.fn.mmioWrite(CFG_COMMAND, 2, CMD_MEMORY | CMD_MASTER);
  return { h, dev, pci, disk };
}

const rd = (s: Setup, off: number) => s.dev.mmioRead(off, 4) >>> 0;
const wr = (s: Setup, off: number, v: number) => s.dev.mmioWrite(off, 4, v);
const qreg = (q: number, reg: number) => QUEUE_BASE + q * QUEUE_STRIDE + reg;
const SQBASE = 0x00, SQSIZE = 0x04, CQBASE = 0x08, CQSIZE = 0x0c, QCTRL = 0x10, QVEC = 0x14, QSTATUS = 0x18, SQHEAD = 0x1c, CQTAIL = 0x20;

/** What a guest driver does: program a queue pair, write entries, ring doorbells, poll the CQ. */
class Driver {
  sqTail = 0;
  cqHead = 0;
  phase = 1;
  constructor(readonly s: Setup, readonly q: number, readonly sqBase: number, readonly sqSize: number,
    readonly cqBase: number, readonly cqSize: number, ien = true, program = true) {
    if (!program) return;
    wr(s, qreg(q, SQBASE), sqBase);
    wr(s, qreg(q, SQSIZE), sqSize);
    wr(s, qreg(q, CQBASE), cqBase);
    wr(s, qreg(q, CQSIZE), cqSize);
    wr(s, qreg(q, QCTRL), QCTRL_EN | (ien ? QCTRL_IEN : 0));
  }
  /** Write entries at the tail and ring the doorbell once. */
  submit(...entries: (Partial<Sqe> & Pick<Sqe, 'opcode' | 'cid'>)[]): void {
    for (const e of entries) {
      this.s.h.mem.writeBytes(this.sqBase + this.sqTail * SQE_SIZE, encodeSqe(e));
      this.sqTail = (this.sqTail + 1) % this.sqSize;
    }
    wr(this.s, DOORBELL_BASE + 8 * this.q, this.sqTail);
  }
  /** Consume every completion of the current phase, then ring the CQ head doorbell. */
  poll(): Cqe[] {
    const out: Cqe[] = [];
    for (;;) {
      const e = decodeCqe(this.s.h.mem.readBytes(this.cqBase + this.cqHead * CQE_SIZE, CQE_SIZE));
      if (e.phase !== this.phase) break;
      out.push(e);
      this.cqHead = (this.cqHead + 1) % this.cqSize;
      if (this.cqHead === 0) this.phase ^= 1;
    }
    if (out.length > 0) wr(this.s, DOORBELL_BASE + 8 * this.q + 4, this.cqHead);
    return out;
  }
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = new Prng(seed), b = new Uint8Array(n);
  for (let k = 0; k < n; k++) b[k] = r.next() & 0xff;
  return b;
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function enableMsix(s: Setup): void {
  const off = s.dev.fn.capOffsets.get(CAP_MSIX)!;
  s.dev.fn.mmioWrite(off + 2, 2, MSIX_CTRL_ENABLE);
  for (let v = 0; v < s.dev.queueCount; v++) {
    s.dev.msix.mmioWrite(v * 16, 4, 0xfee00000);
    s.dev.msix.mmioWrite(v * 16 + 4, 4, 0);
    s.dev.msix.mmioWrite(v * 16 + 8, 4, 0x40 + v);
    s.dev.msix.mmioWrite(v * 16 + 12, 4, 0);
  }
}

// ---- identity and registers ---------------------------------------------------------------

test('PCI identity, BARs, MSI-X capability and the read-only geometry registers', () => {
  const s = setup({ queues: 3 });
  const f = s.dev.fn;
  assert.is(f.mmioRead(CFG_VENDOR, 2), BLOCK_VENDOR_ID);
  assert.is(f.mmioRead(CFG_DEVICE, 2), BLOCK_DEVICE_ID);
  assert.is(f.mmioRead(CFG_CLASS - 1, 4) >>> 8, BLOCK_CLASS);
  assert.ok(f.capOffsets.has(CAP_MSIX));
  assert.is(s.dev.msix.vectors, 3);
  assert.is(f.rid, 4 << 3);
  assert.is(s.h.mem.bus.find(f.barAddress(0))?.device, s.dev, 'BAR0 decodes to the registers');
  assert.is(s.h.mem.bus.find(f.barAddress(1))?.device, s.dev.msix, 'BAR1 decodes to the MSI-X table');
  assert.is(rd(s, 0x00), 0x00010000);
  assert.is(rd(s, 0x04), 3);
  assert.is(rd(s, 0x08), (1 << 20) / 512);
  assert.is(rd(s, 0x0c), 0);
  assert.is(rd(s, 0x10), 512);
  assert.is(rd(s, 0x14), BLOCK_MAX_TRANSFER);
  assert.is(rd(s, 0x1c), BLOCK_QUEUE_DEPTH);
  assert.is(rd(s, 0x24), CSTS_RDY);
  assert.is(rd(s, qreg(2, QVEC)), 2, 'each CQ starts on its own vector');
  wr(s, 0x08, 1234);
  assert.is(rd(s, 0x08), 2048, 'capacity is read-only');
  assert.is(s.dev.faults[BlockFault.BadAccess], 1);
  assert.is(s.dev.mmioRead(0x08, 2), 0xffff, 'only 32-bit accesses are architectural');
  assert.is(s.dev.mmioRead(0x09, 4), -1);
});

test('queue registers: masks, geometry locked while enabled, status bits', () => {
  const s = setup();
  wr(s, qreg(0, SQBASE), 0x10037);
  assert.is(rd(s, qreg(0, SQBASE)), 0x10000, 'SQ base is 64-byte aligned');
  wr(s, qreg(0, CQBASE), 0x2000f);
  assert.is(rd(s, qreg(0, CQBASE)), 0x20000, 'CQ base is 16-byte aligned');
  wr(s, qreg(0, SQSIZE), 16);
  wr(s, qreg(0, CQSIZE), 16);
  wr(s, qreg(0, QCTRL), QCTRL_EN | 0xfc);
  assert.is(rd(s, qreg(0, QCTRL)), QCTRL_EN);
  assert.is(rd(s, qreg(0, QSTATUS)) & (QSTATUS_RUN | QSTATUS_FATAL), QSTATUS_RUN);
  wr(s, qreg(0, SQSIZE), 32);
  assert.is(rd(s, qreg(0, SQSIZE)), 16, 'no resizing a live queue');
  wr(s, qreg(0, QCTRL), 0);
  assert.is(rd(s, qreg(0, QSTATUS)) & QSTATUS_RUN, 0);
  wr(s, qreg(0, SQSIZE), 32);
  assert.is(rd(s, qreg(0, SQSIZE)), 32);
});

// ---- data --------------------------------------------------------------------------------

test('READ/WRITE round trips over many sectors and odd sizes, buffer and page list', () => {
  const s = setup({ queues: 1 });
  const d = new Driver(s, 0, 0x1000, 64, 0x3000, 64);
  const sizes = [1, 3, 7, 8, 9, 31, 64, 100, 255, BLOCK_MAX_TRANSFER];
  let lba = 5, cid = 1;
  const placed: { lba: number; data: Uint8Array }[] = [];
  for (const [k, n] of sizes.entries()) {
    const data = randomBytes(n * SECTOR_SIZE, 100 + k);
    const src = 0x100000, pageList = k % 2 === 1;
    s.h.mem.writeBytes(src, data);
    if (pageList) {
      // The data in scattered pages, listed in reverse physical order.
      const pages = Math.ceil(data.length / 4096), list = new DataView(new ArrayBuffer(pages * 4));
      for (let p = 0; p < pages; p++) {
        const at = 0x300000 - p * 0x2000;
        s.h.mem.writeBytes(at, data.subarray(p * 4096, Math.min(data.length, (p + 1) * 4096)));
        list.setUint32(p * 4, at, true);
      }
      s.h.mem.writeBytes(0x8000, new Uint8Array(list.buffer));
      d.submit({ opcode: OP_WRITE, cid: cid++, lba, count: n, dptr: 0x8000, flags: DPTR_PAGE_LIST });
    } else {
      d.submit({ opcode: OP_WRITE, cid: cid++, lba, count: n, dptr: src, flags: DPTR_BUFFER });
    }
    s.h.drain();
    const done = d.poll();
    assert.is(done.length, 1);
    assert.is(done[0].status, SC_SUCCESS);
    placed.push({ lba, data });
    lba += n + 1;
  }
  for (const [k, p] of placed.entries()) {
    const n = p.data.length / SECTOR_SIZE;
    s.h.mem.writeBytes(0x200000, new Uint8Array(p.data.length)); // clear the landing zone
    d.submit({ opcode: OP_READ, cid: 1000 + k, lba: p.lba, count: n, dptr: 0x200000 });
    s.h.drain();
    const [c] = d.poll();
    assert.is(c.status, SC_SUCCESS);
    assert.is(sha(s.h.mem.readBytes(0x200000, p.data.length)), sha(p.data), `read back ${n} sectors at ${p.lba}`);
    const direct = new Uint8Array(p.data.length);
    s.disk.read(p.lba, direct);
    assert.is(sha(direct), sha(p.data), 'the disk holds what was written');
  }
  const total = sizes.reduce((a, b) => a + b, 0) * SECTOR_SIZE;
  const qi = s.dev.inspect().queues[0];
  assert.is(qi.bytesWritten, total);
  assert.is(qi.bytesRead, total);
  assert.is(qi.errors, 0);
  assert.is(qi.completed, 2 * sizes.length);
  // A page-list READ scatters into pages.
  const first = placed[3]; // 8 sectors
  s.h.mem.writeBytes(0x8000, new Uint8Array([0x00, 0x50, 0x3f, 0x00])); // 0x3f5000
  d.submit({ opcode: OP_READ, cid: 77, lba: first.lba, count: 8, dptr: 0x8000, flags: DPTR_PAGE_LIST });
  s.h.drain();
  assert.is(d.poll()[0].status, SC_SUCCESS);
  assert.is(sha(s.h.mem.readBytes(0x3f5000, 4096)), sha(first.data));
});

// ---- time ----------------------------------------------------------------------------------

test('a lone command completes exactly latency + bytes * perByte after the doorbell', () => {
  for (const costs of [COSTS, loadProfile('default').block]) {
    for (const n of [1, 8, 13]) {
      const s = setup({ costs });
      const d = new Driver(s, 0, 0x1000, 8, 0x3000, 8);
      s.h.t = 777;
      d.submit({ opcode: OP_READ, cid: 5, lba: 0, count: n, dptr: 0x100000 });
      const due = 777 + costs.latency + ratioApply(costs.perByte, n * SECTOR_SIZE);
      assert.is(s.h.events.next(), due);
      s.h.run(due - 1);
      assert.equal(d.poll(), [], 'nothing before the due cycle');
      s.h.run(due);
      const c = d.poll();
      assert.is(c.length, 1);
      assert.is(c[0].cid, 5);
    }
  }
  const s = setup();
  const d = new Driver(s, 0, 0x1000, 8, 0x3000, 8);
  s.h.t = 100;
  d.submit({ opcode: OP_FLUSH, cid: 1 });
  assert.is(s.h.events.next(), 100 + COSTS.latency, 'FLUSH moves no data: latency only');
});

test('transfers share the device channel: back-to-back commands, and across queues', () => {
  const s = setup();
  const a = new Driver(s, 0, 0x1000, 8, 0x3000, 8), b = new Driver(s, 1, 0x5000, 8, 0x7000, 8);
  const xfer = ratioApply(COSTS.perByte, 4096);
  a.submit({ opcode: OP_READ, cid: 1, count: 8, dptr: 0x100000 }, { opcode: OP_READ, cid: 2, count: 8, dptr: 0x110000 });
  b.submit({ opcode: OP_WRITE, cid: 3, count: 8, dptr: 0x120000 });
  const times: number[] = [];
  while (s.h.events.size > 0) { times.push(s.h.events.next()); s.h.run(s.h.events.next()); }
  assert.equal(times, [COSTS.latency + xfer, COSTS.latency + 2 * xfer, COSTS.latency + 3 * xfer]);
});

test('in-order completion and the phase bit across CQ wraps', () => {
  const s = setup();
  const d = new Driver(s, 0, 0x1000, 8, 0x3000, 4);
  // A long READ then a FLUSH that alone would finish first: the FLUSH completes after it.
  d.submit({ opcode: OP_READ, cid: 10, count: 200, dptr: 0x100000 }, { opcode: OP_FLUSH, cid: 11 });
  s.h.drain();
  assert.equal(d.poll().map((c) => c.cid), [10, 11]);
  const seen: Cqe[] = [];
  let cid = 100;
  for (let round = 0; round < 7; round++) {
    d.submit(...Array.from({ length: 3 }, () => ({ opcode: OP_READ, cid: cid++, lba: round, count: 1 + round, dptr: 0x100000 })));
    s.h.drain();
    const got = d.poll();
    assert.is(got.length, 3);
    seen.push(...got);
  }
  assert.equal(seen.map((c) => c.cid), Array.from({ length: 21 }, (_, k) => 100 + k));
  // 2 + 21 entries through a 4-entry CQ: entry j is written in pass floor(j / 4), phase 1, 0, 1, ...
  assert.equal(seen.map((c) => c.phase), Array.from({ length: 21 }, (_, k) => (Math.floor((k + 2) / 4) % 2 === 0 ? 1 : 0)));
  assert.ok(seen.every((c) => c.status === SC_SUCCESS && c.sqId === 0));
  assert.is(rd(s, qreg(0, CQTAIL)), 23 % 4);
  assert.is(rd(s, qreg(0, SQHEAD)), 23 % 8);
});

test('a full CQ holds completions until the head doorbell makes room', () => {
  const s = setup();
  const d = new Driver(s, 0, 0x1000, 8, 0x3000, 4);
  d.submit(...[1, 2, 3, 4, 5].map((cid) => ({ opcode: OP_FLUSH, cid })));
  s.h.drain();
  assert.is(s.dev.inspect().queues[0].waitingForCq, 2, 'a 4-entry CQ holds 3');
  s.h.t += 5000;
  assert.equal(d.poll().map((c) => c.cid), [1, 2, 3]);
  assert.equal(d.poll().map((c) => c.cid), [4, 5], 'posted at the doorbell');
  assert.is(s.dev.inspect().queues[0].inFlight, 0);
});

test('the queue-depth limit: commands past it wait in the SQ until a slot frees', () => {
  const s = setup();
  const d = new Driver(s, 0, 0x10000, 256, 0x20000, 256);
  const n = BLOCK_QUEUE_DEPTH + 20;
  d.submit(...Array.from({ length: n }, (_, k) => ({ opcode: OP_READ, cid: k, count: 1, dptr: 0x100000 })));
  assert.is(s.dev.inspect().queues[0].inFlight, BLOCK_QUEUE_DEPTH);
  assert.is(rd(s, qreg(0, SQHEAD)), BLOCK_QUEUE_DEPTH);
  s.h.drain();
  assert.equal(d.poll().map((c) => c.cid), Array.from({ length: n }, (_, k) => k));
});

// ---- interrupts ----------------------------------------------------------------------------

test('MSI-X: one message per completion on the CQ vector, only with interrupts enabled', () => {
  const s = setup({ queues: 2 });
  enableMsix(s);
  const fired: number[] = [];
  const orig = s.dev.msix.fire.bind(s.dev.msix);
  s.dev.msix.fire = (v: number) => { fired.push(v); orig(v); };
  const a = new Driver(s, 0, 0x1000, 8, 0x3000, 8), b = new Driver(s, 1, 0x5000, 8, 0x7000, 8);
  a.submit({ opcode: OP_FLUSH, cid: 1 }, { opcode: OP_FLUSH, cid: 2 });
  b.submit({ opcode: OP_FLUSH, cid: 3 });
  s.h.drain();
  assert.equal(fired, [0, 0, 1]);
  assert.equal(s.h.msis.map((m) => m.data), [0x40, 0x40, 0x41]);
  assert.ok(s.h.msis.every((m) => m.address === 0xfee00000 && m.at === COSTS.latency), 'sent when the CQ entry is written');
  a.poll(); b.poll();
  // Interrupts off on queue 1; queue 0 moved onto vector 1.
  wr(s, qreg(1, QCTRL), QCTRL_EN);
  wr(s, qreg(0, QVEC), 1);
  a.submit({ opcode: OP_FLUSH, cid: 4 });
  b.submit({ opcode: OP_FLUSH, cid: 5 });
  s.h.drain();
  assert.equal(fired, [0, 0, 1, 1]);
  assert.equal(b.poll().map((c) => c.cid), [5], 'the completion is posted all the same');
  // A vector beyond the table is a fault, never a message.
  wr(s, qreg(0, QVEC), 9);
  a.submit({ opcode: OP_FLUSH, cid: 6 });
  s.h.drain();
  assert.is(fired.length, 4);
  assert.is(s.dev.faults[BlockFault.BadVector], 1);
  assert.is(s.dev.inspect().queues[0].interrupts, 3);
});

// ---- errors --------------------------------------------------------------------------------

test('bad commands complete with error statuses, in order, and move no data', () => {
  const s = setup();
  const d = new Driver(s, 0, 0x1000, 16, 0x3000, 16);
  const sectors = (1 << 20) / 512;
  s.h.mem.writeBytes(0x8000, new Uint8Array([0x10, 0x00, 0x10, 0x00])); // page 0x100010: not aligned
  const cases: [Partial<Sqe> & Pick<Sqe, 'opcode' | 'cid'>, number][] = [
    [{ opcode: OP_READ, cid: 1, lba: sectors - 1, count: 2, dptr: 0x100000 }, SC_LBA_RANGE],
    [{ opcode: OP_READ, cid: 2, lba: 0, lbaHi: 1, count: 1, dptr: 0x100000 }, SC_LBA_RANGE],
    [{ opcode: 0x7f, cid: 3, count: 1 }, SC_INVALID_OPCODE],
    [{ opcode: OP_WRITE, cid: 4, count: 0, dptr: 0x100000 }, SC_INVALID_FIELD],
    [{ opcode: OP_WRITE, cid: 5, count: BLOCK_MAX_TRANSFER + 1, dptr: 0x100000 }, SC_INVALID_FIELD],
    [{ opcode: OP_WRITE, cid: 6, count: 1, dptr: 0x100000, flags: 0x80 }, SC_INVALID_FIELD],
    [{ opcode: OP_WRITE, cid: 7, count: 1, dptr: 0x100000, dptrHi: 1 }, SC_INVALID_FIELD],
    [{ opcode: OP_WRITE, cid: 8, count: 1, dptr: 0x8002, flags: DPTR_PAGE_LIST }, SC_INVALID_FIELD],
    [{ opcode: OP_WRITE, cid: 9, count: 1, dptr: 0x8000, flags: DPTR_PAGE_LIST }, SC_PRP_OFFSET],
    [{ opcode: OP_READ, cid: 10, count: 4, dptr: RAM - 512 }, SC_DATA_TRANSFER],
    [{ opcode: OP_WRITE, cid: 11, count: 1, dptr: 0xfffffe00 + 0x100 }, SC_DATA_TRANSFER],
    [{ opcode: OP_READ, cid: 12, lba: sectors - 1, count: 1, dptr: 0x100000 }, SC_SUCCESS],
  ];
  s.h.mem.writeBytes(0x100000, randomBytes(512, 9));
  d.submit(...cases.map(([e]) => e));
  s.h.drain();
  const got = d.poll();
  assert.equal(got.map((c) => [c.cid, c.status]), cases.map(([e, st]) => [e.cid, st]));
  assert.is(s.disk.overlaySectors, 0, 'no failed WRITE reached the disk');
  assert.is(s.dev.inspect().queues[0].errors, cases.length - 1);
  assert.is(rd(s, 0x28), 2, 'DMAERR counts the two data DMA faults');
  assert.is(rd(s, qreg(0, QSTATUS)) & (QSTATUS_RUN | QSTATUS_FATAL), QSTATUS_RUN, 'command errors do not stop the queue');
});

test('a DMA port that faults: data-transfer error on the data, and on the page list', () => {
  const s = setup();
  const d = new Driver(s, 0, 0x1000, 8, 0x3000, 8);
  s.h.mem.writeBytes(0x100000, randomBytes(4096, 3));
  s.h.fault = [0x100000, 0x101000];
  const list = new DataView(new ArrayBuffer(8));
  list.setUint32(0, 0x180000, true);
  list.setUint32(4, 0x100000, true); // second page faults
  s.h.mem.writeBytes(0x9000, new Uint8Array(list.buffer));
  d.submit(
    { opcode: OP_WRITE, cid: 1, lba: 0, count: 8, dptr: 0x100000 },
    { opcode: OP_READ, cid: 2, lba: 0, count: 8, dptr: 0x100800 },
    { opcode: OP_WRITE, cid: 3, lba: 0, count: 16, dptr: 0x9000, flags: DPTR_PAGE_LIST },
    { opcode: OP_WRITE, cid: 4, lba: 0, count: 1, dptr: 0x100ff0, flags: DPTR_PAGE_LIST },
    { opcode: OP_WRITE, cid: 5, lba: 0, count: 8, dptr: 0x101000 },
  );
  s.h.drain();
  assert.equal(d.poll().map((c) => c.status), [SC_DATA_TRANSFER, SC_DATA_TRANSFER, SC_DATA_TRANSFER, SC_DATA_TRANSFER, SC_SUCCESS]);
  assert.is(s.dev.dmaFaults, 4);
  assert.is(s.dev.faults[BlockFault.DataDma], 4);
  assert.is(s.disk.overlaySectors, 8, 'only the good WRITE reached the disk');
});

test('queue faults: SQ or CQ outside memory and bad configurations stop that queue only', () => {
  const s = setup({ queues: 3 });
  const good = new Driver(s, 2, 0x1000, 8, 0x3000, 8);
  // SQ base beyond RAM: the first fetch faults.
  new Driver(s, 0, 0x7fff0000, 8, 0x5000, 8);
  wr(s, DOORBELL_BASE, 1);
  assert.is(rd(s, qreg(0, QSTATUS)) & 0xff03, QSTATUS_FATAL | (BlockFault.SqFetch << 8));
  assert.is(rd(s, 0x24), CSTS_RDY | CSTS_CFS | (BlockFault.SqFetch << 8) | (0 << 16));
  // CQ base beyond RAM: the post faults.
  const badCq = new Driver(s, 1, 0x6000, 8, 0x7ffff000, 8);
  badCq.submit({ opcode: OP_FLUSH, cid: 2 });
  s.h.drain();
  assert.is(rd(s, qreg(1, QSTATUS)) & 0xff03, QSTATUS_FATAL | (BlockFault.CqPost << 8));
  good.submit({ opcode: OP_FLUSH, cid: 3 });
  s.h.drain();
  assert.equal(good.poll().map((c) => c.cid), [3], 'the other queue carries on');
  // Doorbells to a failed queue are ignored and counted.
  wr(s, DOORBELL_BASE, 2);
  assert.is(s.dev.inspect().queues[0].badDoorbells, 1);
  // EN = 0 resets; a bad size then refuses to start.
  wr(s, qreg(0, QCTRL), 0);
  assert.is(rd(s, qreg(0, QSTATUS)) & QSTATUS_FATAL, 0);
  wr(s, qreg(1, QCTRL), 0);
  assert.is(rd(s, 0x24), CSTS_RDY);
  wr(s, qreg(0, SQSIZE), 1);
  wr(s, qreg(0, QCTRL), QCTRL_EN);
  assert.is(rd(s, qreg(0, QSTATUS)) & 0xff03, QSTATUS_FATAL | (BlockFault.BadConfig << 8));
  assert.is(rd(s, qreg(0, QCTRL)) & QCTRL_EN, 0);
  wr(s, qreg(0, QCTRL), 0);
  wr(s, qreg(0, SQSIZE), 9000 & 0xffff);
  wr(s, qreg(0, QCTRL), QCTRL_EN);
  assert.is((rd(s, qreg(0, QSTATUS)) >> 8) & 0xff, BlockFault.BadConfig, 'more than MAXQ entries');
  wr(s, qreg(0, QCTRL), 0);
  wr(s, qreg(0, SQBASE), 0xffffff00);
  wr(s, qreg(0, SQSIZE), 8);
  wr(s, qreg(0, QCTRL), QCTRL_EN);
  assert.is((rd(s, qreg(0, QSTATUS)) >> 8) & 0xff, BlockFault.BadConfig, 'a ring that wraps 4 GiB');
  // Controller reset clears everything.
  wr(s, 0x20, 1);
  assert.is(rd(s, 0x24), CSTS_RDY);
  assert.is(rd(s, qreg(2, QSTATUS)) & QSTATUS_RUN, 0);
});

test('bad doorbell values are ignored and flagged', () => {
  const s = setup();
  const d = new Driver(s, 0, 0x1000, 8, 0x3000, 8);
  wr(s, DOORBELL_BASE, 8);
  assert.is(rd(s, qreg(0, QSTATUS)) & QSTATUS_DBERR, QSTATUS_DBERR);
  wr(s, DOORBELL_BASE + 4, 3); // nothing posted yet: the head cannot move
  assert.is(s.dev.inspect().queues[0].badDoorbells, 2);
  assert.is(s.dev.inspect().queues[0].cqHead, 0);
  d.submit({ opcode: OP_FLUSH, cid: 1 });
  s.h.drain();
  assert.is(d.poll().length, 1);
  wr(s, DOORBELL_BASE + 8 * 7, 1); // no queue 7
  assert.is(s.dev.faults[BlockFault.BadAccess], 1);
});

// ---- backing store -------------------------------------------------------------------------

test('file backend: read lazily, written through a copy-on-write overlay, the input file byte-identical', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exolab-block-'));
  try {
    const path = join(dir, 'disk.img');
    const image = randomBytes(256 * 1024, 42);
    writeFileSync(path, image);
    const before = sha(readFileSync(path));
    const disk = DiskImage.openFile(path);
    const s = setup({ disk });
    assert.is(rd(s, 0x08), 512);
    const d = new Driver(s, 0, 0x1000, 16, 0x3000, 16);
    const data = randomBytes(37 * 512, 7);
    s.h.mem.writeBytes(0x100000, data);
    d.submit(
      { opcode: OP_WRITE, cid: 1, lba: 100, count: 37, dptr: 0x100000 },
      { opcode: OP_FLUSH, cid: 2 },
      { opcode: OP_READ, cid: 3, lba: 90, count: 60, dptr: 0x200000 },
    );
    s.h.drain();
    assert.equal(d.poll().map((c) => c.status), [SC_SUCCESS, SC_SUCCESS, SC_SUCCESS]);
    const got = s.h.mem.readBytes(0x200000, 60 * 512);
    assert.is(sha(got.subarray(0, 10 * 512)), sha(image.subarray(90 * 512, 100 * 512)), 'unwritten sectors come from the file');
    assert.is(sha(got.subarray(10 * 512, 47 * 512)), sha(data), 'written sectors come from the overlay');
    assert.is(sha(got.subarray(47 * 512)), sha(image.subarray(137 * 512, 150 * 512)));
    assert.is(sha(readFileSync(path)), before, 'the input image is unchanged after WRITE and FLUSH');
    // Export: base + overlay to another file; never onto the input.
    const out = join(dir, 'out.img');
    disk.exportImage(out);
    const merged = image.slice();
    merged.set(data, 100 * 512);
    assert.is(sha(readFileSync(out)), sha(merged));
    assert.throws(() => disk.exportImage(path), (e: unknown) => e instanceof InputError && String(e).includes(path));
    disk.close();
    assert.is(sha(readFileSync(path)), before, 'still unchanged');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad image files are InputErrors naming the file; padding is opt-in', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exolab-block-'));
  try {
    const missing = join(dir, 'nope.img');
    assert.throws(() => DiskImage.openFile(missing), (e: unknown) => e instanceof InputError && String(e).includes(missing));
    const odd = join(dir, 'odd.img');
    writeFileSync(odd, new Uint8Array(1000).fill(0xaa));
    assert.throws(() => DiskImage.openFile(odd), (e: unknown) => e instanceof InputError && String(e).includes(odd) && String(e).includes('1000'));
    const empty = join(dir, 'empty.img');
    writeFileSync(empty, new Uint8Array(0));
    assert.throws(() => DiskImage.openFile(empty), (e: unknown) => e instanceof InputError && String(e).includes(empty));
    assert.throws(() => DiskImage.openFile(dir), (e: unknown) => e instanceof InputError && String(e).includes(dir));
    const padded = DiskImage.openFile(odd, { pad: true });
    assert.is(padded.sectors, 2);
    const buf = new Uint8Array(1024);
    padded.read(0, buf);
    assert.ok(buf.subarray(0, 1000).every((b) => b === 0xaa) && buf.subarray(1000).every((b) => b === 0));
    padded.close();
    assert.throws(() => DiskImage.blank(1000), (e: unknown) => e instanceof InputError);
    assert.throws(() => DiskImage.fromBytes(new Uint8Array(10)), (e: unknown) => e instanceof InputError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- state ---------------------------------------------------------------------------------

test('saveState/loadState mid-flight: with the event queue restored, and with events rebuilt', () => {
  for (const queueRestored of [true, false]) {
    const s = setup();
    enableMsix(s);
    const d = new Driver(s, 0, 0x1000, 8, 0x3000, 8);
    s.h.mem.writeBytes(0x100000, randomBytes(16 * 512, 5));
    d.submit({ opcode: OP_WRITE, cid: 1, lba: 3, count: 16, dptr: 0x100000 });
    s.h.drain();
    d.poll();
    d.submit({ opcode: OP_READ, cid: 2, lba: 3, count: 16, dptr: 0x200000 }, { opcode: OP_FLUSH, cid: 3 });
    const saved = JSON.parse(JSON.stringify(s.dev.saveState()));
    const events = s.h.events.saveState();
    const ram = s.h.mem.ram8.slice();
    const pciState = s.dev.fn.saveState();
    s.h.drain();
    const expect = d.poll();

    const h2 = new TestHost();
    h2.mem.ram8.set(ram);
    h2.t = s.h.t;
    const s2 = setup({ host: h2 });
    s2.dev.fn.loadState(pciState);
    if (queueRestored) h2.events.loadState(events);
    s2.dev.loadState(saved, queueRestored);
    assert.is(s2.disk.overlaySectors, 16, 'the overlay travels with the state');
    h2.drain();
    const d2 = Object.assign(new Driver(s2, 0, 0x1000, 8, 0x3000, 8, true, false), { sqTail: d.sqTail, cqHead: 1, phase: 1 });
    assert.equal(d2.poll(), expect);
    assert.is(sha(h2.mem.readBytes(0x200000, 16 * 512)), sha(s.h.mem.readBytes(0x200000, 16 * 512)));
    assert.is(h2.msis.length, 2, 'the MSI-X table came back too');
  }
  const s = setup();
  assert.throws(() => s.dev.loadState({ ...s.dev.saveState(), version: 99 }));
});

// ---- the guest is not trusted --------------------------------------------------------------

const regOffsets = fc.oneof(
  fc.integer({ min: 0, max: 0x2000 + 16 }),
  fc.constantFrom(0x20, ...[0, 1, 2, 3].flatMap((q) => [SQBASE, SQSIZE, CQBASE, CQSIZE, QCTRL, QVEC].map((r) => qreg(q, r)))),
  fc.constantFrom(...[0, 1, 2, 3].flatMap((q) => [DOORBELL_BASE + 8 * q, DOORBELL_BASE + 8 * q + 4])),
);
const op = fc.oneof(
  fc.record({ k: fc.constant('write' as const), off: regOffsets, size: fc.constantFrom(1, 2, 4, 4, 4), v: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 40 })) }),
  fc.record({ k: fc.constant('read' as const), off: regOffsets, size: fc.constantFrom(1, 2, 4) }),
  fc.record({ k: fc.constant('sqe' as const), at: fc.integer({ min: 0, max: 63 }), bytes: fc.uint8Array({ minLength: 64, maxLength: 64 }) }),
  fc.record({ k: fc.constant('run' as const), dt: fc.integer({ min: 0, max: 200000 }) }),
  fc.record({ k: fc.constant('fault' as const), on: fc.boolean() }),
);

test('garbage register values and random SQ entries never throw (property)', () => {
  fc.assert(fc.property(fc.boolean(), fc.array(op, { maxLength: 60 }), (configured, ops) => {
    const s = setup({ queues: 4, disk: DiskImage.blank(64 * 512) });
    if (configured) { enableMsix(s); new Driver(s, 0, 0x1000, 64, 0x3000, 4); }
    for (const o of ops) {
      if (o.k === 'write') s.dev.mmioWrite(o.off, o.size, o.v);
      else if (o.k === 'read') s.dev.mmioRead(o.off, o.size);
      else if (o.k === 'sqe') s.h.mem.writeBytes(0x1000 + o.at * 64, o.bytes);
      else if (o.k === 'fault') s.h.fault = o.on ? [0, 0x200000] : null;
      else s.h.run(s.h.t + o.dt);
      for (const q of s.dev.inspect().queues) {
        assert.ok(q.inFlight <= BLOCK_QUEUE_DEPTH);
        assert.ok(q.sqSize === 0 || q.state !== 'running' || (q.sqHead < q.sqSize && q.cqTail < q.cqSize));
      }
    }
    s.h.fault = null;
    s.h.drain();
    s.dev.loadState(JSON.parse(JSON.stringify(s.dev.saveState())));
  }), { numRuns: 400, seed: 0xb10c });
});

test('random SQ entries on a live queue always complete with some status (property)', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 64, maxLength: 64 }), { minLength: 1, maxLength: 15 }), (entries) => {
    const s = setup({ queues: 1, disk: DiskImage.blank(64 * 512) });
    const d = new Driver(s, 0, 0x3f0000, 16, 0x3f8000, 16);
    entries.forEach((e, k) => s.h.mem.writeBytes(0x3f0000 + k * 64, e));
    wr(s, DOORBELL_BASE, entries.length);
    s.h.drain();
    const got = d.poll();
    assert.is(got.length, entries.length);
    got.forEach((c, k) => assert.is(c.cid, entries[k][2] | (entries[k][3] << 8)));
  }), { numRuns: 300, seed: 7 });
});

test.run();
