// A multi-queue Ethernet NIC as a PCI function (DESIGN section 2, "NIC"), in the manner of
// QEMU's hw/net/e1000.c: a register table in BAR0, descriptor rings in guest memory reached
// only through host.dma with the function's requester ID, MSI-X (machine/msix.ts) in BAR1.
//
// Identity: vendor 0xE1AB, device 0x0010 -- exolab's own numbers, not PCI-SIG assignments --
// class 0x020000 (Ethernet controller). MSI-X vector q serves queue q, vector Q the link/misc.
//
// Time model (every figure from the profile's nic section): each queue has a TX and an RX
// engine. A descriptor's completion (status write-back, head advance) comes at the later of
//   (when it was fetched or its frame arrived) + perDescriptor + dmaPerByte * length
// and one queueRate period after the engine's previous completion, counted exactly from the
// start of the busy period. So a busy queue completes `rate` descriptors per cycle, and q
// descriptors in flight take q / rate to drain. FENCE stops fetching fenceLatency after the
// write (STATUS.FENCED); DRAINED follows once nothing is in flight. With a full fetch window
// of q, the time from the FENCE write to DRAINED is fenceLatency + q / rate (the chapter's
// t_fence + q/r).

import type { MmioDevice } from './bus.js';
import type { DeviceHost, DmaStatus } from './device.js';
import { DMA_FAULT_NAMES, DMA_OK } from './device.js';
import type { EventOwner } from './events.js';
import { Msix, type MsixState } from './msix.js';
import type { PciBus, PciFunction } from './pci.js';
import type { Profile } from './profile.js';
import { ETH_MAX_FRAME } from './pcap.js';
import { rateCycles, ratioApply } from './units.js';
import { wireDropRecord, type Wire, type WireState } from './wire.js';

export const NIC_VENDOR = 0xe1ab;
export const NIC_DEVICE = 0x0010;
export const NIC_CLASS = 0x020000;
export const NIC_MAX_QUEUES = 16;
export const NIC_BAR0_SIZE = 0x20000;
export const NIC_STATE_VERSION = 2;
/** Descriptors a queue engine fetches ahead of completion (its pipeline depth) in the default profile. */
export const NIC_FETCH_WINDOW = 64;
/** Largest ring, in descriptors (a power of two from 2 up to this). */
export const NIC_MAX_RING = 4096;
/** Largest buffer one descriptor may name. */
export const NIC_MAX_BUFFER = 16384;
/** Descriptors one TX frame may span. */
export const NIC_MAX_GATHER = 32;
export const NIC_RULES = 16;
/** Simulated cycles over which inspect() reports rates. */
export const NIC_RATE_WINDOW = 1 << 20;

// ---- descriptors (16 bytes, little-endian) ----------------------------------------------
//  0  u32 buffer IOVA
//  4  u32 reserved (high address bits: must be 0)
//  8  u16 length     TX: bytes to send; RX: buffer size in, frame length out
// 10  u8  cmd
// 11  u8  status     written by the device
// 12  u32 RX: the steering hash written back; TX: reserved
export const DESC_SIZE = 16;
export const CMD_EOP = 0x01;       // TX: last descriptor of the frame
export const CMD_RS = 0x08;        // TX: report status (write DD) and raise TXDONE
export const CMD_VALID = CMD_EOP | CMD_RS;
export const STA_DD = 0x01;        // descriptor done
export const STA_EOP = 0x02;       // RX: end of packet (every RX frame fits one descriptor)
export const STA_ERR_SHIFT = 4;    // bits 7:4: an error code (DescError)

/** Error codes in descriptor status bits 7:4 and in QSTATUS. */
export const DescError = { None: 0, BadDescriptor: 1, DmaFault: 2, TooLong: 3, RingConfig: 4, BadTail: 5, RingFetch: 6, Busy: 7 } as const;
export type DescError = typeof DescError[keyof typeof DescError];
export const DESC_ERROR_NAMES = ['none', 'bad descriptor', 'DMA fault', 'too long', 'ring config', 'tail out of range', 'ring fetch fault', 'busy'] as const;

export interface Descriptor { addr: number; addrHi: number; length: number; cmd: number; status: number; hash: number }

/** The one codec for the descriptor layout: 16 bytes at b[0..16) into `d` (no allocation). */
export function descRead(b: Uint8Array, d: Descriptor): Descriptor {
  d.addr = le32(b, 0);
  d.addrHi = le32(b, 4);
  d.length = b[8]! | (b[9]! << 8);
  d.cmd = b[10]!;
  d.status = b[11]!;
  d.hash = le32(b, 12);
  return d;
}
/** ... and back: `d` into b[0..16). */
export function descWrite(d: Descriptor, b: Uint8Array): Uint8Array {
  put32(b, 0, d.addr);
  put32(b, 4, d.addrHi);
  b[8] = d.length & 0xff;
  b[9] = (d.length >>> 8) & 0xff;
  b[10] = d.cmd & 0xff;
  b[11] = d.status & 0xff;
  put32(b, 12, d.hash);
  return b;
}
export function descDecode(b: Uint8Array): Descriptor {
  return descRead(b, { addr: 0, addrHi: 0, length: 0, cmd: 0, status: 0, hash: 0 });
}
export function descEncode(d: Descriptor): Uint8Array {
  return descWrite(d, new Uint8Array(DESC_SIZE));
}
const le32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff; b[i + 1] = (v >>> 8) & 0xff; b[i + 2] = (v >>> 16) & 0xff; b[i + 3] = (v >>> 24) & 0xff;
}

// ---- drops and faults: one enum, one reporting function ---------------------------------

export const NicDrop = { RingFull: 0, Fenced: 1, BadDescriptor: 2, IommuFault: 3, TooLong: 4, LinkDown: 5, Reset: 6 } as const;
export type NicDrop = typeof NicDrop[keyof typeof NicDrop];
export const NIC_DROP_NAMES = ['ring full', 'fenced', 'bad descriptor', 'iommu fault', 'too long', 'link down', 'reset'] as const;
const NDROP = NIC_DROP_NAMES.length;

// ---- registers ---------------------------------------------------------------------------

interface NicReg {
  offset: number;
  name: string;
  reset: number;
  /** Bits a write stores. */
  rw: number;
  /** Bits a write of 1 clears. */
  w1c: number;
}

// Global registers, BAR0 0x000-0x0ff (32-bit accesses only).
export const NIC_REGS: readonly NicReg[] = [
  { offset: 0x000, name: 'CTRL',      reset: 0x2, rw: 0x7,        w1c: 0 }, // device control
  { offset: 0x004, name: 'STATUS',    reset: 0,   rw: 0,          w1c: 0 }, // computed: link
  { offset: 0x008, name: 'NQUEUES',   reset: 0,   rw: 0,          w1c: 0 }, // queue pairs
  { offset: 0x00c, name: 'MISCVEC',   reset: 0,   rw: 0x7ff,      w1c: 0 }, // MSI-X vector of link/misc
  { offset: 0x010, name: 'MISCCAUSE', reset: 0,   rw: 0,          w1c: 0x3 }, // what happened
  { offset: 0x014, name: 'MISCMASK',  reset: 0,   rw: 0x3,        w1c: 0 }, // which causes interrupt
  { offset: 0x018, name: 'DEFQ',      reset: 0,   rw: 0xff,       w1c: 0 }, // RX queue when nothing else says
  { offset: 0x01c, name: 'HASHKEY',   reset: 0x6d5a56da, rw: 0xffffffff, w1c: 0 }, // seed of the flow hash
  { offset: 0x020, name: 'MACLO',     reset: 0x00000002, rw: 0xffffffff, w1c: 0 }, // own MAC, bytes 0-3
  { offset: 0x024, name: 'MACHI',     reset: 0x00000100, rw: 0xffff, w1c: 0 },     // own MAC, bytes 4-5
  { offset: 0x030, name: 'RXRECV',    reset: 0,   rw: 0,          w1c: 0 }, // frames from the wire
  { offset: 0x034, name: 'RXDELIV',   reset: 0,   rw: 0,          w1c: 0 }, // frames written to rings
  { offset: 0x038, name: 'RXDROP',    reset: 0,   rw: 0,          w1c: 0 }, // frames dropped, any reason
  { offset: 0x03c, name: 'TXSENT',    reset: 0,   rw: 0,          w1c: 0 }, // frames put on the wire
];
export const CTRL_RST = 0x1;        // write 1: reset the device (self-clearing)
export const CTRL_HASH = 0x2;       // hash UDP flows over the enabled RX queues
/**
 * Per-queue requester IDs, as SR-IOV virtual functions give: queue q's DMA carries requester ID
 * rid + 1 + q (functions 1..7 of the NIC's device), so the IOMMU can give each queue its own
 * domain. At most 7 queues are told apart; higher queues share the last ID.
 */
