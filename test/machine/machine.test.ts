// The whole machine under ring-0 guest programs (test/guest/r0/): paging and #PF, self-
// modifying and remapped code, AP start-up and IPIs, the LAPIC timer, triple faults from
// garbage state; then determinism: same seed same hash, and snapshots that continue exactly.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../machine/machine.js';
import { gccAvailable, type OptLevel } from '../helpers/gcc.js';
import { repoPath } from '../helpers/paths.js';
import { bootR0, buildR0, runR0, type R0Run } from '../helpers/r0-guest.js';

const gcc = gccAvailable();

/** What each program must report, beyond "no FAIL line". */
const programs: { file: string; cores: number[]; opts: OptLevel[]; checks: string[] }[] = [
  {
    file: 'paging', cores: [1], opts: ['-O0', '-O2'],
    checks: [
      'boot-registers', 'paging-on', 'alias', 'pf-not-present-read', 'pf-not-present-write', 'pf-pte-not-present',
      'pf-fix-and-retry', 'ro-read', 'pf-ring0-write-ro-wp1', 'ro-unchanged', 'ring0-write-ro-wp0',
      'pf-ring0-write-ro-wp1-again', 'user-read-user-page', 'user-write-user-page', 'pf-user-read-supervisor',
      'pf-user-frame', 'pf-user-write-supervisor', 'pf-user-write-read-only', 'user-ro-unchanged',
      'pf-user-not-present', 'pf-user-supervisor-pde', 'ring0-write-user-page', 'accessed-on-read',
      'dirty-on-write-after-read', 'accessed-dirty-on-write', 'pf-write-ro-for-ad', 'no-dirty-on-faulting-write',
      'stale-tlb-until-invlpg', 'pf-after-unmap-invlpg', 'map-after-fault-no-invlpg', 'cr3-reload-keeps-global',
      'invlpg-drops-global', 'pge-toggle-flushes-global', 'big-page-accessed', 'big-page-write', 'pf-past-big-page',
      'pf-user-write-ro-big-page', 'user-read-big-page',
    ],
  },
  {
    file: 'selfmod', cores: [1], opts: ['-O0', '-O2'],
    checks: [
      'smc-paging-off-immediate', 'smc-paging-off-same-block', 'smc-paging-on-immediate', 'smc-paging-on-same-block',
      'remap-code-page', 'remap-back-modified', 'shared-frame-two-pages', 'smc-through-alias',
    ],
  },
  {
    file: 'smp', cores: [1, 4], opts: ['-O2'],
    checks: [
      'bsp-apic-id', 'aps-started', 'ap-apic-ids', 'ap-stacks', 'spinlock-xchg', 'ipi-fixed-to-each-ap', 'ipi-replies',
      'ipi-all-but-self', 'ipi-self', 'ipi-all-including-self', 'ipi-to-absent-core',
    ],
  },
  {
    file: 'timer', cores: [1, 4], opts: ['-O2'],
    checks: [
      'timer-one-shot-100-hlt', 'timer-one-shot-1000-hlt', 'timer-one-shot-10000-hlt', 'timer-one-shot-1000-busy',
      'timer-one-shot-12345-busy', 'timer-one-shot-ends-at-zero', 'timer-periodic', 'timer-periodic-intervals',
      'timer-stopped-by-zero-count', 'timer-current-count-decreases', 'timer-divide-16-rate',
      'timer-zero-count-reads-zero', 'timer-masked-no-interrupt', 'tpr-masks-lower-class', 'tpr-passes-higher-class',
      'tpr-lowered-delivers', 'eoi-ordering', 'isr-empty-after-eoi',
    ],
  },
  { file: 'smptimer', cores: [1, 4], opts: ['-O2'], checks: ['smptimer-aps', 'smptimer-every-core-ticked'] },
];

