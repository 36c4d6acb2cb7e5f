// ELF32 loader for static i386 executables (System V ABI, "Object Files" chapter, and the
// Intel386 supplement). It only validates and slices the file: placing the segments in guest
// memory is the caller's job. Every defect is one InputError line naming file and offset.

import { InputError } from './errors.js';

export interface ElfSegment {
  vaddr: number;
  /** p_paddr: where a bare-metal loader puts the segment (equal to vaddr for most links). */
  paddr: number;
  memsz: number;
  /** The p_filesz bytes from the file; the rest up to memsz is zero (.bss). */
  data: Uint8Array;
  /** PF_X | PF_W | PF_R. */
  flags: number;
}

export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
}

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

// ELF header (Elf32_Ehdr), offsets in bytes.
const EHDR_SIZE = 52;
const EI_CLASS      = 4;    // 1 = ELFCLASS32, 2 = ELFCLASS64
const EI_DATA       = 5;    // 1 = ELFDATA2LSB, 2 = ELFDATA2MSB
const EI_VERSION    = 6;    // must be EV_CURRENT (1)
const EI_NIDENT     = 16;
const E_TYPE        = 16;   // u16: ET_REL 1, ET_EXEC 2, ET_DYN 3, ET_CORE 4
const E_MACHINE     = 18;   // u16
const E_VERSION     = 20;   // u32, EV_CURRENT again
const E_ENTRY       = 24;   // u32
const E_PHOFF       = 28;   // u32
const E_EHSIZE      = 40;   // u16
const E_PHENTSIZE   = 42;   // u16
const E_PHNUM       = 44;   // u16; 0xffff means the count lives in section 0 (unsupported)

// Program header (Elf32_Phdr), offsets within one entry.
const PHDR_SIZE = 32;
const P_TYPE   = 0;
const P_OFFSET = 4;
const P_VADDR  = 8;
const P_PADDR  = 12;
const P_FILESZ = 16;
const P_MEMSZ  = 20;
const P_FLAGS  = 24;
const P_ALIGN  = 28;

const PT_LOAD    = 1;
const PT_DYNAMIC = 2;
const PT_INTERP  = 3;

const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;
const EV_CURRENT = 1;
const ET_EXEC = 2;
const EM_386 = 3;
const PN_XNUM = 0xffff;

const MAGIC = [0x7f, 0x45, 0x4c, 0x46]; // "\x7fELF"
const FOUR_GIB = 2 ** 32;
const BUILD_HINT = 'gcc -m32 -static -fno-pic -no-pie';

const MACHINE_NAMES: Record<number, string> = {
  0: 'EM_NONE', 2: 'EM_SPARC', 3: 'EM_386', 8: 'EM_MIPS', 20: 'EM_PPC', 21: 'EM_PPC64',
  22: 'EM_S390', 40: 'EM_ARM', 50: 'EM_IA_64', 62: 'EM_X86_64', 183: 'EM_AARCH64',
  243: 'EM_RISCV', 258: 'EM_LOONGARCH',
};

const TYPE_NAMES: Record<number, string> = {
  0: 'ET_NONE', 1: 'ET_REL', 2: 'ET_EXEC', 3: 'ET_DYN', 4: 'ET_CORE',
};

/** Parse and validate a static ELF32 EM_386 executable; returns its PT_LOAD segments. */
export function parseElf32(bytes: Uint8Array, file: string): ElfImage {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  elfCheckIdent(bytes, file);
  elfCheckHeader(dv, file);
  const phoff = dv.getUint32(E_PHOFF, true);
  const phnum = dv.getUint16(E_PHNUM, true);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const seg = elfReadPhdr(bytes, dv, file, phoff + i * PHDR_SIZE, i);
    if (seg) segments.push(seg);
  }
  if (segments.length === 0) {
    elfFail(file, E_PHNUM, `expected at least one PT_LOAD program header, found none among ${phnum}`);
  }
  elfCheckOverlap(segments, file);
  const entry = dv.getUint32(E_ENTRY, true);
  if (!segments.some((s) => entry >= s.vaddr && entry - s.vaddr < s.memsz)) {
    elfFail(file, E_ENTRY, `expected the entry point to lie in a PT_LOAD segment, found ${hex(entry)} outside all of them`);
  }
  return { entry, segments };
}

