// A local APIC per core with the xAPIC register layout (Intel SDM vol. 3A, chapter 11: 11.4 the
// register map, 11.5.4 the timer, 11.8 fixed-interrupt handling and priorities, 11.5.3 the ESR).
// Fixed delivery only; IPIs leave through the host, which decodes and routes them.
//
// Simplifications, documented: the timer counts down at the core clock divided by the divide
// configuration (the real one runs at the bus clock); a divide change mid-count restarts the
// countdown from the current count at the new rate; there is no TSC-deadline mode, no level-
// triggered interrupts (TMR stays 0) and no logical-destination arbitration here (LDR and DFR
// are stored for the host to use).

import type { MmioDevice } from './bus.js';
import type { InterruptSource } from './cpu/cpu.js';
import type { EventOwner, EventQueue } from './events.js';

export const LAPIC_BASE = 0xfee00000;
export const LAPIC_WINDOW = 4096;
export const LAPIC_STATE_VERSION = 1;
/** Event kind: the timer's countdown reached zero. */
export const KIND_TIMER = 1;

export interface LapicHost {
  /** The owning core's current time in cycles (its TSC): MMIO accesses happen mid-run. */
  now(): number;
  readonly events: EventQueue;
  /** The ICR low dword was written: deliver per its fields (the machine decodes destination, shorthand, delivery mode incl. INIT/STARTUP, applies the IPI latency). */
  sendIpi(fromApicId: number, icrLow: number, icrHigh: number): void;
}

export type LapicRegName =
  'ID' | 'VER' | 'TPR' | 'APR' | 'PPR' | 'EOI' | 'LDR' | 'DFR' | 'SVR' |
  'ISR' | 'TMR' | 'IRR' | 'ESR' | 'ICR_LO' | 'ICR_HI' |
  'LVT_TIMER' | 'LVT_THERMAL' | 'LVT_PERF' | 'LVT_LINT0' | 'LVT_LINT1' | 'LVT_ERROR' |
  'TIMER_ICR' | 'TIMER_CCR' | 'TIMER_DCR';

interface LapicReg {
  offset: number;
  name: LapicRegName;
  access: 'r' | 'w' | 'rw';
  reset: number;
  /** Bits a guest write stores; the others keep their value (read-only or reserved). */
  writable: number;
}

/** The eight 32-bit slices of a 256-bit vector register, 16 bytes apart. */
function bank(base: number, name: 'ISR' | 'TMR' | 'IRR'): LapicReg[] {
  return Array.from({ length: 8 }, (_, i) => ({ offset: base + 0x10 * i, name, access: 'r' as const, reset: 0, writable: 0 }));
}

