// The multi-queue NIC driven from TypeScript: descriptors in a PhysicalMemory, registers by
// mmioWrite, time by the EventQueue. Loop TX->RX byte-exact, pcap replay to RX and back out to
// a record: file, ring-full accounting, FENCE/DRAINED timing from the profile, and guest
// nonsense (bad rings, descriptors, register writes) as error status, never a host exception.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MmioBus } from '../../machine/bus.js';
import { DMA_OK, DMA_OUTSIDE_RAM, type DeviceHost, type DmaPort } from '../../machine/device.js';
import { EventQueue } from '../../machine/events.js';
import { PhysicalMemory } from '../../machine/memory.js';
import { PciBus } from '../../machine/pci.js';
import { Prng } from '../../machine/prng.js';
import { loadProfile, type Profile } from '../../machine/profile.js';
import { parsePcap, pcapGlobalHeader, readPcap, PCAP_RECORD_HEADER } from '../../machine/pcap.js';
import { rateCycles, ratioApply } from '../../machine/units.js';
import { LOOP_CAPACITY, parseWire, type Wire } from '../../machine/wire.js';
import {
  CMD_EOP, CMD_RS, DescError, DESC_SIZE, descDecode, descEncode, Nic, NIC_FETCH_WINDOW, NIC_QUEUE_BASE, NIC_QUEUE_STRIDE,
  QS_DRAINED, QS_FENCED, QS_RXERR, QS_TXERR, Q_FENCE, Q_RXEN, Q_TXEN, STA_DD, STA_EOP, STA_ERR_SHIFT,
  NIC_RULE_BASE, RULE_UDP_PORT,
} from '../../machine/nic.js';
import { repoPath } from '../helpers/paths.js';
import { haveTshark, sharedCaptures, tsharkLengths } from './pcap-helpers.js';

const OUT = repoPath('build', 'nic-test');
mkdirSync(OUT, { recursive: true });
const TSHARK = haveTshark();

class TestHost implements DeviceHost {
  t = 0;
  readonly events = new EventQueue();
  readonly rng = new Prng(7);
  readonly msis: number[] = [];
  readonly dma: DmaPort;
  constructor(readonly mem: PhysicalMemory) {
    const ok = (iova: number, n: number) => (iova >>> 0) + n <= mem.size ? DMA_OK : DMA_OUTSIDE_RAM;
    this.dma = {
      read: (_rid, iova, dst) => { const s = ok(iova, dst.length); if (s === DMA_OK) dst.set(mem.ram8.subarray(iova >>> 0, (iova >>> 0) + dst.length)); return s; },
      write: (_rid, iova, src) => { const s = ok(iova, src.length); if (s === DMA_OK) mem.ram8.set(src, iova >>> 0); return s; },
    };
  }
  now(): number { return this.events.firing >= 0 ? this.events.firing : this.t; }
  msi(_a: number, data: number): void { this.msis.push(data); }
  run(to: number): void { this.events.runUntil(to); this.t = to; }
  /** Run until nothing is pending (bounded). */
  settle(limit = Number.POSITIVE_INFINITY): void { while (this.events.size > 0 && this.events.next() <= limit) this.run(this.events.next()); }
}

const PROFILE = loadProfile('default');

function rig(wire: string | ((h: TestHost) => Wire), queues = 1, costs: Profile['nic'] = PROFILE.nic, ram = 8 << 20) {
  const h = new TestHost(new PhysicalMemory(ram));
  const w = typeof wire === 'string' ? parseWire(wire, { clockHz: PROFILE.clockHz, rng: h.rng }) : wire(h);
  const nic = new Nic(h, new PciBus(new MmioBus()), costs, { queues, wire: w });
  return { h, nic, w, mem: h.mem };
}
type Rig = ReturnType<typeof rig>;

