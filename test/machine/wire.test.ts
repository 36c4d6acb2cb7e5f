// Wire specs: the parser's errors, gen frames (valid IPv4 and UDP checksums, flows by source
// port, the same frames for the same seed), replay timing (recorded and at a set rate), the
// loop, recorders with and without rx, link state, and state save/restore.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../machine/errors.js';
import { parsePcap, pcapGlobalHeader, pcapRecord } from '../../machine/pcap.js';
import { Prng } from '../../machine/prng.js';
import { genFrame, inetChecksum, parseWire, pcapWireFromBytes, type WireContext } from '../../machine/wire.js';
import { repoPath } from '../helpers/paths.js';

const OUT = repoPath('build', 'wire-test');
mkdirSync(OUT, { recursive: true });
const ctx = (seed = 1): WireContext => ({ clockHz: 2e9, rng: new Prng(seed) });

const ERRORS: [string, RegExp][] = [
  ['', /empty wire/],
  ['tape:x', /unknown backend "tape"/],
  ['gen:size=64', /gen needs rate=/],
  ['gen:rate=10', /rate: "10" needs a unit/],
  ['gen:rate=1/ms,size=20', /size must be 46 to 9014/],
  ['gen:rate=1/ms,flows=0', /flows must be a whole number from 1 to 256/],
  ['gen:rate=1/ms,colour=red', /unknown option "colour"/],
  ['gen:rate=1/ms+loop', /two sources \(gen and loop\)/],
  ['pcap:', /pcap: needs a file name/],
  ['pcap:/nonexistent/x.pcap', /cannot read the capture: ENOENT/],
  ['loop:latency=1parsec', /latency/],
  ['record:', /record: needs a file name/],
];
for (const [spec, re] of ERRORS) {
  test(`parser: ${JSON.stringify(spec)} is one clear error`, () => {
    try {
      parseWire(spec, ctx());
      assert.unreachable('accepted');
    } catch (e) {
      assert.instance(e, InputError);
      assert.match((e as Error).message, re);
    }
  });
}

test('gen: valid IPv4 and UDP checksums, flows by source port, deterministic from the seed', () => {
  const f = genFrame(100, 2, 7, 9000, new Prng(1));
  assert.is(inetChecksum(f, 14, 34), 0, 'IPv4 header checksum');
  const udpLen = 100 - 34;
  const pseudo = 0x0a00 + 0x0101 + 0x0a00 + 0x0001 + 17 + udpLen;
  assert.is(inetChecksum(f, 34, 100, pseudo), 0, 'UDP checksum with the pseudo-header');
  assert.is((f[34]! << 8) | f[35]!, 10002);
  const take = (seed: number) => {
    const w = parseWire('gen:rate=1000/ms,size=64,flows=4,count=8', ctx(seed));
    w.start(0);
    const out: { at: number; f: Uint8Array }[] = [];
    while (w.nextArrival() < Infinity) out.push({ at: w.nextArrival(), f: w.take() });
    return out;
  };
  const a = take(5), b = take(5), c = take(6);
  assert.equal(a.map((x) => x.at), [0, 2000, 4000, 6000, 8000, 10000, 12000, 14000]);
  assert.ok(a.every((x, k) => Buffer.from(x.f).equals(b[k]!.f)));
  assert.not.ok(a.every((x, k) => Buffer.from(x.f).equals(c[k]!.f)));
  assert.equal(a.map((x) => (x.f[34]! << 8) | x.f[35]!), [10000, 10001, 10002, 10003, 10000, 10001, 10002, 10003]);
});

function capture(times: number[]): Uint8Array {
  return Buffer.concat([pcapGlobalHeader(), ...times.map((ns, k) => pcapRecord(ns, new Uint8Array(60).fill(k)))]);
}

test('pcap replay: recorded inter-frame times from the first record, or a set rate', () => {
  const bytes = capture([5_000_000_000, 5_000_001_000, 5_000_003_000]);
  const w = pcapWireFromBytes('t', bytes, ctx());
  w.start(100);
  const at: number[] = [];
  while (w.nextArrival() < Infinity) { at.push(w.nextArrival()); w.take(); }
  assert.equal(at, [100, 2100, 6100]);
  const r = pcapWireFromBytes('t', bytes, ctx(), '10000/s');
  r.start(0);
  const at2: number[] = [];
  while (r.nextArrival() < Infinity) { at2.push(r.nextArrival()); r.take(); }
  assert.equal(at2, [0, 200000, 400000]);
});

test('loop + record with rx: sent frames come back after the latency; the file has both', () => {
  const file = join(OUT, 'loop.pcap');
  const w = parseWire(`loop:latency=1us+record:${file},rx`, ctx());
  w.start(0);
  w.transmit(10, new Uint8Array(60).fill(1));
  assert.is(w.nextArrival(), 2010);
  const f = w.take();
  w.received(2010, f);
  w.close();
  const cap = parsePcap(readFileSync(file), file);
  assert.is(cap.records.length, 2);
  assert.is(cap.records[1]!.nsec, 1005);
});

test('link down: the loop carries nothing; state save/restore keeps the position', () => {
  const w = parseWire('gen:rate=1/us,count=5', ctx());
  w.start(0);
  w.take();
  const s = JSON.parse(JSON.stringify(w.saveState()));
  const a = w.take();
  const w2 = parseWire('gen:rate=1/us,count=5', ctx());
  w2.loadState(s);
  assert.ok(Buffer.from(w2.take()).equals(a));
  const l = parseWire('loop', ctx());
  l.setLink(false);
  l.transmit(0, new Uint8Array(60));
  assert.is(l.nextArrival(), Infinity);
});

test.run();