// The register map (SDM table 11-1). Each register sits at the start of a 16-byte slot.
export const LAPIC_REGS: readonly LapicReg[] = [
  { offset: 0x020, name: 'ID',          access: 'rw', reset: 0x00000000, writable: 0xff000000 }, // APIC ID in 31:24 (reset from the core)
  { offset: 0x030, name: 'VER',         access: 'r',  reset: 0x00050014, writable: 0x00000000 }, // max LVT index 5, version 0x14
  { offset: 0x080, name: 'TPR',         access: 'rw', reset: 0x00000000, writable: 0x000000ff }, // task priority
  { offset: 0x090, name: 'APR',         access: 'r',  reset: 0x00000000, writable: 0x00000000 }, // arbitration priority: not modelled
  { offset: 0x0a0, name: 'PPR',         access: 'r',  reset: 0x00000000, writable: 0x00000000 }, // processor priority (computed)
  { offset: 0x0b0, name: 'EOI',         access: 'w',  reset: 0x00000000, writable: 0x00000000 }, // end of interrupt
  { offset: 0x0d0, name: 'LDR',         access: 'rw', reset: 0x00000000, writable: 0xff000000 }, // logical destination
  { offset: 0x0e0, name: 'DFR',         access: 'rw', reset: 0xffffffff, writable: 0xf0000000 }, // destination format; 27:0 read as ones
  { offset: 0x0f0, name: 'SVR',         access: 'rw', reset: 0x000000ff, writable: 0x000003ff }, // spurious vector, enable, focus check
  ...bank(0x100, 'ISR'),                                                                         // in service
  ...bank(0x180, 'TMR'),                                                                         // trigger mode (always edge here)
  ...bank(0x200, 'IRR'),                                                                         // interrupt request
  { offset: 0x280, name: 'ESR',         access: 'rw', reset: 0x00000000, writable: 0x00000000 }, // error status: a write latches
  { offset: 0x300, name: 'ICR_LO',      access: 'rw', reset: 0x00000000, writable: 0x000ccfff }, // writing it sends; bit 12 reads 0
  { offset: 0x310, name: 'ICR_HI',      access: 'rw', reset: 0x00000000, writable: 0xff000000 }, // destination in 31:24
  { offset: 0x320, name: 'LVT_TIMER',   access: 'rw', reset: 0x00010000, writable: 0x000300ff }, // vector, mask, periodic
  { offset: 0x330, name: 'LVT_THERMAL', access: 'rw', reset: 0x00010000, writable: 0x000107ff },
  { offset: 0x340, name: 'LVT_PERF',    access: 'rw', reset: 0x00010000, writable: 0x000107ff },
  { offset: 0x350, name: 'LVT_LINT0',   access: 'rw', reset: 0x00010000, writable: 0x0001a7ff }, // remote IRR (14) read-only
  { offset: 0x360, name: 'LVT_LINT1',   access: 'rw', reset: 0x00010000, writable: 0x0001a7ff },
  { offset: 0x370, name: 'LVT_ERROR',   access: 'rw', reset: 0x00010000, writable: 0x000100ff },
  { offset: 0x380, name: 'TIMER_ICR',   access: 'rw', reset: 0x00000000, writable: 0xffffffff }, // initial count: writing (re)starts
  { offset: 0x390, name: 'TIMER_CCR',   access: 'r',  reset: 0x00000000, writable: 0x00000000 }, // current count (computed)
  { offset: 0x3e0, name: 'TIMER_DCR',   access: 'rw', reset: 0x00000000, writable: 0x0000000b }, // divide configuration
];

export const SVR_ENABLE      = 0x100;        // APIC software enable
export const SVR_VECTOR      = 0x0ff;

export const LVT_VECTOR      = 0x000ff;
export const LVT_MASKED      = 0x10000;
export const LVT_PERIODIC    = 0x20000;      // timer mode bit 17: 0 one-shot, 1 periodic

export const ICR_VECTOR      = 0x000ff;
export const ICR_MODE        = 0x00700;      // 000 fixed, 001 lowest priority, 100 NMI, 101 INIT, 110 STARTUP
export const ICR_MODE_FIXED  = 0x00000;
export const ICR_MODE_LOWEST = 0x00100;
export const ICR_LOGICAL     = 0x00800;
export const ICR_LEVEL       = 0x04000;
export const ICR_TRIGGER     = 0x08000;
export const ICR_SHORTHAND   = 0xc0000;      // 00 none, 01 self, 10 all, 11 all but self

export const ESR_SEND_ILLEGAL_VECTOR = 0x20;
export const ESR_RECV_ILLEGAL_VECTOR = 0x40;
export const ESR_ILLEGAL_REGISTER    = 0x80;

/** Divide configuration bits (3, 1, 0) -> divisor (SDM figure 11-10). */
export const TIMER_DIVISORS: readonly number[] = [2, 4, 8, 16, 32, 64, 128, 1];

/** Why a guest access was not architectural: counted in `badAccesses`, never thrown. */
export const LapicBadAccess = { Size: 0, Misaligned: 1, Reserved: 2, ReadOnly: 3, WriteOnly: 4, Outside: 5 } as const;
export type LapicBadAccess = typeof LapicBadAccess[keyof typeof LapicBadAccess];
export const LAPIC_BAD_ACCESS_NAMES = ['size', 'misaligned', 'reserved', 'read-only', 'write-only', 'outside'] as const;

export interface LapicCounters {
  /** Fixed interrupts that set an IRR bit (IPIs, MSIs, timer, error). */
  interruptsAccepted: number;
  eois: number;
  /** Timer expiries that raised an interrupt (a masked LVT counts down but raises nothing). */
  timerFires: number;
  ipisSent: number;
  /** Acknowledges of a vector that was not requested. */
  spurious: number;
  /** Errors logged in the ESR. */
  errors: number;
  badAccesses: number;
}

