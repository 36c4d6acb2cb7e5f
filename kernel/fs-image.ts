// Builds exofs disk images: the small file system libos/posix reads (DESIGN section 4). The
// format, also in libos/include/exofs.h (test/libos/posix.test.ts checks the two agree):
//
//   sector 0                  superblock: magic "XOFS" (0x53464f58), version 1, the image's
//                             sectors, dir_start (1), dir_sectors, files, data_start, reserved
//   sectors 1 .. dir_sectors  directory: 64-byte entries, 8 per sector (name[48] NUL-padded,
//                             size, start, sectors, crc32); the first `files` are in use
//   data_start ..             each file's data as one contiguous extent from a fresh sector,
//                             in directory order; its last sector is zero past its size
//   .. sectors - 1            zero, up to --size when one is given
//
// All numbers are little-endian uint32; sectors are 512 bytes. Names are 1..47 bytes of UTF-8
// without '/' or NUL (a file goes in under its base name), unique, at most 256 files, and an
// image holds at most 256 MiB. A bad input is an InputError of one line (the CLI: exit 2).
//
//   node dist/kernel/fs-image.js OUT.img FILE... [--size SIZE]

import { closeSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../machine/errors.js';
import { ParseError, parseSize } from '../machine/units.js';

export const EXOFS = {
  SECTOR: 512,
  MAGIC: 0x53464f58,
  VERSION: 1,
  NAME_MAX: 47,
  MAX_FILES: 256,
  DIRENT_BYTES: 64,
  DIRENTS_PER_SECTOR: 8,
  MAX_SECTORS: 0x80000,
} as const;

/** A struct as exofs.h declares it: uint32 fields after an optional leading name array. */
export interface FsLayout { name: string; bytes: number; fields: readonly { name: string; offset: number }[] }

export const SUPER_LAYOUT: FsLayout = {
  name: 'exofs_super', bytes: 32,
  fields: ['magic', 'version', 'sectors', 'dir_start', 'dir_sectors', 'files', 'data_start', 'reserved'].map((name, k) => ({ name, offset: 4 * k })),
};
export const DIRENT_LAYOUT: FsLayout = {
  name: 'exofs_dirent', bytes: 64,
  fields: [{ name: 'name', offset: 0 }, ...['size', 'start', 'sectors', 'crc32'].map((name, k) => ({ name, offset: 48 + 4 * k }))],
};

export interface FsSuper {
  magic: number; version: number; sectors: number; dirStart: number; dirSectors: number; files: number; dataStart: number;
}
export interface FsEntry { name: string; size: number; start: number; sectors: number; crc32: number }
export interface FsFile { name: string; data: Uint8Array }
export interface FsImage { super: FsSuper; entries: FsEntry[] }

// ---- CRC-32 (IEEE 802.3, reflected, as zlib's) ------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(b: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// ---- building --------------------------------------------------------------------------------

const sectorsOf = (bytes: number) => Math.ceil(bytes / EXOFS.SECTOR);
const utf8 = new TextEncoder();

/** Why `name` cannot be a file name in exofs, or null. */
export function fsNameProblem(name: string): string | null {
  const n = utf8.encode(name).length;
  if (n === 0) return 'the name is empty';
  if (n > EXOFS.NAME_MAX) return `the name "${name}" is ${n} bytes; at most ${EXOFS.NAME_MAX}`;
  if (name.includes('/') || name.includes('\0')) return `the name "${name}" holds '/' or NUL`;
  return null;
}

/**
 * The image of `files` in directory order. `sizeBytes` (a multiple of 512) pads it to that
 * size, and is an error when the files need more.
 */
export function fsImageBuild(files: readonly FsFile[], o: { sizeBytes?: number } = {}): Uint8Array {
  if (files.length > EXOFS.MAX_FILES) throw new InputError(`fs-image: ${files.length} files; an image holds at most ${EXOFS.MAX_FILES}`);
  const seen = new Set<string>();
  for (const f of files) {
    const bad = fsNameProblem(f.name);
    if (bad) throw new InputError(`fs-image: ${bad}`);
    if (seen.has(f.name)) throw new InputError(`fs-image: two files are named "${f.name}"`);
    seen.add(f.name);
  }
  const dirSectors = Math.max(1, sectorsOf(files.length * EXOFS.DIRENT_BYTES));
  const dataStart = 1 + dirSectors;
  let next = dataStart;
  const entries: FsEntry[] = files.map((f) => {
    const e = { name: f.name, size: f.data.length, start: next, sectors: sectorsOf(f.data.length), crc32: crc32(f.data) };
    next += e.sectors;
    return e;
  });
  const need = next;
  let sectors = need;
  if (o.sizeBytes !== undefined) {
    if (o.sizeBytes % EXOFS.SECTOR !== 0 || o.sizeBytes <= 0) throw new InputError(`fs-image: --size ${o.sizeBytes} is not a positive multiple of 512 bytes`);
    sectors = o.sizeBytes / EXOFS.SECTOR;
  }
  const mib = (s: number) => `${(s * EXOFS.SECTOR / (1 << 20)).toFixed(2)} MiB`;
  if (need > sectors) throw new InputError(`fs-image: image too big: the files need ${need} sectors (${mib(need)}), --size gives ${sectors}`);
  if (sectors > EXOFS.MAX_SECTORS) throw new InputError(`fs-image: image too big: ${sectors} sectors (${mib(sectors)}); at most ${EXOFS.MAX_SECTORS} (${mib(EXOFS.MAX_SECTORS)})`);

  const img = new Uint8Array(sectors * EXOFS.SECTOR), v = new DataView(img.buffer);
  const sup = [EXOFS.MAGIC, EXOFS.VERSION, sectors, 1, dirSectors, files.length, dataStart, 0];
  SUPER_LAYOUT.fields.forEach((f, k) => v.setUint32(f.offset, sup[k]!, true));
  entries.forEach((e, k) => {
    const at = EXOFS.SECTOR + k * EXOFS.DIRENT_BYTES;
    img.set(utf8.encode(e.name), at);
    [e.size, e.start, e.sectors, e.crc32].forEach((x, j) => v.setUint32(at + DIRENT_LAYOUT.fields[j + 1]!.offset, x, true));
    img.set(files[k]!.data, e.start * EXOFS.SECTOR);
  });
  return img;
}

/** Read an image back, checked as a LibOS checks it; InputError on anything malformed. */
export function fsImageParse(img: Uint8Array): FsImage {
  const bad = (why: string) => new InputError(`fs-image: not an exofs image: ${why}`);
  if (img.length < EXOFS.SECTOR || img.length % EXOFS.SECTOR !== 0) throw bad(`${img.length} bytes is not a whole number of sectors`);
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const [magic, version, sectors, dirStart, dirSectors, files, dataStart] = SUPER_LAYOUT.fields.map((f) => v.getUint32(f.offset, true)) as number[];
  const s: FsSuper = { magic: magic!, version: version!, sectors: sectors!, dirStart: dirStart!, dirSectors: dirSectors!, files: files!, dataStart: dataStart! };
  if (s.magic !== EXOFS.MAGIC) throw bad(`magic 0x${s.magic.toString(16)}`);
  if (s.version !== EXOFS.VERSION) throw bad(`version ${s.version}`);
  if (s.sectors * EXOFS.SECTOR > img.length) throw bad(`${s.sectors} sectors in a ${img.length}-byte file`);
  if (s.dirStart !== 1 || s.files > s.dirSectors * EXOFS.DIRENTS_PER_SECTOR || s.dataStart !== 1 + s.dirSectors || s.dataStart > s.sectors) {
    throw bad('the directory does not fit the superblock');
  }
  const dec = new TextDecoder();
  const entries: FsEntry[] = [];
  for (let k = 0; k < s.files; k++) {
    const at = EXOFS.SECTOR * s.dirStart + k * EXOFS.DIRENT_BYTES;
    const raw = img.subarray(at, at + EXOFS.NAME_MAX + 1), nul = raw.indexOf(0);
    if (nul <= 0) throw bad(`entry ${k} has no name or no NUL`);
    const [size, start, secs, crc] = DIRENT_LAYOUT.fields.slice(1).map((f) => v.getUint32(at + f.offset, true)) as number[];
    const e: FsEntry = { name: dec.decode(raw.subarray(0, nul)), size: size!, start: start!, sectors: secs!, crc32: crc! };
    if (e.sectors < sectorsOf(e.size) || (e.sectors > 0 && e.start < s.dataStart) || e.start + e.sectors > s.sectors) throw bad(`entry "${e.name}" leaves the image`);
    entries.push(e);
  }
  return { super: s, entries };
}

/** One file of an image, by name; null when there is none. */
export function fsImageFile(img: Uint8Array, name: string): Uint8Array | null {
  const e = fsImageParse(img).entries.find((x) => x.name === name);
  return e ? img.subarray(e.start * EXOFS.SECTOR, e.start * EXOFS.SECTOR + e.size) : null;
}

/** Read the host files named by `paths` (each goes in under its base name). */
export function fsFilesFrom(paths: readonly string[]): FsFile[] {
  return paths.map((p) => {
    let st;
    try { st = statSync(p); } catch { throw new InputError(`fs-image: ${p}: no such file`); }
    if (!st.isFile()) throw new InputError(`fs-image: ${p}: not a regular file`);
    if (st.size > EXOFS.MAX_SECTORS * EXOFS.SECTOR) throw new InputError(`fs-image: image too big: ${p} alone is ${st.size} bytes`);
    let data: Uint8Array;
    try { data = readFileSync(p); } catch (e) { throw new InputError(`fs-image: ${p}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read'}`); }
    return { name: basename(p), data };
  });
}

/** Build the image of `paths` into `out` (written whole or not at all); returns what it holds. */
export function fsImageWrite(out: string, paths: readonly string[], o: { sizeBytes?: number } = {}): FsImage {
  const img = fsImageBuild(fsFilesFrom(paths), o);
  const tmp = `${out}.tmp${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try { writeSync(fd, img); } finally { closeSync(fd); }
    renameSync(tmp, out);
  } catch (e) {
    throw new InputError(`fs-image: cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return fsImageParse(img);
}

// ---- the command line ------------------------------------------------------------------------

const USAGE = 'usage: node dist/kernel/fs-image.js OUT.img FILE... [--size SIZE]';

function cli(argv: string[]): number {
  try {
    if (argv.includes('--help') || argv.includes('-h')) { console.log(USAGE); return 0; }
    const pos: string[] = [];
    let sizeBytes: number | undefined;
    for (let k = 0; k < argv.length; k++) {
      const a = argv[k]!;
      if (a === '--size' || a.startsWith('--size=')) {
        const text = a === '--size' ? argv[++k] : a.slice('--size='.length);
        if (text === undefined) throw new InputError(`fs-image: --size needs a value (64KiB, 1MiB); ${USAGE}`);
        try { sizeBytes = parseSize(text, { bare: true }); } catch (e) {
          if (e instanceof ParseError) throw new InputError(`fs-image: --size: ${e.message}`);
          throw e;
        }
      } else if (a.startsWith('-') && a !== '-') {
        throw new InputError(`fs-image: unknown option ${a}; ${USAGE}`);
      } else {
        pos.push(a);
      }
    }
    const [out, ...files] = pos;
    if (!out || files.length === 0) throw new InputError(`fs-image: an output image and at least one file are needed; ${USAGE}`);
    const r = fsImageWrite(out, files, { sizeBytes });
    console.log(`${out}: ${r.super.sectors} sectors, ${r.entries.length} file(s): ${r.entries.map((e) => `${e.name} (${e.size} bytes, crc32 ${e.crc32.toString(16).padStart(8, '0')})`).join(', ')}`);
    return 0;
  } catch (e) {
    if (e instanceof InputError) { console.error(e.message); return 2; }
    console.error(e);
    return 70;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = cli(process.argv.slice(2));
}
