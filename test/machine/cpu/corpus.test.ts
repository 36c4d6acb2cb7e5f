// Differential test of the CPU: every guest program runs on the host CPU and under
// `exolab exec`; stdout and the exit code (and for a fault, the signal) must be identical.
// Corpus programs run at -O0, -O1, -O2 and -Os, fault programs at -O0 and -O2.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseElf32 } from '../../../machine/elf.js';
import { execElf, type ExecResult } from '../../../kernel/linux/exec.js';
import { buildGuest, type OptLevel } from '../../helpers/gcc.js';
import {
  corpusOptLevels, corpusPrograms, faultOptLevels, faultPrograms, type FaultProgram, type GuestProgram,
} from '../../helpers/guest-programs.js';
import { nativeAvailable, runNative, type NativeResult } from '../../helpers/native.js';
import { describeOutputDiff } from '../../helpers/output-diff.js';

// An interpreter runs the corpus; a program stuck in a loop must fail, not hang the suite.
const MAX_INSTRUCTIONS = 200_000_000;

interface Emulated {
  result: ExecResult;
  stdout: Buffer;
  stderr: Buffer;
}

function runEmulated(elfPath: string): Emulated {
  const out: Uint8Array[] = [], err: Uint8Array[] = [];
  const image = parseElf32(readFileSync(elfPath), elfPath);
  const result = execElf(image, {
    maxInstructions: MAX_INSTRUCTIONS,
    onStdout: (b) => out.push(Uint8Array.from(b)),
    onStderr: (b) => err.push(Uint8Array.from(b)),
  });
  return { result, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** The instruction at eip, from objdump when it is installed. */
function disassembleAt(elfPath: string, eip: number): string {
  const r = spawnSync('objdump', ['-d', `--start-address=${eip}`, `--stop-address=${eip + 16}`, elfPath], { encoding: 'utf8' });
  if (r.status !== 0) return '';
  const line = r.stdout.split('\n').find((l) => /^\s*[0-9a-f]+:\t/.test(l));
  return line ? line.trim().replace(/\s+/g, ' ') : '';
}

function describeEmulated(elfPath: string, e: Emulated): string {
  const r = e.result;
  let s = `status ${r.status}, exit code ${r.exitCode}${r.signal ? ` (${r.signal})` : ''}, ${r.instructions} instructions`;
  if (r.fault) {
    const f = r.fault;
    s += `\n  fault: vector ${f.vector} ${f.name} at eip ${hex(f.eip)}, error code ${hex(f.errorCode)}, cr2 ${hex(f.cr2)}`;
    const insn = disassembleAt(elfPath, f.eip);
    if (insn) s += `\n  at eip: ${insn}`;
  }
  return s;
}

function compare(prog: GuestProgram, opt: OptLevel, fault?: FaultProgram): void {
  const elf = buildGuest(prog.name, prog.sources, opt);
  const native: NativeResult = runNative(elf);
  let emu: Emulated;
  try {
    emu = runEmulated(elf);
  } catch (e) {
    assert.unreachable(`${prog.name} ${opt}: the emulator threw: ${(e as Error).stack ?? e}`);
    return;
  }
  const problems: string[] = [];
  if (emu.result.exitCode !== native.exitCode) {
    problems.push(`exit code: native ${native.exitCode}${native.signal ? ` (${native.signal})` : ''}, emulated ${emu.result.exitCode}`);
  }
  if (fault) {
    if (emu.result.status !== 'fault' || emu.result.signal !== fault.signal) {
      problems.push(`expected a fault with ${fault.signal}, got status ${emu.result.status} ${emu.result.signal ?? ''}`);
    } else if (emu.result.fault?.vector !== fault.vector) {
      problems.push(`expected exception vector ${fault.vector}, got ${emu.result.fault?.vector}`);
    }
  } else if (emu.result.status !== 'exit') {
    problems.push(`expected a normal exit, got status ${emu.result.status}`);
  }
  const out = describeOutputDiff('native', native.stdout, 'emulated', emu.stdout);
  if (out) problems.push(`stdout ${out}`);
  const err = describeOutputDiff('native', native.stderr, 'emulated', emu.stderr);
  if (err) problems.push(`stderr ${err}`);
  if (problems.length > 0) {
    assert.unreachable(`${prog.name} ${opt} (${elf}) differs from the real CPU:\n  emulated: ${describeEmulated(elf, emu)}\n${problems.join('\n')}`);
  }
}

const native = nativeAvailable();

if (!native.ok) {
  console.warn(`cpu corpus: differential tests skipped: ${native.reason}`);
  test.skip('cpu corpus against the real CPU', () => {});
} else {
  for (const prog of corpusPrograms()) {
    for (const opt of corpusOptLevels) {
      test(`${prog.name} ${opt}`, () => compare(prog, opt));
    }
  }
  for (const prog of faultPrograms()) {
    for (const opt of faultOptLevels) {
      test(`${prog.name} ${opt}`, () => compare(prog, opt, prog));
    }
  }
}

test.run();