export type LapicTimerMode = 'one-shot' | 'periodic' | 'masked' | 'off';

export interface LapicInspect {
  id: number;
  enabled: boolean;
  tpr: number;
  ppr: number;
  isr: number[];
  irr: number[];
  esr: number;
  timer: { mode: LapicTimerMode; vector: number; initial: number; current: number; divide: number };
  counters: LapicCounters;
  lastBadAccess: { reason: string; offset: number; size: number; write: boolean } | null;
}

export interface LapicState {
  version: number;
  /** One dword per 16-byte slot, offsets 0x000..0x3f0. */
  regs: number[];
  esrPending: number;
  timer: { running: boolean; deadline: number; divide: number; gen: number; handle?: number };
  counters: LapicCounters;
}

const SLOTS = 0x400 >> 4;
/** Slot -> index in LAPIC_REGS, or -1 for a reserved slot. */
const SLOT_REG = new Int16Array(SLOTS).fill(-1);
LAPIC_REGS.forEach((r, i) => { SLOT_REG[r.offset >> 4] = i; });

const ID = 0x020 >> 4, TPR = 0x080 >> 4, SVR = 0x0f0 >> 4, ISR = 0x100 >> 4, IRR = 0x200 >> 4;
const ESR = 0x280 >> 4, ICR_LO = 0x300 >> 4, ICR_HI = 0x310 >> 4;
const LVT_TIMER = 0x320 >> 4, LVT_ERROR = 0x370 >> 4, LVT_FIRST = LVT_TIMER, LVT_LAST = LVT_ERROR;
const TIMER_ICR = 0x380 >> 4, TIMER_DCR = 0x3e0 >> 4;

function zeroCounters(): LapicCounters {
  return { interruptsAccepted: 0, eois: 0, timerFires: 0, ipisSent: 0, spurious: 0, errors: 0, badAccesses: 0 };
}

export class Lapic implements MmioDevice, InterruptSource, EventOwner {
  readonly name: string;
  readonly eventId: number;
  readonly counters: LapicCounters = zeroCounters();
  lastBadAccess: { reason: LapicBadAccess; offset: number; size: number; write: boolean } | null = null;

  private readonly regs = new Uint32Array(SLOTS);
  /** Errors detected since the last ESR write; a write moves them into the readable ESR. */
  private esrPending = 0;
  /** The vector pendingVector() returns, recomputed whenever IRR, ISR, TPR or SVR change. */
  private pending = -1;

  // The timer: counting while `running`, reaching zero at cycle `deadline`, `divide` cycles per
  // count. `gen` tags the scheduled event so that a stale one (reprogrammed, or a duplicate
  // restored with the event queue) is recognised and ignored.
  private timerRunning = false;
  private timerDeadline = 0;
  private timerDivide = 2;
  private timerGen = 0;
  private timerHandle = -1;

  constructor(private readonly apicId: number, private readonly host: LapicHost, eventId: number) {
    this.name = `lapic${apicId}`;
    this.eventId = eventId;
    host.events.register(this);
    this.reset();
  }

  /**
   * Power-up reset, or with `init` an INIT IPI, which resets everything but the APIC ID
   * (SDM 11.4.7.3). Statistics are kept.
   */
  reset(init = false): void {
    const id = this.regs[ID];
    LAPIC_REGS.forEach((r) => { this.regs[r.offset >> 4] = r.reset; });
    this.regs[ID] = init ? id : (this.apicId & 0xff) << 24;
    this.esrPending = 0;
    this.timerStop();
    this.timerDivide = TIMER_DIVISORS[0];
    this.lapicUpdate();
  }

  /** The current APIC ID (the guest may rewrite it). */
  get id(): number {
    return this.regs[ID] >>> 24;
  }

  get enabled(): boolean {
    return (this.regs[SVR] & SVR_ENABLE) !== 0;
  }

  // ---- Interrupt acceptance and delivery (SDM 11.8) -----------------------------------------

  /** A fixed-delivery interrupt arrives (IPI, MSI, timer): set its IRR bit. */
  accept(vector: number): void {
    vector &= 0xff;
    if (vector < 16) { this.lapicError(ESR_RECV_ILLEGAL_VECTOR); return; }
    this.lapicRaise(vector);
  }

