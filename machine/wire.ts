// The wire behind the NIC (DESIGN section 2, "The wire"): where received frames come from and
// where transmitted ones go, with times in cycles. A wire is at most one source and any number
// of recorders, written as one spec string joined by '+':
//   pcap:FILE[@RATE]   replay a capture at its recorded inter-frame times, or at RATE (10000/s)
//   gen:rate=R,size=S,flows=F[,count=N][,port=P]   synthetic UDP/IPv4 frames, valid checksums
//   loop[:latency=T]   what the NIC transmits comes back to it T later
//   record:FILE[,rx]   write transmitted (and with ,rx received) frames as pcap
// e.g. "pcap:in.pcap+record:out.pcap". Link state lives here; the NIC reads it.

import { InputError } from './errors.js';
import { Prng } from './prng.js';
import { ETH_MAX_FRAME, parsePcap, pcapDeltaNs, readPcap, PcapWriter, PCAP_DROP_NAMES, type PcapFile } from './pcap.js';
import { existsSync } from 'node:fs';
import { ParseError, parseRate, parseSize, parseTime, rateCycles, ratioApply, type Ratio } from './units.js';

export const WIRE_STATE_VERSION = 1;
/** Frames a loop holds before it drops (a TX burst faster than the receiver). */
export const LOOP_CAPACITY = 4096;
const BACKENDS = ['pcap:', 'record:', 'gen:', 'loop'] as const;

/**
 * Why the wire did not carry a frame to the NIC: a capture record it refused (PcapDrop's
 * reasons, same indexes) or a frame the loop had no room for. The NIC never saw these, so they
 * are not in its received count: they are the wire's own line in the accounting.
 */
export const WIRE_DROP_NAMES = [...PCAP_DROP_NAMES, 'loop full'] as const;
const WIRE_DROP_LOOP_FULL = PCAP_DROP_NAMES.length;

export interface WireContext {
  clockHz: number;
  /** The machine PRNG: generators draw their seed from it once. */
  rng: Prng;
  /** Read a capture (tests pass buffers); defaults to the file system. */
  readCapture?: (path: string) => PcapFile;
}

/** Something frames arrive from. */
interface WireSource {
  readonly kind: string;
  start(at: number): void;
  /** Cycle of the next frame, or +Infinity. */
  next(): number;
  /** Remove and return the next frame. */
  take(): Uint8Array;
  /** Length of the next frame (call only when next() is finite). */
  size(): number;
  /** Remove the next frame, copying it into dst (at least size() bytes); no allocation. */
  takeInto(dst: Uint8Array): void;
  /** A frame the NIC transmitted (only the loop listens). */
  transmit?(at: number, data: Uint8Array): void;
  /** Add the frames dropped so far, by WIRE_DROP_NAMES index. */
  countDrops(into: Float64Array): void;
  inspect(): Record<string, number | string>;
  saveState(): unknown;
  loadState(s: unknown): void;
}

// ---- pcap replay ------------------------------------------------------------------------

class PcapSource implements WireSource {
  readonly kind = 'pcap';
  private k = 0;
  private t0 = 0;
  private last = 0;
  private started = false;
  private readonly perNs: Ratio;

