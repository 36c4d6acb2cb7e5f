// Runs a guest ELF on the host CPU, the reference for differential tests. Needs a host
// that executes 32-bit static i386 programs (x86 Linux with IA-32 emulation).

import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { buildGuest, gccAvailable, guestRuntime } from './gcc.js';
import { guestBuildDir } from './paths.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NativeResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;     // as a shell reports it: 128 + signal number when killed
  signal?: string;      // 'SIGFPE', 'SIGSEGV', ...
}

export function runNative(elfPath: string, timeoutMs = 20_000): NativeResult {
  const r = spawnSync(elfPath, [], { env: {}, timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`cannot run ${elfPath} natively: ${r.error.message}`);
  if (r.signal) {
    const num = constants.signals[r.signal as keyof typeof constants.signals];
    return { stdout: r.stdout, stderr: r.stderr, exitCode: 128 + num, signal: r.signal };
  }
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status ?? -1 };
}

export interface NativeStatus {
  ok: boolean;
  reason: string;   // why differential tests cannot run here, when !ok
}

let status: NativeStatus | undefined;

/** Whether this host builds and runs 32-bit static guest programs; checked once. */
export function nativeAvailable(): NativeStatus {
  if (status) return status;
  const gcc = gccAvailable();
  if (!gcc.ok) return (status = gcc);
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'ia32')) {
    return (status = { ok: false, reason: `host is ${process.platform}/${process.arch}, not x86 Linux: cannot run i386 programs natively` });
  }
  mkdirSync(guestBuildDir, { recursive: true });
  const src = join(guestBuildDir, 'probe-native.c');
  const text = '#include "rt.h"\nint main(void) { rt_puts("probe\\n"); return 42; }\n';
  if (!existsSync(src) || readFileSync(src, 'utf8') !== text) writeFileSync(src, text);
  try {
    const r = runNative(buildGuest('probe-native', [...guestRuntime, src], '-O1'), 5_000);
    status = r.exitCode === 42 && r.stdout.toString() === 'probe\n'
      ? { ok: true, reason: '' }
      : { ok: false, reason: `a 32-bit probe program ran wrongly (exit ${r.exitCode}${r.signal ? ', ' + r.signal : ''}): is IA-32 emulation disabled in this kernel?` };
  } catch (e) {
    status = { ok: false, reason: `cannot run 32-bit programs natively: ${(e as Error).message}` };
  }
  return status;
}
