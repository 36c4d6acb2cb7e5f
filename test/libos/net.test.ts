// The LibOS network stack in the unikernel placement: the reflector on every capture in
// ../shared/pcaps (replayed with `record:`), checked against an independent parse of each
// input frame (test/helpers/net-model.ts: what must be answered and why the rest is dropped),
// against the guest's own counters, and by tshark with checksum validation on; udp-echo on a
// hand-made capture (one frame per drop reason it can meet) and on `gen:` traffic.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGuestApp, guestTools } from '../../kernel/guest-build.js';
import { parseElf32 } from '../../machine/elf.js';
import { Machine, machineConfig, type StopReason } from '../../machine/machine.js';
import { pcapGlobalHeader, pcapRecord, readPcap } from '../../machine/pcap.js';
import { loadProfile } from '../../machine/profile.js';
import { NIC_MAC, OUR_IP, be16, checkAnswer, counters, sum16, tshark, tsharkBadChecksums, udpPseudo, verdict } from '../helpers/net-model.js';
import { repoPath, sharedPcaps } from '../helpers/paths.js';

const outDir = repoPath('build', 'libos-net');

let toolsMissing = '';
try { guestTools(); } catch (e) { toolsMissing = (e as Error).message; }

// ---- running a guest -----------------------------------------------------------------------

interface Run { machine: Machine; reason: StopReason; status: number | null; text: string }

function boot(elf: string, wire: string, until: number): Run {
  const image = parseElf32(readFileSync(elf), elf);
  const machine = new Machine({ ...machineConfig(loadProfile('default'), { cores: 1, ramBytes: 64 << 20, seed: 1 }), nic: { queues: 1, wire } });
  machine.loadImage(image, elf);
  machine.boot(image.entry);
  try {
    const reason = machine.run(until);
    return { machine, reason, status: machine.sysctl.exitStatus, text: machine.consoleText() };
  } finally {
    machine.close();
  }
}

// ---- hand-made frames -------------------------------------------------------------------------

function ipv4(src: number[], dst: number[], proto: number, body: Uint8Array, o: { frag?: number; badSum?: boolean } = {}): Uint8Array {
  const f = new Uint8Array(14 + 20 + body.length);
  f.set(NIC_MAC, 0); f.set([0x02, 0, 0, 0, 0x0a, 0x0b], 6); f[12] = 0x08; f[13] = 0;
  const ip = 14;
  f[ip] = 0x45; f[ip + 2] = (20 + body.length) >> 8; f[ip + 3] = (20 + body.length) & 255; f[ip + 4] = 0x12; f[ip + 5] = 0x34;
  f[ip + 6] = (o.frag ?? 0) >> 8; f[ip + 7] = (o.frag ?? 0) & 255; f[ip + 8] = 64; f[ip + 9] = proto;
  f.set(src, ip + 12); f.set(dst, ip + 16);
  const c = ~sum16(f, ip, ip + 20) & 0xffff;
  f[ip + 10] = c >> 8; f[ip + 11] = (c & 255) ^ (o.badSum ? 1 : 0);
  f.set(body, ip + 20);
  return f;
}

function udpFrame(sport: number, dport: number, payload: Uint8Array, o: { dst?: number[]; noSum?: boolean; badSum?: boolean } = {}): Uint8Array {
  const u = new Uint8Array(8 + payload.length);
  u[0] = sport >> 8; u[1] = sport & 255; u[2] = dport >> 8; u[3] = dport & 255; u[4] = u.length >> 8; u[5] = u.length & 255;
  u.set(payload, 8);
  const f = ipv4([10, 0, 0, 99], o.dst ?? OUR_IP, 17, u);
  if (!o.noSum) {
    const l4 = 34, c = ~sum16(f, l4, f.length, udpPseudo(f, 14, u.length)) & 0xffff || 0xffff;
    f[l4 + 6] = c >> 8; f[l4 + 7] = (c & 255) ^ (o.badSum ? 0x10 : 0);
  }
  return f;
}

function arpRequest(target: number[]): Uint8Array {
  const f = new Uint8Array(60);
  f.fill(0xff, 0, 6); f.set([0x02, 0, 0, 0, 0x0a, 0x0b], 6); f[12] = 0x08; f[13] = 0x06;
  f.set([0, 1, 0x08, 0, 6, 4, 0, 1], 14); f.set([0x02, 0, 0, 0, 0x0a, 0x0b], 22); f.set([10, 0, 0, 99], 28); f.set(target, 38);
  return f;
}