const Q = (q: number, off: number) => NIC_QUEUE_BASE + NIC_QUEUE_STRIDE * q + off;
const TXBASE = 0x00, TXSIZE = 0x04, TXHEAD = 0x08, TXTAIL = 0x0c, RXBASE = 0x10, RXSIZE = 0x14, RXHEAD = 0x18, RXTAIL = 0x1c;
const QCTRL = 0x20, QSTATUS = 0x24, INFLIGHT = 0x38;
const wr = (r: Rig, off: number, v: number) => r.nic.mmioWrite(off, 4, v);
const rd = (r: Rig, off: number) => r.nic.mmioRead(off, 4) >>> 0;

function ring(r: Rig, q: number, dir: 'tx' | 'rx', base: number, size: number): void {
  wr(r, Q(q, dir === 'tx' ? TXBASE : RXBASE), base);
  wr(r, Q(q, dir === 'tx' ? TXSIZE : RXSIZE), size);
  wr(r, Q(q, QCTRL), rd(r, Q(q, QCTRL)) | (dir === 'tx' ? Q_TXEN : Q_RXEN));
}
function putDesc(r: Rig, base: number, slot: number, addr: number, length: number, cmd: number): void {
  r.mem.ram8.set(descEncode({ addr, addrHi: 0, length, cmd, status: 0, hash: 0 }), base + slot * DESC_SIZE);
}
const getDesc = (r: Rig, base: number, slot: number) => descDecode(r.mem.ram8.subarray(base + slot * DESC_SIZE, base + (slot + 1) * DESC_SIZE));

const TXR = 0x10000, RXR = 0x20000, TXBUF = 0x100000, RXBUF = 0x400000, BUF = 2048;

/** RX ring of `n` 2 KiB buffers, all posted (tail = n - 1: one slot stays empty). */
function rxPostAll(r: Rig, q: number, size: number, base = RXR + q * 0x10000, buf = RXBUF + q * 0x100000): void {
  ring(r, q, 'rx', base, size);
  for (let k = 0; k < size; k++) putDesc(r, base, k, buf + k * BUF, BUF, 0);
  wr(r, Q(q, RXTAIL), size - 1);
}

function accounting(r: Rig): void {
  const t = r.nic.inspect().totals;
  assert.is(t.received, t.delivered + t.dropped + t.inFlight, 'received = delivered + dropped + in flight');
  const perQueue = r.nic.inspect().queues.reduce((s, q) => s + q.received, 0);
  assert.is(perQueue, t.received);
}

test('identity: a PCI Ethernet function with two BARs and MSI-X for queues + 1', () => {
  const r = rig('loop', 4);
  assert.is(r.nic.fn.mmioRead(0, 2), 0xe1ab);
  assert.is(r.nic.fn.mmioRead(0x0a, 2), 0x0200);
  assert.is(r.nic.msix.vectors, 5);
  assert.is(rd(r, 0x008), 4);
  assert.is(rd(r, 0x004) & 1, 1, 'link up');
});

test('loop: TX frames come back into RX byte-exact, with DD|EOP and the length', () => {
  const r = rig('loop');
  rxPostAll(r, 0, 16);
  ring(r, 0, 'tx', TXR, 16);
  const sizes = [60, 64, 100, 1514, 42, 333, 1000];
  const prng = new Prng(3);
  const frames = sizes.map((n) => Uint8Array.from({ length: n }, () => prng.next() & 0xff));
  frames.forEach((f, k) => { r.mem.ram8.set(f, TXBUF + k * BUF); putDesc(r, TXR, k, TXBUF + k * BUF, f.length, CMD_EOP | CMD_RS); });
  wr(r, Q(0, TXTAIL), frames.length);
  r.h.settle();
  frames.forEach((f, k) => {
    const d = getDesc(r, RXR, k);
    assert.is(d.status, STA_DD | STA_EOP, `rx ${k}`);
    assert.is(d.length, f.length);
    assert.ok(Buffer.from(r.mem.ram8.subarray(RXBUF + k * BUF, RXBUF + k * BUF + f.length)).equals(f), `frame ${k} bytes`);
    assert.is(getDesc(r, TXR, k).status, STA_DD);
  });
  assert.is(rd(r, Q(0, TXHEAD)), frames.length);
  assert.is(rd(r, Q(0, RXHEAD)), frames.length);
  assert.is(r.nic.inspect().totals.delivered, frames.length);
  accounting(r);
});

