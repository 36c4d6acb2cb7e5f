// The 16550-flavoured UART: register map and DLAB banking, transmit, receive through the
// FIFO without losing host input, interrupt identification and priority, loopback, state.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MmioBus } from '../../machine/bus.js';
import {
  FCR_FIFOE, FCR_RXRESET, IER_EDSSI, IER_ELSI, IER_ERBFI, IER_ETBEI, LCR_DLAB, LSR_DR, LSR_OE,
  LSR_TEMT, LSR_THRE, MCR_DTR, MCR_LOOP, MCR_OUT1, MCR_RTS, MSR_CTS, MSR_DCD, MSR_DSR, Uart16550,
} from '../../machine/uart.js';

const RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

function uart(): { u: Uart16550; sent: number[] } {
  const sent: number[] = [];
  const u = new Uart16550({ onTransmit: (b) => sent.push(b) });
  return { u, sent };
}

const rd = (u: Uart16550, off: number) => u.mmioRead(off, 1);
const wr = (u: Uart16550, off: number, v: number) => u.mmioWrite(off, 1, v);

test('reset values: THR empty, no interrupt, a connected peer on the modem lines', () => {
  const { u } = uart();
  assert.is(rd(u, LSR), LSR_THRE | LSR_TEMT);
  assert.is(rd(u, IIR), 0x01);
  assert.is(rd(u, MSR), MSR_CTS | MSR_DSR | MSR_DCD);
  assert.is(rd(u, IER), 0);
  assert.is(rd(u, LCR), 0);
  assert.is(u.interruptPending(), false);
});

