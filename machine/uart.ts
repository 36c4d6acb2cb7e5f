// A 16550A-flavoured UART behind MMIO, the guests' console (TI PC16550D data sheet, section 8:
// register descriptions). Byte registers at offsets 0..7; transmission is instant, so THR is
// always empty. Host input waits in a queue and enters the 16-byte RX FIFO as room frees up.

import type { MmioDevice } from './bus.js';

export const UART_WINDOW = 8;
export const UART_FIFO_SIZE = 16;
export const UART_STATE_VERSION = 1;

export type UartRegName =
  'RBR' | 'THR' | 'DLL' | 'IER' | 'DLM' | 'IIR' | 'FCR' | 'LCR' | 'MCR' | 'LSR' | 'MSR' | 'SCR';

interface UartReg {
  offset: number;
  name: UartRegName;
  /** Which LCR.DLAB setting selects it; null: either. */
  dlab: boolean | null;
  access: 'r' | 'w' | 'rw';
  reset: number;
  /** Bits a guest write stores; computed registers ignore it. */
  writable: number;
}

// The register map. Offsets 0 and 1 switch to the divisor latch when LCR.DLAB is set;
// offset 2 reads IIR and writes FCR.
export const UART_REGS: readonly UartReg[] = [
  { offset: 0, name: 'RBR', dlab: false, access: 'r',  reset: 0x00, writable: 0x00 }, // receive buffer: pops the RX FIFO
  { offset: 0, name: 'THR', dlab: false, access: 'w',  reset: 0x00, writable: 0xff }, // transmit holding: sent at once
  { offset: 0, name: 'DLL', dlab: true,  access: 'rw', reset: 0x01, writable: 0xff }, // divisor low (115200 baud)
  { offset: 1, name: 'IER', dlab: false, access: 'rw', reset: 0x00, writable: 0x0f }, // interrupt enable
  { offset: 1, name: 'DLM', dlab: true,  access: 'rw', reset: 0x00, writable: 0xff }, // divisor high
  { offset: 2, name: 'IIR', dlab: null,  access: 'r',  reset: 0x01, writable: 0x00 }, // interrupt identification
  { offset: 2, name: 'FCR', dlab: null,  access: 'w',  reset: 0x00, writable: 0xc9 }, // FIFO control; bits 1, 2 self-clear
  { offset: 3, name: 'LCR', dlab: null,  access: 'rw', reset: 0x00, writable: 0xff }, // line control
  { offset: 4, name: 'MCR', dlab: null,  access: 'rw', reset: 0x00, writable: 0x1f }, // modem control
  { offset: 5, name: 'LSR', dlab: null,  access: 'r',  reset: 0x60, writable: 0x00 }, // line status (computed)
  { offset: 6, name: 'MSR', dlab: null,  access: 'r',  reset: 0x00, writable: 0x00 }, // modem status (computed)
  { offset: 7, name: 'SCR', dlab: null,  access: 'rw', reset: 0x00, writable: 0xff }, // scratch
];

export const IER_ERBFI = 0x01;   // RX data available (and character timeout)
export const IER_ETBEI = 0x02;   // THR empty
export const IER_ELSI  = 0x04;   // receiver line status
export const IER_EDSSI = 0x08;   // modem status

export const IIR_NONE    = 0x01; // bit 0 set: no interrupt pending
export const IIR_MODEM   = 0x00;
export const IIR_THRE    = 0x02;
export const IIR_RDA     = 0x04;
export const IIR_LSR     = 0x06;
export const IIR_TIMEOUT = 0x0c;
export const IIR_FIFOS   = 0xc0; // both set while FCR.FIFOE is on

export const FCR_FIFOE   = 0x01;
export const FCR_RXRESET = 0x02;
export const FCR_TXRESET = 0x04;
export const FCR_TRIGGER = 0xc0; // RX trigger level: 1, 4, 8, 14 bytes

export const LCR_DLAB    = 0x80;

export const MCR_DTR     = 0x01;
export const MCR_RTS     = 0x02;
export const MCR_OUT1    = 0x04;
export const MCR_OUT2    = 0x08;
export const MCR_LOOP    = 0x10;

export const LSR_DR      = 0x01; // data ready
export const LSR_OE      = 0x02; // overrun (cleared by reading LSR)
export const LSR_PE      = 0x04;
export const LSR_FE      = 0x08;
export const LSR_BI      = 0x10;
export const LSR_THRE    = 0x20; // always: transmission is instant
export const LSR_TEMT    = 0x40; // always
export const LSR_ERRORS  = LSR_OE | LSR_PE | LSR_FE | LSR_BI;

export const MSR_DELTAS  = 0x0f; // DCTS, DDSR, TERI, DDCD: cleared by reading MSR
export const MSR_TERI    = 0x04;
export const MSR_CTS     = 0x10;
export const MSR_DSR     = 0x20;
export const MSR_RI      = 0x40;
export const MSR_DCD     = 0x80;

