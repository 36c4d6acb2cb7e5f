// Ring-0 C drivers (test/guest/r0/drivers/) against the PCI devices through the Machine API:
// enumeration, MSI-X, IOMMU domains and faults, NIC rings on the loop wire and on every
// capture in ../shared/pcaps (reflected into a recorded pcap that tshark must read), FENCE
// drain times against the model, masked vectors, block I/O with checksums over a blank disk
// and over an image file that must come out unchanged, and guests programming nonsense.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf32 } from '../../machine/elf.js';
import { Machine, machineConfig, type DiskConfig, type NicConfig, type StopReason } from '../../machine/machine.js';
import { pcapGlobalHeader, readPcap } from '../../machine/pcap.js';
import { loadProfile } from '../../machine/profile.js';
import { rateCycles } from '../../machine/units.js';
import { buildGuest, gccAvailable } from '../helpers/gcc.js';
import { guestDir, repoPath, sharedPcaps } from '../helpers/paths.js';
import { r0Runtime } from '../helpers/r0-guest.js';

const gcc = gccAvailable();
const r0Dir = join(guestDir, 'r0');
const driversDir = join(r0Dir, 'drivers');
const drivers = ['board', 'pci', 'msix', 'iommu', 'nic', 'blk'].map((d) => join(driversDir, `${d}.c`));
const outDir = repoPath('build', 'devices');
const tshark = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;

/** Build test/guest/r0/NAME.c with the runtime and the drivers, linked at 1 MiB. */
function buildDev(name: string): string {
  return buildGuest(`r0dev-${name}`, [...r0Runtime, ...drivers, join(r0Dir, `${name}.c`)], '-O2',
    ['-Wl,-Ttext-segment=0x100000', '-I', join(r0Dir, 'rt'), '-I', driversDir]);
}

interface DevRun { machine: Machine; reason: StopReason; status: number | null; text: string }

function runDev(elf: string, devices: { nic?: NicConfig; disk?: DiskConfig }, until = 200_000_000): DevRun {
  const image = parseElf32(readFileSync(elf), elf);
  const machine = new Machine({ ...machineConfig(loadProfile('default'), { cores: 1, ramBytes: 64 << 20, seed: 1 }), ...devices });
  machine.loadImage(image, elf);
  machine.boot(image.entry);
  try {
    const reason = machine.run(until);
    return { machine, reason, status: machine.sysctl.exitStatus, text: machine.consoleText() };
  } finally {
    machine.close();
  }
}

function describe(r: DevRun): string {
  return `reason ${r.reason}, status ${r.status}\n--- console ---\n${r.text}`;
}

/** Status 0 and every `ok` line. */
function assertChecks(r: DevRun, checks: string[]): void {
  assert.is(r.reason, 'poweroff', describe(r));
  const lines = new Set(r.text.split('\n'));
  const failed = [...r.text.matchAll(/^FAIL ([\w-]+)/gm)].map((m) => m[1]!);
  assert.equal(failed, [], describe(r));
  assert.is(r.status, 0, describe(r));
  const missing = checks.filter((c) => !lines.has(`ok ${c}`));
  assert.equal(missing, [], `missing ok lines: ${missing.join(', ')}\n${r.text}`);
}

function fnv32(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const x of b) h = Math.imul(h ^ x, 0x01000193) >>> 0;
  return h >>> 0;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Frames and bytes of a capture as tshark reads it; null (with the reason) if tshark fails. */
function tsharkCount(file: string): { frames: number; bytes: number } | string {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.len'], { encoding: 'utf8' });
  if (r.status !== 0) return `tshark -r ${file} exited ${r.status}: ${r.stderr}`;
  const lens = r.stdout.split('\n').filter((l) => l.trim() !== '').map(Number);
  return { frames: lens.length, bytes: lens.reduce((a, b) => a + b, 0) };
}

