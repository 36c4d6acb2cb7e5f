// The guest test programs: the self-checking corpus (test/guest/corpus/*.c, every one built
// at every optimisation level) and the programs that must fault (test/guest/fault/*.c).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { guestRuntime, type OptLevel } from './gcc.js';
import { guestDir } from './paths.js';

export interface GuestProgram {
  name: string;                 // also the build name, unique across corpus and faults
  sources: readonly string[];   // absolute paths, the runtime included
}

export type FaultSignal = 'SIGFPE' | 'SIGSEGV' | 'SIGILL' | 'SIGTRAP';

export interface FaultProgram extends GuestProgram {
  signal: FaultSignal;
  exitCode: number;   // 128 + signal number, as a shell reports it
  vector: number;     // the x86 exception the emulator must report
}

export const corpusOptLevels: readonly OptLevel[] = ['-O0', '-O1', '-O2', '-Os'];
export const faultOptLevels: readonly OptLevel[] = ['-O0', '-O2'];

export function corpusPrograms(): GuestProgram[] {
  const dir = join(guestDir, 'corpus');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => ({ name: `corpus-${f.slice(0, -2)}`, sources: [...guestRuntime, join(dir, f)] }));
}

const DE = 0, BP = 3, UD = 6, GP = 13, PF = 14;

// file, signal, shell status, vector
const faults: readonly [string, FaultSignal, number, number][] = [
  ['div0', 'SIGFPE', 136, DE],     // divide by zero
  ['divmin', 'SIGFPE', 136, DE],   // INT_MIN / -1
  ['divbig', 'SIGFPE', 136, DE],   // divl quotient wider than 32 bits
  ['hlt', 'SIGSEGV', 139, GP],     // privileged at CPL 3
  ['cli', 'SIGSEGV', 139, GP],     // IOPL 0
  ['ud2', 'SIGILL', 132, UD],
  ['null', 'SIGSEGV', 139, PF],    // write to an unmapped page
  ['rodata', 'SIGSEGV', 139, PF],  // write to a read-only segment
  ['int3', 'SIGTRAP', 133, BP],
];

export function faultPrograms(): FaultProgram[] {
  const dir = join(guestDir, 'fault');
  return faults.map(([file, signal, exitCode, vector]) => ({
    name: `fault-${file}`, sources: [...guestRuntime, join(dir, `${file}.c`)], signal, exitCode, vector,
  }));
}
