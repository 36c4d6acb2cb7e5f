// Differential fuzzing of the CPU: random instruction sequences from the opcode table run on
// the host CPU and under `exolab exec`, and every case's registers, EFLAGS (undefined flags
// masked) and scratch memory must agree. Seeded: the same seeds give the same cases.
//
//   FUZZ_SEED=n        base seed (default 1); FUZZ_BATCHES / FUZZ_CASES: batches x cases (8 x 1000)
//   FUZZ_CASE_SEED=n   run the one case with this seed (printed by a failure)
//   FUZZ_VERBOSE=1     print how often each table entry was drawn

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseElf32 } from '../../../machine/elf.js';
import { execElf } from '../../../kernel/linux/exec.js';
import { OPCODES } from '../../../machine/cpu/opcodes.js';
import { runNative } from '../../helpers/native.js';
import { repoPath } from '../../helpers/paths.js';
import { writeElf32 } from '../../helpers/elf-writer.js';
import {
  buildBatch, buildSeededBatch, compareDumps, describeMismatch, entryName, exclusionReason, mix32,
  GUARDED, POOL, RECORD_SIZE, type Batch,
} from './fuzz-gen.js';

const envInt = (name: string, dflt: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number(v);
};
const BASE_SEED = envInt('FUZZ_SEED', 1) >>> 0;
const BATCHES = envInt('FUZZ_BATCHES', 8);
const CASES = envInt('FUZZ_CASES', 1000);
const ONE_CASE = process.env.FUZZ_CASE_SEED;
const MAX_REPORTED = 12;

const workDir = repoPath('build', 'fuzz');

/** Why the host cannot run i386 programs, or null if it can (checked with a tiny ELF). */
function nativeProblem(): string | null {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'ia32')) {
    return `host is ${process.platform}/${process.arch}, not x86 Linux`;
  }
  // mov eax, 1; mov ebx, 42; int 0x80
  const code = Uint8Array.from([0xb8, 1, 0, 0, 0, 0xbb, 42, 0, 0, 0, 0xcd, 0x80]);
  const path = join(workDir, 'probe.elf');
  try {
    mkdirSync(workDir, { recursive: true });
    writeFileSync(path, writeElf32(0x08048000, [{ vaddr: 0x08048000, data: code, flags: 5 }]));
    chmodSync(path, 0o755);
    const r = runNative(path, 5_000);
    return r.exitCode === 42 ? null : `a 32-bit probe exited with ${r.exitCode}${r.signal ? ` (${r.signal})` : ''}`;
  } catch (e) {
    return (e as Error).message;
  }
}

function runEmulated(batch: Batch): { out: Buffer; problem: string | null } {
  const chunks: Uint8Array[] = [];
  const r = execElf(parseElf32(batch.elf, 'fuzz.elf'), {
    maxInstructions: 100 * batch.cases.length + 1000,
    onStdout: (b) => chunks.push(Uint8Array.from(b)),
  });
  let problem: string | null = null;
  if (r.status !== 'exit' || r.exitCode !== 0) {
    const eip = r.fault?.eip ?? -1;
    const k = batch.ranges.findIndex(([a, b]) => eip >= a && eip < b);
    problem = `emulated run ended with ${r.status} ${r.exitCode}${r.fault ? `: ${r.fault.name} at 0x${eip.toString(16)}` : ''}`
      + (k >= 0 ? ` in case ${k} (seed 0x${batch.cases[k].seed.toString(16)})` : '');
  }
  return { out: Buffer.concat(chunks), problem };
}

/** Intel-syntax disassembly of each instruction, by objdump when it is installed. */
function disassemble(insns: number[][]): string[] {
  return insns.map((bytes) => {
    const f = join(workDir, 'insn.bin');
    writeFileSync(f, Uint8Array.from(bytes));
    const r = spawnSync('objdump', ['-D', '-b', 'binary', '-m', 'i386', '-M', 'intel', f], { encoding: 'utf8' });
    if (r.status !== 0) return '';
    const ls = r.stdout.split('\n').filter((l) => /^\s+[0-9a-f]+:\t/.test(l));
    return ls.map((l) => l.split('\t').slice(2).join(' ').replace(/\s+/g, ' ').trim()).join(' ; ');
  });
}