export const CTRL_QRID = 0x4;
export const STATUS_LINK = 0x1;
export const MISC_LINK = 0x1;       // link changed
export const MISC_QERR = 0x2;       // a queue stopped on an error
export const NIC_DROP_REGS = 0x040; // + 4 * reason: RX drops by reason (read-only)
export const NIC_RULE_BASE = 0x100; // + 16 * rule
//   +0 RULECTRL: bits 1:0 kind, bits 15:8 queue
export const   RULE_OFF = 0, RULE_MAC = 1, RULE_UDP_PORT = 2;
//   +4 RULELO: MAC bytes 0-3 (byte 0 in bits 7:0) or the UDP destination port
//   +8 RULEHI: MAC bytes 4-5

// Per-queue registers at NIC_QUEUE_BASE + NIC_QUEUE_STRIDE * q.
export const NIC_QUEUE_BASE = 0x1000;
export const NIC_QUEUE_STRIDE = 0x1000; // a page per queue, so a queue binding can map just its own
export const QUEUE_REGS: readonly NicReg[] = [
  { offset: 0x00, name: 'TXBASE',   reset: 0, rw: 0xfffffff0, w1c: 0 }, // ring IOVA, 16-byte aligned
  { offset: 0x04, name: 'TXSIZE',   reset: 0, rw: 0xffff,     w1c: 0 }, // entries: power of two, 2..4096
  { offset: 0x08, name: 'TXHEAD',   reset: 0, rw: 0,          w1c: 0 }, // device-owned: next to complete
  { offset: 0x0c, name: 'TXTAIL',   reset: 0, rw: 0xffff,     w1c: 0 }, // doorbell: one past the last posted
  { offset: 0x10, name: 'RXBASE',   reset: 0, rw: 0xfffffff0, w1c: 0 },
  { offset: 0x14, name: 'RXSIZE',   reset: 0, rw: 0xffff,     w1c: 0 },
  { offset: 0x18, name: 'RXHEAD',   reset: 0, rw: 0,          w1c: 0 },
  { offset: 0x1c, name: 'RXTAIL',   reset: 0, rw: 0xffff,     w1c: 0 },
  { offset: 0x20, name: 'QCTRL',    reset: 0, rw: 0x7,        w1c: 0 }, // enables and FENCE
  { offset: 0x24, name: 'QSTATUS',  reset: 0, rw: 0,          w1c: 0 }, // computed
  { offset: 0x28, name: 'ITR',      reset: 0, rw: 0xffffffff, w1c: 0 }, // min cycles between interrupts
  { offset: 0x2c, name: 'VEC',      reset: 0, rw: 0x7ff,      w1c: 0 }, // MSI-X vector (reset: q)
  { offset: 0x30, name: 'CAUSE',    reset: 0, rw: 0,          w1c: 0x1f },
  { offset: 0x34, name: 'IMASK',    reset: 0, rw: 0x1f,       w1c: 0 }, // causes that interrupt
  { offset: 0x38, name: 'INFLIGHT', reset: 0, rw: 0,          w1c: 0 }, // TX in 15:0, RX in 31:16
  { offset: 0x3c, name: 'QRXFRAMES', reset: 0, rw: 0,         w1c: 0 }, // delivered
  { offset: 0x40, name: 'QRXDROPS', reset: 0, rw: 0,          w1c: 0 },
  { offset: 0x44, name: 'QTXFRAMES', reset: 0, rw: 0,         w1c: 0 },
];
export const Q_TXEN = 0x1, Q_RXEN = 0x2, Q_FENCE = 0x4;            // QCTRL
export const QS_TXON = 0x1, QS_RXON = 0x2, QS_FENCED = 0x4, QS_DRAINED = 0x8,
  QS_TXERR = 0x10, QS_RXERR = 0x20;                                  // QSTATUS; 11:8 TX, 15:12 RX error code
export const C_TXDONE = 0x1, C_RXDONE = 0x2, C_RXDROP = 0x4, C_ERROR = 0x8, C_DRAINED = 0x10; // CAUSE

const GLOBAL_BY_OFFSET = new Map(NIC_REGS.map((r) => [r.offset, r]));
const QUEUE_BY_OFFSET = new Map(QUEUE_REGS.map((r) => [r.offset, r]));
const QI = Object.fromEntries(QUEUE_REGS.map((r) => [r.name, r.offset >> 2])) as Record<string, number>;
const GI = Object.fromEntries(NIC_REGS.map((r) => [r.name, r.offset >> 2])) as Record<string, number>;
// The ring registers the descriptor pipeline touches per descriptor.
const QI_TXBASE = QI.TXBASE!, QI_TXSIZE = QI.TXSIZE!, QI_TXHEAD = QI.TXHEAD!, QI_TXTAIL = QI.TXTAIL!;
const QI_RXBASE = QI.RXBASE!, QI_RXSIZE = QI.RXSIZE!, QI_RXHEAD = QI.RXHEAD!, QI_RXTAIL = QI.RXTAIL!;

const queueOf = (offset: number) => Math.floor((offset - NIC_QUEUE_BASE) / NIC_QUEUE_STRIDE);

// Event kinds
const EV_DONE = 1;    // arg: epoch * 512 + dir * 256 + q: the oldest in-flight descriptor completes
const EV_RX = 2;      // the wire has a frame due
const EV_IRQ = 3;     // arg: q: a moderated interrupt may now be sent
const EV_FENCE = 4;   // arg: gen * 256 + q: the fence takes effect

const TX = 0, RX = 1;
type Dir = typeof TX | typeof RX;

// ---- state -------------------------------------------------------------------------------

/**
 * A reusable byte buffer and a cached view of its first `len` bytes: the DMA port takes exact
 * lengths, and a fresh subarray per frame would be an allocation per frame. The view is made
 * again only when the length changes (for fixed-size traffic, never).
 */
class FrameBuf {
  readonly bytes: Uint8Array;
  private v: Uint8Array;
  constructor(size: number) { this.bytes = new Uint8Array(size); this.v = this.bytes.subarray(0, 0); }
  /** bytes[0..len) */
  view(len: number): Uint8Array {
    if (this.v.length !== len) this.v = this.bytes.subarray(0, len);
    return this.v;
  }
}

/** A descriptor the device has fetched and not yet completed. Pooled: see InFlightFifo. */
class InFlight {
  slot = 0;
  at = 0;
  /** The descriptor as fetched (RX completion rewrites length, status and hash). */
  readonly desc: Descriptor = { addr: 0, addrHi: 0, length: 0, cmd: 0, status: 0, hash: 0 };
  err: DescError = DescError.None;
  /** RX: the frame waiting to be written, `frameLen` bytes (TX: frameLen is -1, no frame). */
  frame: FrameBuf | null = null;
  frameLen = -1;
  hash = 0;
}

/**
 * The engine's in-flight descriptors, oldest first, in a ring of records that are reused: no
 * allocation per descriptor once the ring has grown to the deepest pipeline seen. A record
 * from shift() stays valid until the next push.
 */
