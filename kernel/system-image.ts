// The bare ring-0 image a scenario boots (machine.boot_image) while no principal needs the
// kernel: an ELF as it is, or a self-contained C file built here by the system's gcc
// (-m32, freestanding, linked at 64 KiB so an AP trampoline can sit below 1 MiB) and cached
// under build/images/ by a hash of the source.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InputError } from '../machine/errors.js';
import { parseElf32, type ElfImage } from '../machine/elf.js';

export const BARE_CFLAGS = [
  '-m32', '-static', '-nostdlib', '-ffreestanding', '-fno-pic', '-no-pie', '-mgeneral-regs-only',
  '-fno-stack-protector', '-O2', '-Wl,-Ttext-segment=0x10000', '-Wl,--build-id=none',
];

function cacheDir(): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const dir = join(existsSync(join(root, 'package.json')) ? root : tmpdir(), 'build', 'images');
  try {
    mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    const t = join(tmpdir(), 'exolab-images');
    mkdirSync(t, { recursive: true });
    return t;
  }
}

/** Build `source` (a .c file) unless an up-to-date ELF is cached; returns the ELF's path. */
export function buildBareImage(source: string, shown = source): string {
  const text = readFileSync(source);
  const hash = createHash('sha256').update(text).update(BARE_CFLAGS.join(' ')).digest('hex').slice(0, 16);
  const elf = join(cacheDir(), `${basename(source, '.c')}-${hash}.elf`);
  if (existsSync(elf)) return elf;
  const tmp = `${elf}.${process.pid}.tmp`;
  const r = spawnSync('gcc', [...BARE_CFLAGS, '-o', tmp, source], { encoding: 'utf8' });
  if (r.error) throw new InputError(`${shown}: cannot build it: gcc is not available (${r.error.message}); install gcc and binutils`);
  if (r.status !== 0) {
    const first = r.stderr.split('\n').find((l) => /error/.test(l)) ?? r.stderr.trim().split('\n')[0] ?? 'gcc failed';
    throw new InputError(`${shown}: gcc -m32 failed: ${first.trim()}`);
  }
  renameSync(tmp, elf);
  return elf;
}

/** The image to boot: a .c file is built first. */
export function loadBareImage(path: string): { image: ElfImage; file: string } {
  const elf = path.endsWith('.c') ? buildBareImage(path) : path;
  let bytes: Buffer;
  try {
    bytes = readFileSync(elf);
  } catch (e) {
    throw new InputError(`${path}: cannot read: ${(e as Error).message}`);
  }
  return { image: parseElf32(bytes, path), file: path };
}