  pendingVector(): number {
    return this.pending;
  }

  acknowledge(vector: number): void {
    vector &= 0xff;
    if (!bitTest(this.regs, IRR, vector)) { this.counters.spurious++; return; }
    bitClear(this.regs, IRR, vector);
    bitSet(this.regs, ISR, vector);
    this.lapicUpdate();
  }

  /** Processor priority (SDM 11.8.3.1): the TPR, or the class of the highest in-service vector if higher. */
  ppr(): number {
    const tpr = this.regs[TPR] & 0xff;
    const isrv = Math.max(highestBit(this.regs, ISR), 0);
    return (tpr >> 4) >= (isrv >> 4) ? tpr : isrv & 0xf0;
  }

  // ---- MMIO ----------------------------------------------------------------------------------

  mmioRead(offset: number, size: number): number {
    const i = this.lapicDecode(offset, size, false);
    if (i < 0) return 0;
    const slot = LAPIC_REGS[i].offset >> 4;
    switch (LAPIC_REGS[i].name) {
      case 'PPR': return this.ppr();
      case 'TIMER_CCR': return this.timerCurrent();
      default: return this.regs[slot];
    }
  }

  mmioWrite(offset: number, size: number, value: number): void {
    const i = this.lapicDecode(offset, size, true);
    if (i < 0) return;
    const reg = LAPIC_REGS[i];
    const slot = reg.offset >> 4;
    this.regs[slot] = (this.regs[slot] & ~reg.writable) | (value & reg.writable);
    switch (reg.name) {
      case 'TPR': this.lapicUpdate(); return;
      case 'EOI': this.onEoiWrite(); return;
      case 'SVR': this.onSvrWrite(); return;
      case 'ESR': this.onEsrWrite(); return;
      case 'ICR_LO': this.onIcrLoWrite(); return;
      case 'LVT_TIMER': case 'LVT_THERMAL': case 'LVT_PERF':
      case 'LVT_LINT0': case 'LVT_LINT1': case 'LVT_ERROR': this.onLvtWrite(slot); return;
      case 'TIMER_ICR': this.onTimerIcrWrite(); return;
      case 'TIMER_DCR': this.onTimerDcrWrite(); return;
      default: return;
    }
  }

  /** Table index of the register an access selects, or -1 (counted, never thrown). */
  private lapicDecode(offset: number, size: number, write: boolean): number {
    if (offset < 0 || offset >= LAPIC_WINDOW) return this.lapicBad(LapicBadAccess.Outside, offset, size, write);
    // SDM 11.4.1: registers are 128-bit aligned and accessed with 32-bit loads and stores only.
    if (size !== 4) return this.lapicBad(LapicBadAccess.Size, offset, size, write);
    if ((offset & 0xf) !== 0) return this.lapicBad(LapicBadAccess.Misaligned, offset, size, write);
    const i = offset < 0x400 ? SLOT_REG[offset >> 4] : -1;
    if (i < 0) {
      this.lapicError(ESR_ILLEGAL_REGISTER);
      return this.lapicBad(LapicBadAccess.Reserved, offset, size, write);
    }
    const access = LAPIC_REGS[i].access;
    if (write && access === 'r') return this.lapicBad(LapicBadAccess.ReadOnly, offset, size, write);
    if (!write && access === 'w') return this.lapicBad(LapicBadAccess.WriteOnly, offset, size, write);
    return i;
  }

  /** The one place a non-architectural guest access is reported. */
  private lapicBad(reason: LapicBadAccess, offset: number, size: number, write: boolean): -1 {
    this.counters.badAccesses++;
    this.lastBadAccess = { reason, offset, size, write };
    return -1;
  }

  private onEoiWrite(): void {
    this.counters.eois++;
    const v = highestBit(this.regs, ISR);
    if (v >= 0) bitClear(this.regs, ISR, v);
    this.lapicUpdate();
  }

  /** Software disable masks every LVT entry (SDM 11.4.7.2); IRR and ISR are held. */
  private onSvrWrite(): void {
    if (!this.enabled) for (let s = LVT_FIRST; s <= LVT_LAST; s++) this.regs[s] |= LVT_MASKED;
    this.lapicUpdate();
  }

