// Builds guest test programs with the system gcc as 32-bit static freestanding ELFs
// (-m32, no libc, no FPU/SSE), into build/guest/, and only when a source is newer.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guestBuildDir, guestDir, repoPath } from './paths.js';

export type OptLevel = '-O0' | '-O1' | '-O2' | '-Os';
export const optLevels: readonly OptLevel[] = ['-O0', '-O1', '-O2', '-Os'];

const runtimeDir = join(guestDir, 'rt');
const thisModule = fileURLToPath(import.meta.url);   // new flags here rebuild everything

/** The runtime every guest program links with: _start and the helpers of rt.h. */
export const guestRuntime: readonly string[] = [join(runtimeDir, 'start.S'), join(runtimeDir, 'rt.c')];

// -fno-tree-loop-distribute-patterns: gcc must not turn the runtime's memset loop into a
// call to memset. --build-id=none: no note section the loader would have to skip.
const guestFlags = [
  '-m32', '-march=i686', '-ffreestanding', '-nostdlib', '-static', '-no-pie', '-fno-pic',
  '-mgeneral-regs-only', '-fno-stack-protector', '-fno-tree-loop-distribute-patterns',
  '-fno-asynchronous-unwind-tables', '-Wall', '-Wextra', '-Wno-unused-parameter',
  '-Wl,--build-id=none',
];

export interface GccStatus {
  ok: boolean;
  reason: string;   // why guest programs cannot be built, when !ok
}

let status: GccStatus | undefined;

/** Whether gcc can build a -m32 static freestanding program here; checked once. */
export function gccAvailable(): GccStatus {
  if (status) return status;
  mkdirSync(guestBuildDir, { recursive: true });
  const probe = join(guestBuildDir, 'probe.c');
  writeFileSync(probe, 'void _start(void) { for (;;) ; }\n');
  const r = spawnSync('gcc', [...guestFlags, '-O1', '-o', join(guestBuildDir, 'probe.elf'), probe], { encoding: 'utf8' });
  if (r.error) {
    status = { ok: false, reason: `gcc not found (${r.error.message}); install gcc with 32-bit support (gcc-multilib)` };
  } else if (r.status !== 0) {
    const first = (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
    status = { ok: false, reason: `gcc cannot build -m32 static programs (${first}); install gcc-multilib` };
  } else {
    status = { ok: true, reason: '' };
  }
  return status;
}

function mtime(path: string): number {
  return statSync(path).mtimeMs;
}

/** Headers next to the sources and in the runtime: a change to one rebuilds the program. */
function headerDeps(sources: readonly string[]): string[] {
  const dirs = new Set([runtimeDir, ...sources.map((s) => join(s, '..'))]);
  const headers: string[] = [];
  for (const dir of dirs) {
    for (const f of readdirSync(dir)) if (f.endsWith('.h')) headers.push(join(dir, f));
  }
  return headers;
}

/**
 * Builds `name` at `opt` from C or assembler sources (absolute, or relative to the
 * repository root) into build/guest/NAME-OPT.elf and returns its path. Rebuilds only when a
 * source or header is newer than the output. Throws with gcc's message when the build fails.
 * `extra` flags (-D, -T script) go after the common ones; a name must not be reused with
 * different flags, since only timestamps decide a rebuild.
 */
export function buildGuest(name: string, sources: readonly string[], opt: OptLevel, extra: readonly string[] = []): string {
  const gcc = gccAvailable();
  if (!gcc.ok) throw new Error(gcc.reason);
  const srcs = sources.map((s) => (isAbsolute(s) ? s : repoPath(s)));
  const out = join(guestBuildDir, `${name}${opt}.elf`);
  if (existsSync(out)) {
    const built = mtime(out);
    if ([...srcs, ...headerDeps(srcs), ...guestRuntime, thisModule].every((s) => mtime(s) <= built)) return out;
  }
  const tmp = `${out}.tmp${process.pid}`;
  const r = spawnSync('gcc', [...guestFlags, opt, ...extra, '-I', runtimeDir, '-o', tmp, ...srcs], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`gcc failed building ${basename(out)}:\n${r.error?.message ?? r.stderr}`);
  }
  renameSync(tmp, out);   // whole or not at all, should a run be interrupted
  return out;
}
