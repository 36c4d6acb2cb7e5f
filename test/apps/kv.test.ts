// The kv app (apps/kv/main.c) in each placement, against a model of its protocol written here:
// a capture of requests made by this test (the basics, a value overwritten, a GET after DEL,
// keys and values at and past their bounds, malformed datagrams, a seeded random mix, then
// a table filled to its last slot and past it) is replayed into kv with the received and sent
// frames recorded in one file; every request must be followed by exactly one reply, from
// kv's port to the sender, whose text is what a JS Map with the same rules says. kv's own
// counters must match the model's tallies, and the kernel's crossings per request are
// checked: 4 in mono (a receive and a send system call), 0 as a unikernel, measured in exo.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGuestApp, guestTools } from '../../kernel/guest-build.js';
import { parseScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';
import { pcapGlobalHeader, pcapRecord, readPcap } from '../../machine/pcap.js';
import { Prng } from '../../machine/prng.js';
import { inetChecksum } from '../../machine/wire.js';
import { NIC_MAC, OUR_IP, be16, counters, eq, sums, udpPseudo } from '../helpers/net-model.js';
import { repoPath } from '../helpers/paths.js';

const outDir = repoPath('build', 'apps-kv');
type Placement = 'mono' | 'unikernel' | 'exo';

// kv's build defaults (apps/kv/main.c)
const KV_PORT = 7777, SLOTS = 64, KEY_MAX = 32, VALUE_MAX = 64;

let toolsMissing = '';
try { guestTools(); } catch (e) { toolsMissing = (e as Error).message; }

// ---- the model ---------------------------------------------------------------------------

const ERRORS = ['empty', 'byte', 'command', 'key', 'key_long', 'value', 'value_long', 'args', 'full'] as const;

/** The store as the protocol at the top of apps/kv/main.c describes it, and its tallies. */
class KvModel {
  readonly map = new Map<string, string>();
  readonly t = { requests: 0, put: 0, get: 0, del: 0, ok: 0, value: 0, missing: 0, err: {} as Record<string, number> };

  /** The reply text to one request payload. */
  answer(payload: Uint8Array): string {
    this.t.requests++;
    let s = Buffer.from(payload).toString('latin1');
    if (s.endsWith('\n')) s = s.slice(0, -1);
    const err = (why: typeof ERRORS[number]) => { this.t.err[why] = (this.t.err[why] ?? 0) + 1; return `ERR ${why}`; };
    if (s === '') return err('empty');
    if (/[^\x20-\x7e]/.test(s)) return err('byte');
    const m = /^(PUT|GET|DEL) (.*)$/.exec(s);
    if (!m) return err('command');
    const rest = m[2]!, sp = rest.indexOf(' ');
    const key = sp < 0 ? rest : rest.slice(0, sp), after = sp < 0 ? null : rest.slice(sp + 1);
    if (key === '') return err('key');
    if (key.length > KEY_MAX) return err('key_long');
    if (m[1] === 'PUT') {
      if (after === null || after === '') return err('value');
      if (after.length > VALUE_MAX) return err('value_long');
      this.t.put++;
      if (!this.map.has(key) && this.map.size === SLOTS) return err('full');
      this.map.set(key, after);
      this.t.ok++;
      return 'OK';
    }
    if (after !== null) return err('args');
    const had = this.map.get(key);
    if (m[1] === 'GET') {
      this.t.get++;
      if (had === undefined) { this.t.missing++; return 'MISSING'; }
      this.t.value++;
      return `VALUE ${had}`;
    }
    this.t.del++;
    if (had === undefined) { this.t.missing++; return 'MISSING'; }
    this.map.delete(key);
    this.t.ok++;
    return 'OK';
  }
}

// ---- the requests ------------------------------------------------------------------------

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** Every request of the run, in order, as payloads. */
function requests(): Uint8Array[] {
  const r: string[] = [
    // the basics: a miss, a store, an overwrite, a GET after DEL, a DEL of nothing
    'GET a', 'PUT a 1', 'GET a', 'PUT a hello world', 'GET a', 'DEL a', 'GET a', 'DEL a',
    // at the bounds, spaces in a value, the one trailing newline
    `PUT ${'k'.repeat(KEY_MAX)} ${'v'.repeat(VALUE_MAX)}`, `GET ${'k'.repeat(KEY_MAX)}`,
    'PUT b  two spaces ', 'GET b', 'GET b\n', 'PUT c x\n', 'GET c', 'PUT c  ', 'GET c', 'PUT ~!@#$%^&*() =',
    'GET ~!@#$%^&*()',
    // malformed: each answered ERR and nothing done
    '', '\n', '\n\n', 'put a 1', 'GET', 'GET ', 'GETa', 'FOO bar', 'PUTT a 1', ' GET a', 'GET a b', 'GET a ',
    'DEL a b', 'PUT a', 'PUT a ', 'PUT  a', `PUT ${'k'.repeat(KEY_MAX + 1)} v`, `GET ${'k'.repeat(KEY_MAX + 1)}`,
    `PUT a ${'v'.repeat(VALUE_MAX + 1)}`, 'GET a\0', 'PUT a \xc3\xa9', 'GET a\r\n', 'GET \x7f', 'GET a\t',
    'GET c', // c kept its value through all of that
  ];
  // a seeded mix over a few keys: overwrites, deletes and misses in every order
  const rng = new Prng(7), keys = Array.from({ length: 12 }, (_, k) => `r${k}`);
  for (let k = 0; k < 200; k++) {
    const key = keys[rng.below(keys.length)]!, op = rng.below(3);
    r.push(op === 0 ? `PUT ${key} v${rng.below(1000)}-${'x'.repeat(rng.below(VALUE_MAX - 8))}` : op === 1 ? `GET ${key}` : `DEL ${key}`);
  }
  // empty the table (leaving deleted slots behind), then fill it and go past
  for (const key of [...keys, 'k'.repeat(KEY_MAX), 'b', 'c', '~!@#$%^&*()']) r.push(`DEL ${key}`);
  for (let k = 0; k < SLOTS; k++) r.push(`PUT f${k} ${k}`);
  r.push(`PUT f${SLOTS} x`, 'PUT f5 new', 'GET f5', `GET f${SLOTS}`, 'GET nothere', 'DEL nothere', 'DEL f0',
    `PUT f${SLOTS} y`, `PUT f${SLOTS + 1} z`, `GET f${SLOTS}`, 'GET f0', `GET f${SLOTS - 1}`);
  return r.map(bytes);
}

/** Client c's MAC, IP and port. */
const client = (c: number) => ({ mac: [0x02, 0, 0, 0, 0x10, c], ip: [10, 0, 0, 100 + c], port: 40000 + c });

/** A UDP/IPv4 request from client c to kv, padded to Ethernet's 60 bytes. */
function requestFrame(payload: Uint8Array, c: number, id: number): Uint8Array {
  const cl = client(c), ulen = 8 + payload.length, total = 20 + ulen;
  const f = new Uint8Array(Math.max(60, 14 + total));
  const put16 = (i: number, v: number) => { f[i] = v >>> 8; f[i + 1] = v & 0xff; };
  f.set(NIC_MAC, 0); f.set(cl.mac, 6); put16(12, 0x0800);
  f[14] = 0x45; put16(16, total); put16(18, id); f[22] = 64; f[23] = 17;
  f.set(cl.ip, 26); f.set(OUR_IP, 30);
  put16(24, inetChecksum(f, 14, 34));
  put16(34, cl.port); put16(36, KV_PORT); put16(38, ulen);
  f.set(payload, 42);
  const sum = inetChecksum(f, 34, 34 + ulen, udpPseudo(f, 14, ulen));
  put16(40, sum === 0 ? 0xffff : sum);
  return f;
}

/** Problems with `out` as kv's reply to request frame `inp`; the reply's text. */
function checkReply(inp: Uint8Array, out: Uint8Array): { bad: string[]; text: string } {
  const bad: string[] = [];
  const want = (what: string, ok: boolean) => { if (!ok) bad.push(what); };
  want('eth dst = client', eq(out.subarray(0, 6), inp.subarray(6, 12)));
  want('eth src = NIC', eq(out.subarray(6, 12), NIC_MAC));
  want('IPv4/UDP', be16(out, 12) === 0x0800 && out[14] === 0x45 && out[23] === 17);
  want('IP src = ours', eq(out.subarray(26, 30), OUR_IP));
  want('IP dst = client', eq(out.subarray(30, 34), inp.subarray(26, 30)));
  want('IPv4 header checksum', sums(out, 14, 34));
  want('from the kv port', be16(out, 34) === KV_PORT);
  want('to the client port', be16(out, 36) === be16(inp, 34));
  const ulen = be16(out, 38);
  want('UDP length within the IP length', ulen >= 8 && 20 + ulen === be16(out, 16) && 34 + ulen <= out.length);
  want('UDP checksum present and right', be16(out, 40) !== 0 && sums(out, 34, 34 + ulen, udpPseudo(out, 14, ulen)));
  return { bad, text: Buffer.from(out.subarray(42, 34 + ulen)).toString('latin1') };
}

/** kv's counter lines. */
function kvCounters(text: string) {
  const a = /^kv: requests (\d+): put (\d+) get (\d+) del (\d+) malformed (\d+)$/m.exec(text);
  const b = /^kv: replies ok (\d+) value (\d+) missing (\d+) err (\d+); failed (\d+)$/m.exec(text);
  const k = /^kv: keys (\d+) of (\d+) slots$/m.exec(text);
  assert.ok(a && b && k, `no kv counters in:\n${text}`);
  const err: Record<string, number> = {};
  for (const m of text.matchAll(/^kv: err (\w+) (\d+) \(/gm)) err[m[1]!] = Number(m[2]);
  const n = (m: RegExpExecArray, i: number) => Number(m[i]);
  return {
    requests: n(a!, 1), put: n(a!, 2), get: n(a!, 3), del: n(a!, 4), malformed: n(a!, 5),
    ok: n(b!, 1), value: n(b!, 2), missing: n(b!, 3), errors: n(b!, 4), failed: n(b!, 5), keys: n(k!, 1), slots: n(k!, 2), err,
  };
}

// ---- the run -----------------------------------------------------------------------------

const payloads = requests();
const frames = payloads.map((p, k) => requestFrame(p, k % 3, k));
const figures: string[] = [];

/** The capture of every request, 50 a millisecond: each served before the next arrives. */
function writeCapture(): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'requests.pcap');
  writeFileSync(file, Buffer.concat([pcapGlobalHeader(), ...frames.map((f, k) => pcapRecord(k * 20000, f))]));
  return file;
}