class InFlightFifo {
  private recs: InFlight[] = [];
  private head = 0;
  length = 0;
  /** The record the next push() will add: fill it in, then push(). */
  tail(): InFlight {
    if (this.length === this.recs.length) this.grow();
    return this.recs[(this.head + this.length) & (this.recs.length - 1)]!;
  }
  push(): void { this.length++; }
  shift(): InFlight {
    const f = this.recs[this.head]!;
    this.head = (this.head + 1) & (this.recs.length - 1);
    this.length--;
    return f;
  }
  /** The k-th oldest. */
  at(k: number): InFlight { return this.recs[(this.head + k) & (this.recs.length - 1)]!; }
  clear(): void { this.head = 0; this.length = 0; }
  private grow(): void {
    const n = Math.max(8, this.recs.length * 2), recs: InFlight[] = [];
    for (let k = 0; k < this.length; k++) recs.push(this.at(k));
    while (recs.length < n) recs.push(new InFlight());
    this.recs = recs;
    this.head = 0;
  }
}

/** Completion pacing of one engine: completions at anchor + k / rate while busy. */
interface Pace { anchor: number; k: number; last: number }

class RateWindow {
  readonly frames = new Float64Array(8);
  readonly bytes = new Float64Array(8);
  readonly epochs = new Float64Array(8).fill(-1);
  add(at: number, bytes: number): void {
    const e = Math.floor(at / (NIC_RATE_WINDOW / 8)), k = e & 7;
    if (this.epochs[k] !== e) { this.epochs[k] = e; this.frames[k] = 0; this.bytes[k] = 0; }
    this.frames[k]++;
    this.bytes[k] += bytes;
  }
  read(now: number): { frames: number; bytes: number } {
    const e = Math.floor(now / (NIC_RATE_WINDOW / 8));
    let frames = 0, bytes = 0;
    for (let k = 0; k < 8; k++) if (this.epochs[k]! > e - 8 && this.epochs[k]! <= e) { frames += this.frames[k]!; bytes += this.bytes[k]!; }
    return { frames, bytes };
  }
}

class Engine {
  fetch = 0;                           // next slot to fetch
  err: DescError = DescError.None;     // a sticky queue error: the engine stopped
  readonly inflight = new InFlightFifo();
  pace: Pace = { anchor: 0, k: 0, last: -1 };
  frames = 0;                          // TX: sent; RX: delivered
  bytes = 0;
  received = 0;                        // RX: frames steered here
  drops = new Float64Array(NDROP);
  faults = 0;                          // queue errors (ring config, tail, fetch)
  rate = new RateWindow();
  // TX gather: the frame being assembled from descriptors up to EOP, as gatherN chunks of
  // gatherChunk[k] bytes one after the other in `gather` (a failed frame keeps no chunks).
  readonly gather = new FrameBuf(ETH_MAX_FRAME);
  readonly gatherChunk = new Uint16Array(NIC_MAX_GATHER);
  gatherN = 0;
  gatherLen = 0;
  gatherErr: NicDrop | -1 = -1;
}

class Queue {
  readonly r = new Uint32Array(QUEUE_REGS.length + 1);
  readonly tx = new Engine();
  readonly rx = new Engine();
  fenced = false;
  fenceGen = 0;
  drainedAt = -1;
  irqPending = false;
  lastIrq = Number.NEGATIVE_INFINITY;
  constructor(readonly q: number) {}
  engine(d: Dir): Engine { return d === TX ? this.tx : this.rx; }
}

export interface NicOptions {
  queues: number;
  wire: Wire;
  /** PCI device number on bus 0 (function 0). */
  dev?: number;
  /** Event-owner id; default 0x4e00 + dev. */
  eventId?: number;
}

export interface NicEngineInspect {
  base: number; size: number; head: number; tail: number; inFlight: number;
  /** Descriptors the guest has handed over and the device has not completed. */
  occupancy: number;
  on: boolean; error: string;
  frames: number; bytes: number; drops: Record<string, number>;
  rate: { windowCycles: number; frames: number; bytes: number };
}

export interface NicQueueInspect {
  q: number; vector: number; itr: number; cause: number;
  fence: 'off' | 'pending' | 'fenced' | 'drained'; drainedAt: number;
  received: number;
  tx: NicEngineInspect; rx: NicEngineInspect;
}

export interface NicInspect {
  name: string; rid: number; link: boolean; queues: NicQueueInspect[];
  /**
   * received = delivered + dropped + inFlight, all frames the NIC saw; `wire` is apart: frames
   * the wire dropped before the NIC (refused capture records, a full loop), by reason.
   */
  totals: {
    received: number; delivered: number; dropped: number; inFlight: number; sent: number; drops: Record<string, number>; txDrops: Record<string, number>;
    wire: { dropped: number; drops: Record<string, number> };
  };
  badAccesses: number; lastFault: string | null;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** The NIC's register window (BAR0). */
export class Nic implements MmioDevice, EventOwner {
  readonly name: string;
  readonly eventId: number;
  readonly fn: PciFunction;
  readonly msix: Msix;
  readonly wire: Wire;
  private readonly g = new Uint32Array(0x40);
  private readonly rules = new Uint32Array(NIC_RULES * 3);
  private readonly qs: Queue[] = [];
  private readonly rxDrops = new Float64Array(NDROP);
  private epoch = 0;
  /**
   * Told when a fenced queue becomes DRAINED, as the kernel's own DRAINED interrupt would be
   * (the queue's MSI-X vector belongs to whoever owns the queue).
   */
  onDrained: ((queue: number, at: number) => void) | null = null;
  /**
   * Told of each frame delivered into a queue's ring (in the buffer, its descriptor written
   * back), with its first `len` bytes in `frame`, valid during the call only: the kernel
   * counts a principal's requests by it.
   */
  onRxDelivered: ((queue: number, frame: Uint8Array, len: number, at: number) => void) | null = null;
  /** When the wire started (the first RX buffers or the first send), or -1. */
  private wireStartedAt = -1;
  private rxEventAt = Number.POSITIVE_INFINITY;
  // Scratch for the per-frame path, so that it allocates nothing.
  /** A descriptor on its way in or out; descTail is its bytes 8..15 (the write-back). */
  private readonly descBuf = new Uint8Array(DESC_SIZE);
  private readonly descTail = this.descBuf.subarray(8);
  /** TX: one descriptor's buffer as read. */
  private readonly txBuf = new FrameBuf(NIC_MAX_BUFFER);
  /** RX: the frame arriving; swapped with the buffer of the in-flight record it goes to. */
  private rxBuf = new FrameBuf(ETH_MAX_FRAME);
  /** steer()'s second result. */
  private steerHash = 0;
  badAccesses = 0;
  lastFault: string | null = null;

  constructor(private readonly host: DeviceHost, pci: PciBus, private readonly costs: Profile['nic'], opts: NicOptions) {
    const n = opts.queues;
    if (!Number.isInteger(n) || n < 1 || n > NIC_MAX_QUEUES) throw new RangeError(`nic: queues must be 1 to ${NIC_MAX_QUEUES}, got ${n}`);
    const dev = opts.dev ?? 2;
    this.name = `nic@${dev}`;
    this.eventId = opts.eventId ?? 0x4e00 + dev;
    this.wire = opts.wire;
    for (let q = 0; q < n; q++) this.qs.push(new Queue(q));
    this.msix = new Msix(`${this.name}-msix`, n + 1, host);
    this.fn = pci.attach(dev, 0, {
      name: this.name, vendor: NIC_VENDOR, device: NIC_DEVICE, classCode: NIC_CLASS,
      bars: [{ size: NIC_BAR0_SIZE, device: this }, { size: this.msix.barSize(), device: this.msix }],
      capabilities: [this.msix.capability(1)],
    });
    this.msix.attach(this.fn);
    host.events.register(this);
    this.nicReset();
    this.wire.onLinkChange = () => this.onLinkChange();
  }

  get queues(): number { return this.qs.length; }

  // ---- register access ---------------------------------------------------------------------

