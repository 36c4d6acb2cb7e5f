// `npm run bench`: how fast the emulated CPU runs a CPU-bound guest (bench.c: CRC-32 and
// fib, in ring 3 with paging on), against the same binary run natively and under qemu-i386
// when it is on PATH; then the machine: smp-bench.c on 1 and 4 cores with paging on (MIPS,
// aggregate MIPS, TLB misses, simulated-to-host time, host memory for 256 MiB of guest RAM);
// then frames per host second through one NIC queue with a minimal guest driver (nic-bench.c)
// and the IOMMU on, next to the device-side host cost per frame from nic.bench.ts.
// Not a test: it measures host time, which no test may assert on.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseElf32 } from '../../machine/elf.js';
import { execElf } from '../../kernel/linux/exec.js';
import { Machine, machineConfig } from '../../machine/machine.js';
import { loadProfile } from '../../machine/profile.js';
import { nicHostCost } from './nic.bench.js';
import { exoCallCost, revokeCost } from './kernel.bench.js';
import { benchTui } from './tui.bench.js';

// Compiled to dist/test/bench/: the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE = join(ROOT, 'test', 'bench', 'bench.c');
const OUT_DIR = join(ROOT, 'build', 'bench');
const ELF = join(OUT_DIR, 'bench.elf');
const CLOCK_HZ = 2e9;      // the default profile's clock, for simulated time
const NATIVE_RUNS = 3;
const GCC_FLAGS = ['-m32', '-ffreestanding', '-nostdlib', '-static', '-no-pie', '-O2', '-fno-pic',
  '-mgeneral-regs-only', '-fno-stack-protector', '-Wall', '-Wextra'];

interface Timed { seconds: number; stdout: string; ok: boolean; why: string }

const SMP_SOURCE = join(ROOT, 'test', 'bench', 'smp-bench.c');
const SMP_ELF = join(OUT_DIR, 'smp-bench.elf');
const SMP_FLAGS = ['-Wl,-Ttext-segment=0x10000', '-Wl,--build-id=none'];

const NIC_SOURCE = join(ROOT, 'test', 'bench', 'nic-bench.c');
const NIC_ELF = join(OUT_DIR, 'nic-bench.elf');
/** Frames the guest receives; nic-bench.c's N is set from here. */
const NIC_FRAMES = 200000;
const NIC_WIRE = `gen:rate=5/us,size=64,flows=1,count=${NIC_FRAMES}`;

function benchBuild(source = SOURCE, elf = ELF, extra: string[] = []): void {
  if (existsSync(elf) && statSync(elf).mtimeMs >= statSync(source).mtimeMs) return;
  mkdirSync(OUT_DIR, { recursive: true });
  const r = spawnSync('gcc', [...GCC_FLAGS, ...extra, '-o', elf, source], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    console.error(`bench: cannot build ${source} with gcc -m32: ${r.error?.message ?? r.stderr.trim()}`);
    process.exit(1);
  }
}

function benchEmulated(): Timed & { instructions: number; cycles: number } {
  const image = parseElf32(readFileSync(ELF), ELF);
  const chunks: Uint8Array[] = [];
  const start = performance.now();
  const r = execElf(image, { onStdout: (b) => { chunks.push(b.slice()); } });
  const seconds = (performance.now() - start) / 1000;
  const stdout = Buffer.concat(chunks).toString('utf8');
  const ok = r.status === 'exit' && r.exitCode === 0;
  const why = ok ? '' : `status ${r.status}, exit code ${r.exitCode}${r.fault ? `, ${r.fault.name} at eip 0x${r.fault.eip.toString(16)}` : ''}`;
  return { seconds, stdout, ok, why, instructions: r.instructions, cycles: r.cycles };
}

/** Best of NATIVE_RUNS wall-clock runs of a host command (process start-up included). */
function benchHost(cmd: string, args: string[]): Timed {
  let best: Timed = { seconds: Infinity, stdout: '', ok: false, why: 'not run' };
  for (let i = 0; i < NATIVE_RUNS; i++) {
    const start = performance.now();
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    const seconds = (performance.now() - start) / 1000;
    if (r.error || r.status !== 0) {
      return { seconds, stdout: r.stdout ?? '', ok: false, why: r.error?.message ?? `exit ${r.status} ${r.signal ?? ''} ${r.stderr ?? ''}`.trim() };
    }
    if (seconds < best.seconds) best = { seconds, stdout: r.stdout, ok: true, why: '' };
  }
  return best;
}

