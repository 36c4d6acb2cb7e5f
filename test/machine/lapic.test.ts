// The local APIC: register map and masks, priorities (IRR -> ISR -> EOI under the TPR), the
// ICR, the timer at exact cycles (one-shot, periodic, divide, reprogramming, masking), errors,
// non-architectural accesses and state save/restore mid-countdown.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { EventQueue } from '../../machine/events.js';
import {
  ESR_ILLEGAL_REGISTER, ESR_RECV_ILLEGAL_VECTOR, ESR_SEND_ILLEGAL_VECTOR, KIND_TIMER, Lapic, LapicHost,
  LAPIC_REGS, LVT_MASKED, LVT_PERIODIC, SVR_ENABLE, TIMER_DIVISORS,
} from '../../machine/lapic.js';

const ID = 0x20, VER = 0x30, TPR = 0x80, APR = 0x90, PPR = 0xa0, EOI = 0xb0, LDR = 0xd0, DFR = 0xe0, SVR = 0xf0;
const ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280, ICR_LO = 0x300, ICR_HI = 0x310;
const LVT_TIMER = 0x320, LVT_THERMAL = 0x330, LVT_PERF = 0x340, LVT_LINT0 = 0x350, LVT_LINT1 = 0x360, LVT_ERROR = 0x370;
const TIMER_ICR = 0x380, TIMER_CCR = 0x390, TIMER_DCR = 0x3e0;
const LVTS = [LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR];

interface Ipi { from: number; lo: number; hi: number }

class FakeHost implements LapicHost {
  t = 0;
  readonly events: EventQueue;
  readonly ipis: Ipi[] = [];
  constructor(events = new EventQueue()) { this.events = events; }
  now(): number { return this.t; }
  sendIpi(from: number, lo: number, hi: number): void { this.ipis.push({ from, lo, hi }); }
  /** Move the core's clock to `t` and fire what is due, as the machine does between quanta. */
  advance(t: number): void { this.t = t; this.events.runUntil(t); }
}

function lapic(id = 0, t = 0): { a: Lapic; h: FakeHost } {
  const h = new FakeHost();
  h.t = t;
  return { a: new Lapic(id, h, 100 + id), h };
}

const rd = (a: Lapic, off: number) => a.mmioRead(off, 4);
const wr = (a: Lapic, off: number, v: number) => a.mmioWrite(off, 4, v);
const enable = (a: Lapic, spurious = 0xff) => wr(a, SVR, SVR_ENABLE | spurious);
const irrBit = (a: Lapic, v: number) => (rd(a, IRR + 0x10 * (v >> 5)) >>> (v & 31)) & 1;
const isrBit = (a: Lapic, v: number) => (rd(a, ISR + 0x10 * (v >> 5)) >>> (v & 31)) & 1;
const readEsr = (a: Lapic) => { wr(a, ESR, 0); return rd(a, ESR); };

// ---- Registers -----------------------------------------------------------------------------

test('reset values', () => {
  const { a } = lapic(3);
  assert.is(a.name, 'lapic3');
  assert.is(rd(a, ID), 0x03000000);
  assert.is(a.id, 3);
  assert.is(rd(a, VER), 0x00050014);
  assert.is(rd(a, TPR), 0);
  assert.is(rd(a, APR), 0);
  assert.is(rd(a, PPR), 0);
  assert.is(rd(a, LDR), 0);
  assert.is(rd(a, DFR), 0xffffffff);
  assert.is(rd(a, SVR), 0xff);
  assert.is(a.enabled, false);
  for (let i = 0; i < 8; i++) {
    assert.is(rd(a, ISR + 0x10 * i), 0);
    assert.is(rd(a, TMR + 0x10 * i), 0);
    assert.is(rd(a, IRR + 0x10 * i), 0);
  }
  assert.is(rd(a, ESR), 0);
  assert.is(rd(a, ICR_LO), 0);
  assert.is(rd(a, ICR_HI), 0);
  for (const lvt of LVTS) assert.is(rd(a, lvt), LVT_MASKED, `LVT 0x${lvt.toString(16)}`);
  assert.is(rd(a, TIMER_ICR), 0);
  assert.is(rd(a, TIMER_CCR), 0);
  assert.is(rd(a, TIMER_DCR), 0);
  assert.is(a.pendingVector(), -1);
  assert.is(a.counters.badAccesses, 0);
});