  private onEsrWrite(): void {
    this.regs[ESR] = this.esrPending;
    this.esrPending = 0;
  }

  private onIcrLoWrite(): void {
    const lo = this.regs[ICR_LO], hi = this.regs[ICR_HI];
    const mode = lo & ICR_MODE;
    if ((mode === ICR_MODE_FIXED || mode === ICR_MODE_LOWEST) && (lo & ICR_VECTOR) < 16) {
      this.lapicError(ESR_SEND_ILLEGAL_VECTOR); // the message is not sent
      return;
    }
    this.counters.ipisSent++;
    this.host.sendIpi(this.id, lo, hi);
  }

  /** While software-disabled the mask bits stay set: writes cannot clear them. */
  private onLvtWrite(slot: number): void {
    if (!this.enabled) this.regs[slot] |= LVT_MASKED;
  }

  private onTimerIcrWrite(): void {
    this.timerStop();
    this.timerDivide = this.timerDivisor();
    if (this.regs[TIMER_ICR] !== 0) this.timerArm(this.host.now() + this.regs[TIMER_ICR] * this.timerDivide);
  }

  private onTimerDcrWrite(): void {
    const divide = this.timerDivisor();
    if (!this.timerRunning || divide === this.timerDivide) { this.timerDivide = divide; return; }
    const count = this.timerCurrent();
    this.timerStop();
    this.timerDivide = divide;
    this.timerArm(this.host.now() + count * divide);
  }

  // ---- The timer (SDM 11.5.4) ----------------------------------------------------------------

  onEvent(kind: number, arg: number, at: number): void {
    if (kind !== KIND_TIMER || !this.timerRunning || arg !== this.timerGen || at !== this.timerDeadline) return;
    this.timerHandle = -1;
    const lvt = this.regs[LVT_TIMER];
    if (lvt & LVT_PERIODIC) this.timerArm(at + this.regs[TIMER_ICR] * this.timerDivide);
    else this.timerRunning = false;
    if (lvt & LVT_MASKED) return;
    this.counters.timerFires++;
    this.accept(lvt & LVT_VECTOR);
  }

  private timerDivisor(): number {
    const dcr = this.regs[TIMER_DCR];
    return TIMER_DIVISORS[(dcr & 3) | ((dcr >> 1) & 4)];
  }

  private timerArm(deadline: number): void {
    this.timerRunning = true;
    this.timerDeadline = deadline;
    this.timerGen++;
    this.timerHandle = this.host.events.schedule(deadline, this, KIND_TIMER, this.timerGen);
  }

  private timerStop(): void {
    if (this.timerHandle >= 0) this.host.events.cancel(this.timerHandle);
    this.timerHandle = -1;
    this.timerRunning = false;
  }

  /** The current count: remaining cycles over the divisor, rounded up (it drops every `divide` cycles). */
  private timerCurrent(): number {
    if (!this.timerRunning) return 0;
    let remaining = this.timerDeadline - this.host.now();
    if (remaining <= 0) {
      // The core ran past the expiry before the event was handled.
      if (!(this.regs[LVT_TIMER] & LVT_PERIODIC)) return 0;
      const period = this.regs[TIMER_ICR] * this.timerDivide;
      remaining = period - ((-remaining) % period);
    }
    return Math.ceil(remaining / this.timerDivide);
  }

  private timerMode(): LapicTimerMode {
    if (!this.timerRunning) return 'off';
    const lvt = this.regs[LVT_TIMER];
    if (lvt & LVT_MASKED) return 'masked';
    return lvt & LVT_PERIODIC ? 'periodic' : 'one-shot';
  }

  // ---- Internals -----------------------------------------------------------------------------

  private lapicRaise(vector: number): void {
    bitSet(this.regs, IRR, vector);
    this.counters.interruptsAccepted++;
    this.lapicUpdate();
  }

  /** Log an error (SDM 11.5.3) and signal it through the LVT error entry if that is unmasked. */
  private lapicError(bit: number): void {
    this.esrPending |= bit;
    this.counters.errors++;
    const lvt = this.regs[LVT_ERROR];
    // An illegal error vector would log another error: it is dropped instead of looping.
    if (!(lvt & LVT_MASKED) && (lvt & LVT_VECTOR) >= 16) this.lapicRaise(lvt & LVT_VECTOR);
  }