/** Runs one batch both ways; returns failure text, or '' when every case agrees. */
function checkBatch(batch: Batch): string {
  const path = join(workDir, `batch-${batch.seed.toString(16)}.elf`);
  writeFileSync(path, batch.elf);
  chmodSync(path, 0o755);
  const native = runNative(path);
  const emulated = runEmulated(batch);
  const want = batch.cases.length * RECORD_SIZE;
  const problems: string[] = [];
  if (native.exitCode !== 0 || native.stdout.length !== want) {
    problems.push(`native run: exit ${native.exitCode}${native.signal ? ` (${native.signal})` : ''}, ${native.stdout.length} of ${want} bytes (a generator bug: the batch must run natively)`);
  }
  if (emulated.problem) problems.push(emulated.problem);
  if (emulated.out.length !== want) problems.push(`emulated run wrote ${emulated.out.length} of ${want} bytes`);
  if (problems.length) return `batch seed 0x${batch.seed.toString(16)}:\n  ${problems.join('\n  ')}`;
  const bad = compareDumps(batch, native.stdout, emulated.out);
  if (bad.length === 0) return '';
  const shown = bad.slice(0, MAX_REPORTED).map((m) => describeMismatch(m, disassemble));
  return `batch seed 0x${batch.seed.toString(16)}: ${bad.length} of ${batch.cases.length} cases differ`
    + (bad.length > MAX_REPORTED ? ` (first ${MAX_REPORTED} shown)` : '') + '\n' + shown.join('\n\n');
}

const problem = nativeProblem();

test('every fuzzable table entry can be generated', () => {
  assert.ok(POOL.length > 200, `only ${POOL.length} entries in the pool`);
  for (const d of OPCODES) if (!POOL.includes(d)) assert.ok(exclusionReason(d), entryName(d));
});

test('the generator is deterministic', () => {
  const a = buildSeededBatch(1234, 50), b = buildSeededBatch(1234, 50);
  assert.equal(Buffer.from(a.elf).equals(Buffer.from(b.elf)), true);
  const c = buildSeededBatch(1235, 50);
  assert.equal(Buffer.from(a.elf).equals(Buffer.from(c.elf)), false);
});

test('random sequences agree with the host CPU', () => {
  if (problem !== null) {
    console.log(`  (skipped: cannot run i386 programs natively here: ${problem})`);
    return;
  }
  const batches = ONE_CASE !== undefined
    ? [buildBatch(Number(ONE_CASE) >>> 0, [Number(ONE_CASE) >>> 0])]
    : Array.from({ length: BATCHES }, (_, b) => buildSeededBatch(mix32(BASE_SEED * 0x1000 + b), CASES));
  const failures: string[] = [];
  const drawn = new Map<string, number>();
  for (const batch of batches) {
    for (const c of batch.cases) for (const i of c.insns) if (!i.guard) drawn.set(entryName(i.def), (drawn.get(entryName(i.def)) ?? 0) + 1);
    const f = checkBatch(batch);
    if (f) failures.push(f);
  }
  if (process.env.FUZZ_VERBOSE) {
    for (const d of [...POOL, ...GUARDED]) console.log(`  ${String(drawn.get(entryName(d)) ?? 0).padStart(6)}  ${entryName(d)}`);
  }
  if (ONE_CASE === undefined && BATCHES * CASES >= 2000) {
    const never = [...POOL, ...GUARDED].filter((d) => !drawn.has(entryName(d))).map(entryName);
    assert.equal(never, [], 'table entries never drawn');
  }
  if (failures.length) assert.unreachable(`the emulator disagrees with the host CPU\n${failures.join('\n\n')}`);
});

test.run();
