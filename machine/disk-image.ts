// Backing stores for the block device (DESIGN section 2, "Block device"): a disk image held in
// memory, or an image file read lazily by sector ranges, both behind a copy-on-write overlay of
// written sectors. The base is only ever read: THE INPUT FILE IS NEVER MODIFIED.
//
// Decisions, documented:
// - The sector is 512 bytes. A file whose size is not a multiple of 512 is an InputError naming
//   the file, unless `pad` is asked for: then the last sector reads as zero-filled past the end.
//   A missing, unreadable, empty or non-regular file is an InputError naming the file.
// - flush() is a no-op: the overlay is the disk's only writable medium, and it lives as long as
//   the backend (and in snapshots). exportImage() writes base + overlay to ANOTHER file.
// - saveState() holds the overlay and the geometry, not the base: the base (the same file or the
//   same bytes) must be given again on restore; a different sector count is refused.

import { closeSync, fstatSync, openSync, readSync, realpathSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from './errors.js';

export const SECTOR_SIZE = 512;
export const BACKEND_STATE_VERSION = 1;

export interface BlockBackendState {
  version: number;
  sectors: number;
  /** Written sectors, ascending: [LBA, base64 of 512 bytes]. */
  overlay: [number, string][];
}

/** What the block device needs from a disk: sector reads and writes, in range (the device checks). */
export interface BlockBackend {
  /** Capacity in 512-byte sectors. */
  readonly sectors: number;
  /** For the TUI and errors: "memory (64 KiB)" or the file name. */
  readonly description: string;
  /** Sectors written since creation (or restore), held in the overlay. */
  readonly overlaySectors: number;
  /** Fill `dst` (a whole number of sectors) from sector `lba` on. */
  read(lba: number, dst: Uint8Array): void;
  /** Store `src` (a whole number of sectors) from sector `lba` on. */
  write(lba: number, src: Uint8Array): void;
  flush(): void;
  /** Release the image file, if any. */
  close(): void;
  saveState(): BlockBackendState;
  loadState(s: BlockBackendState): void;
}

/** Where unwritten sectors come from. */
interface BaseImage {
  /** Fill `dst` with the base bytes from byte `offset`; bytes past the end read as zero. */
  readAt(offset: number, dst: Uint8Array): void;
  close(): void;
}

export interface FileImageOptions {
  /** Accept a size that is not a multiple of 512 by zero-filling the last sector. */
  pad?: boolean;
}

/** A disk: a read-only base under a map of written sectors. */
export class DiskImage implements BlockBackend {
  readonly sectors: number;
  readonly description: string;
  private overlay = new Map<number, Uint8Array>();
  /** Flushes asked for (no-ops, counted for the TUI). */
  flushes = 0;

  private constructor(private readonly base: BaseImage, sectors: number, description: string, private readonly path: string | null) {
    this.sectors = sectors;
    this.description = description;
  }

  /** A zero-filled disk of `bytes` (a multiple of 512). */
  static blank(bytes: number): DiskImage {
    if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % SECTOR_SIZE !== 0) {
      throw new InputError(`disk size: expected a positive multiple of ${SECTOR_SIZE} bytes, got ${bytes}`);
    }
    return new DiskImage({ readAt: (_o, dst) => dst.fill(0), close: () => {} }, bytes / SECTOR_SIZE, `memory (${bytes} bytes)`, null);
  }

  /** A disk whose base is a copy of `bytes` (the caller's array is neither kept nor changed). */
  static fromBytes(bytes: Uint8Array, opts: FileImageOptions = {}, name = 'image bytes'): DiskImage {
    const sectors = sectorsOf(bytes.length, name, opts);
    const copy = bytes.slice();
    const base: BaseImage = {
      readAt(offset, dst) {
        const n = Math.max(0, Math.min(dst.length, copy.length - offset));
        if (n > 0) dst.set(copy.subarray(offset, offset + n));
        dst.fill(0, n);
      },
      close() {},
    };
    return new DiskImage(base, sectors, `memory (${bytes.length} bytes)`, null);
  }

  /** A disk whose base is the file at `path`, opened read-only and read on demand. */
  static openFile(path: string, opts: FileImageOptions = {}): DiskImage {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new InputError(`${path}: cannot open the disk image (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let size: number;
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new InputError(`${path}: the disk image is not a regular file`);
      size = st.size;
      const sectors = sectorsOf(size, path, opts);
      return new DiskImage(fileBase(fd, size), sectors, path, resolve(path));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get overlaySectors(): number { return this.overlay.size; }

  read(lba: number, dst: Uint8Array): void {
    const count = dst.length / SECTOR_SIZE;
    let k = 0;
    while (k < count) {
      const own = this.overlay.get(lba + k);
      if (own !== undefined) {
        dst.set(own, k * SECTOR_SIZE);
        k++;
        continue;
      }
      // A run of unwritten sectors: one read of the base.
      let end = k + 1;
      while (end < count && !this.overlay.has(lba + end)) end++;
      this.base.readAt((lba + k) * SECTOR_SIZE, dst.subarray(k * SECTOR_SIZE, end * SECTOR_SIZE));
      k = end;
    }
  }

  write(lba: number, src: Uint8Array): void {
    const count = src.length / SECTOR_SIZE;
    for (let k = 0; k < count; k++) this.overlay.set(lba + k, src.slice(k * SECTOR_SIZE, (k + 1) * SECTOR_SIZE));
  }

  /** Nothing to do: the overlay is not backed by a file (see exportImage). */
  flush(): void { this.flushes++; }

  /** Write the whole disk as the guest sees it (base + overlay) to `path`, never the input file. */
  exportImage(path: string): void {
    if (this.path !== null && samePath(path, this.path)) {
      throw new InputError(`${path}: refusing to overwrite the input disk image; export to another file`);
    }
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (e) {
      throw new InputError(`${path}: cannot write the disk image (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      const chunk = 2048; // sectors (1 MiB) per write
      for (let lba = 0; lba < this.sectors; lba += chunk) {
        const buf = new Uint8Array(Math.min(chunk, this.sectors - lba) * SECTOR_SIZE);
        this.read(lba, buf);
        let done = 0;
        while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done);
      }
    } finally {
      closeSync(fd);
    }
  }

  close(): void { this.base.close(); }

  saveState(): BlockBackendState {
    const lbas = [...this.overlay.keys()].sort((a, b) => a - b);
    return {
      version: BACKEND_STATE_VERSION,
      sectors: this.sectors,
      overlay: lbas.map((lba) => [lba, Buffer.from(this.overlay.get(lba)!).toString('base64')]),
    };
  }

  loadState(s: BlockBackendState): void {
    if (s.version !== BACKEND_STATE_VERSION) throw new Error(`${this.description}: cannot load disk state version ${s.version}, expected ${BACKEND_STATE_VERSION}`);
    if (s.sectors !== this.sectors) throw new Error(`${this.description}: disk state is for ${s.sectors} sectors, this disk has ${this.sectors}`);
    const overlay = new Map<number, Uint8Array>();
    for (const [lba, b64] of s.overlay) {
      const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
      if (!Number.isInteger(lba) || lba < 0 || lba >= this.sectors || bytes.length !== SECTOR_SIZE) {
        throw new Error(`${this.description}: bad overlay sector ${lba} in disk state`);
      }
      overlay.set(lba, bytes);
    }
    this.overlay = overlay;
  }
}

function sectorsOf(bytes: number, name: string, opts: FileImageOptions): number {
  if (bytes === 0) throw new InputError(`${name}: the disk image is empty`);
  if (bytes % SECTOR_SIZE !== 0 && !opts.pad) {
    throw new InputError(`${name}: the disk image is ${bytes} bytes, not a multiple of ${SECTOR_SIZE}-byte sectors (pad it, or ask for padding)`);
  }
  return Math.ceil(bytes / SECTOR_SIZE);
}

/** Lazy reads of an open file; the descriptor is read-only, so the file cannot change through it. */
function fileBase(fd: number, size: number): BaseImage {
  let open = true;
  return {
    readAt(offset, dst) {
      let done = 0;
      const want = Math.max(0, Math.min(dst.length, size - offset));
      while (open && done < want) {
        const n = readSync(fd, dst, done, want - done, offset + done);
        if (n <= 0) break; // the file shrank under us: the rest reads as zero
        done += n;
      }
      dst.fill(0, done);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}
