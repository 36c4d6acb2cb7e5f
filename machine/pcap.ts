// Classic libpcap capture files (the tcpdump/libpcap "savefile" format, pcap-savefile(5)):
// a 24-byte global header (magic, version 2.4, snaplen, link type) then records of a 16-byte
// header (seconds, micro- or nanoseconds, captured length, original length) and the bytes.
// Only link type 1 (Ethernet) is accepted. pcapng is not read.
//
// The reader distrusts the file: a bad global header, or a record length that leaves no way to
// find the next record, is one InputError naming the file and offset; a record that is wrong
// but skippable is dropped with a reason and replay goes on (a truncated tail ends the file).

import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { InputError } from './errors.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;   // microsecond timestamps
export const PCAP_MAGIC_NS = 0xa1b23c4d;   // nanosecond timestamps
export const PCAP_GLOBAL_HEADER = 24;
export const PCAP_RECORD_HEADER = 16;
export const LINKTYPE_ETHERNET = 1;
/** Largest record any reader must accept (libpcap's MAXIMUM_SNAPLEN); beyond it we cannot resync. */
export const PCAP_MAX_RECORD = 262144;
/** Largest Ethernet frame without FCS at MTU 1500: 14-byte header + 1500. */
export const ETH_MAX_FRAME = 1514;

/** Why a record was not replayed. `too long` is decided by the NIC, not here. */
export const PcapDrop = { Truncated: 0, CapOverOrig: 1, ZeroLength: 2 } as const;
export type PcapDrop = typeof PcapDrop[keyof typeof PcapDrop];
export const PCAP_DROP_NAMES = ['truncated', 'incl_len > orig_len', 'zero length'] as const;

export interface PcapRecord {
  /** Position among the file's records (dropped ones included). */
  index: number;
  /** Offset of the record header in the file. */
  offset: number;
  sec: number;
  /** Fraction of the second in nanoseconds (microsecond files are scaled). */
  nsec: number;
  origLen: number;
  data: Uint8Array;
}

export interface PcapDropped { index: number; offset: number; reason: PcapDrop }

export interface PcapFile {
  file: string;
  nanos: boolean;
  /** The file is in the other byte order than it was read as little-endian. */
  swapped: boolean;
  snaplen: number;
  linktype: number;
  records: PcapRecord[];
  dropped: PcapDropped[];
  /** Captured bytes of the kept records. */
  bytes: number;
}

const hex = (n: number) => `0x${n.toString(16)}`;

function pcapError(file: string, offset: number, what: string): InputError {
  return new InputError(`${file}: offset ${hex(offset)}: ${what}`);
}

/** Decode the global header; returns the byte order and timestamp resolution. */
function pcapHeader(buf: Uint8Array, file: string): { le: boolean; nanos: boolean; snaplen: number; linktype: number } {
  if (buf.length < PCAP_GLOBAL_HEADER) {
    throw pcapError(file, buf.length, `expected a ${PCAP_GLOBAL_HEADER}-byte pcap global header, the file has ${buf.length} bytes`);
  }
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const m = v.getUint32(0, true);
  let le: boolean, nanos: boolean;
  if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) { le = true; nanos = m === PCAP_MAGIC_NS; }
  else {
    const mb = v.getUint32(0, false);
    if (mb !== PCAP_MAGIC_US && mb !== PCAP_MAGIC_NS) {
      const pcapng = m === 0x0a0d0d0a ? ' (this is pcapng; convert it with editcap -F pcap)' : '';
      throw pcapError(file, 0, `expected pcap magic a1b2c3d4 or a1b23c4d in either byte order, got ${hex(mb).slice(2).padStart(8, '0')}${pcapng}`);
    }
    le = false; nanos = mb === PCAP_MAGIC_NS;
  }
  const major = v.getUint16(4, le), minor = v.getUint16(6, le);
  if (major !== 2) throw pcapError(file, 4, `expected pcap version 2.4, got ${major}.${minor}`);
  const snaplen = v.getUint32(16, le), linktype = v.getUint32(20, le) & 0x0fffffff; // upper bits: FCS info
  if (linktype !== LINKTYPE_ETHERNET) {
    throw pcapError(file, 20, `expected link type 1 (Ethernet), got ${linktype}: only Ethernet captures can be replayed`);
  }
  return { le, nanos, snaplen, linktype };
}

