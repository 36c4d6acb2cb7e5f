// The three placements of DESIGN section 4 from the same LibOS sources, each a principal of
// the exokernel: exo (ring 3 over exo-calls), mono (the LibOS as a ring-0 kernel, the app in
// ring 3 above it by int 0x80) and unikernel (one ring-0 image). What each costs per request
// in privilege crossings, as the CPU and the kernel count them: udp-echo on gen: traffic
// (mono exactly 4, two system calls; unikernel 0; exo measured, polled and interrupt-driven).
// The reflector in each placement on every capture in ../shared/pcaps, checked as
// test/libos/net.test.ts checks the bare unikernel: every well-formed request answered once,
// every other frame dropped and counted by reason, received = replied + dropped, tshark
// finding no bad checksum in what was sent. And the mono boundary itself (test/guest/mono/
// boundary.c): what it refuses, and an app that faults.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildGuestApp, buildGuestProgram, guestTools } from '../../kernel/guest-build.js';
import { parseScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';
import { readPcap } from '../../machine/pcap.js';
import { NIC_MAC, be16, checkAnswer, counters, tshark, tsharkBadChecksums, verdict } from '../helpers/net-model.js';
import { repoPath, sharedPcaps } from '../helpers/paths.js';

const outDir = repoPath('build', 'libos-placements');
const PLACEMENTS = ['unikernel', 'mono', 'exo'] as const;
type Placement = typeof PLACEMENTS[number];

let toolsMissing = '';
try { guestTools(); } catch (e) { toolsMissing = (e as Error).message; }

interface Run { p: any; m: any; console: string; system: System }

/** One principal `p` running `elf` in `placement` on core 0 with NIC queue 0 on `wire`. */
function run(placement: Placement, elf: string, wire: string, runFor: string, name: string): Run {
  mkdirSync(outDir, { recursive: true });
  const yaml = `name: ${name}\nseed: 1\nmachine: { cores: 1, ram: 64MiB, nic: { queues: 1, wire: "${wire}" } }\n` +
    `principals:\n  - { name: p, image: ${elf}, placement: ${placement}, cores: [0], nic_queues: [0], memory: 16MiB }\n` +
    `run: { for: ${runFor} }\n`;
  const system = new System(parseScenario(yaml, join(outDir, `${name}.yaml`), outDir));
  system.runToEnd();
  const r = system.report();
  const m = r.metrics as any;
  return { p: m.principals.p, m, console: r.console, system };
}

/** The principal ended by itself with status 0; the console otherwise. */
function exitedOk(r: Run): void {
  assert.is(r.p.state, 'exited', `state ${r.p.state}; console:\n${r.console}`);
  assert.is(r.p.exit_status, 0, r.console);
}

/** Crossings the CPU counted on core 0, whoever ran there: into ring 0 from 3, and back. */
function cpuCrossings(r: Run): { entries: number; exits: number; total: number } {
  const c = r.system.machine.cores[0]!.counterValues();
  return { entries: c.ring3To0!, exits: c.ring0To3!, total: c.ring3To0! + c.ring0To3! };
}

/** UDP/IPv4 frames, as the kernel counts requests (kernel/exo/requests.ts). */
const isUdp = (f: Uint8Array) => f.length >= 34 && be16(f, 12) === 0x0800 && f[23] === 17;

if (toolsMissing) {
  console.warn(`libos placement tests skipped: ${toolsMissing}`);
  test.skip('libos placements (gcc -m32 unavailable)', () => {});
} else {
  // ---- udp-echo: crossings per request ----------------------------------------------------

  const ECHOES = 400;
  const figures: string[] = [];

  /** udp-echo on paced gen: traffic; every datagram echoed; the principal's metrics. */
  function echo(placement: Placement, rxMode: 'NET_RX_POLL' | 'NET_RX_IRQ'): Run {
    const elf = buildGuestApp('udp-echo', placement, { defines: { RX_MODE: rxMode } }).elf;
    const out = join(outDir, `echo-${placement}-${rxMode}.pcap`);
    rmSync(out, { force: true });
    // 40,000 cycles between requests: each is served before the next arrives
    const r = run(placement, elf, `gen:rate=50/ms,size=200,flows=4,count=${ECHOES},port=7+record:${out}`, '100ms', `echo-${placement}`);
    exitedOk(r);
    const c = counters(r.console);
    assert.is(c.received, ECHOES, r.console);
    assert.is(c.delivered, ECHOES);
    assert.ok(c.ok);
    assert.match(r.console, new RegExp(`udp-echo: echoed ${ECHOES} datagrams, ${ECHOES * 158} payload bytes, failed 0`));
    const outs = readPcap(out).records.map((x) => x.data);
    assert.is(outs.length, ECHOES, 'one echo per request');
    for (const o of outs) {
      assert.equal(Array.from(o.subarray(6, 12)), NIC_MAC);
      assert.is(be16(o, 34), 7, 'from the echo port');
      assert.is(o.length, 200);
    }
    if (tshark) assert.is(tsharkBadChecksums(out), 0);
    assert.is(r.p.requests, ECHOES, 'the kernel counted every datagram the NIC delivered');
    const per = r.p.crossings_per_request;
    figures.push(`${placement} ${rxMode === 'NET_RX_POLL' ? 'polled' : 'interrupt-driven'}: ${per} crossings per request (${r.p.crossings} in the whole run, ${r.p.requests} requests)`);
    return r;
  }

  test('udp-echo in mono: exactly 4 privilege crossings per request (two system calls), counted by the CPU', () => {
    const r = echo('mono', 'NET_RX_POLL');
    assert.is(r.p.crossings_per_request, 4);
    const cpu = cpuCrossings(r);
    assert.is(r.p.crossings, cpu.total, 'the partition\'s crossings are the CPU\'s own count on its core');
    // the first iret into ring 3 has no entry before it, the exit call no return after it
    assert.is(cpu.entries, cpu.exits);
    // start-up and shut-down (bring-up, bind, console lines, idle timeouts, counters, exit)
    // cost a few more system calls, outside the steady state
    assert.ok(r.p.crossings > 4 * ECHOES && r.p.crossings < 4 * ECHOES + 60, `whole run ${r.p.crossings}`);
    assert.is(r.p.kernel_entries, 0, 'the exokernel itself is never entered');
  });

  test('udp-echo in mono, interrupt-driven: the interrupts come while it waits in the kernel, 4 per request again', () => {
    const r = echo('mono', 'NET_RX_IRQ');
    assert.is(r.p.crossings_per_request, 4);
    assert.is(r.p.crossings, cpuCrossings(r).total);
  });

  test('udp-echo as a unikernel: 0 crossings, by the CPU\'s count', () => {
    const r = echo('unikernel', 'NET_RX_POLL');
    assert.is(r.p.crossings_per_request, 0);
    assert.is(r.p.crossings, 0);
    assert.is(cpuCrossings(r).total, 0, 'the core never left ring 0');
  });

  for (const mode of ['NET_RX_POLL', 'NET_RX_IRQ'] as const) {
    test(`udp-echo as an exo LibOS (${mode === 'NET_RX_POLL' ? 'polled' : 'interrupt-driven'}): crossings per request measured`, () => {
      const r = echo('exo', mode);
      const per = r.p.crossings_per_request;
      assert.ok(Number.isFinite(per) && per > 0, `crossings per request ${per}`);
      const cpu = cpuCrossings(r);
      assert.is(r.p.crossings, cpu.total, 'the kernel\'s entries and exits are the CPU\'s crossings on the core');
      assert.is(r.p.kernel_entries, cpu.entries);
    });
  }

  test('mono: the boundary refuses kernel pointers and foreign handles; an app touching kernel memory ends its partition only', () => {
    mkdirSync(outDir, { recursive: true });
    const bad = buildGuestProgram(join('test', 'guest', 'mono', 'boundary.c'), 'mono').elf;
    const echoElf = buildGuestApp('udp-echo', 'mono').elf;
    const yaml = `name: boundary\nseed: 1\nmachine: { cores: 2, ram: 64MiB, nic: { queues: 1, wire: "gen:rate=50/ms,size=100,flows=1,count=50,port=7" } }\n` +
      `principals:\n  - { name: bad, image: ${bad}, placement: mono, cores: [0], memory: 16MiB }\n` +
      `  - { name: echo, image: ${echoElf}, placement: mono, cores: [1], nic_queues: [0], memory: 16MiB }\nrun: { for: 100ms }\n`;
    const system = new System(parseScenario(yaml, join(outDir, 'boundary.yaml'), outDir));
    system.runToEnd();
    const r = system.report(), m = r.metrics as any;
    assert.match(r.console, /done 0 failed/, r.console);
    assert.not.match(r.console, /FAIL/);
    assert.match(r.console, /mono: the app: unexpected #PF vector 14 error 5 .* cr2 100000\n/, 'a user-mode read of a supervisor page');
    assert.is(m.principals.bad.exit_status, 0x80 | 14);
    assert.is(m.principals.echo.exit_status, 0, 'the other partition ran on');
    assert.match(r.console, /udp-echo: echoed 50 datagrams/);
    assert.is(m.principals.echo.crossings_per_request, 4);
  });

  // ---- the reflector on every capture, in every placement --------------------------------

  /** Replay `input` into the reflector in `placement`, recording what it sends; check it all. */
  function reflect(placement: Placement, input: string, name: string): string {
    const inp = readPcap(input).records.map((r) => r.data);
    const out = join(outDir, `reflect-${placement}-${name}`);
    rmSync(out, { force: true });
    // @10/ms: a frame every 200,000 cycles; the LibOS stops after 20,000,000 quiet ones
    const r = run(placement, buildGuestApp('reflector', placement).elf, `pcap:${input}@10/ms+record:${out}`,
      `${Math.ceil(inp.length / 10) + 100}ms`, `reflect-${placement}`);
    const shown = `${placement} ${name}\n${r.console}`;
    exitedOk(r);
    const c = counters(r.console);
    assert.ok(c.ok, shown);

    const verdicts = inp.map((f) => verdict(f, true, 'any'));
    const wantDrops: Record<string, number> = {};
    for (const v of verdicts) if (v.kind === 'drop') wantDrops[v.reason] = (wantDrops[v.reason] ?? 0) + 1;
    const answers = inp.map((f, k) => ({ f, v: verdicts[k]! })).filter((x) => x.v.kind !== 'drop');
    assert.is(r.m.nic.received, inp.length, 'the NIC saw every record');
    assert.is(r.m.nic.delivered, inp.length, 'and delivered each to the queue');
    assert.is(c.received, inp.length, 'the LibOS took every frame');
    assert.equal(c.drops, wantDrops, `drop reasons, guest vs model\n${shown}`);

    const outs = readPcap(out).records.map((x) => x.data);
    assert.is(outs.length, answers.length, `one answer per well-formed request\n${shown}`);
    assert.is(c.received, outs.length + c.dropped, 'received = replied + dropped');
    answers.forEach((a, k) => {
      assert.equal(checkAnswer(a.v.kind as 'udp' | 'icmp' | 'arp', a.f, outs[k]!), [], `${placement} ${name}: answer ${k} (${a.v.kind}) to frame ${inp.indexOf(a.f)}`);
    });
    if (tshark) {
      const n = tsharkBadChecksums(out);
      if (typeof n === 'string') assert.unreachable(n);
      assert.is(n, 0, 'tshark finds no bad checksum');
    }
    assert.is(r.p.requests, inp.filter(isUdp).length, 'requests: the UDP frames delivered');
    if (placement === 'unikernel') assert.is(r.p.crossings, 0);
    // mono: a receive and a reply per datagram that reaches the app, each two crossings
    if (placement === 'mono') assert.ok(r.p.crossings >= 4 * c.delivered, `mono crossings ${r.p.crossings}`);
    return `${placement} ${name}: received ${c.received}, replied ${outs.length}, dropped ${c.dropped}` +
      `${c.dropped ? ` ${JSON.stringify(c.drops)}` : ''}; ${r.p.crossings} crossings, ${r.p.requests} requests, ${r.p.crossings_per_request} per request`;
  }

  const pcapDir = sharedPcaps('the reflector in each placement on each shared capture');
  if (pcapDir !== null) {
    const names = readdirSync(pcapDir).filter((f) => f.endsWith('.pcap')).sort();
    for (const placement of PLACEMENTS) {
      for (const name of names) {
        test(`reflector (${placement}) ${name}: one right answer per well-formed request, every other frame dropped by reason`, () => {
          console.log(`  ${reflect(placement, join(pcapDir, name), name)}`);
        });
      }
    }
  }

  test('the figures', () => {
    for (const f of figures) console.log(`  udp-echo ${f}`);
  });
}

test.run();