test('the register table is aligned and sorted, one register per 16-byte slot', () => {
  for (let i = 0; i < LAPIC_REGS.length; i++) {
    assert.is(LAPIC_REGS[i].offset & 0xf, 0);
    if (i > 0) assert.ok(LAPIC_REGS[i].offset > LAPIC_REGS[i - 1].offset);
  }
});

test('read-back through the writable masks', () => {
  const { a } = lapic(1);
  const cases: [number, number, number][] = [
    // register, written, read back
    [ID, 0xffffffff, 0xff000000],
    [ID, 0x07123456, 0x07000000],
    [TPR, 0xffffffff, 0xff],
    [TPR, 0x1234, 0x34],
    [SVR, 0xffffffff, 0x3ff],
    [SVR, 0x1ab, 0x1ab],
    [LDR, 0xffffffff, 0xff000000],
    [DFR, 0, 0x0fffffff],
    [ICR_HI, 0xffffffff, 0xff000000],
    [LVT_TIMER, 0xffffffff, 0x000300ff],
    [LVT_THERMAL, 0xffffffff, 0x000107ff],
    [LVT_PERF, 0xffffffff, 0x000107ff],
    [LVT_LINT0, 0xffffffff, 0x0001a7ff],
    [LVT_LINT1, 0x4000, 0], // remote IRR is read-only
    [LVT_ERROR, 0xffffffff, 0x000100ff],
    [TIMER_DCR, 0xffffffff, 0xb],
  ];
  for (const [off, v, want] of cases) {
    wr(a, off, v);
    assert.is(rd(a, off), want >>> 0, `0x${off.toString(16)} <- 0x${v.toString(16)}`);
  }
  assert.is(a.id, 7);
  assert.is(a.counters.badAccesses, 0);
});

test('read-only registers ignore writes, counted', () => {
  const { a } = lapic();
  enable(a);
  a.accept(0x40);
  for (const off of [VER, APR, PPR, ISR, TMR + 0x30, IRR + 0x20, TIMER_CCR]) wr(a, off, 0xffffffff);
  assert.is(rd(a, VER), 0x00050014);
  assert.is(rd(a, PPR), 0);
  assert.is(rd(a, ISR), 0);
  assert.is(rd(a, IRR + 0x20), 1);
  assert.is(a.counters.badAccesses, 7);
  assert.is(a.inspect().lastBadAccess?.reason, 'read-only');
  assert.is(rd(a, EOI), 0); // write-only
  assert.is(a.counters.badAccesses, 8);
});

test('non-architectural accesses are counted, read 0 and are ignored, never thrown', () => {
  const { a } = lapic();
  wr(a, TPR, 0x20);
  const before = a.counters.badAccesses;
  assert.is(a.mmioRead(TPR, 1), 0);
  assert.is(a.mmioRead(TPR, 2), 0);
  assert.is(a.mmioRead(TPR + 4, 4), 0);   // 32-bit aligned but not 16-byte aligned
  assert.is(a.mmioRead(TPR + 1, 4), 0);
  assert.is(a.mmioRead(0x1000, 4), 0);    // outside the window
  assert.is(a.mmioRead(-4, 4), 0);
  a.mmioWrite(TPR, 1, 0xff);
  a.mmioWrite(TPR, 2, 0xff);
  a.mmioWrite(TPR + 8, 4, 0xff);
  a.mmioWrite(TPR + 2, 4, 0xff);
  a.mmioWrite(0x2000, 4, 0xff);
  assert.is(rd(a, TPR), 0x20);
  assert.is(a.counters.badAccesses - before, 11);
  assert.equal(a.inspect().lastBadAccess, { reason: 'outside', offset: 0x2000, size: 4, write: true });
  assert.is(a.counters.errors, 0); // none of these reached a register address
});

test('reserved register addresses are counted and logged as ESR illegal-register errors', () => {
  const { a } = lapic();
  for (const off of [0x000, 0x010, 0x040, 0x0c0, 0x2f0, 0x3f0, 0x400, 0xff0]) assert.is(rd(a, off), 0);
  wr(a, 0x3a0, 1);
  assert.is(a.counters.badAccesses, 9);
  assert.is(a.inspect().lastBadAccess?.reason, 'reserved');
  assert.is(readEsr(a), ESR_ILLEGAL_REGISTER);
});