/** garbage.c -DVARIANT=n: what each one breaks (all must end in a triple fault). */
const garbage: readonly [number, string][] = [
  [1, 'CR3 outside RAM'],
  [2, 'page directory of 0xff bytes'],
  [3, 'page directory of 0xff bytes with CR4.PSE'],
  [4, 'IDT limit 0'],
  [5, 'IDT of 0xff bytes'],
  [6, 'IDT of zeros'],
  [7, 'IDT outside RAM'],
  [8, 'stack unmapped'],
  [9, 'IDT page unmapped'],
  [10, 'execute from MMIO'],
  [11, 'execute beyond RAM'],
  [12, 'CR3 with low bits set over junk, PSE and PGE'],
];

function describe(r: R0Run): string {
  const fails = r.text.split('\n').filter((l) => l.startsWith('FAIL'));
  return `reason ${r.reason}, status ${r.status}${r.shutdowns.length ? ` (${r.shutdowns.join('; ')})` : ''}` +
    (fails.length ? `; ${fails.slice(0, 6).join('; ')}` : '') + `\n--- console ---\n${r.text}`;
}

const TWO_MS = 4_000_000; // cycles at the default profile's 2 GHz

if (!gcc.ok) {
  console.warn(`ring-0 guest programs skipped: ${gcc.reason}`);
  test.skip('ring-0 guest programs (gcc -m32 unavailable)', () => {});
} else {
  for (const p of programs) {
    for (const opt of p.opts) {
      for (const cores of p.cores) {
        test(`r0 ${p.file} ${opt} on ${cores} core${cores > 1 ? 's' : ''}: powers off with 0, every check ok`, () => {
          const r = runR0(buildR0(p.file, opt), cores);
          assert.is(r.reason, 'poweroff', describe(r));
          assert.is(r.status, 0, describe(r));
          assert.not.match(r.text, /^FAIL/m, describe(r));
          const lines = new Set(r.text.split('\n'));
          const missing = p.checks.filter((c) => !lines.has(`ok ${c}`));
          assert.equal(missing, [], `missing ok lines: ${missing.join(', ')}\n${r.text}`);
        });
      }
    }
  }

  test('r0 timer: one-shot expiry within the interrupt-entry slack (measured values printed)', () => {
    const r = runR0(buildR0('timer'), 1);
    const measured = [...r.text.matchAll(/one-shot initial (\d+) x 16 = (\d+) cycles, waiting (busy|in hlt): measured (\d+) \(delta (-?\d+)\)/g)];
    assert.is(measured.length, 5, r.text);
    for (const m of measured) {
      const delta = Number(m[5]);
      assert.ok(delta >= 0 && delta < 400, `one-shot ${m[1]}x16 (${m[3]}): delta ${delta} cycles`);
    }
  });

  for (const [variant, what] of garbage) {
    test(`r0 garbage ${variant} (${what}): triple-fault shutdown, no host exception`, () => {
      let r: R0Run | undefined;
      try {
        r = runR0(buildR0('garbage', '-O2', { VARIANT: variant }), 1, TWO_MS);
      } catch (e) {
        assert.unreachable(`host exception: ${(e as Error).stack ?? e}`);
      }
      if (r === undefined) return;
      assert.is(r.reason, 'shutdown', describe(r));
      assert.match(r.shutdowns.join(';'), /triple fault/, describe(r));
      assert.match(r.text, /expecting a triple fault/);
      assert.not.match(r.text, /survived/);
      assert.is(r.machine.cores[0].state, 'shutdown');
    });
  }

  // Regression: a BSP triple fault with APs never started used to run on to the time limit.
  test('a triple fault on the BSP of a 4-core machine stops the run', () => {
    const r = runR0(buildR0('garbage', '-O2', { VARIANT: 4 }), 4, TWO_MS);
    assert.is(r.machine.cores[0].state, 'shutdown');
    assert.is(r.reason, 'shutdown', describe(r));
  });

  test('r0 garbage on 4 cores: the BSP shuts down, no host exception', () => {
    const r = runR0(buildR0('garbage', '-O2', { VARIANT: 4 }), 4, TWO_MS);
    assert.is(r.machine.cores[0].state, 'shutdown');
    assert.match(r.shutdowns.join(';'), /core 0: triple fault/);
  });

  test('determinism: smp and smptimer on 4 cores, twice with one seed, same state hash', () => {
    for (const file of ['smp', 'smptimer']) {
      const elf = buildR0(file);
      const a = runR0(elf, 4, 40_000_000, 7), b = runR0(elf, 4, 40_000_000, 7);
      assert.is(a.reason, 'poweroff', describe(a));
      assert.is(a.machine.now, b.machine.now, `${file}: end time`);
      assert.is(a.text, b.text, `${file}: console`);
      assert.is(a.machine.stateHash(), b.machine.stateHash(), `${file}: state hash`);
    }
  });

  test('snapshot mid-run (smptimer, 4 cores), restore, continue: the straight run\'s hash', () => {
    const elf = buildR0('smptimer');
    const straight = bootR0(elf, 4).machine;
    assert.is(straight.run(TWO_MS), 'time');
    for (const mid of [1_000_000, 1_234_567]) {
      const first = bootR0(elf, 4).machine;
      assert.is(first.run(mid), 'time');
      const restored = Machine.fromSnapshot(first.snapshot(), `mid-${mid}.snap`);
      assert.is(restored.stateHash(), first.stateHash(), `hash survives the snapshot at ${mid}`);
      assert.is(restored.run(TWO_MS), 'time');
      assert.is(restored.now, straight.now);
      assert.is(restored.consoleText(), straight.consoleText());
      assert.is(restored.stateHash(), straight.stateHash(), `split at ${mid} cycles`);
    }
  });

  // Regression: rounds used to restart at each run() call (end = now + quantum), so a run split
  // off the straight run's grid took other round boundaries (smp, 4 cores, split at 1,000,000:
  // halted APs' TSCs at power-off 1018847 straight, 1019000 split).
  test('a run split anywhere is the straight run, bit for bit', () => {
    for (const file of ['smp', 'smptimer']) {
      const elf = buildR0(file);
      const straight = bootR0(elf, 4).machine;
      straight.run(TWO_MS);
      for (const mid of [1_000_000, 1_234_567, 77]) {
        const split = bootR0(elf, 4).machine;
        split.run(mid);
        split.run(TWO_MS);
        assert.is(split.stateHash(), straight.stateHash(), `${file} split at ${mid}`);
      }
    }
  });

  test('CLI: boot --for 1ms --snapshot, --restore --for 1ms --hash equals --for 2ms --hash', () => {
    const elf = buildR0('smptimer');
    const cli = repoPath('dist', 'tui', 'cli.js');
    const dir = mkdtempSync(join(tmpdir(), 'exolab-r0-'));
    try {
      const snap = join(dir, 'mid.snap');
      let stderr = '';
      const run = (args: string[]) => {
        const r = spawnSync(process.execPath, [cli, 'boot', ...args], { encoding: 'utf8' });
        assert.is(r.status, 0, `exolab boot ${args.join(' ')}: ${r.stderr}`);
        stderr = r.stderr;
        return r.stdout;
      };
      run([elf, '--cores', '4', '--for', '1ms', '--snapshot', snap]);
      assert.match(stderr, new RegExp(`^exolab: the machine at 1(\\.0+)? ?ms saved to ${snap.replace(/[.]/g, '\\.')} \\(${statSync(snap).size} bytes\\); go on with: exolab boot --restore `, 'm'));
      const hash = (out: string) => /state hash ([0-9a-f]{16})/.exec(out)?.[1];
      const continued = hash(run(['--restore', snap, '--for', '1ms', '--hash']));
      const straight = hash(run([elf, '--cores', '4', '--for', '2ms', '--hash']));
      assert.ok(straight !== undefined, 'no hash printed');
      assert.is(continued, straight);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