  mmioRead(offset: number, size: number): number {
    if (size !== 4 || (offset & 3) !== 0) { this.bad(`read of ${size} bytes at ${hex(offset)}`); return -1; }
    if (offset >= NIC_QUEUE_BASE) {
      const reg = this.queueReg(offset);
      return reg === undefined ? 0 : this.queueRead(this.qs[queueOf(offset)]!, reg) | 0;
    }
    if (offset >= NIC_RULE_BASE && offset < NIC_RULE_BASE + 16 * NIC_RULES) {
      const k = (offset - NIC_RULE_BASE) >> 2, r = k >> 2, w = k & 3;
      return w < 3 ? this.rules[r * 3 + w]! | 0 : 0;
    }
    if (offset >= NIC_DROP_REGS && offset < NIC_DROP_REGS + 4 * NDROP) return this.rxDrops[(offset - NIC_DROP_REGS) >> 2]! | 0;
    const reg = GLOBAL_BY_OFFSET.get(offset);
    if (reg === undefined) { this.bad(`read of unknown register ${hex(offset)}`); return 0; }
    return this.globalRead(reg) | 0;
  }

  mmioWrite(offset: number, size: number, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) { this.bad(`write of ${size} bytes at ${hex(offset)}`); return; }
    value >>>= 0;
    if (offset >= NIC_QUEUE_BASE) {
      const reg = this.queueReg(offset);
      if (reg !== undefined) this.queueWrite(this.qs[queueOf(offset)]!, queueOf(offset), reg, value);
      return;
    }
    if (offset >= NIC_RULE_BASE && offset < NIC_RULE_BASE + 16 * NIC_RULES) { this.onRuleWrite(offset - NIC_RULE_BASE, value); return; }
    const reg = GLOBAL_BY_OFFSET.get(offset);
    if (reg === undefined || (reg.rw | reg.w1c) === 0) { this.bad(`write of ${hex(value)} to ${reg ? 'read-only ' + reg.name : 'unknown register ' + hex(offset)}`); return; }
    const i = reg.offset >> 2, old = this.g[i]!;
    this.g[i] = ((old & ~reg.rw) | (value & reg.rw)) & ~(value & reg.w1c);
    if (reg.name === 'CTRL') this.onCtrlWrite();
    else if (reg.name === 'MISCVEC') this.onVectorWrite(GI.MISCVEC!, -1, old);
    else if (reg.name === 'DEFQ' && this.g[i]! >= this.qs.length) { this.g[i] = old; this.bad(`DEFQ ${value}: no such queue`); }
  }

  private globalRead(reg: NicReg): number {
    switch (reg.name) {
      case 'STATUS': return this.wire.linkUp ? STATUS_LINK : 0;
      case 'NQUEUES': return this.qs.length;
      case 'RXRECV': return this.totals().received;
      case 'RXDELIV': return this.totals().delivered;
      case 'RXDROP': return this.totals().dropped;
      case 'TXSENT': return this.qs.reduce((s, q) => s + q.tx.frames, 0);
      default: return this.g[reg.offset >> 2]!;
    }
  }

  /** The per-queue register at `offset` (>= NIC_QUEUE_BASE), or undefined (counted as bad). */
  private queueReg(offset: number): NicReg | undefined {
    const q = queueOf(offset);
    const reg = QUEUE_BY_OFFSET.get((offset - NIC_QUEUE_BASE) % NIC_QUEUE_STRIDE);
    if (q >= this.qs.length || reg === undefined) { this.bad(`access to unknown register ${hex(offset)}`); return undefined; }
    return reg;
  }

  private queueRead(qs: Queue, reg: NicReg): number {
    switch (reg.name) {
      case 'QSTATUS': return this.queueStatus(qs);
      case 'INFLIGHT': return (qs.tx.inflight.length & 0xffff) | (qs.rx.inflight.length << 16);
      case 'QRXFRAMES': return qs.rx.frames;
      case 'QRXDROPS': return qs.rx.drops.reduce((a, b) => a + b, 0);
      case 'QTXFRAMES': return qs.tx.frames;
      default: return qs.r[reg.offset >> 2]!;
    }
  }

  private queueWrite(qs: Queue, q: number, reg: NicReg, value: number): void {
    if ((reg.rw | reg.w1c) === 0) { this.bad(`write of ${hex(value)} to read-only ${reg.name}${q}`); return; }
    const i = reg.offset >> 2, old = qs.r[i]!;
    // Ring geometry is frozen while its engine is on: the device is walking it.
    const ringOf = reg.name.startsWith('TX') ? TX : RX;
    if ((reg.name.endsWith('BASE') || reg.name.endsWith('SIZE')) && this.engineEnabled(qs, ringOf)) {
      this.bad(`write to ${reg.name}${q} while the ring is enabled`);
      return;
    }
    qs.r[i] = ((old & ~reg.rw) | (value & reg.rw)) & ~(value & reg.w1c);
    switch (reg.name) {
      case 'TXTAIL': this.onTailWrite(qs, TX, old); break;
      case 'RXTAIL': this.onTailWrite(qs, RX, old); break;
      case 'QCTRL': this.onQctrlWrite(qs, old); break;
      case 'VEC': this.onVectorWrite(i, q, old); break;
      case 'IMASK': if ((qs.r[QI.CAUSE!]! & qs.r[QI.IMASK!]!) !== 0) this.irqRequest(qs); break;
      default: break;
    }
  }

  private onRuleWrite(off: number, value: number): void {
    const r = off >> 4, w = (off & 15) >> 2;
    if (w === 3) { this.bad(`write to reserved rule word ${hex(NIC_RULE_BASE + off)}`); return; }
    if (w === 0 && ((value >>> 8) & 0xff) >= this.qs.length) { this.bad(`rule ${r}: queue ${(value >>> 8) & 0xff} does not exist`); return; }
    this.rules[r * 3 + w] = w === 0 ? value & 0xff03 : w === 2 ? value & 0xffff : value;
  }

  private onVectorWrite(i: number, q: number, old: number): void {
    const regs = q < 0 ? this.g : this.qs[q]!.r;
    if (regs[i]! >= this.msix.vectors) { this.bad(`vector ${regs[i]} is beyond the ${this.msix.vectors} MSI-X vectors`); regs[i] = old; }
  }

  private onCtrlWrite(): void {
    if ((this.g[GI.CTRL!]! & CTRL_RST) !== 0) this.nicReset();
  }

  private onQctrlWrite(qs: Queue, old: number): void {
    const now = qs.r[QI.QCTRL!]!, rise = now & ~old, fall = old & ~now;
    for (const d of [TX, RX] as Dir[]) {
      const bit = d === TX ? Q_TXEN : Q_RXEN;
      if ((rise & bit) !== 0) this.engineEnable(qs, d);
    }
    if ((rise & Q_FENCE) !== 0) {
      qs.fenceGen = (qs.fenceGen + 1) & 0xffffff;
      this.host.events.schedule(this.host.now() + this.costs.fenceLatency, this, EV_FENCE, qs.fenceGen * 256 + qs.q);
    }
    if ((fall & Q_FENCE) !== 0) {
      qs.fenceGen = (qs.fenceGen + 1) & 0xffffff; // a fence still on its way is void
      qs.fenced = false;
      qs.drainedAt = -1;
      this.txFetch(qs, this.host.now());
    }
  }

  /** An engine turns on: check the ring, start at slot 0. Refused while old work is in flight. */
  private engineEnable(qs: Queue, d: Dir): void {
    const e = qs.engine(d), base = qs.r[d === TX ? QI.TXBASE! : QI.RXBASE!]!, size = qs.r[d === TX ? QI.TXSIZE! : QI.RXSIZE!]!;
    if (e.inflight.length > 0) { this.queueFault(qs, d, DescError.Busy, 'enabled with descriptors still in flight'); return; }
    e.err = DescError.None;
    e.fetch = 0;
    qs.r[d === TX ? QI.TXHEAD! : QI.RXHEAD!] = 0;
    qs.r[d === TX ? QI.TXTAIL! : QI.RXTAIL!] = 0;
    if (size < 2 || size > NIC_MAX_RING || (size & (size - 1)) !== 0) {
      this.queueFault(qs, d, DescError.RingConfig, `ring size ${size}: expected a power of two from 2 to ${NIC_MAX_RING}`);
    } else if (base + size * DESC_SIZE > 0x100000000) {
      this.queueFault(qs, d, DescError.RingConfig, `ring at ${hex(base)} of ${size} descriptors wraps the address space`);
    }
  }