test('ESR: errors are latched by a write, and the write clears the log', () => {
  const { a } = lapic();
  enable(a);
  a.accept(3);
  assert.is(rd(a, ESR), 0, 'not visible before a write');
  wr(a, ESR, 0xffffffff);
  assert.is(rd(a, ESR), ESR_RECV_ILLEGAL_VECTOR);
  assert.is(rd(a, ESR), ESR_RECV_ILLEGAL_VECTOR, 'reading does not clear');
  wr(a, ESR, 0);
  assert.is(rd(a, ESR), 0);
  assert.is(a.counters.errors, 1);
});

// ---- Interrupts and priorities -------------------------------------------------------------

test('a software-disabled APIC holds requests and delivers none; LVT masks stay set', () => {
  const { a } = lapic();
  a.accept(0x50);
  assert.is(irrBit(a, 0x50), 1);
  assert.is(a.pendingVector(), -1);
  wr(a, LVT_TIMER, 0x30);
  assert.is(rd(a, LVT_TIMER), LVT_MASKED | 0x30);
  enable(a);
  assert.is(a.pendingVector(), 0x50, 'held request delivered once enabled');
  wr(a, LVT_TIMER, 0x30);
  wr(a, LVT_LINT0, 0x31);
  assert.is(rd(a, LVT_TIMER), 0x30);
  wr(a, SVR, 0xff); // disable: every LVT is masked again
  for (const lvt of LVTS) assert.ok(rd(a, lvt) & LVT_MASKED);
  assert.is(rd(a, LVT_TIMER), LVT_MASKED | 0x30);
  assert.is(a.pendingVector(), -1);
});

test('accept, pendingVector, acknowledge, EOI: nested priorities', () => {
  const { a } = lapic();
  enable(a);
  a.accept(0x41);
  a.accept(0x62);
  a.accept(0x43);
  assert.is(a.pendingVector(), 0x62);
  a.acknowledge(0x62);
  assert.is(rd(a, PPR), 0x60);
  assert.is(a.pendingVector(), -1, 'class 4 does not preempt class 6');
  a.accept(0x65);
  assert.is(a.pendingVector(), -1, 'same class as in service: waits');
  a.accept(0x71);
  assert.is(a.pendingVector(), 0x71, 'higher class preempts');
  a.acknowledge(0x71);
  assert.is(rd(a, PPR), 0x70);
  assert.equal(a.inspect().isr, [0x62, 0x71]);
  wr(a, EOI, 0); // ends 0x71, the highest in service
  assert.is(isrBit(a, 0x71), 0);
  assert.is(isrBit(a, 0x62), 1);
  assert.is(a.pendingVector(), -1, '0x65 still blocked by 0x62');
  wr(a, EOI, 0);
  assert.is(rd(a, PPR), 0);
  assert.is(a.pendingVector(), 0x65);
  a.acknowledge(0x65);
  wr(a, EOI, 0);
  assert.is(a.pendingVector(), 0x43, 'within a class, the higher vector first');
  a.acknowledge(0x43);
  assert.is(a.pendingVector(), -1);
  wr(a, EOI, 0);
  assert.is(a.pendingVector(), 0x41);
  a.acknowledge(0x41);
  wr(a, EOI, 0);
  wr(a, EOI, 0); // nothing in service: harmless
  assert.is(a.pendingVector(), -1);
  assert.equal(a.inspect().isr, []);
  assert.equal(a.inspect().irr, []);
  assert.is(a.counters.interruptsAccepted, 5);
  assert.is(a.counters.eois, 6);
  assert.is(a.counters.spurious, 0);
});

test('TPR masks by class, and PPR takes the larger of TPR and the in-service class', () => {
  const { a } = lapic();
  enable(a);
  wr(a, TPR, 0x50);
  assert.is(rd(a, PPR), 0x50);
  a.accept(0x55);
  assert.is(a.pendingVector(), -1, 'class equal to TPR class is masked');
  a.accept(0x61);
  assert.is(a.pendingVector(), 0x61);
  a.acknowledge(0x61);
  assert.is(rd(a, PPR), 0x60);
  wr(a, TPR, 0x6f);
  assert.is(rd(a, PPR), 0x6f, 'TPR class equal to the ISR class: PPR is the whole TPR');
  wr(a, TPR, 0x10);
  assert.is(rd(a, PPR), 0x60);
  wr(a, EOI, 0);
  assert.is(rd(a, PPR), 0x10);
  assert.is(a.pendingVector(), 0x55);
  wr(a, TPR, 0xff);
  assert.is(a.pendingVector(), -1);
  a.accept(0xff);
  assert.is(a.pendingVector(), -1, 'TPR 0xf0..0xff masks everything');
  wr(a, TPR, 0);
  assert.is(a.pendingVector(), 0xff);
});