  constructor(readonly cap: PcapFile, private readonly rate: Ratio | null, clockHz: number) {
    const g = gcd(clockHz, 1e9);
    this.perNs = { num: clockHz / g, den: 1e9 / g };
  }
  start(at: number): void { this.t0 = at; this.last = at; this.started = true; }
  next(): number {
    if (this.k >= this.cap.records.length) return Number.POSITIVE_INFINITY;
    if (this.rate !== null) return this.t0 + rateCycles(this.rate, this.k);
    const dt = Math.max(0, pcapDeltaNs(this.cap.records[0]!, this.cap.records[this.k]!));
    return Math.max(this.last, this.t0 + ratioApply(this.perNs, dt)); // never backwards in time
  }
  take(): Uint8Array {
    this.last = this.next();
    return this.cap.records[this.k++]!.data;
  }
  size(): number { return this.cap.records[this.k]!.data.length; }
  takeInto(dst: Uint8Array): void { dst.set(this.take()); }
  /**
   * A refused record counts when the replay reaches it: once the kept record before it has
   * been taken (those before the first kept one, and a capture of refused records only, at
   * the start; a truncated tail after the last).
   */
  countDrops(into: Float64Array): void {
    if (!this.started) return;
    const passed = this.k < this.cap.records.length ? this.cap.records[this.k]!.index : Number.POSITIVE_INFINITY;
    for (const d of this.cap.dropped) if (d.index < passed) into[d.reason]++;
  }
  inspect() {
    const drops: Record<string, number> = {};
    for (const d of this.cap.dropped) drops[PCAP_DROP_NAMES[d.reason]] = (drops[PCAP_DROP_NAMES[d.reason]] ?? 0) + 1;
    return { file: this.cap.file, replayed: this.k, records: this.cap.records.length, ...Object.fromEntries(Object.entries(drops).map(([r, n]) => [`dropped ${r}`, n])) };
  }
  saveState() { return { k: this.k, t0: this.t0, last: this.last, started: this.started }; }
  loadState(s: unknown) {
    const st = s as { k: number; t0: number; last: number; started?: boolean };
    this.k = st.k; this.t0 = st.t0; this.last = st.last;
    this.started = st.started ?? st.k > 0; // states saved before `started`: replay had begun if it took a record
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

// ---- synthetic UDP/IPv4 ------------------------------------------------------------------

export interface GenOptions { rate: Ratio; size: number; flows: number; count: number; port: number }

/** The smallest frame gen makes: Ethernet 14 + IPv4 20 + UDP 8 + a 4-byte sequence number. */
export const GEN_MIN_SIZE = 46;
export const GEN_MAX_SIZE = 9014;
export const GEN_DST_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01] as const;
export const GEN_SRC_PORT = 10000;

/** Internet checksum (RFC 1071) over bytes [from, to) plus an initial sum. */
export function inetChecksum(b: Uint8Array, from: number, to: number, sum = 0): number {
  for (let i = from; i + 1 < to; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (((to - from) & 1) !== 0) sum += b[to - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One UDP/IPv4 frame of `size` bytes for flow `flow` carrying sequence number `seq`. */
export function genFrame(size: number, flow: number, seq: number, port: number, prng: Prng): Uint8Array {
  return genFrameInto(new Uint8Array(size), size, flow, seq, port, prng);
}

/** genFrame into f[0..size), every byte written (f may hold an older frame); returns f. */
export function genFrameInto(f: Uint8Array, size: number, flow: number, seq: number, port: number, prng: Prng): Uint8Array {
  for (let i = 0; i < 6; i++) f[i] = GEN_DST_MAC[i]!;
  f[6] = 0x02; f[7] = 0; f[8] = 0; f[9] = 0; f[10] = 0x01; f[11] = flow & 0xff;
  be16(f, 12, 0x0800);
  const ip = 14, ipLen = size - 14, udp = ip + 20;
  f[ip] = 0x45;
  f[ip + 1] = 0;                              // DSCP/ECN
  be16(f, ip + 2, ipLen);
  be16(f, ip + 4, seq & 0xffff);              // identification
  be16(f, ip + 6, 0);                         // flags, fragment offset
  f[ip + 8] = 64;                             // TTL
  f[ip + 9] = 17;                             // UDP
  be16(f, ip + 10, 0);                        // header checksum: 0 while it is summed
  f[ip + 12] = 10; f[ip + 13] = 0; f[ip + 14] = 1; f[ip + 15] = 1;
  f[ip + 16] = 10; f[ip + 17] = 0; f[ip + 18] = 0; f[ip + 19] = 1;
  be16(f, ip + 10, inetChecksum(f, ip, ip + 20));
  be16(f, udp, GEN_SRC_PORT + flow);
  be16(f, udp + 2, port);
  be16(f, udp + 4, ipLen - 20);
  be16(f, udp + 6, 0);                        // checksum: 0 while it is summed
  be16(f, udp + 8, seq >>> 16);
  be16(f, udp + 10, seq);
  for (let i = udp + 12; i < size; i += 4) {
    const r = prng.next();
    for (let j = 0; j < 4 && i + j < size; j++) f[i + j] = (r >>> (8 * j)) & 0xff;
  }
  // Pseudo-header: source, destination, protocol, UDP length.
  const pseudo = 0x0a00 + 0x0101 + 0x0a00 + 0x0001 + 17 + (ipLen - 20);
  const c = inetChecksum(f, udp, size, pseudo);
  be16(f, udp + 6, c === 0 ? 0xffff : c); // 0 means "no checksum" in UDP/IPv4
  return f;
}

function be16(f: Uint8Array, i: number, v: number): void {
  f[i] = (v >>> 8) & 0xff;
  f[i + 1] = v & 0xff;
}

class GenSource implements WireSource {
  readonly kind = 'gen';
  private k = 0;
  private t0 = 0;
  private readonly prng: Prng;

  /** next() for frame `atK` (-1: not computed). */
  private at = 0;
  private atK = -1;

  constructor(private readonly o: GenOptions, rng: Prng) { this.prng = new Prng(rng.next()); }
  start(at: number): void { this.t0 = at; this.atK = -1; }
  next(): number {
    if (this.k >= this.o.count) return Number.POSITIVE_INFINITY;
    if (this.atK !== this.k) { this.at = this.t0 + rateCycles(this.o.rate, this.k); this.atK = this.k; }
    return this.at;
  }
  take(): Uint8Array { return this.takeInto(new Uint8Array(this.o.size)); }
  size(): number { return this.o.size; }
  takeInto(dst: Uint8Array): Uint8Array {
    const k = this.k++;
    return genFrameInto(dst, this.o.size, k % this.o.flows, k, this.o.port, this.prng);
  }
  countDrops(): void {} // every frame it makes is well formed
  inspect() { return { generated: this.k, size: this.o.size, flows: this.o.flows }; }
  saveState() { return { k: this.k, t0: this.t0, prng: this.prng.saveState() }; }
  loadState(s: unknown) {
    const st = s as { k: number; t0: number; prng: number[] };
    this.k = st.k; this.t0 = st.t0; this.prng.loadState(st.prng); this.atK = -1;
  }
}

// ---- loop --------------------------------------------------------------------------------

/** A frame on its way round the loop; the buffer is reused for later frames. */
interface LoopFrame { at: number; data: Uint8Array; len: number }

class LoopSource implements WireSource {
  readonly kind = 'loop';
  /** A ring of `count` frames from `head`, capacity a power of two, grown up to LOOP_CAPACITY. */
  private ring: LoopFrame[] = [];
  private head = 0;
  private count = 0;
  overflow = 0;
  constructor(private readonly latency: number) {}
  start(): void {}
  next(): number { return this.count > 0 ? this.ring[this.head]!.at : Number.POSITIVE_INFINITY; }
  take(): Uint8Array { const f = this.shift(); return f.data.slice(0, f.len); }
  size(): number { return this.ring[this.head]!.len; }
  takeInto(dst: Uint8Array): void {
    const f = this.shift(), src = f.data, n = f.len;
    for (let i = 0; i < n; i++) dst[i] = src[i]!; // frames are short: cheaper than a view and set()
  }
  transmit(at: number, data: Uint8Array): void {
    if (this.count >= LOOP_CAPACITY) { this.overflow++; return; }
    this.push(at + this.latency, data);
  }
  countDrops(into: Float64Array): void { into[WIRE_DROP_LOOP_FULL] += this.overflow; }
  inspect() { return { queued: this.count, overflow: this.overflow }; }
  saveState() {
    const q: { at: number; data: string }[] = [];
    for (let k = 0; k < this.count; k++) {
      const f = this.ring[(this.head + k) & (this.ring.length - 1)]!;
      q.push({ at: f.at, data: Buffer.from(f.data.subarray(0, f.len)).toString('base64') });
    }
    return { q, overflow: this.overflow };
  }
  loadState(s: unknown) {
    const st = s as { q: { at: number; data: string }[]; overflow: number };
    this.head = 0;
    this.count = 0;
    for (const f of st.q) this.push(f.at, new Uint8Array(Buffer.from(f.data, 'base64')));
    this.overflow = st.overflow;
  }
  /** Copy a frame in at the tail. */
  private push(at: number, data: Uint8Array): void {
    if (this.count === this.ring.length) this.grow();
    const f = this.ring[(this.head + this.count) & (this.ring.length - 1)]!;
    if (f.data.length < data.length) f.data = new Uint8Array(Math.max(ETH_MAX_FRAME, data.length));
    f.data.set(data);
    f.len = data.length;
    f.at = at;
    this.count++;
  }
  /** The oldest frame; its buffer is valid until the next push. */
  private shift(): LoopFrame {
    const f = this.ring[this.head]!;
    this.head = (this.head + 1) & (this.ring.length - 1);
    this.count--;
    return f;
  }
  private grow(): void {
    const ring: LoopFrame[] = [];
    for (let k = 0; k < this.count; k++) ring.push(this.ring[(this.head + k) & (this.ring.length - 1)]!);
    while (ring.length < Math.max(16, this.ring.length * 2)) ring.push({ at: 0, data: new Uint8Array(0), len: 0 });
    this.ring = ring;
    this.head = 0;
  }
}

// ---- the wire ----------------------------------------------------------------------------

interface Recorder { writer: PcapWriter; rx: boolean }

export interface WireInspect {
  spec: string;
  linkUp: boolean;
  source: Record<string, number | string> & { kind: string } | null;
  recorders: { file: string; rx: boolean; frames: number; bytes: number }[];
  transmitted: number;
  arrived: number;
  /** Frames the wire dropped before the NIC, by WIRE_DROP_NAMES. */
  dropped: number;
  drops: Record<string, number>;
}

export interface WireState {
  version: number;
  linkUp: boolean;
  transmitted: number;
  arrived: number;
  source: unknown;
  recorders: { size: number; frames: number }[];
}

export class Wire {
  linkUp = true;
  transmitted = 0;
  arrived = 0;
  /** Told when the link changes (the NIC raises its link interrupt). */
  onLinkChange: (up: boolean) => void = () => {};

  constructor(
    readonly spec: string,
    private readonly source: WireSource | null,
    private readonly recorders: Recorder[],
    private readonly clockHz: number,
  ) {}

  /** The NIC connects at cycle `at`: sources count their times from here. */
  start(at: number): void { this.source?.start(at); }

  /** Cycle at which the next frame arrives, or +Infinity. */
  nextArrival(): number { return this.source === null ? Number.POSITIVE_INFINITY : this.source.next(); }

  /** The next frame; call only when nextArrival() <= now. */
  take(): Uint8Array {
    this.arrived++;
    return this.source!.take();
  }

  /** Length of the next frame; call only when nextArrival() is finite. */
  nextSize(): number { return this.source!.size(); }

  /** take() into dst, which has room for nextSize() bytes: the per-frame path allocates nothing. */
  takeInto(dst: Uint8Array): void {
    this.arrived++;
    this.source!.takeInto(dst);
  }

  /** The NIC put a frame on the wire at cycle `at`. */
  transmit(at: number, data: Uint8Array): void {
    this.transmitted++;
    for (const r of this.recorders) r.writer.write(this.ns(at), data);
    if (this.linkUp) this.source?.transmit?.(at, data);
  }

  /** The NIC saw a frame arrive at cycle `at` (recorders with `,rx` keep it). */
  received(at: number, data: Uint8Array): void {
    for (const r of this.recorders) if (r.rx) r.writer.write(this.ns(at), data);
  }

  setLink(up: boolean): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    this.onLinkChange(up);
  }

  /** Whether anything can arrive (a loop only carries what is sent). */
  get hasSource(): boolean { return this.source !== null; }

  close(): void { for (const r of this.recorders) r.writer.close(); }

  /** Frames dropped on the wire so far (never offered to the NIC), by WIRE_DROP_NAMES index. */
  drops(): Float64Array {
    const a = new Float64Array(WIRE_DROP_NAMES.length);
    this.source?.countDrops(a);
    return a;
  }

  inspect(): WireInspect {
    return {
      spec: this.spec, linkUp: this.linkUp,
      source: this.source === null ? null : { kind: this.source.kind, ...this.source.inspect() },
      recorders: this.recorders.map((r) => ({ file: r.writer.path, rx: r.rx, frames: r.writer.frames, bytes: r.writer.size })),
      transmitted: this.transmitted, arrived: this.arrived, ...wireDropRecord(this.drops()),
    };
  }

  saveState(): WireState {
    return {
      version: WIRE_STATE_VERSION, linkUp: this.linkUp, transmitted: this.transmitted, arrived: this.arrived,
      source: this.source?.saveState() ?? null,
      recorders: this.recorders.map((r) => ({ size: r.writer.size, frames: r.writer.frames })),
    };
  }

  loadState(s: WireState): void {
    if (s.version !== WIRE_STATE_VERSION) throw new Error(`wire state version ${s.version}, expected ${WIRE_STATE_VERSION}`);
    this.linkUp = s.linkUp;
    this.transmitted = s.transmitted;
    this.arrived = s.arrived;
    if (this.source !== null && s.source !== null) this.source.loadState(s.source);
    s.recorders.forEach((r, k) => this.recorders[k]?.writer.truncate(r.size, r.frames));
  }

  /** Cycles to nanoseconds since the start of the run (capture timestamps). */
  private ns(at: number): number { return Math.round((at * 1e9) / this.clockHz); }
}

/** Drops by reason, every reason present, and their sum. */
export function wireDropRecord(a: Float64Array): { dropped: number; drops: Record<string, number> } {
  return { dropped: a.reduce((s, n) => s + n, 0), drops: Object.fromEntries(WIRE_DROP_NAMES.map((n, k) => [n, a[k]!])) };
}

// ---- the spec parser -----------------------------------------------------------------------

const WIRE_HELP = 'pcap:FILE[@RATE], gen:rate=R,size=S,flows=F[,count=N][,port=P], loop[:latency=T], record:FILE[,rx], joined by +';

function wireError(spec: string, what: string): InputError {
  return new InputError(`wire "${spec}": ${what} (expected ${WIRE_HELP})`);
}

/** Split at '+' only where a backend name follows, so file names may contain '+'. */
function wireParts(spec: string): string[] {
  const parts: string[] = [];
  let from = 0;
  for (let i = 1; i < spec.length; i++) {
    if (spec[i - 1] === '+' && BACKENDS.some((b) => spec.startsWith(b, i))) {
      parts.push(spec.slice(from, i - 1));
      from = i;
    }
  }
  parts.push(spec.slice(from));
  return parts.map((p) => p.trim());
}

/** key=value pairs; every key must be known and appear once. */
function options(spec: string, text: string, known: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (text === '') return out;
  for (const item of text.split(',')) {
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).trim(), value = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (!known.includes(key)) throw wireError(spec, `unknown option "${key}"; known: ${known.join(', ')}`);
    if (eq < 0 || value === '') throw wireError(spec, `option ${key} needs a value (${key}=...)`);
    if (out.has(key)) throw wireError(spec, `option ${key} given twice`);
    out.set(key, value);
  }
  return out;
}

function quantity<T>(spec: string, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ParseError) throw wireError(spec, `${what}: ${e.message}`);
    throw e;
  }
}

