// MSI-X: capability layout, table read-back and masks, pending bits on vector mask, function
// mask and enable, release on unmask, PBA, bad accesses never thrown, state save/restore.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { MmioBus } from '../../machine/bus.js';
import { EventQueue } from '../../machine/events.js';
import { Prng } from '../../machine/prng.js';
import { CAP_MSIX, CFG_COMMAND, CMD_MEMORY, PciBus, type PciFunction } from '../../machine/pci.js';
import { DMA_OK, type DeviceHost } from '../../machine/device.js';
import { Msix, MSIX_CTRL_ENABLE, MSIX_CTRL_FUNC_MASK } from '../../machine/msix.js';

class FakeHost implements DeviceHost {
  t = 0;
  readonly events = new EventQueue();
  readonly rng = new Prng(1);
  readonly msis: { address: number; data: number }[] = [];
  readonly dma = { read: () => DMA_OK, write: () => DMA_OK };
  now(): number { return this.t; }
  msi(address: number, data: number): void { this.msis.push({ address, data }); }
}

function setup(vectors = 4): { m: Msix; h: FakeHost; fn: PciFunction; ctrlAt: number } {
  const h = new FakeHost();
  const m = new Msix('test-msix', vectors, h);
  const pci = new PciBus(new MmioBus());
  const fn = pci.attach(3, 0, {
    name: 'dev', vendor: 0x1234, device: 0x5678, classCode: 0x020000,
    bars: [{ size: 4096, device: m }, { size: m.barSize(), device: m }], capabilities: [m.capability(1)],
  });
  m.attach(fn);
  return { m, h, fn, ctrlAt: fn.capOffsets.get(CAP_MSIX)! + 2 };
}

/** Write Message Control through configuration space, as the guest does. */
function ctrl(s: ReturnType<typeof setup>, v: number): void { s.fn.mmioWrite(s.ctrlAt, 2, v); }
const entry = (v: number, reg: number) => v * 16 + reg * 4;
function program(m: Msix, v: number, address: number, data: number, masked: boolean): void {
  m.mmioWrite(entry(v, 0), 4, address);
  m.mmioWrite(entry(v, 1), 4, 0);
  m.mmioWrite(entry(v, 2), 4, data);
  m.mmioWrite(entry(v, 3), 4, masked ? 1 : 0);
}

test('capability: id 0x11, table size - 1, table at offset 0 and PBA after it in the given BAR', () => {
  const s = setup(5);
  const off = s.fn.capOffsets.get(CAP_MSIX)!;
  assert.is(s.fn.mmioRead(off, 1), 0x11);
  assert.is(s.fn.mmioRead(off + 2, 2), 4);
  assert.is(s.fn.mmioRead(off + 4, 4), 0 | 1);
  assert.is(s.fn.mmioRead(off + 8, 4), (5 * 16) | 1);
  assert.is(s.m.pbaOffset(), 80);
  assert.ok(s.m.barSize() >= 4096);
  assert.is(new Msix('big', 2048, s.h).barSize(), 65536);
  assert.throws(() => new Msix('none', 0, s.h));
  assert.throws(() => new Msix('many', 2049, s.h));
});

test('message control: table size is read-only even though the guest writes the upper byte', () => {
  const s = setup(300); // N-1 = 299 = 0x12b: bits 10:8 = 1
  ctrl(s, 0xffff);
  assert.is(s.fn.mmioRead(s.ctrlAt, 2), MSIX_CTRL_ENABLE | MSIX_CTRL_FUNC_MASK | 299);
  ctrl(s, 0);
  assert.is(s.fn.mmioRead(s.ctrlAt, 2), 299);
});