if (!gcc.ok) {
  console.warn(`device driver programs skipped: ${gcc.reason}`);
  test.skip('device driver programs (gcc -m32 unavailable)', () => {});
} else {
  mkdirSync(outDir, { recursive: true });

  test('Machine.msi delivers a message to 0xFEE00000 and drops one outside the window', () => {
    const m = new Machine();
    m.msi(0xfee00000, 0x40);
    assert.is(m.msiErrors, 0);
    m.msi(0xfed00000, 0x40);
    assert.is(m.msiErrors, 1);
  });

  test('nic-loop: enumerate, MSI-X, an IOMMU domain, frames byte-exact through the loop wire', () => {
    const r = runDev(buildDev('nic-loop'), { nic: { queues: 2, wire: 'loop' } });
    assertChecks(r, ['pci-enumerate', 'nic-probe', 'nic-identity', 'nic-bar-sizing', 'nic-msix-cap', 'iommu-invalidate-wait',
      'iommu-enabled', 'nic-queue-on', 'loop-frames-byte-exact', 'loop-tx-status', 'loop-msix-interrupts', 'loop-counters',
      'loop-no-dma-faults']);
    const t = r.machine.nic!.inspect().totals;
    assert.is(t.received, t.delivered + t.dropped);
    assert.is(t.delivered, 40);
  });

  test('dma-fault: an RX buffer at an unmapped IOVA is blocked, recorded, signalled; nothing written', () => {
    const r = runDev(buildDev('dma-fault'), { nic: { queues: 1, wire: 'loop' } });
    assertChecks(r, ['rx-desc-dma-fault-status', 'rx-drop-reason-iommu', 'victim-unchanged', 'iommu-fault-pending',
      'iommu-fault-record', 'iommu-fault-msi', 'rx-continues-after-fault', 'tx-unmapped-buffer', 'iommu-fault-record-read',
      'iommu-fault-msi-second', 'iommu-faults-cleared']);
    const io = r.machine.iommu.inspect();
    assert.equal(io.faults.map((f) => [f.rid, f.reason, f.write]), [[0x10, 'not mapped', true], [0x10, 'not mapped', false]]);
    const nic = r.machine.nic!.inspect().totals;
    assert.is(nic.drops['iommu fault'], 1);
    assert.is(nic.txDrops['iommu fault'], 1);
    assert.is(io.counters.faultMsis, 2);
  });

  test('fence: q descriptors in flight drain in fenceLatency + q / rate (two values of q)', () => {
    const r = runDev(buildDev('fence'), { nic: { queues: 1, wire: 'loop' } });
    assertChecks(r, ['fence-window', 'fence-short']);
    const nicCosts = loadProfile('default').nic;
    const period = rateCycles(nicCosts.queueRate, 1);
    const cases = [...r.text.matchAll(/fence (\S+): posted \d+, in flight at the write \d+, q (\d+) at FENCED \(seen after (\d+)\), DRAINED after (\d+) cycles/g)];
    assert.is(cases.length, 2, r.text);
    const qs = cases.map((m) => Number(m[2]));
    assert.is(qs[0], 64, 'a full fetch window');
    assert.ok(qs[1]! > 0 && qs[1]! < 64, `q ${qs[1]}`);
    for (const m of cases) {
      const q = Number(m[2]), fenced = Number(m[3]), drained = Number(m[4]);
      const model = nicCosts.fenceLatency + rateCycles(nicCosts.queueRate, q);
      console.log(`  fence ${m[1]}: q ${q}, measured ${drained} cycles, model fenceLatency + q/rate = ${model}`);
      // the device paces completions on a grid of one period, so the last one lands up to a
      // period before fence + q/rate; the guest sees DRAINED one status poll (and the FENCE write itself) later
      assert.ok(drained >= model - period && drained <= model + 200, `${m[1]}: measured ${drained}, model ${model}`);
      assert.ok(fenced >= nicCosts.fenceLatency && fenced <= nicCosts.fenceLatency + 200, `${m[1]}: FENCED after ${fenced}`);
    }
  });

  test('msix-mask: masked vector sets its pending bit, unmask delivers, function mask holds', () => {
    const r = runDev(buildDev('msix-mask'), { nic: { queues: 1, wire: 'loop' } });
    const needMsi = ['unmask-delivers', 'unmasked-direct', 'function-mask-holds', 'function-unmask-delivers',
      'disabled-holds-pending', 'enable-releases-pending'];
    assertChecks(r, ['msix-reset-masked', 'masked-sets-pending', 'masked-no-interrupt', ...needMsi]);
    const c = r.machine.nic!.msix.inspect().counters;
    assert.is(c.releasedOnUnmask, 3, 'three messages held and released');
  });

  const blkChecks = ['blk-probe', 'blk-identity', 'blk-queues-run', 'blk-read-sector0', 'blk-rw-checksums-poll',
    'blk-rw-checksums-msix', 'blk-msix-completions', 'blk-flush', 'blk-batch-phase', 'blk-no-dma-faults'];

  test('blk-rw: writes and reads of 1 to 256 sectors, checksums equal, by polling and by MSI-X', () => {
    const r = runDev(buildDev('blk-rw'), { disk: { bytes: 16 << 20, queues: 2 } }, 400_000_000);
    assertChecks(r, blkChecks);
    assert.ok(r.machine.disk!.backend.overlaySectors > 0);
  });

  test('blk-rw over an image file: sector 0 read from it, the file unchanged after the writes', () => {
    const img = join(outDir, 'disk.img');
    const bytes = new Uint8Array(4 << 20);
    for (let k = 0; k < bytes.length; k++) bytes[k] = (k * 2654435761) >>> 24;
    writeFileSync(img, bytes);
    const before = sha256(img);
    const r = runDev(buildDev('blk-rw'), { disk: { image: img, queues: 2 } }, 400_000_000);
    assertChecks(r, blkChecks);
    const guest = /blk sector0 fnv ([0-9a-f]{8})/.exec(r.text)?.[1];
    assert.is(guest, fnv32(bytes.subarray(0, 512)).toString(16).padStart(8, '0'), 'sector 0 as the guest read it');
    assert.ok(r.machine.disk!.backend.overlaySectors >= 606, 'the writes went to the overlay');
    assert.is(sha256(img), before, 'the image file is unchanged');
  });

  test('bad-rings: nonsense rings and descriptors give error statuses or IOMMU faults, never a host exception', () => {
    let r: DevRun | undefined;
    try {
      r = runDev(buildDev('bad-rings'), { nic: { queues: 1, wire: 'loop' }, disk: { bytes: 1 << 20 } });
    } catch (e) {
      assert.unreachable(`host exception: ${(e as Error).stack ?? e}`);
    }
    if (r === undefined) return;
    assertChecks(r, ['nic-ring-unmapped', 'nic-ring-outside-ram', 'nic-ring-zero-length', 'nic-ring-size-3', 'nic-ring-wraps-4g',
      'nic-tail-past-ring', 'nic-tail-0xffff', 'nic-desc-unmapped-iova', 'nic-desc-outside-ram', 'nic-desc-zero-length',
      'nic-desc-high-address', 'nic-desc-too-big', 'nic-bad-descs-not-sent', 'nic-rx-ring-unmapped', 'nic-recovers',
      'nic-accounting', 'blk-sq-unmapped', 'blk-sq-zero-length', 'blk-doorbell-past-ring', 'blk-data-unmapped',
      'blk-data-outside-ram', 'blk-lba-past-end', 'blk-zero-count', 'blk-count-over-max', 'blk-recovers']);
  });

  const pcapDir = sharedPcaps('nic-reflect over each shared capture');
  if (pcapDir !== null) {
    if (!tshark) console.warn('tshark is not on PATH: recorded captures are checked with exolab\'s own reader only');
    for (const name of readdirSync(pcapDir).filter((f) => f.endsWith('.pcap')).sort()) {
      test(`nic-reflect ${name}: every delivered frame sent back, OUT readable, counts and bytes match`, () => {
        const input = join(pcapDir, name), out = join(outDir, `reflect-${name}`);
        rmSync(out, { force: true });
        const records = readPcap(input).records.length;
        // @1/ms: a frame every 2,000,000 cycles; the guest stops after 10,000,000 quiet ones
        const r = runDev(buildDev('nic-reflect'), { nic: { queues: 1, wire: `pcap:${input}@1/ms+record:${out}` } },
          (records + 10) * 2_000_000 + 20_000_000);
        assertChecks(r, ['reflect-nic-up', 'reflect-accounting', 'reflect-all-sent', 'reflect-every-delivered-frame']);
        const m = /reflect sent (\d+) frames (\d+) bytes/.exec(r.text);
        assert.ok(m, r.text);
        const frames = Number(m![1]), bytes = Number(m![2]);
        const t = r.machine.nic!.inspect().totals;
        console.log(`  ${name}: ${records} records, received ${t.received}, delivered ${t.delivered}, reflected ${frames} frames ${bytes} bytes, drops ${JSON.stringify(Object.fromEntries(Object.entries(t.drops).filter(([, n]) => n > 0)))}`);
        assert.is(t.received, records, 'every record replayed');
        assert.is(t.received, t.delivered + t.dropped);
        // replay starts when the driver brings the queue up, so even a capture's first frame finds a ring
        assert.is(t.delivered, records, 'every record delivered');
        assert.is(t.sent, frames);
        assert.is(t.delivered, frames);
        const own = readPcap(out);
        assert.is(own.records.length, frames);
        assert.is(own.records.reduce((s, x) => s + x.data.length, 0), bytes);
        if (!tshark) return;
        const ts = tsharkCount(out);
        if (typeof ts === 'string') assert.unreachable(ts);
        assert.equal(ts, { frames, bytes });
      });
    }
  }

  // Regression: `exolab boot --stats` printed no NIC counters, and the records a pcap: wire
  // refused showed nowhere outside the wire.
  test('exolab boot --stats: nic-reflect on a hand-made malformed capture shows the NIC\'s counts and the wire\'s drops', () => {
    const input = join(outDir, 'malformed.pcap');
    const rec = (incl: number, orig: number, present: number) => {
      const b = new Uint8Array(16 + present).fill(0x5a), v = new DataView(b.buffer);
      v.setUint32(8, incl, true);
      v.setUint32(12, orig, true);
      return b;
    };
    writeFileSync(input, Buffer.concat([pcapGlobalHeader(65535), rec(60, 60, 60), rec(0, 0, 0), rec(60, 40, 60), rec(64, 64, 64), rec(90, 90, 30)]));
    const r = spawnSync(process.execPath, [repoPath('dist', 'tui', 'cli.js'), 'boot', buildDev('nic-reflect'), '--wire', `pcap:${input}@1/ms`, '--for', '40ms', '--stats'], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /reflect sent 2 frames 124 bytes/);
    assert.match(r.stderr, /^nic   received 2, delivered 2, dropped 0, in flight 0; sent 2, not sent 0$/m);
    assert.match(r.stderr, /^wire  pcap:.*malformed\.pcap@1\/ms: dropped before the NIC 3 \(truncated 1, incl_len > orig_len 1, zero length 1\)$/m);
  });
}

test.run();