const TRIGGER_LEVELS = [1, 4, 8, 14];
/** With nothing attached to the modem lines, the host side reports a ready, connected peer. */
const HOST_MODEM_LINES = MSR_CTS | MSR_DSR | MSR_DCD;

export interface UartOptions {
  name?: string;
  onTransmit?(byte: number): void;
}

export interface UartState {
  version: number;
  regs: number[];
  rxFifo: number[];
  hostQueue: number[];
  lsrErrors: number;
  msrDeltas: number;
  thrEmptyPending: boolean;
}

export class Uart16550 implements MmioDevice {
  readonly name: string;
  onTransmit: (byte: number) => void;
  /** Bytes sent and received, and accesses that were not single bytes in the window. */
  txBytes = 0;
  rxBytes = 0;
  oddAccesses = 0;

  private regs = new Uint8Array(UART_REGS.length);
  private rxFifo: number[] = [];
  private hostQueue: number[] = [];
  private lsrErrors = 0;
  private msrDeltas = 0;
  /** THR became empty and the guest has not yet acknowledged it by reading IIR. */
  private thrEmptyPending = false;

  constructor(opts: UartOptions = {}) {
    this.name = opts.name ?? 'uart';
    this.onTransmit = opts.onTransmit ?? (() => {});
    this.reset();
  }

  reset(): void {
    UART_REGS.forEach((r, i) => { this.regs[i] = r.reset; });
    this.rxFifo = [];
    this.hostQueue = [];
    this.lsrErrors = 0;
    this.msrDeltas = 0;
    this.thrEmptyPending = false;
  }

  /** Input from the host (a keyboard, a pipe): queued, never dropped. */
  receive(bytes: Uint8Array | readonly number[]): void {
    for (const b of bytes) this.hostQueue.push(b & 0xff);
    this.uartRefill();
  }

  /** The interrupt output: some enabled condition is pending (IIR bit 0 clear). */
  interruptPending(): boolean {
    return this.uartInterruptId() !== IIR_NONE;
  }

  mmioRead(offset: number, size: number): number {
    const i = this.uartDecode(offset, size, false);
    if (i < 0) return size === 4 ? -1 : (1 << (size * 8)) - 1;
    switch (UART_REGS[i].name) {
      case 'RBR': return this.onRbrRead();
      case 'IIR': return this.onIirRead();
      case 'LSR': return this.onLsrRead();
      case 'MSR': return this.onMsrRead();
      default: return this.regs[i];
    }
  }

  mmioWrite(offset: number, size: number, value: number): void {
    const i = this.uartDecode(offset, size, true);
    if (i < 0) return;
    const reg = UART_REGS[i];
    const byte = value & 0xff;
    switch (reg.name) {
      case 'THR': this.onThrWrite(byte); return;
      case 'IER': this.onIerWrite(byte & reg.writable); return;
      case 'FCR': this.onFcrWrite(byte); return;
      case 'MCR': this.onMcrWrite(byte & reg.writable); return;
      default: this.regs[i] = byte & reg.writable;
    }
  }

  /** Current value of a stored register, for inspection and tests (no side effects). */
  peek(name: UartRegName): number {
    return this.regs[regIndex(name)];
  }

  saveState(): UartState {
    return {
      version: UART_STATE_VERSION,
      regs: Array.from(this.regs),
      rxFifo: [...this.rxFifo],
      hostQueue: [...this.hostQueue],
      lsrErrors: this.lsrErrors,
      msrDeltas: this.msrDeltas,
      thrEmptyPending: this.thrEmptyPending,
    };
  }

  loadState(s: UartState): void {
    if (s.version !== UART_STATE_VERSION) {
      throw new Error(`${this.name}: cannot load UART state version ${s.version}, expected ${UART_STATE_VERSION}`);
    }
    if (s.regs.length !== UART_REGS.length) throw new Error(`${this.name}: UART state has ${s.regs.length} registers, expected ${UART_REGS.length}`);
    this.regs.set(s.regs);
    this.rxFifo = s.rxFifo.slice(0, UART_FIFO_SIZE);
    this.hostQueue = [...s.hostQueue];
    this.lsrErrors = s.lsrErrors & LSR_ERRORS;
    this.msrDeltas = s.msrDeltas & MSR_DELTAS;
    this.thrEmptyPending = s.thrEmptyPending;
  }

  /** Table index of the register an access selects, or -1 (counted, never thrown). */
  private uartDecode(offset: number, size: number, write: boolean): number {
    if (offset < 0 || offset >= UART_WINDOW) { this.oddAccesses++; return -1; }
    if (size !== 1) this.oddAccesses++; // still served: a wider access acts on the low byte
    const dlab = (this.regs[LCR] & LCR_DLAB) !== 0;
    return UART_REGS.findIndex((r) =>
      r.offset === offset && (r.dlab === null || r.dlab === dlab) && r.access.includes(write ? 'w' : 'r'));
  }