test('reset: every vector masked; table entries read back with reserved bits masked', () => {
  const s = setup();
  for (let v = 0; v < 4; v++) assert.is(s.m.mmioRead(entry(v, 3), 4), 1);
  s.m.mmioWrite(entry(2, 0), 4, 0xfee01003);
  s.m.mmioWrite(entry(2, 1), 4, 0x12345678);
  s.m.mmioWrite(entry(2, 2), 4, 0xdeadbeef);
  s.m.mmioWrite(entry(2, 3), 4, 0xfffffffe);
  assert.is(s.m.mmioRead(entry(2, 0), 4) >>> 0, 0xfee01000);
  assert.is(s.m.mmioRead(entry(2, 1), 4) >>> 0, 0x12345678);
  assert.is(s.m.mmioRead(entry(2, 2), 4) >>> 0, 0xdeadbeef);
  assert.is(s.m.mmioRead(entry(2, 3), 4), 0);
  const i = s.m.inspect();
  assert.equal(i.vectors[2], { address: 0xfee01000, data: 0xdeadbeef, masked: false, pending: false });
  assert.is(i.vectors[1].masked, true);
});

test('enabled and unmasked: fire sends at once', () => {
  const s = setup();
  ctrl(s, MSIX_CTRL_ENABLE);
  program(s.m, 1, 0xfee02000, 0x41, false);
  s.m.fire(1);
  assert.equal(s.h.msis, [{ address: 0xfee02000, data: 0x41 }]);
  assert.is(s.m.inspect().counters.fired, 1);
});

test('masked vector sets its pending bit and fires on unmask, once', () => {
  const s = setup();
  ctrl(s, MSIX_CTRL_ENABLE);
  program(s.m, 2, 0xfee00000, 0x50, true);
  s.m.fire(2);
  s.m.fire(2);
  assert.equal(s.h.msis, []);
  assert.is(s.m.mmioRead(s.m.pbaOffset(), 4), 1 << 2);
  assert.is(s.m.inspect().vectors[2].pending, true);
  // The table is read when the message leaves: reprogram while masked.
  s.m.mmioWrite(entry(2, 2), 4, 0x51);
  s.m.mmioWrite(entry(2, 3), 4, 0);
  assert.equal(s.h.msis, [{ address: 0xfee00000, data: 0x51 }]);
  assert.is(s.m.mmioRead(s.m.pbaOffset(), 4), 0);
  const c = s.m.inspect().counters;
  assert.is(c.deferred, 2);
  assert.is(c.releasedOnUnmask, 1);
  s.m.mmioWrite(entry(2, 3), 4, 1);
  s.m.mmioWrite(entry(2, 3), 4, 0);
  assert.is(s.h.msis.length, 1);
});

test('function mask defers every vector; clearing it releases the pending ones in order', () => {
  const s = setup();
  ctrl(s, MSIX_CTRL_ENABLE | MSIX_CTRL_FUNC_MASK);
  program(s.m, 0, 0xfee00000, 0x30, false);
  program(s.m, 3, 0xfee01000, 0x33, false);
  program(s.m, 1, 0xfee00000, 0x31, true);
  s.m.fire(3);
  s.m.fire(1);
  s.m.fire(0);
  assert.equal(s.h.msis, []);
  assert.is(s.m.inspect().functionMask, true);
  ctrl(s, MSIX_CTRL_ENABLE);
  assert.equal(s.h.msis.map((x) => x.data), [0x30, 0x33]);
  assert.is(s.m.inspect().vectors[1].pending, true); // still masked per vector
  s.m.mmioWrite(entry(1, 3), 4, 0);
  assert.equal(s.h.msis.map((x) => x.data), [0x30, 0x33, 0x31]);
});

test('enable bit: nothing is sent while MSI-X is off; enabling releases', () => {
  const s = setup();
  program(s.m, 0, 0xfee00000, 0x40, false);
  s.m.fire(0);
  assert.equal(s.h.msis, []);
  assert.is(s.m.inspect().enabled, false);
  s.fn.mmioWrite(CFG_COMMAND, 2, CMD_MEMORY); // an unrelated config write changes nothing
  assert.equal(s.h.msis, []);
  ctrl(s, MSIX_CTRL_ENABLE);
  assert.equal(s.h.msis, [{ address: 0xfee00000, data: 0x40 }]);
});