  /** Recompute the deliverable vector: the highest request whose class beats the PPR's. */
  private lapicUpdate(): void {
    const v = highestBit(this.regs, IRR);
    this.pending = this.enabled && v >= 0 && (v >> 4) > (this.ppr() >> 4) ? v : -1;
  }

  // ---- State -------------------------------------------------------------------------------

  saveState(): LapicState {
    return {
      version: LAPIC_STATE_VERSION,
      regs: Array.from(this.regs),
      esrPending: this.esrPending,
      timer: { running: this.timerRunning, deadline: this.timerDeadline, divide: this.timerDivide, gen: this.timerGen, handle: this.timerHandle },
      counters: { ...this.counters },
    };
  }

  /**
   * Restore. With `queueRestored` (a whole-machine snapshot) the timer's event is already back
   * in the queue and is adopted. Otherwise re-arm the timer event. Load the event queue first: the handle held before is
   * dropped without cancelling (it belongs to the queue's previous life); a copy of the timer
   * event restored with the queue carries the same tag and deadline and is ignored once the
   * re-armed one has fired.
   */
  loadState(s: LapicState, queueRestored = false): void {
    if (s.version !== LAPIC_STATE_VERSION) {
      throw new Error(`${this.name}: cannot load local APIC state version ${s.version}, expected ${LAPIC_STATE_VERSION}`);
    }
    if (s.regs.length !== SLOTS) throw new Error(`${this.name}: local APIC state has ${s.regs.length} slots, expected ${SLOTS}`);
    this.regs.set(s.regs);
    this.esrPending = s.esrPending;
    Object.assign(this.counters, zeroCounters(), s.counters);
    this.lastBadAccess = null;
    this.timerHandle = -1;
    this.timerRunning = false;
    this.timerDivide = s.timer.divide;
    if (queueRestored) {
      // The machine restored the event queue with this timer's pending event in it, handle
      // and all: take it over as it is, so the restored queue is the saved one exactly.
      this.timerRunning = s.timer.running;
      this.timerDeadline = s.timer.deadline;
      this.timerGen = s.timer.gen;
      this.timerHandle = s.timer.handle ?? -1;
    } else {
      this.timerGen = s.timer.gen - 1; // timerArm() brings it back to the saved tag
      if (s.timer.running) this.timerArm(s.timer.deadline);
      else this.timerGen = s.timer.gen;
    }
    this.lapicUpdate();
  }

  inspect(): LapicInspect {
    const bad = this.lastBadAccess;
    return {
      id: this.id,
      enabled: this.enabled,
      tpr: this.regs[TPR] & 0xff,
      ppr: this.ppr(),
      isr: bitList(this.regs, ISR),
      irr: bitList(this.regs, IRR),
      esr: this.regs[ESR],
      timer: {
        mode: this.timerMode(),
        vector: this.regs[LVT_TIMER] & LVT_VECTOR,
        initial: this.regs[TIMER_ICR],
        current: this.timerCurrent(),
        divide: this.timerDivisor(),
      },
      counters: { ...this.counters },
      lastBadAccess: bad && { reason: LAPIC_BAD_ACCESS_NAMES[bad.reason], offset: bad.offset, size: bad.size, write: bad.write },
    };
  }
}

// 256-bit vector registers (ISR, TMR, IRR) live as eight dwords starting at slot `base`.

function bitTest(regs: Uint32Array, base: number, v: number): boolean {
  return (regs[base + (v >> 5)] & (1 << (v & 31))) !== 0;
}

function bitSet(regs: Uint32Array, base: number, v: number): void {
  regs[base + (v >> 5)] |= 1 << (v & 31);
}

function bitClear(regs: Uint32Array, base: number, v: number): void {
  regs[base + (v >> 5)] &= ~(1 << (v & 31));
}

function highestBit(regs: Uint32Array, base: number): number {
  for (let i = 7; i >= 0; i--) {
    const w = regs[base + i];
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}

function bitList(regs: Uint32Array, base: number): number[] {
  const out: number[] = [];
  for (let v = 0; v < 256; v++) if (bitTest(regs, base, v)) out.push(v);
  return out;
}