  private engineEnabled(qs: Queue, d: Dir): boolean {
    return (qs.r[QI.QCTRL!]! & (d === TX ? Q_TXEN : Q_RXEN)) !== 0;
  }

  /** The engine may fetch: enabled, no sticky error. FENCE is checked by the callers. */
  private engineOn(qs: Queue, d: Dir): boolean {
    return this.engineEnabled(qs, d) && qs.engine(d).err === DescError.None;
  }

  private queueStatus(qs: Queue): number {
    let s = 0;
    if (this.engineOn(qs, TX)) s |= QS_TXON;
    if (this.engineOn(qs, RX)) s |= QS_RXON;
    if (qs.fenced) s |= QS_FENCED;
    if (qs.fenced && qs.tx.inflight.length === 0 && qs.rx.inflight.length === 0) s |= QS_DRAINED;
    if (qs.tx.err !== DescError.None) s |= QS_TXERR | (qs.tx.err << 8);
    if (qs.rx.err !== DescError.None) s |= QS_RXERR | (qs.rx.err << 12);
    return s;
  }

  private onTailWrite(qs: Queue, d: Dir, old: number): void {
    const e = qs.engine(d), ti = d === TX ? QI.TXTAIL! : QI.RXTAIL!, size = qs.r[d === TX ? QI.TXSIZE! : QI.RXSIZE!]!;
    if (!this.engineEnabled(qs, d) || qs.r[ti]! >= size) {
      const why = this.engineEnabled(qs, d) ? `tail ${qs.r[ti]} is past the ring of ${size}` : 'tail written while the ring is disabled';
      qs.r[ti] = old;
      if (e.err === DescError.None && this.engineEnabled(qs, d)) this.queueFault(qs, d, DescError.BadTail, why);
      else this.bad(`${d === TX ? 'TX' : 'RX'}TAIL${qs.q}: ${why}`);
      return;
    }
    if (d === TX) this.txFetch(qs, this.host.now());
    else if (qs.r[ti] !== e.fetch) this.wireStart();
  }

  /**
   * The wire's traffic (a replay's time 0, a generator's first frame) starts when the driver
   * first posts RX buffers or first sends, as a capture replayed at link-up would.
   */
  private wireStart(): void {
    if (this.wireStartedAt >= 0) return;
    this.wireStartedAt = this.host.now();
    this.wire.start(this.wireStartedAt);
    this.rxSchedule();
  }

  // ---- faults and drops: the one reporting path ------------------------------------------------

  /** Count a frame dropped on queue `qs` in direction `d` for `reason`, and tell the guest. */
  private nicDrop(qs: Queue, d: Dir, reason: NicDrop, detail: string): void {
    qs.engine(d).drops[reason]++;
    if (d === RX) {
      this.rxDrops[reason]++;
      this.raise(qs, C_RXDROP);
    }
    this.lastFault = `q${qs.q} ${d === TX ? 'tx' : 'rx'}: ${NIC_DROP_NAMES[reason]}: ${detail}`;
  }

  /** A queue engine stops on a guest error; it restarts when the guest re-enables it. */
  private queueFault(qs: Queue, d: Dir, code: DescError, detail: string): void {
    const e = qs.engine(d);
    e.err = code;
    e.faults++;
    this.lastFault = `q${qs.q} ${d === TX ? 'tx' : 'rx'} stopped: ${DESC_ERROR_NAMES[code]}: ${detail}`;
    this.raise(qs, C_ERROR);
    this.g[GI.MISCCAUSE!] |= MISC_QERR;
    this.miscIrq();
  }

  private bad(what: string): void {
    this.badAccesses++;
    this.lastFault = `register access: ${what}`;
  }

  // ---- descriptor pipeline -------------------------------------------------------------------

  /** When a descriptor made ready at `ready` with `bytes` of DMA completes on engine `e`. */
  private completionAt(e: Engine, ready: number, bytes: number): number {
    const earliest = ready + this.costs.perDescriptor + ratioApply(this.costs.dmaPerByte, bytes);
    const p = e.pace;
    if (p.last >= 0) {
      const paced = p.anchor + rateCycles(this.costs.queueRate, p.k + 1);
      if (paced >= earliest) { p.k++; p.last = paced; return paced; } // busy: rate-limited
    }
    // Idle, or latency-limited: a new busy period starts. Since paced < earliest here, the
    // new completion is still more than one period after the previous one: FIFO order holds.
    p.anchor = earliest;
    p.k = 0;
    p.last = earliest;
    return p.last;
  }

  /** The requester ID queue `qs`'s DMA carries (CTRL_QRID). */
  dmaRid(qs: { q: number }): number {
    return (this.g[GI.CTRL!]! & CTRL_QRID) !== 0 ? this.fn.rid + 1 + Math.min(qs.q, 6) : this.fn.rid;
  }

  /** Read descriptor `slot` of a ring into `into`; a DMA fault stops the engine. */
  private descFetch(qs: Queue, d: Dir, slot: number, into: Descriptor): boolean {
    const base = qs.r[d === TX ? QI_TXBASE : QI_RXBASE]!;
    const st = this.host.dma.read(this.dmaRid(qs), base + slot * DESC_SIZE, this.descBuf);
    if (st !== DMA_OK) {
      this.queueFault(qs, d, DescError.RingFetch, `descriptor ${slot} at ${hex(base + slot * DESC_SIZE)}: ${DMA_FAULT_NAMES[st] ?? st}`);
      return false;
    }
    descRead(this.descBuf, into);
    return true;
  }

  /** Write back bytes 8..15 of a descriptor (length, cmd, status, hash). */
  private descWriteBack(qs: Queue, d: Dir, slot: number, desc: Descriptor): DmaStatus {
    const base = qs.r[d === TX ? QI_TXBASE : QI_RXBASE]!;
    descWrite(desc, this.descBuf);
    return this.host.dma.write(this.dmaRid(qs), base + slot * DESC_SIZE + 8, this.descTail);
  }

  private validate(desc: Descriptor, d: Dir): DescError {
    if (desc.addrHi !== 0 || desc.length === 0 || desc.length > NIC_MAX_BUFFER) return DescError.BadDescriptor;
    if (d === TX && (desc.cmd & ~CMD_VALID) !== 0) return DescError.BadDescriptor;
    return DescError.None;
  }

  /** Fetch TX descriptors up to the tail, within the fetch window. Bounded by the window. */
  private txFetch(qs: Queue, now: number): void {
    const e = qs.tx, size = qs.r[QI_TXSIZE]!;
    while (this.engineOn(qs, TX) && !qs.fenced && e.fetch !== qs.r[QI_TXTAIL] && e.inflight.length < this.costs.fetchWindow) {
      const slot = e.fetch, f = e.inflight.tail();
      if (!this.descFetch(qs, TX, slot, f.desc)) return;
      e.fetch = (slot + 1) & (size - 1);
      f.slot = slot;
      f.err = this.validate(f.desc, TX);
      f.frameLen = -1;
      f.hash = 0;
      f.at = this.completionAt(e, now, f.err ? 0 : f.desc.length);
      this.inflightPush(qs, TX, f);
    }
  }

  /** `f`, filled in at the engine's fifo tail, joins the pipeline; its completion is scheduled. */
  private inflightPush(qs: Queue, d: Dir, f: InFlight): void {
    qs.engine(d).inflight.push();
    this.host.events.schedule(f.at, this, EV_DONE, this.epoch * 512 + d * 256 + qs.q);
  }