test('a message outside 0xFEExxxxx still goes to the host; a high address is dropped and counted', () => {
  const s = setup();
  ctrl(s, MSIX_CTRL_ENABLE);
  program(s.m, 0, 0x00001000, 7, false);
  s.m.fire(0);
  assert.equal(s.h.msis, [{ address: 0x1000, data: 7 }]);
  s.m.mmioWrite(entry(0, 1), 4, 1);
  s.m.fire(0);
  assert.is(s.h.msis.length, 1);
  assert.is(s.m.inspect().counters.highAddress, 1);
});

test('bad accesses are counted, never thrown: sizes, misalignment, outside, PBA writes, bad vectors', () => {
  const s = setup();
  assert.is(s.m.mmioRead(0, 2), 0xffff);
  assert.is(s.m.mmioRead(2, 4), -1);
  assert.is(s.m.mmioRead(0x800, 4), -1);
  s.m.mmioWrite(s.m.pbaOffset(), 4, 0xffffffff);
  s.m.mmioWrite(0, 1, 0xff);
  s.m.fire(99);
  s.m.fire(-1);
  s.m.fire(0.5);
  assert.is(s.m.inspect().counters.badAccesses, 8);
  assert.is(s.m.mmioRead(s.m.pbaOffset(), 4), 0);
  assert.is(s.m.mmioRead(0, 4), 0);
});

test('PBA covers many vectors: bit k of dword k/32', () => {
  const s = setup(100);
  ctrl(s, MSIX_CTRL_ENABLE);
  s.m.fire(0); s.m.fire(33); s.m.fire(64); s.m.fire(99);
  assert.is(s.m.mmioRead(s.m.pbaOffset(), 4), 1);
  assert.is(s.m.mmioRead(s.m.pbaOffset() + 4, 4), 2);
  assert.is(s.m.mmioRead(s.m.pbaOffset() + 8, 4), 1);
  assert.is(s.m.mmioRead(s.m.pbaOffset() + 12, 4), 1 << 3);
});

test('saveState/loadState round-trips table, pending bits and counters', () => {
  const a = setup();
  ctrl(a, MSIX_CTRL_ENABLE);
  program(a.m, 1, 0xfee03000, 0x77, true);
  a.m.fire(1);
  const saved = JSON.parse(JSON.stringify(a.m.saveState()));
  const b = setup();
  b.fn.loadState(a.fn.saveState());
  b.m.loadState(saved);
  assert.equal(b.m.inspect().vectors, a.m.inspect().vectors);
  assert.equal(b.m.inspect().counters, a.m.inspect().counters);
  b.m.mmioWrite(entry(1, 3), 4, 0);
  assert.equal(b.h.msis, [{ address: 0xfee03000, data: 0x77 }]);
  assert.throws(() => b.m.loadState({ ...saved, version: 99 }));
  assert.throws(() => setup(8).m.loadState(saved));
});

test('property: arbitrary BAR and config traffic never throws and keeps the invariants', () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: -8, max: 200 }), fc.constantFrom(1, 2, 4), fc.integer()), { maxLength: 60 }),
    (ops) => {
      const s = setup(5);
      for (const [kind, off, size, value] of ops) {
        if (kind === 0) s.m.mmioRead(off, size);
        else if (kind === 1 || kind === 2) s.m.mmioWrite(off, size, value);
        else if (kind === 3) s.m.fire(off % 7);
        else if (kind === 4) ctrl(s, value & 0xffff);
        else s.fn.mmioWrite(s.ctrlAt + 1, 1, value & 0xff);
      }
      const i = s.m.inspect();
      assert.is(s.fn.mmioRead(s.ctrlAt, 2) & 0x3fff, 4);
      const c = i.counters;
      const pending = i.vectors.filter((v) => v.pending).length;
      assert.ok(c.releasedOnUnmask + pending <= c.deferred);
      // Deliverable vectors never stay pending.
      if (i.enabled && !i.functionMask) for (const v of i.vectors) assert.ok(!(v.pending && !v.masked));
    },
  ), { numRuns: 300 });
});

test.run();
