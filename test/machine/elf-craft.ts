// Hand-made ELF files for loader and CLI tests: a valid static i386 executable by default,
// with any header field overridable, so each defect can be made on purpose without a compiler.

export interface CraftPhdr {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  flags: number;
  align: number;
}

export interface CraftOptions {
  cls?: number;        // EI_CLASS
  data?: number;       // EI_DATA
  identVersion?: number;
  type?: number;
  machine?: number;
  version?: number;
  entry?: number;
  phoff?: number;
  ehsize?: number;
  phentsize?: number;
  phnum?: number;
  /** Replaces the default single PT_LOAD; may refer to `layout` to place itself. */
  phdrs?: (layout: CraftLayout) => CraftPhdr[];
  /** Bytes placed right after the program headers (the entry point by default). */
  code?: number[];
}

export interface CraftLayout {
  /** File offset where the code bytes start, and the file's total length. */
  codeOffset: number;
  length: number;
  base: number;
}

export const CRAFT_BASE = 0x08048000;
// mov eax, 1; mov ebx, 7; int 0x80: exit(7), then padding.
const DEFAULT_CODE = [0xb8, 0x01, 0, 0, 0, 0xbb, 0x07, 0, 0, 0, 0xcd, 0x80, 0x90, 0x90, 0x90, 0x90];

/** The default PT_LOAD: the whole file mapped read+execute at CRAFT_BASE, plus a page of bss. */
export function wholeFileLoad(l: CraftLayout): CraftPhdr {
  return { type: 1, offset: 0, vaddr: l.base, filesz: l.length, memsz: l.length + 0x1000, flags: 5, align: 0x1000 };
}

export function craftElf(o: CraftOptions = {}): Uint8Array {
  const code = o.code ?? DEFAULT_CODE;
  const probe = o.phdrs ? o.phdrs({ codeOffset: 0, length: 0, base: CRAFT_BASE }).length : 1;
  const codeOffset = 52 + probe * 32;
  const layout: CraftLayout = { codeOffset, length: codeOffset + code.length, base: CRAFT_BASE };
  const phdrs = o.phdrs ? o.phdrs(layout) : [wholeFileLoad(layout)];
  const bytes = new Uint8Array(layout.length);
  const dv = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, o.cls ?? 1, o.data ?? 1, o.identVersion ?? 1]);
  dv.setUint16(16, o.type ?? 2, true);
  dv.setUint16(18, o.machine ?? 3, true);
  dv.setUint32(20, o.version ?? 1, true);
  dv.setUint32(24, o.entry ?? CRAFT_BASE + codeOffset, true);
  dv.setUint32(28, o.phoff ?? 52, true);
  dv.setUint16(40, o.ehsize ?? 52, true);
  dv.setUint16(42, o.phentsize ?? 32, true);
  dv.setUint16(44, o.phnum ?? phdrs.length, true);
  phdrs.forEach((p, i) => {
    const at = 52 + i * 32;
    [p.type, p.offset, p.vaddr, p.vaddr, p.filesz, p.memsz, p.flags, p.align]
      .forEach((v, j) => dv.setUint32(at + j * 4, v >>> 0, true));
  });
  bytes.set(code, codeOffset);
  return bytes;
}

/** A minimal 64-bit x86-64 ELF header, as `gcc` without -m32 would start one. */
export function craftElf64(): Uint8Array {
  const bytes = new Uint8Array(64 + 56);
  const dv = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, 62, true);
  dv.setUint32(20, 1, true);
  return bytes;
}