  /** The oldest TX descriptor of `qs` completes: read its buffer, send on EOP, write status. */
  private txComplete(qs: Queue, at: number): void {
    const e = qs.tx, f = e.inflight.shift(), desc = f.desc;
    let err = f.err;
    if (err === DescError.None) {
      const buf = this.txBuf.view(desc.length);
      const st = this.host.dma.read(this.dmaRid(qs), desc.addr, buf);
      if (st !== DMA_OK) { err = DescError.DmaFault; this.gatherFail(e, NicDrop.IommuFault); this.lastFault = `q${qs.q} tx: buffer ${hex(desc.addr)}: ${DMA_FAULT_NAMES[st] ?? st}`; }
      else if (e.gatherErr < 0) {
        if (e.gatherLen + buf.length > ETH_MAX_FRAME || e.gatherN >= NIC_MAX_GATHER) this.gatherFail(e, NicDrop.TooLong);
        else { e.gather.bytes.set(buf, e.gatherLen); e.gatherChunk[e.gatherN++] = buf.length; e.gatherLen += buf.length; }
      }
    } else this.gatherFail(e, NicDrop.BadDescriptor);
    if ((desc.cmd & CMD_EOP) !== 0) { // a frame ends only at EOP; an error on the way voids all of it
      if (e.gatherErr === NicDrop.TooLong && err === DescError.None) err = DescError.TooLong;
      this.txFinishFrame(qs, at);
    }
    desc.status = STA_DD | (err << STA_ERR_SHIFT);
    if ((desc.cmd & CMD_RS) !== 0 || err !== DescError.None) this.descWriteBack(qs, TX, f.slot, desc);
    qs.r[QI_TXHEAD] = (f.slot + 1) & (qs.r[QI_TXSIZE]! - 1);
    if ((desc.cmd & CMD_RS) !== 0 || err !== DescError.None) this.raise(qs, C_TXDONE);
    this.drainCheck(qs, at);
    this.txFetch(qs, at); // last: it may reuse f's record
  }

  private gatherFail(e: Engine, reason: NicDrop): void {
    if (e.gatherErr < 0) e.gatherErr = reason;
    e.gatherN = 0;
  }

  /** The frame being gathered ends: to the wire, or dropped with the first reason it met. */
  private txFinishFrame(qs: Queue, at: number): void {
    const e = qs.tx;
    if (e.gatherErr >= 0) this.nicDrop(qs, TX, e.gatherErr as NicDrop, 'frame not sent');
    else if (!this.wire.linkUp) this.nicDrop(qs, TX, NicDrop.LinkDown, 'frame not sent');
    else {
      const frame = e.gather.view(e.gatherLen); // the wire copies what it keeps
      e.frames++;
      e.bytes += frame.length;
      e.rate.add(at, frame.length);
      this.wireStart();
      this.wire.transmit(at, frame);
      this.rxSchedule();
    }
    e.gatherN = 0;
    e.gatherLen = 0;
    e.gatherErr = -1;
  }

  // ---- receive ---------------------------------------------------------------------------------

  /** Frames due on the wire arrive; the next arrival gets an event. */
  private rxArrive(at: number): void {
    // Bounded: only frames already due, and a source yields each frame once. A frame that fits
    // the receive buffer is copied into it (no allocation); a longer one (dropped) is taken whole.
    while (this.wire.nextArrival() <= at) {
      const n = this.wire.nextSize();
      if (n <= ETH_MAX_FRAME) {
        this.wire.takeInto(this.rxBuf.bytes);
        this.rxFrame(this.rxBuf.view(n), at);
      } else this.rxFrame(this.wire.take(), at);
    }
  }

  /** One frame from the wire: steer it, then deliver it into a ring or drop it with a reason. */
  private rxFrame(data: Uint8Array, at: number): void {
    this.wire.received(at, data);
    const q = this.steer(data), hash = this.steerHash;
    const qs = this.qs[q]!, e = qs.rx;
    e.received++;
    if (!this.wire.linkUp) { this.nicDrop(qs, RX, NicDrop.LinkDown, `${data.length}-byte frame`); return; }
    if (data.length > ETH_MAX_FRAME) { this.nicDrop(qs, RX, NicDrop.TooLong, `${data.length} bytes > ${ETH_MAX_FRAME}`); return; }
    if (qs.fenced) { this.nicDrop(qs, RX, NicDrop.Fenced, `${data.length}-byte frame`); return; }
    if (!this.engineOn(qs, RX) || e.fetch === qs.r[QI_RXTAIL]) { this.nicDrop(qs, RX, NicDrop.RingFull, 'no RX descriptor available'); return; }
    const slot = e.fetch, f = e.inflight.tail(), desc = f.desc;
    if (!this.descFetch(qs, RX, slot, desc)) { this.nicDrop(qs, RX, NicDrop.IommuFault, 'RX descriptor fetch faulted'); return; }
    e.fetch = (slot + 1) & (qs.r[QI_RXSIZE]! - 1);
    let err = this.validate(desc, RX);
    if (err === DescError.None && data.length > desc.length) err = DescError.TooLong;
    // The frame is in rxBuf (it fits: checked above): hand that buffer to the record, take its old one.
    const spare = f.frame ?? new FrameBuf(ETH_MAX_FRAME);
    f.frame = this.rxBuf;
    this.rxBuf = spare;
    f.frameLen = data.length;
    f.slot = slot;
    f.err = err;
    f.hash = hash;
    f.at = this.completionAt(e, at, err ? 0 : data.length);
    this.inflightPush(qs, RX, f);
  }

  /** The oldest RX descriptor completes: frame into the buffer, then length and status. */
  private rxComplete(qs: Queue, at: number): void {
    const e = qs.rx, f = e.inflight.shift(), desc = f.desc, len = f.frameLen;
    let err = f.err;
    if (err === DescError.None) {
      const st = this.host.dma.write(this.dmaRid(qs), desc.addr, f.frame!.view(len));
      if (st !== DMA_OK) err = DescError.DmaFault;
    }
    desc.length = err === DescError.None ? len : 0;
    desc.status = STA_DD | STA_EOP | (err << STA_ERR_SHIFT);
    desc.hash = f.hash;
    const wb = this.descWriteBack(qs, RX, f.slot, desc);
    if (err === DescError.None && wb !== DMA_OK) err = DescError.DmaFault;
    qs.r[QI_RXHEAD] = (f.slot + 1) & (qs.r[QI_RXSIZE]! - 1);
    if (err === DescError.None) {
      e.frames++;
      e.bytes += len;
      e.rate.add(at, len);
      this.onRxDelivered?.(qs.q, f.frame!.bytes, len, at);
    } else {
      const reason = err === DescError.TooLong ? NicDrop.TooLong : err === DescError.DmaFault ? NicDrop.IommuFault : NicDrop.BadDescriptor;
      this.nicDrop(qs, RX, reason, `descriptor ${f.slot} (${hex(desc.addr)}, ${len} bytes)`);
    }
    this.raise(qs, C_RXDONE);
    this.drainCheck(qs, at);
  }

  private rxSchedule(): void {
    if (this.wireStartedAt < 0) return;
    const t = this.wire.nextArrival();
    if (t === Number.POSITIVE_INFINITY || t >= this.rxEventAt) return;
    this.rxEventAt = Math.max(t, this.host.now());
    this.host.events.schedule(this.rxEventAt, this, EV_RX, 0);
  }

  // ---- steering ----------------------------------------------------------------------------------