  private onRbrRead(): number {
    const byte = this.rxFifo.shift() ?? 0;
    this.uartRefill();
    return byte;
  }

  private onIirRead(): number {
    const id = this.uartInterruptId();
    if (id === IIR_THRE) this.thrEmptyPending = false; // reading IIR acknowledges THRE
    return id | (this.fifoEnabled() ? IIR_FIFOS : 0);
  }

  private onLsrRead(): number {
    const value = this.uartLsr();
    this.lsrErrors = 0;
    return value;
  }

  private onMsrRead(): number {
    const value = this.uartModemLines() | this.msrDeltas;
    this.msrDeltas = 0;
    return value;
  }

  private onThrWrite(byte: number): void {
    this.txBytes++;
    if (this.regs[MCR] & MCR_LOOP) this.uartPushRx(byte);
    else this.onTransmit(byte);
    this.thrEmptyPending = true; // sent at once: the holding register is empty again
  }

  private onIerWrite(value: number): void {
    const was = this.regs[IER];
    this.regs[IER] = value;
    if (!(was & IER_ETBEI) && (value & IER_ETBEI)) this.thrEmptyPending = true;
  }

  private onFcrWrite(value: number): void {
    const wasEnabled = this.fifoEnabled();
    this.regs[FCR] = value & UART_REGS[FCR].writable;
    if (wasEnabled !== this.fifoEnabled() || (value & FCR_RXRESET)) this.rxFifo = [];
    this.uartRefill();
  }

  private onMcrWrite(value: number): void {
    const before = this.uartModemLines();
    this.regs[MCR] = value;
    const after = this.uartModemLines();
    const changed = (before ^ after) >> 4;
    this.msrDeltas |= changed & ~MSR_TERI & MSR_DELTAS;
    if ((before & MSR_RI) && !(after & MSR_RI)) this.msrDeltas |= MSR_TERI; // RI trailing edge only
    this.uartRefill();
  }

  /** Highest-priority enabled source, as the IIR identification bits (section 8.6.3). */
  private uartInterruptId(): number {
    const ier = this.regs[IER];
    if ((ier & IER_ELSI) && this.lsrErrors) return IIR_LSR;
    if ((ier & IER_ERBFI) && this.rxFifo.length > 0) {
      // No character-time model yet: data below the trigger level times out at once.
      return this.rxFifo.length >= this.rxTrigger() ? IIR_RDA : IIR_TIMEOUT;
    }
    if ((ier & IER_ETBEI) && this.thrEmptyPending) return IIR_THRE;
    if ((ier & IER_EDSSI) && this.msrDeltas) return IIR_MODEM;
    return IIR_NONE;
  }

  private uartLsr(): number {
    return LSR_THRE | LSR_TEMT | this.lsrErrors | (this.rxFifo.length > 0 ? LSR_DR : 0);
  }

  /** CTS, DSR, RI, DCD: the host's lines, or in loopback the MCR outputs wired back. */
  private uartModemLines(): number {
    const mcr = this.regs[MCR];
    if (!(mcr & MCR_LOOP)) return HOST_MODEM_LINES;
    return (mcr & MCR_RTS ? MSR_CTS : 0) | (mcr & MCR_DTR ? MSR_DSR : 0) |
      (mcr & MCR_OUT1 ? MSR_RI : 0) | (mcr & MCR_OUT2 ? MSR_DCD : 0);
  }

  /** Loopback input: a full FIFO loses the byte and flags an overrun, as the chip does. */
  private uartPushRx(byte: number): void {
    if (this.rxFifo.length >= this.rxCapacity()) { this.lsrErrors |= LSR_OE; return; }
    this.rxFifo.push(byte);
    this.rxBytes++;
  }

  /** Host input waits rather than overruns: the host side behaves as if flow-controlled. */
  private uartRefill(): void {
    if (this.regs[MCR] & MCR_LOOP) return; // in loopback the receiver is cut off from the line
    while (this.hostQueue.length > 0 && this.rxFifo.length < this.rxCapacity()) {
      this.rxFifo.push(this.hostQueue.shift()!);
      this.rxBytes++;
    }
  }

  private fifoEnabled(): boolean {
    return (this.regs[FCR] & FCR_FIFOE) !== 0;
  }

  private rxCapacity(): number {
    return this.fifoEnabled() ? UART_FIFO_SIZE : 1;
  }

  private rxTrigger(): number {
    return this.fifoEnabled() ? TRIGGER_LEVELS[(this.regs[FCR] & FCR_TRIGGER) >> 6] : 1;
  }
}

function regIndex(name: UartRegName): number {
  return UART_REGS.findIndex((r) => r.name === name);
}

const IER = regIndex('IER');
const FCR = regIndex('FCR');
const LCR = regIndex('LCR');
const MCR = regIndex('MCR');