test('IRR and ISR registers reflect the state, 32 vectors per register', () => {
  const { a } = lapic();
  enable(a);
  for (const v of [0x10, 0x31, 0x65, 0x9f, 0xff]) a.accept(v);
  assert.is(rd(a, IRR + 0x00), 1 << 16);
  assert.is(rd(a, IRR + 0x10), 1 << 17);
  assert.is(rd(a, IRR + 0x30), 1 << 5);
  assert.is(rd(a, IRR + 0x40), (1 << 31) >>> 0);
  assert.is(rd(a, IRR + 0x70), (1 << 31) >>> 0);
  a.acknowledge(0xff);
  assert.is(rd(a, IRR + 0x70), 0);
  assert.is(rd(a, ISR + 0x70), (1 << 31) >>> 0);
  a.accept(0x31); // already requested: merged into the same bit
  assert.is(rd(a, IRR + 0x10), 1 << 17);
  assert.equal(a.inspect().irr, [0x10, 0x31, 0x65, 0x9f]);
});

test('illegal vectors are refused and logged; the LVT error entry signals errors', () => {
  const { a } = lapic();
  enable(a);
  a.accept(15);
  a.accept(0);
  assert.equal(a.inspect().irr, []);
  assert.is(a.counters.errors, 2);
  wr(a, LVT_ERROR, 0xee);
  a.accept(7);
  assert.equal(a.inspect().irr, [0xee]);
  assert.is(readEsr(a), ESR_RECV_ILLEGAL_VECTOR);
  wr(a, LVT_ERROR, 0x05); // an illegal error vector is dropped, not looped on
  a.accept(1);
  assert.equal(a.inspect().irr, [0xee]);
});

test('acknowledging a vector that was not requested counts as spurious', () => {
  const { a } = lapic();
  enable(a);
  a.acknowledge(0x40);
  assert.is(a.counters.spurious, 1);
  assert.equal(a.inspect().isr, []);
});

// ---- The ICR -------------------------------------------------------------------------------

test('writing ICR low sends with both dwords; ICR high alone does not', () => {
  const { a, h } = lapic(2);
  wr(a, ICR_HI, 0x05000000);
  assert.equal(h.ipis, []);
  wr(a, ICR_LO, 0x000040f0 | 0x1000); // fixed, level assert, vector 0xf0; delivery status written
  assert.equal(h.ipis, [{ from: 2, lo: 0x40f0, hi: 0x05000000 }]);
  assert.is(rd(a, ICR_LO) & 0x1000, 0, 'delivery status always reads idle');
  wr(a, ICR_LO, 0x000c0031); // all-but-self shorthand
  wr(a, ICR_LO, 0x00004500); // INIT: vector 0 is fine
  wr(a, ICR_LO, 0x00004600 | 0x9f); // STARTUP
  assert.equal(h.ipis.map((i) => i.lo), [0x40f0, 0xc0031, 0x4500, 0x469f]);
  assert.is(a.counters.ipisSent, 4);
  wr(a, ID, 0x09000000);
  wr(a, ICR_LO, 0x40);
  assert.is(h.ipis[4].from, 9, 'the sender is the current APIC ID');
});

test('a fixed IPI with an illegal vector is not sent and is logged', () => {
  const { a, h } = lapic();
  wr(a, ICR_LO, 0x0000000f);
  wr(a, ICR_LO, 0x00000105); // lowest priority
  assert.equal(h.ipis, []);
  assert.is(readEsr(a), ESR_SEND_ILLEGAL_VECTOR);
  assert.is(a.counters.ipisSent, 0);
});

// ---- The timer -----------------------------------------------------------------------------