function wholeNumber(spec: string, key: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw wireError(spec, `${key} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return Number(text);
}

function parseGen(spec: string, text: string, ctx: WireContext): GenSource {
  const o = options(spec, text, ['rate', 'size', 'flows', 'count', 'port']);
  if (!o.has('rate')) throw wireError(spec, 'gen needs rate=, as in gen:rate=1000/ms');
  const rate = quantity(spec, 'rate', () => parseRate(o.get('rate')!, ctx.clockHz));
  if (rate.num === 0) throw wireError(spec, 'rate must be greater than zero');
  const size = quantity(spec, 'size', () => parseSize(o.get('size') ?? '64', { bare: true }));
  if (size < GEN_MIN_SIZE || size > GEN_MAX_SIZE) throw wireError(spec, `size must be ${GEN_MIN_SIZE} to ${GEN_MAX_SIZE} bytes (a frame without FCS), got ${size}`);
  const flows = wholeNumber(spec, 'flows', o.get('flows') ?? '1', 1, 256);
  const count = o.has('count') ? wholeNumber(spec, 'count', o.get('count')!, 0, Number.MAX_SAFE_INTEGER) : Number.POSITIVE_INFINITY;
  const port = wholeNumber(spec, 'port', o.get('port') ?? '9000', 1, 65535);
  return new GenSource({ rate, size, flows, count, port }, ctx.rng);
}

function parsePcapSource(spec: string, text: string, ctx: WireContext): PcapSource {
  // The last '@' followed by a rate: file names may contain '@'.
  const m = /^(.*)@(\s*[\d.]+(?:[eE][+-]?\d+)?\s*\/\s*\w+)$/.exec(text);
  const file = (m ? m[1]! : text).trim();
  // Something after an '@' that is no rate, where no file by the whole name exists: a bad rate.
  const at = text.lastIndexOf('@');
  if (!m && at > 0 && !existsSync(text.trim()) && existsSync(text.slice(0, at).trim())) {
    throw wireError(spec, `replay rate "${text.slice(at + 1)}": expected a rate such as 160/ms after '@'`);
  }
  if (file === '') throw wireError(spec, 'pcap: needs a file name');
  const rate = m ? quantity(spec, 'replay rate', () => parseRate(m[2]!, ctx.clockHz)) : null;
  if (rate !== null && rate.num === 0) throw wireError(spec, 'replay rate must be greater than zero');
  const cap = (ctx.readCapture ?? ((p: string) => readPcap(p)))(file);
  return new PcapSource(cap, rate, ctx.clockHz);
}

/** Parse a wire spec (see the top of this file) into a wire. Errors are InputErrors. */
export function parseWire(spec: string, ctx: WireContext): Wire {
  if (spec.trim() === '') throw wireError(spec, 'empty wire');
  let source: WireSource | null = null;
  const files: { file: string; rx: boolean }[] = [];
  for (const part of wireParts(spec)) {
    let s: WireSource | null = null;
    if (part.startsWith('pcap:')) s = parsePcapSource(spec, part.slice(5), ctx);
    else if (part.startsWith('gen:')) s = parseGen(spec, part.slice(4), ctx);
    else if (part === 'loop' || part.startsWith('loop:')) {
      const o = options(spec, part.slice(5), ['latency']);
      s = new LoopSource(quantity(spec, 'latency', () => parseTime(o.get('latency') ?? '0', ctx.clockHz, { bare: true })));
    } else if (part.startsWith('record:')) {
      const body = part.slice(7), rx = body.endsWith(',rx');
      const file = (rx ? body.slice(0, -3) : body).trim();
      if (file === '') throw wireError(spec, 'record: needs a file name');
      if (files.some((f) => f.file === file)) throw wireError(spec, `${file} is recorded twice`);
      files.push({ file, rx });
      continue;
    } else {
      throw wireError(spec, `unknown backend "${part.split(':')[0]}"`);
    }
    if (source !== null) throw wireError(spec, `two sources (${source.kind} and ${s.kind}); a wire has at most one`);
    source = s;
  }
  // Files are created only once the whole spec is known to be good.
  const recorders = files.map((f) => ({ writer: new PcapWriter(f.file), rx: f.rx }));
  return new Wire(spec, source, recorders, ctx.clockHz);
}

/** A wire from a capture already in memory (tests, embedded scenarios). */
export function pcapWireFromBytes(name: string, bytes: Uint8Array, ctx: WireContext, rate?: string): Wire {
  const cap = parsePcap(bytes, name);
  const r = rate === undefined ? null : quantity(name, 'replay rate', () => parseRate(rate, ctx.clockHz));
  return new Wire(`pcap:${name}`, new PcapSource(cap, r, ctx.clockHz), [], ctx.clockHz);
}