  /** Which queue a frame goes to: the first matching rule, else the UDP flow hash, else DEFQ. The hash is left in steerHash. */
  private steer(f: Uint8Array): number {
    const udp = udpParse(f, UDP);
    this.steerHash = 0;
    for (let r = 0; r < NIC_RULES; r++) {
      const ctrl = this.rules[r * 3]!, kind = ctrl & 3, q = (ctrl >>> 8) & 0xff;
      if (kind === RULE_MAC && f.length >= 6 && macMatch(f, this.rules[r * 3 + 1]!, this.rules[r * 3 + 2]!)) return q;
      if (kind === RULE_UDP_PORT && udp && UDP[3] === (this.rules[r * 3 + 1]! & 0xffff)) return q;
    }
    if (udp && (this.g[GI.CTRL!]! & CTRL_HASH) !== 0) {
      let on = 0;
      for (const qs of this.qs) if (this.engineOn(qs, RX)) on++;
      if (on > 0) {
        const hash = flowHash4(UDP[0]!, UDP[1]!, UDP[2]!, UDP[3]!, this.g[GI.HASHKEY!]!);
        this.steerHash = hash;
        let k = hash % on;
        for (const qs of this.qs) if (this.engineOn(qs, RX) && k-- === 0) return qs.q;
      }
    }
    return this.g[GI.DEFQ!]!;
  }

  // ---- interrupts, fence, link ------------------------------------------------------------------

  private raise(qs: Queue, bits: number): void {
    qs.r[QI.CAUSE!] |= bits;
    if ((qs.r[QI.CAUSE!]! & qs.r[QI.IMASK!]!) !== 0) this.irqRequest(qs);
  }

  /** Send the queue's vector now, or when its moderation interval (ITR) has passed. */
  private irqRequest(qs: Queue): void {
    if (qs.irqPending) return;
    const now = this.host.now(), at = qs.lastIrq + qs.r[QI.ITR!]!;
    if (at <= now) { this.irqSend(qs, now); return; }
    qs.irqPending = true;
    this.host.events.schedule(at, this, EV_IRQ, qs.q);
  }

  private irqSend(qs: Queue, now: number): void {
    if ((qs.r[QI.CAUSE!]! & qs.r[QI.IMASK!]!) === 0) return; // the guest cleared it meanwhile
    qs.lastIrq = now;
    // With per-queue requester IDs each queue is its own function (an SR-IOV VF) with its own
    // MSI-X entry: VEC cannot point a queue's interrupts at another owner's vector.
    this.msix.fire((this.g[GI.CTRL!]! & CTRL_QRID) !== 0 ? qs.q : qs.r[QI.VEC!]!);
  }

  private miscIrq(): void {
    if ((this.g[GI.MISCCAUSE!]! & this.g[GI.MISCMASK!]!) !== 0) this.msix.fire(this.g[GI.MISCVEC!]!);
  }

  private onLinkChange(): void {
    this.g[GI.MISCCAUSE!] |= MISC_LINK;
    this.miscIrq();
  }

  private drainCheck(qs: Queue, at: number): void {
    if (qs.fenced && qs.drainedAt < 0 && qs.tx.inflight.length === 0 && qs.rx.inflight.length === 0) {
      qs.drainedAt = at;
      this.raise(qs, C_DRAINED);
      this.onDrained?.(qs.q, at);
    }
  }

  onEvent(kind: number, arg: number, at: number): void {
    switch (kind) {
      case EV_DONE: {
        if (Math.floor(arg / 512) !== this.epoch) return; // from before a reset
        const qs = this.qs[arg & 0xff]!;
        if ((arg & 0x100) !== 0) this.rxComplete(qs, at); else this.txComplete(qs, at);
        return;
      }
      case EV_RX:
        if (at !== this.rxEventAt) return; // superseded by an earlier arrival
        this.rxEventAt = Number.POSITIVE_INFINITY;
        this.rxArrive(at);
        this.rxSchedule();
        return;
      case EV_IRQ: {
        const qs = this.qs[arg]!;
        qs.irqPending = false;
        this.irqSend(qs, at);
        return;
      }
      case EV_FENCE: {
        const qs = this.qs[arg & 0xff]!;
        if (Math.floor(arg / 256) !== qs.fenceGen || (qs.r[QI.QCTRL!]! & Q_FENCE) === 0) return;
        qs.fenced = true;
        this.drainCheck(qs, at);
        return;
      }
      default:
        return;
    }
  }

  // ---- reset, inspection, state ----------------------------------------------------------------

  /** Registers from the table; queues off; in-flight work abandoned (RX frames dropped: reset). */
  private nicReset(): void {
    this.epoch++;
    for (const r of NIC_REGS) this.g[r.offset >> 2] = r.reset;
    this.g[GI.MISCVEC!] = this.qs.length;
    this.rules.fill(0);
    for (const qs of this.qs) {
      for (let k = 0; k < qs.rx.inflight.length; k++) this.nicDrop(qs, RX, NicDrop.Reset, `descriptor ${qs.rx.inflight.at(k).slot} abandoned`);
      for (const r of QUEUE_REGS) qs.r[r.offset >> 2] = r.reset;
      qs.r[QI.VEC!] = qs.q;
      for (const e of [qs.tx, qs.rx]) {
        e.fetch = 0; e.err = DescError.None; e.inflight.clear(); e.pace = { anchor: 0, k: 0, last: -1 };
        e.gatherN = 0; e.gatherLen = 0; e.gatherErr = -1;
      }
      qs.fenced = false; qs.fenceGen++; qs.drainedAt = -1; qs.irqPending = false; qs.lastIrq = Number.NEGATIVE_INFINITY;
    }
  }

  private totals() {
    let received = 0, delivered = 0, inFlight = 0;
    for (const qs of this.qs) { received += qs.rx.received; delivered += qs.rx.frames; inFlight += qs.rx.inflight.length; }
    const dropped = this.rxDrops.reduce((a, b) => a + b, 0);
    return { received, delivered, dropped, inFlight };
  }

  inspect(): NicInspect {
    const now = this.host.now();
    const engine = (qs: Queue, d: Dir): NicEngineInspect => {
      const e = qs.engine(d), p = d === TX ? 'TX' : 'RX';
      const size = qs.r[QI[`${p}SIZE`]!]!, head = qs.r[QI[`${p}HEAD`]!]!, tail = qs.r[QI[`${p}TAIL`]!]!;
      const ok = size >= 2 && (size & (size - 1)) === 0;
      return {
        base: qs.r[QI[`${p}BASE`]!]!, size, head, tail, inFlight: e.inflight.length,
        occupancy: ok ? (tail - head) & (size - 1) : 0, on: this.engineOn(qs, d), error: DESC_ERROR_NAMES[e.err],
        frames: e.frames, bytes: e.bytes, drops: dropRecord(e.drops),
        rate: { windowCycles: NIC_RATE_WINDOW, ...e.rate.read(now) },
      };
    };
    const t = this.totals();
    const txDrops = new Float64Array(NDROP);
    for (const qs of this.qs) qs.tx.drops.forEach((n, k) => { txDrops[k] += n; });
    return {
      name: this.name, rid: this.fn.rid, link: this.wire.linkUp,
      queues: this.qs.map((qs) => ({
        q: qs.q, vector: qs.r[QI.VEC!]!, itr: qs.r[QI.ITR!]!, cause: qs.r[QI.CAUSE!]!,
        fence: (qs.r[QI.QCTRL!]! & Q_FENCE) === 0 ? 'off' : !qs.fenced ? 'pending' : qs.drainedAt >= 0 ? 'drained' : 'fenced',
        drainedAt: qs.drainedAt, received: qs.rx.received, tx: engine(qs, TX), rx: engine(qs, RX),
      })),
      totals: {
        ...t, sent: this.qs.reduce((s, q) => s + q.tx.frames, 0), drops: dropRecord(this.rxDrops), txDrops: dropRecord(txDrops),
        wire: wireDropRecord(this.wire.drops()),
      },
      badAccesses: this.badAccesses, lastFault: this.lastFault,
    };
  }