test('THR writes go to onTransmit at once and THR stays empty', () => {
  const { u, sent } = uart();
  for (const c of 'hi\n') wr(u, THR, c.charCodeAt(0));
  assert.equal(sent, [0x68, 0x69, 0x0a]);
  assert.is(rd(u, LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
  assert.is(u.txBytes, 3);
});

test('DLAB banks the divisor latch over RBR/THR and IER', () => {
  const { u, sent } = uart();
  wr(u, IER, IER_ERBFI);
  wr(u, LCR, LCR_DLAB | 0x03);
  wr(u, DLL, 0x0c);
  wr(u, DLM, 0x00);
  assert.is(rd(u, DLL), 0x0c);
  assert.is(rd(u, DLM), 0x00);
  assert.equal(sent, [], 'a divisor write is not a transmission');
  wr(u, LCR, 0x03);
  assert.is(rd(u, IER), IER_ERBFI, 'IER untouched by the divisor writes');
  assert.is(rd(u, LCR), 0x03);
  assert.is(u.peek('DLL'), 0x0c);
});

test('IER keeps only its four defined bits; SCR keeps all eight', () => {
  const { u } = uart();
  wr(u, IER, 0xff);
  assert.is(rd(u, IER), 0x0f);
  wr(u, SCR, 0xa5);
  assert.is(rd(u, SCR), 0xa5);
});

test('received bytes set DR and come out of RBR in order', () => {
  const { u } = uart();
  u.receive(new TextEncoder().encode('ok'));
  assert.is(rd(u, LSR) & LSR_DR, LSR_DR);
  assert.is(rd(u, RBR), 0x6f);
  assert.is(rd(u, RBR), 0x6b);
  assert.is(rd(u, LSR) & LSR_DR, 0);
});

test('host input beyond the FIFO waits instead of overrunning', () => {
  const { u } = uart();
  wr(u, FCR, FCR_FIFOE);
  const input = Array.from({ length: 40 }, (_, i) => i + 1);
  u.receive(input);
  const got: number[] = [];
  while (rd(u, LSR) & LSR_DR) got.push(rd(u, RBR));
  assert.equal(got, input);
  assert.is(rd(u, LSR) & LSR_OE, 0);
});

test('without FIFOs the receiver holds one byte at a time', () => {
  const { u } = uart();
  u.receive([1, 2, 3]);
  assert.is(u.rxBytes, 1);
  assert.is(rd(u, RBR), 1);
  assert.is(u.rxBytes, 2);
});

test('FCR RX reset empties the FIFO', () => {
  const { u } = uart();
  wr(u, FCR, FCR_FIFOE);
  u.receive([1, 2, 3]);
  wr(u, FCR, FCR_FIFOE | FCR_RXRESET);
  assert.is(rd(u, LSR) & LSR_DR, 0);
});

test('RX interrupt: data available at the trigger level, timeout below it', () => {
  const { u } = uart();
  wr(u, FCR, FCR_FIFOE | 0x40); // trigger at 4 bytes
  wr(u, IER, IER_ERBFI);
  assert.is(u.interruptPending(), false);
  u.receive([1, 2]);
  assert.is(u.interruptPending(), true);
  assert.is(rd(u, IIR), 0xcc, 'character timeout, FIFOs on');
  u.receive([3, 4]);
  assert.is(rd(u, IIR), 0xc4, 'data available');
  for (let i = 0; i < 4; i++) rd(u, RBR);
  assert.is(u.interruptPending(), false);
  assert.is(rd(u, IIR), 0xc1);
});

test('THRE interrupt: raised when enabled, acknowledged by reading IIR, re-armed by THR', () => {
  const { u } = uart();
  wr(u, IER, IER_ETBEI);
  assert.is(u.interruptPending(), true);
  assert.is(rd(u, IIR), 0x02);
  assert.is(u.interruptPending(), false);
  wr(u, THR, 0x41);
  assert.is(u.interruptPending(), true);
  wr(u, IER, 0);
  assert.is(u.interruptPending(), false, 'masked by IER');
});

test('priority: line status over received data over THRE', () => {
  const { u } = uart();
  wr(u, MCR, MCR_LOOP);
  for (let i = 0; i < 3; i++) wr(u, THR, 0x30 + i); // the 1-byte holding register overruns
  wr(u, IER, IER_ERBFI | IER_ETBEI | IER_ELSI);
  assert.is(rd(u, IIR), 0x06);
  assert.is(rd(u, LSR) & LSR_OE, LSR_OE, 'overrun reported');
  assert.is(rd(u, LSR) & LSR_OE, 0, 'and cleared by the read');
  assert.is(rd(u, IIR), 0x04);
  assert.is(rd(u, RBR), 0x30, 'the first byte survived');
  assert.is(rd(u, IIR), 0x02);
});

test('loopback: THR feeds the receiver, MCR drives the modem inputs and their deltas', () => {
  const { u, sent } = uart();
  wr(u, MCR, MCR_LOOP);
  wr(u, IER, IER_EDSSI);
  rd(u, MSR); // clear the deltas of entering loopback
  assert.is(u.interruptPending(), false);
  wr(u, THR, 0x55);
  assert.equal(sent, []);
  assert.is(rd(u, RBR), 0x55);
  wr(u, MCR, MCR_LOOP | MCR_RTS | MCR_DTR | MCR_OUT1);
  assert.is(u.interruptPending(), true);
  assert.is(rd(u, IIR), 0x00);
  const msr = rd(u, MSR);
  assert.is(msr & 0xf0, MSR_CTS | MSR_DSR | 0x40);
  assert.is(msr & 0x03, 0x03, 'DCTS and DDSR');
  assert.is(rd(u, MSR) & 0x0f, 0, 'deltas clear on read');
  wr(u, MCR, MCR_LOOP | MCR_RTS | MCR_DTR);
  assert.is(rd(u, MSR) & 0x0f, 0x04, 'RI trailing edge');
});

test('host input waits while in loopback and arrives after it', () => {
  const { u } = uart();
  wr(u, MCR, MCR_LOOP);
  u.receive([9]);
  assert.is(rd(u, LSR) & LSR_DR, 0);
  wr(u, MCR, 0);
  assert.is(rd(u, RBR), 9);
});

test('odd accesses are counted, never thrown', () => {
  const { u } = uart();
  assert.is(u.mmioRead(9, 1), 0xff);
  u.mmioWrite(12, 4, 0x1234);
  wr(u, SCR, 0x11);
  assert.is(u.mmioRead(SCR, 4), 0x11, 'a wide read returns the byte register');
  assert.is(u.oddAccesses, 3);
});

test('through the MMIO bus', () => {
  const { u, sent } = uart();
  const bus = new MmioBus();
  bus.map(0xfe000000, 8, u);
  bus.write(0xfe000000, 1, 0x21);
  assert.equal(sent, [0x21]);
  assert.is(bus.read(0xfe000005, 1) & LSR_THRE, LSR_THRE);
});

test('saveState/loadState round-trips registers, FIFO and pending input', () => {
  const { u } = uart();
  wr(u, FCR, FCR_FIFOE);
  wr(u, IER, IER_ERBFI | IER_ETBEI);
  wr(u, SCR, 0x77);
  u.receive(Array.from({ length: 20 }, (_, i) => i));
  const state = JSON.parse(JSON.stringify(u.saveState()));
  const { u: v } = uart();
  v.loadState(state);
  assert.equal(v.saveState(), u.saveState());
  assert.is(rd(v, SCR), 0x77);
  const got: number[] = [];
  while (rd(v, LSR) & LSR_DR) got.push(rd(v, RBR));
  assert.is(got.length, 20);
  assert.throws(() => v.loadState({ ...state, version: 99 }), /version 99/);
});

test('reset returns to the initial values', () => {
  const { u } = uart();
  wr(u, LCR, 0x83);
  wr(u, SCR, 1);
  u.receive([1]);
  u.reset();
  assert.is(rd(u, LCR), 0);
  assert.is(rd(u, LSR), LSR_THRE | LSR_TEMT);
});

test.run();