test('one-shot timer fires exactly at initial * divide cycles', () => {
  const { a, h } = lapic(0, 100);
  enable(a);
  wr(a, TIMER_DCR, 0x3); // divide by 16
  wr(a, LVT_TIMER, 0x40);
  wr(a, TIMER_ICR, 1000);
  assert.is(a.inspect().timer.mode, 'one-shot');
  assert.is(h.events.next(), 100 + 16000);
  h.advance(100 + 16000 - 1);
  assert.is(irrBit(a, 0x40), 0);
  assert.is(rd(a, TIMER_CCR), 1);
  h.advance(100 + 16000);
  assert.is(irrBit(a, 0x40), 1);
  assert.is(a.pendingVector(), 0x40);
  assert.is(rd(a, TIMER_CCR), 0);
  assert.is(a.counters.timerFires, 1);
  assert.is(h.events.size, 0, 'once only');
  h.advance(1_000_000);
  assert.is(a.counters.timerFires, 1);
  assert.is(a.inspect().timer.mode, 'off');
});

test('current count decreases by one every divide cycles, exactly', () => {
  const { a, h } = lapic(0, 5);
  wr(a, TIMER_DCR, 0x1); // divide by 4
  wr(a, TIMER_ICR, 10);
  const seen: number[] = [];
  for (let t = 5; t <= 45; t++) { h.t = t; seen.push(rd(a, TIMER_CCR)); }
  const want: number[] = [];
  for (let e = 0; e <= 40; e++) want.push(10 - Math.floor(e / 4));
  assert.equal(seen, want);
});

test('periodic timer reloads and fires at every multiple of the period', () => {
  const { a, h } = lapic(0, 7);
  enable(a);
  wr(a, TIMER_DCR, 0xb); // divide by 1
  wr(a, LVT_TIMER, LVT_PERIODIC | 0x30);
  wr(a, TIMER_ICR, 250);
  const fires: number[] = [];
  for (let t = 7; t <= 7 + 250 * 5; t++) {
    h.advance(t);
    if (irrBit(a, 0x30)) {
      fires.push(t);
      a.acknowledge(0x30);
      wr(a, EOI, 0);
    }
  }
  assert.equal(fires, [257, 507, 757, 1007, 1257]);
  assert.is(a.counters.timerFires, 5);
  assert.is(rd(a, TIMER_CCR), 250, 'reloaded at expiry');
  h.t = 1258;
  assert.is(rd(a, TIMER_CCR), 249);
  assert.is(a.inspect().timer.mode, 'periodic');
  assert.is(h.events.size, 1);
});

test('periodic current count stays exact when the core runs past an unhandled expiry', () => {
  const { a, h } = lapic();
  wr(a, TIMER_DCR, 0x0); // divide by 2
  wr(a, LVT_TIMER, LVT_PERIODIC | 0x30);
  wr(a, TIMER_ICR, 100);  // period 200 cycles, first expiry at 200
  h.t = 230;              // the queue has not run yet
  assert.is(rd(a, TIMER_CCR), 85);
  h.t = 400;
  assert.is(rd(a, TIMER_CCR), 100);
});

test('reprogramming the initial count cancels the pending expiry; 0 stops', () => {
  const { a, h } = lapic();
  enable(a);
  wr(a, LVT_TIMER, 0x40);
  wr(a, TIMER_ICR, 1000); // /2: expiry at 2000
  h.advance(500);
  wr(a, TIMER_ICR, 100);  // restart: expiry at 700
  assert.is(h.events.size, 1);
  assert.is(h.events.next(), 700);
  h.advance(699);
  assert.is(irrBit(a, 0x40), 0);
  h.advance(700);
  assert.is(irrBit(a, 0x40), 1);
  a.acknowledge(0x40);
  wr(a, EOI, 0);
  wr(a, TIMER_ICR, 1000);
  h.advance(800);
  wr(a, TIMER_ICR, 0);
  assert.is(h.events.size, 0);
  assert.is(rd(a, TIMER_CCR), 0);
  assert.is(a.inspect().timer.mode, 'off');
  h.advance(10_000);
  assert.is(irrBit(a, 0x40), 0);
  assert.is(a.counters.timerFires, 1);
});