function elfCheckIdent(bytes: Uint8Array, file: string): void {
  const n = bytes.length;
  if (n === 0) elfFail(file, null, 'file is empty; expected an ELF executable');
  for (let i = 0; i < Math.min(n, MAGIC.length); i++) {
    if (bytes[i] !== MAGIC[i]) {
      elfFail(file, null, `not an ELF file: expected the magic bytes 7f 45 4c 46 ("\\x7fELF"), found ${hexBytes(bytes, 0, 4)}`);
    }
  }
  if (n < EI_NIDENT) elfTruncated(file, n, EI_NIDENT, 'ELF identification');
  const cls = bytes[EI_CLASS];
  if (cls === ELFCLASS64) {
    const machine = n >= E_MACHINE + 2 ? bytes[E_MACHINE] | (bytes[E_MACHINE + 1] << 8) : EM_386;
    if (machine !== EM_386) {
      elfFail(file, E_MACHINE, `expected EM_386 (3), found ${machineName(machine)} in a 64-bit ELF (ELFCLASS64); rebuild with gcc -m32`);
    }
    elfFail(file, EI_CLASS, 'expected a 32-bit ELF (ELFCLASS32, 1), found a 64-bit one (ELFCLASS64, 2); rebuild with gcc -m32');
  }
  if (cls !== ELFCLASS32) elfFail(file, EI_CLASS, `expected ELFCLASS32 (1), found ${cls}`);
  const data = bytes[EI_DATA];
  if (data === ELFDATA2MSB) elfFail(file, EI_DATA, 'expected little-endian data (ELFDATA2LSB, 1), found big-endian (ELFDATA2MSB, 2)');
  if (data !== ELFDATA2LSB) elfFail(file, EI_DATA, `expected ELFDATA2LSB (1), found ${data}`);
  if (bytes[EI_VERSION] !== EV_CURRENT) {
    elfFail(file, EI_VERSION, `expected ELF version EV_CURRENT (1), found ${bytes[EI_VERSION]}`);
  }
}

function elfCheckHeader(dv: DataView, file: string): void {
  if (dv.byteLength < EHDR_SIZE) elfTruncated(file, dv.byteLength, EHDR_SIZE, 'ELF header');
  const machine = dv.getUint16(E_MACHINE, true);
  if (machine !== EM_386) elfFail(file, E_MACHINE, `expected EM_386 (3), found ${machineName(machine)}`);
  const type = dv.getUint16(E_TYPE, true);
  if (type === 1) {
    elfFail(file, E_TYPE, `expected an executable (ET_EXEC, 2), found a relocatable object (ET_REL, 1); link it into a static executable: ${BUILD_HINT}`);
  }
  if (type === 3) {
    elfFail(file, E_TYPE, `expected a static executable (ET_EXEC, 2), found a position-independent executable or shared object (ET_DYN, 3); build with ${BUILD_HINT}`);
  }
  if (type !== ET_EXEC) elfFail(file, E_TYPE, `expected ET_EXEC (2), found ${TYPE_NAMES[type] ?? 'type'} (${type})`);
  const version = dv.getUint32(E_VERSION, true);
  if (version !== EV_CURRENT) elfFail(file, E_VERSION, `expected e_version EV_CURRENT (1), found ${version}`);
  const ehsize = dv.getUint16(E_EHSIZE, true);
  if (ehsize !== EHDR_SIZE) elfFail(file, E_EHSIZE, `expected e_ehsize ${EHDR_SIZE}, found ${ehsize}`);
  const phnum = dv.getUint16(E_PHNUM, true);
  if (phnum === 0) elfFail(file, E_PHNUM, 'expected program headers with a PT_LOAD segment, found none (e_phnum 0)');
  if (phnum === PN_XNUM) elfFail(file, E_PHNUM, 'expected fewer than 65535 program headers, found extended numbering (PN_XNUM)');
  const phentsize = dv.getUint16(E_PHENTSIZE, true);
  if (phentsize !== PHDR_SIZE) elfFail(file, E_PHENTSIZE, `expected e_phentsize ${PHDR_SIZE}, found ${phentsize}`);
  const phoff = dv.getUint32(E_PHOFF, true);
  const end = phoff + phnum * PHDR_SIZE;
  if (phoff === 0 || end > dv.byteLength) {
    elfFail(file, E_PHOFF, `expected ${phnum} program headers inside the file (${dv.byteLength} bytes), found them at ${hex(phoff)}..${hex(end)}`);
  }
}

/** One program header; returns a segment for PT_LOAD, null for types the loader ignores. */
function elfReadPhdr(bytes: Uint8Array, dv: DataView, file: string, at: number, index: number): ElfSegment | null {
  const type = dv.getUint32(at + P_TYPE, true);
  if (type === PT_INTERP || type === PT_DYNAMIC) {
    const what = type === PT_INTERP ? 'PT_INTERP (it asks for a dynamic loader)' : 'PT_DYNAMIC (it needs dynamic linking)';
    elfFail(file, at, `program header ${index}: expected a static executable, found ${what}; build with ${BUILD_HINT}`);
  }
  if (type !== PT_LOAD) return null;
  const offset = dv.getUint32(at + P_OFFSET, true);
  const vaddr = dv.getUint32(at + P_VADDR, true);
  const filesz = dv.getUint32(at + P_FILESZ, true);
  const memsz = dv.getUint32(at + P_MEMSZ, true);
  const flags = dv.getUint32(at + P_FLAGS, true);
  const align = dv.getUint32(at + P_ALIGN, true);
  const where = `program header ${index} (PT_LOAD)`;
  if (filesz > memsz) elfFail(file, at, `${where}: expected p_filesz <= p_memsz, found ${hex(filesz)} > ${hex(memsz)}`);
  if (offset + filesz > bytes.length) {
    elfFail(file, at, `${where}: expected its data inside the file (${bytes.length} bytes), found ${hex(offset)}..${hex(offset + filesz)}`);
  }
  if (vaddr + memsz > FOUR_GIB) {
    elfFail(file, at, `${where}: expected it to end at or below 4 GiB, found ${hex(vaddr)} + ${hex(memsz)} wrapping past 0xffffffff`);
  }
  if (align > 1 && (align & (align - 1)) !== 0) elfFail(file, at, `${where}: expected p_align a power of two, found ${hex(align)}`);
  if (align > 1 && (vaddr - offset) % align !== 0) {
    elfFail(file, at, `${where}: expected p_vaddr = p_offset modulo p_align ${hex(align)}, found ${hex(vaddr)} and ${hex(offset)}`);
  }
  const paddr = dv.getUint32(at + P_PADDR, true);
  return { vaddr, paddr, memsz, data: bytes.slice(offset, offset + filesz), flags: flags & (PF_X | PF_W | PF_R) };
}