type RxMode = 'NET_RX_POLL' | 'NET_RX_IRQ';

function runKv(placement: Placement, rxMode?: RxMode) {
  const input = writeCapture(), out = join(outDir, `kv-${placement}${rxMode ? `-${rxMode}` : ''}.pcap`);
  rmSync(out, { force: true });
  const elf = buildGuestApp('kv', placement, rxMode ? { defines: { RX_MODE: rxMode } } : {}).elf;
  const yaml = `name: kv-${placement}\nseed: 1\nmachine: { cores: 1, ram: 64MiB, nic: { queues: 1, wire: "pcap:${input}@50/ms+record:${out},rx" } }\n` +
    `principals:\n  - { name: kv, image: ${elf}, placement: ${placement}, cores: [0], nic_queues: [0], memory: 16MiB }\n` +
    `run: { for: ${Math.ceil(frames.length / 50) + 100}ms }\n`;
  const system = new System(parseScenario(yaml, join(outDir, `kv-${placement}.yaml`), outDir));
  system.runToEnd();
  const r = system.report();
  return { p: (r.metrics as any).principals.kv, console: r.console, out };
}

function check(placement: Placement, rxMode?: RxMode) {
  const r = runKv(placement, rxMode);
  const shown = `${placement}:\n${r.console}`;
  assert.is(r.p.state, 'exited', shown);
  assert.is(r.p.exit_status, 0, shown);
  const net = counters(r.console);
  assert.ok(net.ok, shown);
  assert.is(net.delivered, frames.length, `every request reached kv\n${shown}`);
  assert.is(net.dropped, 0);

  // the recording: the requests as sent, and one reply to each, in order, after it (a polled
  // exo LibOS that yields its core serves a few at a time, so replies need not alternate)
  const rec = readPcap(r.out).records.map((x) => x.data);
  const rx: number[] = [], tx: number[] = [];
  rec.forEach((f, i) => (eq(f.subarray(6, 12), NIC_MAC) ? tx : rx).push(i));
  assert.is(rx.length, frames.length, `every request recorded\n${shown}`);
  assert.is(tx.length, frames.length, `one reply per request\n${shown}`);
  const model = new KvModel();
  frames.forEach((f, k) => {
    assert.ok(eq(rec[rx[k]!]!, f), `recorded frame ${rx[k]} is request ${k}`);
    assert.ok(tx[k]! > rx[k]!, `reply ${k} after its request`);
    const got = checkReply(f, rec[tx[k]!]!), want = model.answer(payloads[k]!);
    const req = JSON.stringify(Buffer.from(payloads[k]!).toString('latin1'));
    assert.equal(got.bad, [], `${placement}: reply ${k} to ${req}`);
    assert.is(got.text, want, `${placement}: reply ${k} to ${req}`);
  });

  // the model went where the script meant it to
  const t = model.t;
  assert.is(t.err.full, 2, 'the table filled up twice');
  assert.is(model.map.size, SLOTS);
  for (const e of ERRORS) assert.ok((t.err[e] ?? 0) > 0, `the script exercises ERR ${e}`);

  // kv's counters are the model's tallies
  const c = kvCounters(r.console), errs = Object.values(t.err).reduce((a, b) => a + b, 0);
  assert.equal(c, {
    requests: t.requests, put: t.put, get: t.get, del: t.del, malformed: errs - t.err.full!,
    ok: t.ok, value: t.value, missing: t.missing, errors: errs, failed: 0, keys: model.map.size, slots: SLOTS, err: t.err,
  });

  assert.is(r.p.requests, frames.length, 'the kernel counted every request');
  figures.push(`${placement}${rxMode === 'NET_RX_IRQ' ? ' interrupt-driven' : ''}: ${r.p.crossings_per_request} crossings per request (${r.p.crossings} in the run, ${r.p.requests} requests)`);
  return r;
}

if (toolsMissing) {
  console.warn(`kv tests skipped: ${toolsMissing}`);
  test.skip('kv (gcc -m32 unavailable)', () => {});
} else {
  test('kv in mono: every reply the model\'s, 4 crossings per request (a receive and a send)', () => {
    const r = check('mono');
    assert.is(r.p.crossings_per_request, 4);
  });

  test('kv as a unikernel: every reply the model\'s, no crossings', () => {
    const r = check('unikernel');
    assert.is(r.p.crossings_per_request, 0);
    assert.is(r.p.crossings, 0);
  });

  for (const mode of ['NET_RX_POLL', 'NET_RX_IRQ'] as const) {
    test(`kv as an exo LibOS (${mode === 'NET_RX_POLL' ? 'polled' : 'interrupt-driven'}): every reply the model's, crossings per request measured`, () => {
      const r = check('exo', mode === 'NET_RX_POLL' ? undefined : mode);
      const per = r.p.crossings_per_request;
      assert.ok(Number.isFinite(per) && per > 0, `crossings per request ${per}`);
    });
  }

  test('the figures', () => {
    for (const f of figures) console.log(`  kv ${f}`);
  });
}

test.run();