test('a masked timer counts down but does not set IRR', () => {
  const { a, h } = lapic();
  enable(a);
  wr(a, LVT_TIMER, LVT_MASKED | LVT_PERIODIC | 0x40);
  wr(a, TIMER_ICR, 50); // period 100
  assert.is(a.inspect().timer.mode, 'masked');
  h.t = 30;
  assert.is(rd(a, TIMER_CCR), 35);
  h.advance(1000);
  assert.equal(a.inspect().irr, []);
  assert.is(a.counters.timerFires, 0);
  wr(a, LVT_TIMER, LVT_PERIODIC | 0x40); // unmask mid-run: the next expiry interrupts
  h.advance(1099);
  assert.equal(a.inspect().irr, []);
  h.advance(1100);
  assert.equal(a.inspect().irr, [0x40]);
});

test('divide configuration table', () => {
  const table: [number, number][] = [
    [0x0, 2], [0x1, 4], [0x2, 8], [0x3, 16], [0x8, 32], [0x9, 64], [0xa, 128], [0xb, 1],
  ];
  for (const [dcr, div] of table) {
    const { a, h } = lapic(0, 1000);
    enable(a);
    wr(a, LVT_TIMER, 0x40);
    wr(a, TIMER_DCR, dcr | 0x4); // bit 2 is reserved
    assert.is(rd(a, TIMER_DCR), dcr);
    assert.is(a.inspect().timer.divide, div);
    wr(a, TIMER_ICR, 3);
    assert.is(h.events.next(), 1000 + 3 * div, `dcr ${dcr}`);
    h.advance(1000 + 3 * div);
    assert.is(irrBit(a, 0x40), 1);
  }
  assert.equal([...TIMER_DIVISORS], [2, 4, 8, 16, 32, 64, 128, 1]);
});

test('changing the divide mid-count continues from the current count at the new rate', () => {
  const { a, h } = lapic();
  enable(a);
  wr(a, LVT_TIMER, 0x40);
  wr(a, TIMER_DCR, 0x3); // /16
  wr(a, TIMER_ICR, 100);
  h.advance(160);        // count 90
  assert.is(rd(a, TIMER_CCR), 90);
  wr(a, TIMER_DCR, 0xb); // /1
  assert.is(rd(a, TIMER_CCR), 90);
  assert.is(h.events.size, 1);
  assert.is(h.events.next(), 250);
});

test('a timer with an illegal vector logs a receive error', () => {
  const { a, h } = lapic();
  enable(a);
  wr(a, LVT_TIMER, 0x08);
  wr(a, TIMER_ICR, 1);
  h.advance(2);
  assert.equal(a.inspect().irr, []);
  assert.is(readEsr(a), ESR_RECV_ILLEGAL_VECTOR);
});

// ---- Reset and state -----------------------------------------------------------------------

test('INIT reset keeps the APIC ID; power-up reset restores it', () => {
  const { a, h } = lapic(4);
  enable(a);
  wr(a, ID, 0x0a000000);
  wr(a, TPR, 0x30);
  wr(a, TIMER_ICR, 100);
  a.accept(0x50);
  a.reset(true);
  assert.is(a.id, 10);
  assert.is(rd(a, TPR), 0);
  assert.is(rd(a, SVR), 0xff);
  assert.equal(a.inspect().irr, []);
  assert.is(h.events.size, 0, 'the timer is stopped');
  a.reset();
  assert.is(a.id, 4);
});

/** Run a copy and the original side by side and record what each sees. */
function observe(a: Lapic, h: FakeHost, from: number, to: number, step: number): string[] {
  const out: string[] = [];
  for (let t = from; t <= to; t += step) {
    h.advance(t);
    out.push(`${t}:${rd(a, TIMER_CCR)}:${a.pendingVector()}:${a.counters.timerFires}`);
    const v = a.pendingVector();
    if (v >= 0) { a.acknowledge(v); wr(a, EOI, 0); }
  }
  return out;
}

function programmed(periodic: boolean): { a: Lapic; h: FakeHost } {
  const { a, h } = lapic(1);
  enable(a);
  wr(a, TPR, 0x20);
  wr(a, LVT_TIMER, (periodic ? LVT_PERIODIC : 0) | 0x45);
  wr(a, LVT_ERROR, 0xe0);
  wr(a, TIMER_DCR, 0x1); // /4
  wr(a, TIMER_ICR, 300); // period 1200
  a.accept(0x70);
  a.acknowledge(0x70);
  a.accept(0x33);
  a.accept(3); // an error in the ESR log, not yet latched
  h.advance(517);
  return { a, h };
}