function onPath(cmd: string): boolean {
  return !spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error;
}

function table(rows: [string, string][]): void {
  const w = Math.max(...rows.map(([l]) => l.length));
  const v = Math.max(...rows.map(([, x]) => x.length));
  for (const [l, x] of rows) console.log(`  ${l.padEnd(w)}  ${x.padStart(v)}`);
}

function benchMain(): number {
  benchBuild();
  console.log(`bench: ${ELF.slice(ROOT.length)} (CRC-32 of 64 KiB x 200, fib(30))`);
  const emu = benchEmulated();
  const simulated = emu.cycles / CLOCK_HZ;
  console.log(`exolab: ${emu.stdout.trim() || '(no output)'}`);
  table([
    ['guest instructions', String(emu.instructions)],
    ['guest cycles', String(emu.cycles)],
    ['host seconds', emu.seconds.toFixed(3)],
    ['MIPS', (emu.instructions / emu.seconds / 1e6).toFixed(1)],
    ['simulated seconds at 2 GHz', simulated.toFixed(4)],
    ['simulated / host time', (simulated / emu.seconds).toFixed(4)],
  ]);
  let failed = !emu.ok;
  if (!emu.ok) console.log(`  the guest did not exit cleanly: ${emu.why}`);

  const native = benchHost(ELF, []);
  if (native.ok) {
    console.log(`native: ${native.stdout.trim()}`);
    table([
      [`host seconds (best of ${NATIVE_RUNS})`, native.seconds.toFixed(4)],
      ['exolab / native time', (emu.seconds / native.seconds).toFixed(1)],
    ]);
    if (native.stdout !== emu.stdout) {
      console.log(`  MISMATCH: exolab printed ${JSON.stringify(emu.stdout)}, native ${JSON.stringify(native.stdout)}`);
      failed = true;
    } else {
      console.log('  output matches the native run');
    }
  } else {
    console.log(`native: cannot run the i386 binary here (${native.why}); no comparison`);
  }

  if (onPath('qemu-i386')) {
    const qemu = benchHost('qemu-i386', [ELF]);
    console.log(`qemu-i386: ${qemu.ok ? qemu.stdout.trim() : `failed (${qemu.why})`}`);
    if (qemu.ok) {
      table([
        [`host seconds (best of ${NATIVE_RUNS})`, qemu.seconds.toFixed(4)],
        ['exolab / qemu-i386 time', (emu.seconds / qemu.seconds).toFixed(1)],
      ]);
      if (qemu.stdout !== emu.stdout) { console.log('  MISMATCH with qemu-i386'); failed = true; }
    }
  } else {
    console.log('qemu-i386: not on PATH, skipped');
  }
  if (benchMachine()) failed = true;
  if (benchNic()) failed = true;
  if (benchKernel()) failed = true;
  return failed ? 1 : 0;
}

/** smp-bench.c on the machine, 1 and 4 cores, 256 MiB of RAM, default profile. Returns failure. */
function benchMachine(): boolean {
  benchBuild(SMP_SOURCE, SMP_ELF, SMP_FLAGS);
  const image = parseElf32(readFileSync(SMP_ELF), SMP_ELF);
  const profile = loadProfile('default');
  let failed = false;
  const mips: number[] = [];
  console.log(`machine: ${SMP_ELF.slice(ROOT.length)} (paging on; CRC-32 of 64 KiB x 40 and fib(22) per core)`);
  for (const cores of [1, 4]) {
    const m = new Machine(machineConfig(profile, { cores, ramBytes: 256 << 20, seed: 1 }));
    m.loadImage(image, SMP_ELF);
    m.boot(image.entry);
    const start = performance.now();
    const reason = m.run(10 * profile.clockHz);
    const seconds = (performance.now() - start) / 1000;
    const insns = m.instructions();
    const misses = m.cores.reduce((n, c) => n + c.counterValues().tlbMisses, 0);
    const lookups = m.cores.reduce((n, c) => n + c.counterValues().tlbLookups, 0);
    const ok = reason === 'poweroff' && m.sysctl.exitStatus === 0;
    failed ||= !ok;
    mips.push(insns / seconds / 1e6);
    console.log(`  ${cores} core${cores > 1 ? 's' : ''}: ${m.consoleText().trim() || '(no output)'}${ok ? '' : ` (stopped: ${reason}, status ${m.sysctl.exitStatus})`}`);
    table([
      ['guest instructions', String(insns)],
      ['host seconds', seconds.toFixed(3)],
      [cores > 1 ? 'aggregate MIPS' : 'MIPS', (insns / seconds / 1e6).toFixed(1)],
      ['TLB lookups (data and fetch)', String(lookups)],
      ['TLB misses', String(misses)],
      ['TLB miss rate', `${(misses / Math.max(lookups, 1) * 100).toFixed(5)} %`],
      ['simulated / host time', (m.seconds() / seconds).toFixed(4)],
      ['host RSS, MiB', (process.memoryUsage().rss / 2 ** 20).toFixed(0)],
    ]);
  }
  console.log(`  4-core aggregate / 1-core MIPS: ${(mips[1] / mips[0]).toFixed(2)} (one host thread runs every core)`);
  return failed;
}