/** Parse a whole capture held in memory. */
export function parsePcap(buf: Uint8Array, file: string): PcapFile {
  const h = pcapHeader(buf, file);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: PcapFile = {
    file, nanos: h.nanos, swapped: !h.le, snaplen: h.snaplen, linktype: h.linktype, records: [], dropped: [], bytes: 0,
  };
  const limit = Math.min(PCAP_MAX_RECORD, h.snaplen === 0 ? PCAP_MAX_RECORD : h.snaplen);
  let off = PCAP_GLOBAL_HEADER;
  for (let index = 0; off < buf.length; index++) {
    if (off + PCAP_RECORD_HEADER > buf.length) { out.dropped.push({ index, offset: off, reason: PcapDrop.Truncated }); break; }
    const incl = v.getUint32(off + 8, h.le), orig = v.getUint32(off + 12, h.le);
    if (incl > limit) {
      const which = incl > PCAP_MAX_RECORD ? `the maximum ${PCAP_MAX_RECORD}` : `the snaplen ${h.snaplen}`;
      throw pcapError(file, off + 8, `expected a record length (incl_len) of at most ${which}, got ${incl}; the records after it cannot be found`);
    }
    if (off + PCAP_RECORD_HEADER + incl > buf.length) { out.dropped.push({ index, offset: off, reason: PcapDrop.Truncated }); break; }
    const sec = v.getUint32(off, h.le), frac = v.getUint32(off + 4, h.le);
    const start = off + PCAP_RECORD_HEADER;
    if (incl === 0) out.dropped.push({ index, offset: off, reason: PcapDrop.ZeroLength });
    else if (incl > orig) out.dropped.push({ index, offset: off, reason: PcapDrop.CapOverOrig });
    else {
      out.records.push({ index, offset: off, sec, nsec: h.nanos ? frac : frac * 1000, origLen: orig, data: buf.subarray(start, start + incl) });
      out.bytes += incl;
    }
    off = start + incl;
  }
  return out;
}

/** Read and parse a capture file. */
export function readPcap(path: string, shown = path): PcapFile {
  let buf: Uint8Array;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new InputError(`${shown}: cannot read the capture: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parsePcap(buf, shown);
}

/** Nanoseconds from record `a` to record `b` (b later); exact while under 2^53 ns (104 days). */
export function pcapDeltaNs(a: PcapRecord, b: PcapRecord): number {
  return (b.sec - a.sec) * 1e9 + (b.nsec - a.nsec);
}

// ---- writing ---------------------------------------------------------------------------

/** The global header of a little-endian, nanosecond-resolution Ethernet capture. */
export function pcapGlobalHeader(snaplen = PCAP_MAX_RECORD): Uint8Array {
  const b = new Uint8Array(PCAP_GLOBAL_HEADER), v = new DataView(b.buffer);
  v.setUint32(0, PCAP_MAGIC_NS, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, snaplen, true);
  v.setUint32(20, LINKTYPE_ETHERNET, true);
  return b;
}

/** One record: header and data; frames over the snaplen are cut, orig_len keeps the truth. */
export function pcapRecord(ns: number, data: Uint8Array, snaplen = PCAP_MAX_RECORD): Uint8Array {
  const incl = Math.min(data.length, snaplen);
  const b = new Uint8Array(PCAP_RECORD_HEADER + incl), v = new DataView(b.buffer);
  const sec = Math.floor(ns / 1e9);
  v.setUint32(0, sec >>> 0, true);
  v.setUint32(4, Math.round(ns - sec * 1e9) >>> 0, true);
  v.setUint32(8, incl, true);
  v.setUint32(12, data.length, true);
  b.set(data.subarray(0, incl), PCAP_RECORD_HEADER);
  return b;
}

/**
 * A capture being written to a file, record by record (synchronously, so a crash loses
 * nothing already sent). `truncate` rolls the file back to an earlier size after a restore.
 */
export class PcapWriter {
  private fd: number;
  frames = 0;
  size = 0;

  constructor(readonly path: string, readonly snaplen = PCAP_MAX_RECORD) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new InputError(`${path}: cannot create the capture: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    this.put(pcapGlobalHeader(snaplen));
  }

  write(ns: number, data: Uint8Array): void {
    this.put(pcapRecord(ns, data, this.snaplen));
    this.frames++;
  }

  /** Go back to `size` bytes and `frames` records (a snapshot restore). */
  truncate(size: number, frames: number): void {
    if (this.fd < 0) return;
    ftruncateSync(this.fd, size);
    this.size = size;
    this.frames = frames;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private put(b: Uint8Array): void {
    if (this.fd < 0) return;
    writeSync(this.fd, b, 0, b.length, this.size);
    this.size += b.length;
  }
}