test('TX gather: descriptors up to EOP make one frame', () => {
  const r = rig('loop');
  rxPostAll(r, 0, 8);
  ring(r, 0, 'tx', TXR, 8);
  r.mem.ram8.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], TXBUF);
  putDesc(r, TXR, 0, TXBUF, 4, 0);
  putDesc(r, TXR, 1, TXBUF + 4, 6, CMD_EOP | CMD_RS);
  wr(r, Q(0, TXTAIL), 2);
  r.h.settle();
  assert.is(getDesc(r, RXR, 0).length, 10);
  assert.equal(Array.from(r.mem.ram8.subarray(RXBUF, RXBUF + 10)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

for (const file of sharedCaptures('replaying each shared capture into RX and back out')) {
  test(`replay ${basename(file)} into RX, then TX it back out to a record: file`, () => {
    const cap = readPcap(file);
    const out = join(OUT, `echo-${basename(file)}`);
    const r = rig(`pcap:${file}+record:${out}`, 1, PROFILE.nic, 16 << 20);
    const size = 1024;
    assert.ok(cap.records.length < size);
    rxPostAll(r, 0, size, RXR, RXBUF);
    r.h.settle();
    const t = r.nic.inspect().totals;
    const tooLong = cap.records.filter((x) => x.data.length > 1514).length;
    assert.is(t.received, cap.records.length);
    assert.is(t.delivered, cap.records.length - tooLong);
    assert.is(t.drops['too long'], tooLong);
    accounting(r);
    // Echo: every delivered buffer goes back out, in order.
    ring(r, 0, 'tx', TXR, size);
    const sent: Uint8Array[] = [];
    for (let k = 0; k < t.delivered; k++) {
      const d = getDesc(r, RXR, k);
      assert.is(d.status, STA_DD | STA_EOP);
      putDesc(r, TXR, k, d.addr, d.length, CMD_EOP | CMD_RS);
      sent.push(r.mem.ram8.slice(d.addr, d.addr + d.length));
    }
    wr(r, Q(0, TXTAIL), t.delivered);
    r.h.settle();
    r.w.close();
    const echoed = parsePcap(readFileSync(out), out);
    assert.is(echoed.records.length, sent.length);
    assert.is(echoed.bytes, sent.reduce((s, f) => s + f.length, 0));
    assert.ok(echoed.records.every((x, k) => Buffer.from(x.data).equals(sent[k]!)));
    const kept = cap.records.filter((x) => x.data.length <= 1514);
    assert.ok(kept.every((x, k) => Buffer.from(x.data).equals(sent[k]!)), 'echo equals the capture');
    if (TSHARK) assert.is(tsharkLengths(out).length, sent.length);
  });
}

test('ring full: frames beyond the posted RX buffers are dropped and counted', () => {
  const r = rig('gen:rate=1/us,size=64,count=10');
  rxPostAll(r, 0, 4); // 3 usable
  r.h.settle();
  const t = r.nic.inspect().totals;
  assert.is(t.received, 10);
  assert.is(t.delivered, 3);
  assert.is(t.drops['ring full'], 7);
  assert.is(rd(r, 0x040), 7, 'RX drop register for ring full');
  accounting(r);
});

/** A little-endian capture of raw records: [incl_len, orig_len, bytes present] each. */
function malformedCapture(records: [number, number, number][]): Uint8Array {
  const parts: Uint8Array[] = [pcapGlobalHeader(65535)];
  records.forEach(([incl, orig, present], k) => {
    const b = new Uint8Array(PCAP_RECORD_HEADER + present).fill(0x40 + k), v = new DataView(b.buffer);
    v.setUint32(0, 1, true);
    v.setUint32(4, k * 1000, true);
    v.setUint32(8, incl, true);
    v.setUint32(12, orig, true);
    parts.push(b);
  });
  return Buffer.concat(parts);
}

// Regression: records the pcap: wire refused were counted only inside the wire, so the NIC's
// totals (and `exolab boot --stats`) showed a clean replay of a broken file.
test('pcap: records the wire refuses are the wire\'s own line in the NIC\'s totals, by reason, as the replay reaches them', () => {
  const file = join(OUT, 'malformed.pcap');
  writeFileSync(file, malformedCapture([
    [0, 0, 0],       // zero length, before the first kept record
    [60, 60, 60],    // kept
    [60, 50, 60],    // incl_len > orig_len
    [64, 64, 64],    // kept
    [0, 0, 0],       // zero length
    [70, 70, 70],    // kept
    [60, 60, 20],    // truncated: the file ends inside the record
  ]));
  const r = rig(`pcap:${file}@1/us`);
  const none = { truncated: 0, 'incl_len > orig_len': 0, 'zero length': 0, 'loop full': 0 };
  assert.equal(r.nic.inspect().totals.wire, { dropped: 0, drops: none }, 'nothing counted before the wire starts');
  rxPostAll(r, 0, 16);
  r.h.run(r.h.now()); // the first kept record arrives as the queue comes up
  let t = r.nic.inspect().totals;
  assert.is(t.received, 1);
  assert.equal(t.wire, { dropped: 2, drops: { ...none, 'zero length': 1, 'incl_len > orig_len': 1 } }, 'reached: the records up to the next kept one');
  const restored = rig(`pcap:${file}@1/us`);
  restored.nic.loadState(JSON.parse(JSON.stringify(r.nic.saveState())));
  assert.equal(restored.nic.inspect().totals.wire, t.wire, 'a restored NIC counts the same');
  r.h.settle();
  t = r.nic.inspect().totals;
  assert.is(t.received, 3, 'the NIC saw the kept records only');
  assert.is(t.delivered, 3);
  assert.is(t.dropped, 0);
  accounting(r);
  assert.equal(t.wire, { dropped: 4, drops: { ...none, truncated: 1, 'incl_len > orig_len': 1, 'zero length': 2 } });
  assert.is(t.received + t.wire.dropped, 7, 'every record of the file accounted for');
  assert.equal(r.w.inspect().drops, t.wire.drops, 'the wire reports the same');
});

test('loop: frames sent while the loop holds LOOP_CAPACITY are the wire\'s drops (loop full)', () => {
  const r = rig('loop');
  const frame = new Uint8Array(60);
  for (let k = 0; k < LOOP_CAPACITY + 5; k++) r.w.transmit(0, frame); // a burst with nobody taking
  const t = r.nic.inspect().totals;
  assert.is(t.wire.drops['loop full'], 5);
  assert.is(t.wire.dropped, 5);
  assert.is(t.received, 0);
});

test('steering: a UDP port rule sends a flow to queue 1; the hash spreads flows over enabled queues', () => {
  const r = rig('gen:rate=1/us,size=64,flows=4,count=40', 2);
  rxPostAll(r, 0, 64);
  rxPostAll(r, 1, 64);
  r.h.settle();
  const [a, b] = r.nic.inspect().queues.map((q) => q.rx.frames);
  assert.is(a! + b!, 40);
  assert.ok(a! > 0 && b! > 0, `hash spreads: ${a} / ${b}`);
  const r2 = rig('gen:rate=1/us,size=64,flows=4,count=40', 2);
  rxPostAll(r2, 0, 64);
  rxPostAll(r2, 1, 64);
  wr(r2, NIC_RULE_BASE + 4, 9000);
  wr(r2, NIC_RULE_BASE, RULE_UDP_PORT | (1 << 8));
  r2.h.settle();
  assert.equal(r2.nic.inspect().queues.map((q) => q.rx.frames), [0, 40]);
});

// FENCE: the fence takes effect fenceLatency after the write; then q in flight drain in q / rate.
function fenceCase(costs: Profile['nic'], posted: number): { q: number; drain: number; total: number } {
  const r = rig('record:' + join(OUT, 'fence.pcap'), 1, costs);
  const L = costs.perDescriptor + ratioApply(costs.dmaPerByte, 64), P = rateCycles(costs.queueRate, 1);
  assert.is(rateCycles(costs.queueRate, 7), 7 * P, 'the profile rate is a whole number of cycles per descriptor');
  ring(r, 0, 'tx', TXR, 256);
  for (let k = 0; k < posted; k++) putDesc(r, TXR, k, TXBUF + 64 * k, 64, CMD_EOP | CMD_RS);
  wr(r, Q(0, TXTAIL), posted);
  // Completion j is at L + j*P. Write FENCE so that it takes effect right at a completion.
  let j = 0;
  while (L + j * P < costs.fenceLatency) j++;
  const effect = L + j * P, t0 = effect - costs.fenceLatency;
  r.h.run(t0);
  wr(r, Q(0, QCTRL), Q_TXEN | Q_FENCE);
  r.h.run(effect - 1);
  assert.is(rd(r, Q(0, QSTATUS)) & QS_FENCED, 0);
  r.h.run(effect);
  assert.is(rd(r, Q(0, QSTATUS)) & (QS_FENCED | QS_DRAINED), QS_FENCED);
  const q = rd(r, Q(0, INFLIGHT)) & 0xffff;
  assert.is(q, Math.min(NIC_FETCH_WINDOW, posted - j - 1));
  const drain = rateCycles(costs.queueRate, q);
  r.h.run(effect + drain - 1);
  assert.is(rd(r, Q(0, QSTATUS)) & QS_DRAINED, 0, 'not drained one cycle early');
  r.h.run(effect + drain);
  assert.is(rd(r, Q(0, QSTATUS)) & QS_DRAINED, QS_DRAINED);
  assert.is(r.nic.inspect().queues[0]!.drainedAt, effect + drain);
  // Nothing more is fetched while fenced.
  r.h.settle();
  assert.is(rd(r, Q(0, TXHEAD)), j + 1 + q);
  r.w.close();
  return { q, drain, total: effect + drain - t0 };
}

test('FENCE with q descriptors in flight sets DRAINED exactly q / rate after the fence takes effect', () => {
  const a = fenceCase(PROFILE.nic, 40), b = fenceCase(PROFILE.nic, 64);
  assert.is(a.q, 40 - 21);
  assert.is(b.q, 64 - 21);
  assert.is(a.drain, a.q * 400); // 5/us at 2 GHz: 400 cycles per descriptor
  assert.is(b.drain, b.q * 400);
});

test('seed-chapter profile: q = 64 in flight drain in 0.4 ms; FENCE write to DRAINED = t_fence + q/r = 0.65 ms', () => {
  const p = loadProfile('seed-chapter');
  const c = fenceCase(p.nic, 200);
  assert.is(c.q, 64);
  assert.is(c.drain, 800000);
  assert.is(c.total, 1300000);
});

// ---- distrust of the guest ---------------------------------------------------------------------

test('a ring outside memory stops the engine with a ring-fetch error; RX frames drop as iommu fault', () => {
  const r = rig('gen:rate=1/us,size=64,count=3', 1, PROFILE.nic, 1 << 20);
  ring(r, 0, 'tx', 0xfff00000, 16);
  wr(r, Q(0, TXTAIL), 1);
  assert.is((rd(r, Q(0, QSTATUS)) >>> 8) & 0xf, DescError.RingFetch);
  ring(r, 0, 'rx', 0xfff00000, 16);
  wr(r, Q(0, RXTAIL), 5);
  r.h.settle();
  const t = r.nic.inspect().totals;
  assert.is(t.drops['iommu fault'], 1);
  assert.is(t.drops['ring full'], 2, 'the stopped engine takes nothing more');
  accounting(r);
});

test('zero-length or non-power-of-two rings, tails past the ring and head writes are refused', () => {
  const r = rig('loop');
  ring(r, 0, 'tx', TXR, 0);
  assert.is(rd(r, Q(0, QSTATUS)) & QS_TXERR, QS_TXERR);
  assert.is((rd(r, Q(0, QSTATUS)) >>> 8) & 0xf, DescError.RingConfig);
  wr(r, Q(0, QCTRL), 0);
  ring(r, 0, 'rx', RXR, 12);
  assert.is((rd(r, Q(0, QSTATUS)) >>> 12) & 0xf, DescError.RingConfig);
  const r2 = rig('loop');
  ring(r2, 0, 'tx', TXR, 8);
  const before = r2.nic.badAccesses;
  wr(r2, Q(0, TXHEAD), 5);
  assert.is(rd(r2, Q(0, TXHEAD)), 0, 'head is device-owned');
  assert.is(r2.nic.badAccesses, before + 1);
  wr(r2, Q(0, TXTAIL), 8);
  assert.is((rd(r2, Q(0, QSTATUS)) >>> 8) & 0xf, DescError.BadTail);
  assert.is(rd(r2, Q(0, TXTAIL)), 0);
});

test('bad descriptors and buffers anywhere: error status in the descriptor, counted drops', () => {
  const r = rig('loop', 1, PROFILE.nic, 1 << 20);
  const RXR1 = 0x8000, TXR1 = 0x9000;
  ring(r, 0, 'rx', RXR1, 8);
  putDesc(r, RXR1, 0, 0xf0000000, 2048, 0); // buffer outside RAM
  putDesc(r, RXR1, 1, 0x10000, 0, 0);       // zero-length buffer
  putDesc(r, RXR1, 2, 0x10000, 16, 0);      // too small for the frame
  wr(r, Q(0, RXTAIL), 3);
  ring(r, 0, 'tx', TXR1, 8);
  for (let k = 0; k < 3; k++) putDesc(r, TXR1, k, 0x20000, 60, CMD_EOP | CMD_RS);
  putDesc(r, TXR1, 3, 0xfffff000, 60, CMD_EOP | CMD_RS);   // TX buffer outside RAM
  r.mem.ram8.set(descEncode({ addr: 0x20000, addrHi: 1, length: 60, cmd: CMD_EOP, status: 0, hash: 0 }), TXR1 + 4 * 16); // high bits
  wr(r, Q(0, TXTAIL), 5);
  r.h.settle();
  assert.is(getDesc(r, RXR1, 0).status, STA_DD | STA_EOP | (DescError.DmaFault << STA_ERR_SHIFT));
  assert.is(getDesc(r, RXR1, 1).status, STA_DD | STA_EOP | (DescError.BadDescriptor << STA_ERR_SHIFT));
  assert.is(getDesc(r, RXR1, 2).status, STA_DD | STA_EOP | (DescError.TooLong << STA_ERR_SHIFT));
  assert.is(getDesc(r, TXR1, 3).status, STA_DD | (DescError.DmaFault << STA_ERR_SHIFT));
  assert.is(getDesc(r, TXR1, 4).status, STA_DD | (DescError.BadDescriptor << STA_ERR_SHIFT));
  const t = r.nic.inspect().totals;
  assert.equal([t.drops['iommu fault'], t.drops['bad descriptor'], t.drops['too long']], [1, 1, 1]);
  assert.equal([t.txDrops['iommu fault'], t.txDrops['bad descriptor']], [1, 1]);
  accounting(r);
});

test('link down: received frames are dropped as link down; the link change sets MISCCAUSE', () => {
  const r = rig('gen:rate=1/us,size=64,count=4');
  rxPostAll(r, 0, 16);
  r.w.setLink(false);
  assert.is(rd(r, 0x010) & 1, 1);
  assert.is(rd(r, 0x004) & 1, 0);
  r.h.settle();
  assert.is(r.nic.inspect().totals.drops['link down'], 4);
  accounting(r);
});

test('interrupt moderation: at most one MSI-X message per ITR interval', () => {
  const r = rig('gen:rate=1/us,size=64,count=20');
  const pci = r.nic.fn, cap = pci.capOffsets.get(0x11)!;
  pci.mmioWrite(cap + 2, 2, 0x8000); // MSI-X enable
  r.nic.msix.mmioWrite(0, 4, 0xfee00000);
  r.nic.msix.mmioWrite(8, 4, 0x40);
  r.nic.msix.mmioWrite(12, 4, 0);
  rxPostAll(r, 0, 64);
  wr(r, Q(0, 0x34), 0x2);       // IMASK: RXDONE
  wr(r, Q(0, 0x28), 10_000);    // ITR: 5 us at 2 GHz, frames every 1 us
  r.h.settle();
  assert.ok(r.h.msis.length >= 3 && r.h.msis.length <= 6, `${r.h.msis.length} interrupts`);
});

test('saveState/loadState: a restored NIC continues the same as the original', () => {
  const mk = () => {
    const r = rig('gen:rate=1/us,size=64,flows=3,count=30', 2);
    rxPostAll(r, 0, 16);
    rxPostAll(r, 1, 16);
    return r;
  };
  const a = mk();
  a.h.run(12_345);
  const snap = JSON.parse(JSON.stringify({ nic: a.nic.saveState(), ev: a.h.events.saveState(), ram: Buffer.from(a.mem.ram8).toString('base64') }));
  a.h.settle();
  const b = mk();
  b.h.events.loadState(snap.ev);
  b.nic.loadState(snap.nic);
  b.mem.ram8.set(Buffer.from(snap.ram, 'base64'));
  b.h.t = 12_345;
  b.h.settle();
  assert.equal(b.nic.inspect().totals, a.nic.inspect().totals);
  assert.ok(Buffer.from(a.mem.ram8).equals(b.mem.ram8));
});

test('property: random register writes and descriptor bytes never throw; accounting holds', () => {
  fc.assert(fc.property(
    fc.array(fc.record({
      kind: fc.constantFrom('reg', 'qreg', 'mem', 'run'),
      off: fc.nat(0x3fff), val: fc.oneof(fc.nat(), fc.constantFrom(0, 1, 2, 3, 7, 8, 16, 0xffffffff, 0x10000, 0xfffffff0)),
      bytes: fc.uint8Array({ minLength: 16, maxLength: 64 }),
    }), { maxLength: 60 }),
    (ops) => {
      const r = rig('gen:rate=2/us,size=80,flows=3,count=50+record:' + join(OUT, 'prop.pcap'), 2, PROFILE.nic, 1 << 20);
      for (let q = 0; q < 2; q++) {
        ring(r, q, 'rx', 0x8000 + q * 0x1000, 16);
        for (let k = 0; k < 16; k++) putDesc(r, 0x8000 + q * 0x1000, k, 0x40000 + (q * 16 + k) * BUF, BUF, 0);
        wr(r, Q(q, RXTAIL), 15);
        ring(r, q, 'tx', 0xa000 + q * 0x1000, 16);
      }
      let t = 0;
      for (const op of ops) {
        if (op.kind === 'reg') r.nic.mmioWrite(op.off & ~3, 4, op.val);
        else if (op.kind === 'qreg') r.nic.mmioWrite(Q(op.off & 1, (op.off >> 1) & 0x7c), 4, op.val % 3 === 0 ? op.val & 0xff : op.val);
        else if (op.kind === 'mem') r.mem.ram8.set(op.bytes, op.val % 2 === 0 ? 0x8000 + (op.val % 0x4000) : (op.val % ((1 << 20) - 64)));
        else { t += op.val % 20_000; r.h.run(t); }
        r.nic.mmioRead(op.off & ~3, 4);
      }
      r.h.run(t + 1_000_000);
      accounting(r);
      r.w.close();
    },
  ), { numRuns: 150 });
});

test.run();
