// Classic pcap: every shared capture read (records and bytes, checked against tshark when it is
// installed), one clear error or a per-record drop for each kind of broken file, and files we
// write read back by us and by tshark.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../machine/errors.js';
import {
  parsePcap, pcapGlobalHeader, pcapRecord, PcapDrop, PcapWriter, readPcap, PCAP_MAGIC_US, PCAP_RECORD_HEADER,
} from '../../machine/pcap.js';
import { repoPath } from '../helpers/paths.js';
import { haveTshark, sharedCaptures, tsharkLengths } from './pcap-helpers.js';

const OUT = repoPath('build', 'pcap-test');
mkdirSync(OUT, { recursive: true });
const TSHARK = haveTshark();


test('every shared capture parses; records and bytes match tshark', () => {
  for (const file of sharedCaptures('parsing each shared capture against tshark')) {
    const cap = readPcap(file);
    assert.ok(cap.records.length > 0, file);
    assert.is(cap.linktype, 1);
    assert.is(cap.bytes, cap.records.reduce((s, r) => s + r.data.length, 0));
    if (TSHARK) {
      const lens = tsharkLengths(file);
      assert.is(cap.records.length + cap.dropped.length, lens.length, `${file}: frame count`);
      assert.is(cap.bytes, lens.reduce((a, b) => a + b, 0), `${file}: bytes`);
    }
  }
});

// ---- broken files ------------------------------------------------------------------------

function frame(n: number, fill = 0xab): Uint8Array { return new Uint8Array(n).fill(fill); }

/** A little-endian µs header with the given snaplen, then raw records. */
function file(records: Uint8Array[], snaplen = 65535): Uint8Array {
  const h = pcapGlobalHeader(snaplen);
  new DataView(h.buffer).setUint32(0, PCAP_MAGIC_US, true);
  return Buffer.concat([h, ...records]);
}

/** A record header with chosen lengths, then `data`. */
function rawRecord(incl: number, orig: number, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(PCAP_RECORD_HEADER + data.length), v = new DataView(b.buffer);
  v.setUint32(0, 100, true);
  v.setUint32(4, 5, true);
  v.setUint32(8, incl, true);
  v.setUint32(12, orig, true);
  b.set(data, PCAP_RECORD_HEADER);
  return b;
}

function errorOf(path: string): string {
  try {
    readPcap(path);
  } catch (e) {
    assert.instance(e, InputError);
    return (e as Error).message;
  }
  assert.unreachable(`${path} was accepted`);
  return '';
}

const BAD: { name: string; bytes: Uint8Array; error?: RegExp; drops?: PcapDrop[]; kept?: number }[] = [
  { name: 'bad-magic', bytes: Buffer.concat([Buffer.from('not a capture at all, no sir'), frame(8)]), error: /offset 0x0: expected pcap magic a1b2c3d4 .* got 6e6f7420/ },
  { name: 'truncated-header', bytes: file([]).subarray(0, 20), error: /offset 0x14: expected a 24-byte pcap global header, the file has 20 bytes/ },
  { name: 'pcapng', bytes: Buffer.concat([Buffer.from([0x0a, 0x0d, 0x0d, 0x0a]), frame(28)]), error: /pcapng/ },
  { name: 'linktype', bytes: (() => { const b = file([]); b[20] = 101; return b; })(), error: /offset 0x14: expected link type 1 \(Ethernet\), got 101/ },
  { name: 'incl-over-snaplen', bytes: file([rawRecord(60, 60, frame(60)), rawRecord(200, 200, frame(200))], 128), error: /offset 0x6c: expected a record length .* the snaplen 128, got 200/ },
  { name: 'incl-over-max', bytes: file([rawRecord(300000, 300000, frame(10))], 0x7fffffff), error: /maximum 262144, got 300000/ },
  { name: 'truncated-record-data', bytes: file([rawRecord(60, 60, frame(60)), rawRecord(60, 60, frame(30))]), drops: [PcapDrop.Truncated], kept: 1 },
  { name: 'truncated-record-header', bytes: file([rawRecord(60, 60, frame(60)), frame(7)]), drops: [PcapDrop.Truncated], kept: 1 },
  { name: 'zero-length', bytes: file([rawRecord(0, 0, frame(0)), rawRecord(60, 60, frame(60))]), drops: [PcapDrop.ZeroLength], kept: 1 },
  { name: 'incl-over-orig', bytes: file([rawRecord(60, 50, frame(60)), rawRecord(60, 60, frame(60))]), drops: [PcapDrop.CapOverOrig], kept: 1 },
];

for (const c of BAD) {
  test(`broken capture: ${c.name}`, () => {
    const path = join(OUT, `${c.name}.pcap`);
    writeFileSync(path, c.bytes);
    if (c.error) {
      const msg = errorOf(path);
      assert.ok(msg.startsWith(`${path}: offset 0x`), msg);
      assert.match(msg, c.error);
      return;
    }
    const cap = readPcap(path);
    assert.equal(cap.dropped.map((d) => d.reason), c.drops);
    assert.is(cap.records.length, c.kept);
  });
}

test('big-endian (swapped) and nanosecond files read the same frames', () => {
  const data = frame(60, 7);
  const le = file([rawRecord(60, 60, data)]);
  const be = new Uint8Array(le.length);
  be.set(le);
  const v = new DataView(be.buffer);
  for (const off of [0, 16, 20, 24, 28, 32, 36]) v.setUint32(off, new DataView(le.buffer, le.byteOffset).getUint32(off, true), false);
  v.setUint16(4, 2, false); v.setUint16(6, 4, false);
  const a = parsePcap(le, 'le'), b = parsePcap(be, 'be');
  assert.is(b.swapped, true);
  assert.ok(Buffer.from(b.records[0]!.data).equals(a.records[0]!.data));
  assert.is(b.records[0]!.nsec, 5000);
  const ns = Buffer.concat([pcapGlobalHeader(), pcapRecord(1_500_000_123, data)]);
  const c = parsePcap(ns, 'ns');
  assert.is(c.nanos, true);
  assert.is(c.records[0]!.sec, 1);
  assert.is(c.records[0]!.nsec, 500_000_123);
});

test('writer: round trip through our reader and through tshark', () => {
  const path = join(OUT, 'written.pcap');
  const w = new PcapWriter(path);
  const frames = [frame(60, 1), frame(1514, 2), frame(42, 3)];
  frames.forEach((f, k) => w.write(1000 * k + 17, f));
  w.close();
  const cap = parsePcap(readFileSync(path), path);
  assert.ok(cap.records.every((r, k) => Buffer.from(r.data).equals(frames[k]!)) && cap.records.length === frames.length);
  assert.equal(cap.records.map((r) => r.nsec), [17, 1017, 2017]);
  if (TSHARK) assert.equal(tsharkLengths(path), [60, 1514, 42]);
});

test('writer: truncate rolls a file back to an earlier record', () => {
  const path = join(OUT, 'rolled.pcap');
  const w = new PcapWriter(path);
  w.write(0, frame(60));
  const mark = { size: w.size, frames: w.frames };
  w.write(1, frame(70));
  w.truncate(mark.size, mark.frames);
  w.write(2, frame(80));
  w.close();
  assert.equal(readPcap(path).records.map((r) => r.data.length), [60, 80]);
});

test.run();