function elfCheckOverlap(segments: ElfSegment[], file: string): void {
  const sorted = [...segments].filter((s) => s.memsz > 0).sort((a, b) => a.vaddr - b.vaddr);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (prev.vaddr + prev.memsz > cur.vaddr) {
      elfFail(file, null, `expected PT_LOAD segments not to overlap, found ${hex(prev.vaddr)}..${hex(prev.vaddr + prev.memsz)} and ${hex(cur.vaddr)}..${hex(cur.vaddr + cur.memsz)}`);
    }
  }
}

function elfTruncated(file: string, have: number, need: number, what: string): never {
  elfFail(file, have, `truncated: expected ${need} bytes of ${what}, the file ends after ${have}`);
}

function elfFail(file: string, offset: number | null, what: string): never {
  const at = offset === null ? '' : ` offset ${hex(offset)}:`;
  throw new InputError(`${file}:${at} ${what}`);
}

function machineName(m: number): string {
  return `${MACHINE_NAMES[m] ?? 'machine'} (${m})`;
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}

function hexBytes(bytes: Uint8Array, from: number, count: number): string {
  return Array.from(bytes.subarray(from, from + count), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

// ---- section headers (Elf32_Shdr): what the labs measure an image or object by --------------

const E_SHOFF     = 32;   // u32
const E_SHENTSIZE = 46;   // u16
const E_SHNUM     = 48;   // u16
const E_SHSTRNDX  = 50;   // u16
const SHDR_SIZE   = 40;
const SH_NAME   = 0;
const SH_TYPE   = 4;
const SH_FLAGS  = 8;
const SH_ADDR   = 12;
const SH_OFFSET = 16;
const SH_SIZE   = 20;

export const SHT_NOBITS = 8;
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;

export interface ElfSection { name: string; type: number; flags: number; addr: number; size: number }

/**
 * The section headers of an ELF32 EM_386 executable or relocatable object (a .o), with their
 * names from the section-name string table. The loader never needs them; the labs count code
 * (SHF_EXECINSTR) by them.
 */
export function parseElf32Sections(bytes: Uint8Array, file: string): ElfSection[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  elfCheckIdent(bytes, file);
  if (dv.byteLength < EHDR_SIZE) elfTruncated(file, dv.byteLength, EHDR_SIZE, 'ELF header');
  const machine = dv.getUint16(E_MACHINE, true);
  if (machine !== EM_386) elfFail(file, E_MACHINE, `expected EM_386 (3), found ${machineName(machine)}`);
  const shoff = dv.getUint32(E_SHOFF, true), shnum = dv.getUint16(E_SHNUM, true), strndx = dv.getUint16(E_SHSTRNDX, true);
  if (shnum === 0) return [];
  if (dv.getUint16(E_SHENTSIZE, true) !== SHDR_SIZE) elfFail(file, E_SHENTSIZE, `expected e_shentsize ${SHDR_SIZE}, found ${dv.getUint16(E_SHENTSIZE, true)}`);
  if (shoff + shnum * SHDR_SIZE > bytes.length) elfFail(file, E_SHOFF, `expected ${shnum} section headers inside the file (${bytes.length} bytes), found them at ${hex(shoff)}`);
  if (strndx >= shnum) elfFail(file, E_SHSTRNDX, `expected e_shstrndx below e_shnum ${shnum}, found ${strndx}`);
  const strOff = dv.getUint32(shoff + strndx * SHDR_SIZE + SH_OFFSET, true), strSize = dv.getUint32(shoff + strndx * SHDR_SIZE + SH_SIZE, true);
  if (strOff + strSize > bytes.length) elfFail(file, shoff + strndx * SHDR_SIZE, 'expected the section-name table inside the file');
  const name = (at: number) => {
    let end = strOff + at;
    while (end < strOff + strSize && bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(strOff + at, end));
  };
  const out: ElfSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * SHDR_SIZE;
    out.push({
      name: name(dv.getUint32(at + SH_NAME, true)), type: dv.getUint32(at + SH_TYPE, true), flags: dv.getUint32(at + SH_FLAGS, true),
      addr: dv.getUint32(at + SH_ADDR, true), size: dv.getUint32(at + SH_SIZE, true),
    });
  }
  return out;
}