test('save/load mid-countdown continues identically (fresh queue)', () => {
  for (const periodic of [false, true]) {
    const { a, h } = programmed(periodic);
    const saved = JSON.parse(JSON.stringify(a.saveState()));
    const h2 = new FakeHost();
    h2.t = 517;
    const b = new Lapic(1, h2, 101);
    b.loadState(saved);
    assert.equal(b.inspect(), { ...a.inspect(), lastBadAccess: null });
    assert.equal(b.saveState(), a.saveState());
    assert.is(readEsr(b), readEsr(a));
    const ra = observe(a, h, 518, 5000, 37);
    const rb = observe(b, h2, 518, 5000, 37);
    assert.equal(rb, ra);
    assert.ok(a.counters.timerFires >= 1);
    assert.is(b.counters.timerFires, a.counters.timerFires);
  }
});

test('save/load with the event queue restored first: the restored timer event fires once', () => {
  const { a, h } = programmed(true);
  const qs = JSON.parse(JSON.stringify(h.events.saveState()));
  const saved = JSON.parse(JSON.stringify(a.saveState()));
  const q2 = new EventQueue();
  const h2 = new FakeHost(q2);
  h2.t = 517;
  const b = new Lapic(1, h2, 101);
  q2.loadState(qs);
  b.loadState(saved);
  const ra = observe(a, h, 518, 6000, 50);
  const rb = observe(b, h2, 518, 6000, 50);
  assert.equal(rb, ra);
  assert.is(b.counters.timerFires, a.counters.timerFires);
  // The stale copy is left behind only until the next period.
  assert.is(q2.size, 1);
  wr(b, TIMER_ICR, 0);
  assert.is(q2.size, 0);
});

test('loadState refuses another version', () => {
  const { a } = lapic();
  const s = { ...a.saveState(), version: 99 };
  assert.throws(() => a.loadState(s));
});

test('stale or foreign events are ignored', () => {
  const { a, h } = lapic();
  enable(a);
  wr(a, LVT_TIMER, 0x40);
  a.onEvent(KIND_TIMER, 0, 0);
  a.onEvent(7, 0, 0);
  wr(a, TIMER_ICR, 10);
  a.onEvent(KIND_TIMER, 12345, 20);
  assert.equal(a.inspect().irr, []);
  h.advance(20);
  assert.equal(a.inspect().irr, [0x40]);
});

// ---- A property against a plain model --------------------------------------------------------

test('priority delivery matches a set-based model under random accept/ack/EOI/TPR', () => {
  type Op = { k: 'accept'; v: number } | { k: 'deliver' } | { k: 'eoi' } | { k: 'tpr'; v: number };
  const op = fc.oneof(
    fc.integer({ min: 16, max: 255 }).map((v): Op => ({ k: 'accept', v })),
    fc.constant<Op>({ k: 'deliver' }),
    fc.constant<Op>({ k: 'eoi' }),
    fc.integer({ min: 0, max: 255 }).map((v): Op => ({ k: 'tpr', v })),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
    const { a } = lapic();
    enable(a);
    const irr = new Set<number>(), isr = new Set<number>();
    let tpr = 0;
    const max = (s: Set<number>) => (s.size ? Math.max(...s) : -1);
    const ppr = () => { const i = Math.max(max(isr), 0); return (tpr >> 4) >= (i >> 4) ? tpr : i & 0xf0; };
    const pending = () => { const v = max(irr); return v >= 0 && (v >> 4) > (ppr() >> 4) ? v : -1; };
    for (const o of ops) {
      if (o.k === 'accept') { a.accept(o.v); irr.add(o.v); }
      else if (o.k === 'tpr') { wr(a, TPR, o.v); tpr = o.v; }
      else if (o.k === 'eoi') { wr(a, EOI, 0); const v = max(isr); if (v >= 0) isr.delete(v); }
      else {
        const v = a.pendingVector();
        if (v >= 0) { a.acknowledge(v); irr.delete(v); isr.add(v); }
      }
      assert.is(a.pendingVector(), pending());
      assert.is(rd(a, PPR), ppr());
      assert.equal(a.inspect().irr, [...irr].sort((x, y) => x - y));
      assert.equal(a.inspect().isr, [...isr].sort((x, y) => x - y));
    }
  }), { seed: 0x1a91c, numRuns: 300 });
});

test.run();