function ping(): Uint8Array {
  const m = new Uint8Array(8 + 21);
  m[0] = 8; m[4] = 0x12; m[5] = 0x34; m[7] = 1;
  for (let i = 8; i < m.length; i++) m[i] = i * 7;
  const c = ~sum16(m, 0, m.length) & 0xffff;
  m[2] = c >> 8; m[3] = c & 255;
  return ipv4([10, 0, 0, 99], OUR_IP, 1, m);
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

function writePcap(file: string, frames: Uint8Array[]): void {
  const parts = [pcapGlobalHeader(), ...frames.map((f, k) => pcapRecord(k * 1000, f))];
  writeFileSync(file, Buffer.concat(parts));
}

// ---- the tests ------------------------------------------------------------------------------

if (toolsMissing) {
  console.warn(`libos net tests skipped: ${toolsMissing}`);
  test.skip('libos net (gcc -m32 unavailable)', () => {});
} else {
  mkdirSync(outDir, { recursive: true });
  const reflector = () => buildGuestApp('reflector', 'unikernel').elf;

  /** Replay `input` into `elf`, recording to out; check everything; returns a summary line. */
  function reflect(elf: string, input: string, out: string, name: string): string {
    rmSync(out, { force: true });
    const inp = readPcap(input).records.map((r) => r.data);
    // @10/ms: a frame every 200,000 cycles; the guest stops after 20,000,000 quiet ones
    const r = boot(elf, `pcap:${input}@10/ms+record:${out}`, inp.length * 200_000 + 200_000_000);
    const shown = `reason ${r.reason}, status ${r.status}\n${r.text}`;
    assert.is(r.reason, 'poweroff', shown);
    assert.is(r.status, 0, shown);
    const c = counters(r.text);
    assert.ok(c.ok, shown);

    const verdicts = inp.map((f) => verdict(f, true, 'any'));
    const wantDrops: Record<string, number> = {};
    for (const v of verdicts) if (v.kind === 'drop') wantDrops[v.reason] = (wantDrops[v.reason] ?? 0) + 1;
    const answers = inp.map((f, k) => ({ f, v: verdicts[k]! })).filter((x) => x.v.kind !== 'drop');
    // the NIC delivers every record (none is over 1514 bytes as captured)
    assert.is(c.nicReceived, inp.length, 'the NIC saw every record');
    assert.is(c.received, inp.length, 'the LibOS took every frame');
    assert.is(c.received, c.answered + c.delivered + c.dropped, 'received = answered + delivered + dropped');
    assert.equal(c.drops, wantDrops, `drop reasons, guest vs model\n${shown}`);
    assert.equal(c.nicDrops, {});
    assert.is(c.iommuFaults, 0, 'no DMA outside the domain');

    const outs = readPcap(out).records.map((x) => x.data);
    assert.is(outs.length, answers.length, `one answer per well-formed request\n${shown}`);
    answers.forEach((a, k) => {
      const bad = checkAnswer(a.v.kind as 'udp' | 'icmp' | 'arp', a.f, outs[k]!);
      assert.equal(bad, [], `${name}: answer ${k} (${a.v.kind}) to input frame ${inp.indexOf(a.f)}`);
    });
    if (tshark) {
      const n = tsharkBadChecksums(out);
      if (typeof n === 'string') assert.unreachable(n);
      assert.is(n, 0, 'tshark finds no bad checksum');
    }
    const kinds = (k: string) => verdicts.filter((v) => v.kind === k).length;
    return `${name}: received ${c.received}, replied ${outs.length} (udp ${kinds('udp')}, icmp ${kinds('icmp')}, arp ${kinds('arp')}), dropped ${c.dropped}` +
      (c.dropped ? ` ${JSON.stringify(c.drops)}` : '');
  }

  test('guest-build: a second build of the same app is a cache hit', () => {
    const a = buildGuestApp('reflector', 'unikernel');
    const b = buildGuestApp('reflector', 'unikernel');
    assert.ok(b.cached);
    assert.is(a.hash, b.hash);
    assert.ok(a.elf.endsWith('build/guest/reflector-unikernel.elf'));
  });

  test('tshark control: a recorded frame with a bad UDP checksum is flagged (the check can fail)', () => {
    if (!tshark) return;
    const file = join(outDir, 'control-bad.pcap');
    writePcap(file, [udpFrame(1000, 7, bytes(10, 1), { badSum: true }), udpFrame(1000, 7, bytes(10, 1))]);
    assert.is(tsharkBadChecksums(file), 1);
  });

  const pcapDir = sharedPcaps('the reflector on each shared capture');
  if (pcapDir !== null) {
    const names = readdirSync(pcapDir).filter((f) => f.endsWith('.pcap')).sort();
    for (const name of names) {
      test(`reflector ${name}: one right answer per well-formed request, every other frame dropped by reason`, () => {
        const summary = reflect(reflector(), join(pcapDir, name), join(outDir, `reflect-${name}`), name);
        console.log(`  ${summary}`);
        if (/^ipv4_invalid_|oobr/.test(name)) {
          const c = readPcap(join(outDir, `reflect-${name}`)).records.length;
          assert.is(c, 0, 'a malformed capture gets no answer');
        }
      });
    }
    test('reflector with polled receive (dhcp-rfc4388.pcap): the same answers', () => {
      const elf = buildGuestApp('reflector', 'unikernel', { defines: { RX_MODE: 'NET_RX_POLL' } }).elf;
      console.log(`  polled ${reflect(elf, join(pcapDir, 'dhcp-rfc4388.pcap'), join(outDir, 'reflect-poll-dhcp.pcap'), 'dhcp-rfc4388.pcap')}`);
    });
  }

  test('udp-echo on a hand-made capture: echoes port 7, answers ARP and ping, drops the rest by reason', () => {
    const elf = buildGuestApp('udp-echo', 'unikernel').elf;
    const input = join(outDir, 'echo-in.pcap'), out = join(outDir, 'echo-out.pcap');
    const ipv6 = new Uint8Array(60); ipv6.set(NIC_MAC); ipv6[12] = 0x86; ipv6[13] = 0xdd;
    const otherMac = udpFrame(1000, 7, bytes(4, 9)); otherMac[5] = 0x77;
    const frames = [
      udpFrame(1000, 7, bytes(64, 1)), udpFrame(1001, 7, bytes(1, 2)), udpFrame(1002, 7, bytes(0, 0)),
      udpFrame(1003, 7, bytes(1472, 3)), udpFrame(1004, 7, bytes(33, 4), { noSum: true }),
      udpFrame(1005, 9, bytes(8, 5)), udpFrame(1006, 7, bytes(8, 6), { badSum: true }),
      udpFrame(1007, 7, bytes(8, 7), { dst: [10, 0, 0, 2] }), otherMac, ipv6,
      ipv4([10, 0, 0, 99], OUR_IP, 17, bytes(20, 8), { frag: 0x2000 }), ipv4([10, 0, 0, 99], OUR_IP, 6, bytes(20, 8)),
      ipv4([10, 0, 0, 99], OUR_IP, 17, bytes(20, 8), { badSum: true }), arpRequest(OUR_IP), arpRequest([10, 0, 0, 9]), ping(),
      new Uint8Array(10),
    ];
    writePcap(input, frames);
    rmSync(out, { force: true });
    const r = boot(elf, `pcap:${input}@10/ms+record:${out}`, 300_000_000);
    const shown = `reason ${r.reason}, status ${r.status}\n${r.text}`;
    assert.is(r.status, 0, shown);
    const c = counters(r.text);
    const verdicts = frames.map((f) => verdict(f, false, [7]));
    const wantDrops: Record<string, number> = {};
    for (const v of verdicts) if (v.kind === 'drop') wantDrops[v.reason] = (wantDrops[v.reason] ?? 0) + 1;
    assert.equal(c.drops, wantDrops, shown);
    assert.is(Object.keys(wantDrops).length, 10, 'ten distinct reasons exercised');
    assert.is(c.received, frames.length);
    assert.ok(c.ok);
    const outs = readPcap(out).records.map((x) => x.data);
    const answers = frames.map((f, k) => ({ f, v: verdicts[k]! })).filter((x) => x.v.kind !== 'drop');
    assert.is(outs.length, answers.length, shown);
    answers.forEach((a, k) => {
      assert.equal(checkAnswer(a.v.kind as 'udp' | 'icmp' | 'arp', a.f, outs[k]!, a.v.kind === 'udp' ? 7 : undefined), [], `answer ${k} (${a.v.kind})`);
    });
    assert.match(r.text, /udp-echo: echoed 5 datagrams, 1570 payload bytes, failed 0/);
    if (tshark) assert.is(tsharkBadChecksums(out), 0);
    console.log(`  udp-echo hand-made: received ${c.received}, answered ${c.answered}, echoed ${c.delivered}, dropped ${c.dropped} ${JSON.stringify(c.drops)}`);
  });

  test('udp-echo on gen: traffic (4 flows, 500 datagrams): every one echoed through the copy path', () => {
    const elf = buildGuestApp('udp-echo', 'unikernel').elf;
    const out = join(outDir, 'echo-gen.pcap');
    rmSync(out, { force: true });
    const r = boot(elf, `gen:rate=50/ms,size=200,flows=4,count=500,port=7+record:${out}`, 400_000_000);
    const shown = `reason ${r.reason}, status ${r.status}\n${r.text}`;
    assert.is(r.status, 0, shown);
    const c = counters(r.text);
    assert.is(c.received, 500);
    assert.is(c.delivered, 500);
    assert.is(c.dropped, 0);
    assert.match(r.text, /net: rx 500 frames .* \(zero-copy 0, copied 500, failed 0, errors 0, pending 0\)/);
    const outs = readPcap(out).records.map((x) => x.data);
    assert.is(outs.length, 500);
    for (const o of outs) {
      assert.equal(Array.from(o.subarray(6, 12)), NIC_MAC);
      assert.is(be16(o, 34), 7);
      assert.ok(be16(o, 36) >= 10000 && be16(o, 36) < 10004);
      assert.is(o.length, 200);
    }
    if (tshark) assert.is(tsharkBadChecksums(out), 0);
  });
}

test.run();