  saveState(): NicState {
    const eng = (e: Engine) => ({
      fetch: e.fetch, err: e.err, pace: { ...e.pace }, frames: e.frames, bytes: e.bytes, received: e.received,
      drops: Array.from(e.drops), faults: e.faults,
      inflight: Array.from({ length: e.inflight.length }, (_, k) => {
        const f = e.inflight.at(k);
        return { slot: f.slot, at: f.at, desc: b64(descEncode(f.desc)), err: f.err, frame: f.frameLen >= 0 ? b64(f.frame!.bytes.subarray(0, f.frameLen)) : null, hash: f.hash };
      }),
      gather: gatherChunks(e).map(b64), gatherLen: e.gatherLen, gatherErr: e.gatherErr,
    });
    return {
      version: NIC_STATE_VERSION, g: Array.from(this.g), rules: Array.from(this.rules), rxDrops: Array.from(this.rxDrops),
      epoch: this.epoch, wireStartedAt: this.wireStartedAt, rxEventAt: this.rxEventAt === Number.POSITIVE_INFINITY ? -1 : this.rxEventAt,
      badAccesses: this.badAccesses,
      queues: this.qs.map((qs) => ({
        r: Array.from(qs.r), fenced: qs.fenced, fenceGen: qs.fenceGen, drainedAt: qs.drainedAt, irqPending: qs.irqPending,
        lastIrq: Number.isFinite(qs.lastIrq) ? qs.lastIrq : null, tx: eng(qs.tx), rx: eng(qs.rx),
      })),
      msix: this.msix.saveState(), wire: this.wire.saveState(),
    };
  }

  loadState(s: NicState): void {
    if (s.version !== NIC_STATE_VERSION) throw new Error(`${this.name}: cannot load NIC state version ${s.version}, expected ${NIC_STATE_VERSION}`);
    if (s.queues.length !== this.qs.length) throw new Error(`${this.name}: state has ${s.queues.length} queues, this NIC ${this.qs.length}`);
    this.g.set(s.g); this.rules.set(s.rules); this.rxDrops.set(s.rxDrops);
    this.epoch = s.epoch; this.wireStartedAt = s.wireStartedAt; this.rxEventAt = s.rxEventAt < 0 ? Number.POSITIVE_INFINITY : s.rxEventAt;
    this.badAccesses = s.badAccesses; this.lastFault = null;
    s.queues.forEach((qsState, k) => {
      const qs = this.qs[k]!;
      qs.r.set(qsState.r);
      qs.fenced = qsState.fenced; qs.fenceGen = qsState.fenceGen; qs.drainedAt = qsState.drainedAt;
      qs.irqPending = qsState.irqPending; qs.lastIrq = qsState.lastIrq ?? Number.NEGATIVE_INFINITY;
      for (const [e, es] of [[qs.tx, qsState.tx], [qs.rx, qsState.rx]] as const) {
        e.fetch = es.fetch; e.err = es.err as DescError; e.pace = { ...es.pace }; e.frames = es.frames; e.bytes = es.bytes;
        e.received = es.received; e.drops.set(es.drops); e.faults = es.faults;
        e.inflight.clear();
        for (const fs of es.inflight) {
          const f = e.inflight.tail();
          f.slot = fs.slot; f.at = fs.at; f.err = fs.err as DescError; f.hash = fs.hash;
          descRead(unb64(fs.desc), f.desc);
          f.frameLen = -1;
          if (fs.frame !== null) {
            const bytes = unb64(fs.frame);
            if (f.frame === null || f.frame.bytes.length < bytes.length) f.frame = new FrameBuf(Math.max(ETH_MAX_FRAME, bytes.length));
            f.frame.bytes.set(bytes);
            f.frameLen = bytes.length;
          }
          e.inflight.push();
        }
        e.gatherN = 0;
        let at = 0;
        for (const c of es.gather.map(unb64)) {
          if (e.gatherN >= NIC_MAX_GATHER || at + c.length > ETH_MAX_FRAME) break; // not a state this NIC saves
          e.gather.bytes.set(c, at);
          e.gatherChunk[e.gatherN++] = c.length;
          at += c.length;
        }
        e.gatherLen = es.gatherLen; e.gatherErr = es.gatherErr as NicDrop | -1;
        e.rate = new RateWindow(); // derived statistics restart after a restore
      }
    });
    this.msix.loadState(s.msix);
    this.wire.loadState(s.wire);
  }
}

interface EngineState {
  fetch: number; err: number; pace: Pace; frames: number; bytes: number; received: number; drops: number[]; faults: number;
  inflight: { slot: number; at: number; desc: string; err: number; frame: string | null; hash: number }[];
  gather: string[]; gatherLen: number; gatherErr: number;
}

export interface NicState {
  version: number; g: number[]; rules: number[]; rxDrops: number[]; epoch: number; wireStartedAt: number; rxEventAt: number; badAccesses: number;
  queues: { r: number[]; fenced: boolean; fenceGen: number; drainedAt: number; irqPending: boolean; lastIrq: number | null; tx: EngineState; rx: EngineState }[];
  msix: MsixState; wire: WireState;
}

/** The gathered chunks of a TX frame, as the descriptors delivered them. */
function gatherChunks(e: Engine): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0, at = 0; k < e.gatherN; at += e.gatherChunk[k++]!) out.push(e.gather.bytes.slice(at, at + e.gatherChunk[k]!));
  return out;
}

function dropRecord(a: Float64Array): Record<string, number> {
  return Object.fromEntries(NIC_DROP_NAMES.map((n, k) => [n, a[k]!]));
}

// ---- frame parsing for steering (bounded by the frame length) --------------------------------------

interface UdpTuple { src: number; dst: number; sport: number; dport: number }

/** The IPv4/UDP 4-tuple of an Ethernet frame, or null (not IPv4/UDP, a fragment, truncated). */
export function udpTuple(f: Uint8Array): UdpTuple | null {
  const t = new Uint32Array(4);
  return udpParse(f, t) ? { src: t[0]!, dst: t[1]!, sport: t[2]!, dport: t[3]! } : null;
}

/** Steering's scratch tuple: source, destination, source port, destination port. */
const UDP = new Uint32Array(4);

/** udpTuple into `out` (src, dst, sport, dport) without allocating; false where it gives null. */
function udpParse(f: Uint8Array, out: Uint32Array): boolean {
  if (f.length < 14 + 20 + 8 || f[12] !== 0x08 || f[13] !== 0x00) return false;
  const ihl = (f[14]! & 0x0f) * 4;
  if ((f[14]! >> 4) !== 4 || ihl < 20 || 14 + ihl + 8 > f.length || f[23] !== 17) return false;
  if ((((f[20]! & 0x3f) << 8) | f[21]!) !== 0) return false; // more-fragments or an offset: no ports
  const u = 14 + ihl;
  out[0] = be32(f, 26);
  out[1] = be32(f, 30);
  out[2] = (f[u]! << 8) | f[u + 1]!;
  out[3] = (f[u + 2]! << 8) | f[u + 3]!;
  return true;
}

const be32 = (f: Uint8Array, i: number) => ((f[i]! << 24) | (f[i + 1]! << 16) | (f[i + 2]! << 8) | f[i + 3]!) >>> 0;

function macMatch(f: Uint8Array, lo: number, hi: number): boolean {
  return f[0] === (lo & 0xff) && f[1] === ((lo >>> 8) & 0xff) && f[2] === ((lo >>> 16) & 0xff) && f[3] === (lo >>> 24) &&
    f[4] === (hi & 0xff) && f[5] === ((hi >>> 8) & 0xff);
}

/** A keyed 32-bit hash of the 4-tuple (murmur3's mixing steps; not Toeplitz). */
export function flowHash(t: UdpTuple, key: number): number {
  return flowHash4(t.src, t.dst, t.sport, t.dport, key);
}

function flowHash4(src: number, dst: number, sport: number, dport: number, key: number): number {
  let h = key >>> 0;
  h = murmurStep(h, src);
  h = murmurStep(h, dst);
  h = murmurStep(h, ((sport << 16) | dport) >>> 0);
  h ^= 12;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function murmurStep(h: number, w: number): number {
  let k = Math.imul(w, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= k;
  return (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
}