/**
 * nic-bench.c on a 1-core machine whose NIC has one queue on a `gen:` wire of 64-byte frames,
 * IOMMU translation on; then the device alone (no CPU) from nic.bench.ts. Returns failure.
 */
function benchNic(): boolean {
  benchBuild(NIC_SOURCE, NIC_ELF, [...SMP_FLAGS, `-DN=${NIC_FRAMES}`]);
  const image = parseElf32(readFileSync(NIC_ELF), NIC_ELF);
  const profile = loadProfile('default');
  console.log(`nic: ${NIC_ELF.slice(ROOT.length)} (one queue, IOMMU on, polling; wire ${NIC_WIRE})`);
  const m = new Machine({ ...machineConfig(profile, { cores: 1, ramBytes: 64 << 20, seed: 1 }), nic: { queues: 1, wire: NIC_WIRE } });
  m.loadImage(image, NIC_ELF);
  m.boot(image.entry);
  const start = performance.now();
  const reason = m.run(10 * profile.clockHz);
  const seconds = (performance.now() - start) / 1000;
  const t = m.nic!.inspect().totals, insns = m.instructions();
  const ok = reason === 'poweroff' && m.sysctl.exitStatus === 0 && t.delivered > 0;
  console.log(`  ${m.consoleText().trim() || '(no output)'}${ok ? '' : ` (stopped: ${reason}, status ${m.sysctl.exitStatus})`}`);
  nicHostCost('rx', 20000); // warm the device path up before timing it alone
  const rx = nicHostCost('rx', NIC_FRAMES), loop = nicHostCost('loop', NIC_FRAMES);
  table([
    ['frames delivered', String(t.delivered)],
    ['frames dropped', String(t.dropped)],
    ['simulated seconds', m.seconds().toFixed(4)],
    ['host seconds', seconds.toFixed(3)],
    ['frames per host second', (t.delivered / seconds).toFixed(0)],
    ['host us per frame, total', (seconds * 1e6 / Math.max(1, t.delivered)).toFixed(3)],
    ['guest instructions per frame', (insns / Math.max(1, t.delivered)).toFixed(1)],
    ['device-side host us per frame, RX', rx.usPerFrame.toFixed(3)],
    ['device-side host us per frame, TX->loop->RX', loop.usPerFrame.toFixed(3)],
  ]);
  return !ok;
}

function benchKernel(): boolean {
  console.log('kernel: revoking a subtree (CapSystem.revoke), host time per capability removed');
  revokeCost(1000); // warm up
  const rows: [string, string][] = [];
  for (const n of [1000, 10000, 100000]) {
    const r = revokeCost(n);
    rows.push([`${r.removed} descendants`, `${r.nsPerNode.toFixed(0)} ns/node`]);
  }
  table(rows);
  const calls = 200000;
  exoCallCost(ROOT, 20000);
  const c = exoCallCost(ROOT, calls);
  console.log(`kernel: exo-call round trip from ring 3 (CAP_INSPECT x ${calls})`);
  table([
    ['host ns per call', c.nsPerCall.toFixed(0)],
    ['simulated cycles per call (loop included)', c.cyclesPerCall.toFixed(1)],
  ]);
  if (!c.ok) console.log('  the guest did not exit cleanly');
  return !c.ok;
}

const status = benchMain();
await benchTui(table);
process.exitCode = status;
