// Writes minimal static i386 executables (System V ABI, ELF32 little-endian, ET_EXEC, EM_386)
// from byte arrays, so that tests can make programs without a compiler: one PT_LOAD program
// header per segment, each segment page-aligned in the file and in memory.

export interface ElfWriterSegment {
  /** Page-aligned virtual address. */
  vaddr: number;
  data: Uint8Array;
  /** Bytes in memory, at least data.length; the rest is zero (.bss). */
  memsz?: number;
  /** PF_X 1 | PF_W 2 | PF_R 4. */
  flags: number;
}

const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
const PAGE = 0x1000;

/** An ELF32 executable with the given entry point and PT_LOAD segments. */
export function writeElf32(entry: number, segments: readonly ElfWriterSegment[]): Uint8Array {
  const offsets: number[] = [];
  let end = EHDR_SIZE + segments.length * PHDR_SIZE;
  for (const s of segments) {
    if (s.vaddr % PAGE !== 0) throw new RangeError(`segment at 0x${s.vaddr.toString(16)} is not page-aligned`);
    end = Math.ceil(end / PAGE) * PAGE;
    offsets.push(end);
    end += s.data.length;
  }
  const bytes = new Uint8Array(end);
  const dv = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 1 /* ELFCLASS32 */, 1 /* LSB */, 1 /* EV_CURRENT */]);
  dv.setUint16(16, 2, true);                 // e_type ET_EXEC
  dv.setUint16(18, 3, true);                 // e_machine EM_386
  dv.setUint32(20, 1, true);                 // e_version
  dv.setUint32(24, entry >>> 0, true);       // e_entry
  dv.setUint32(28, EHDR_SIZE, true);         // e_phoff
  dv.setUint16(40, EHDR_SIZE, true);         // e_ehsize
  dv.setUint16(42, PHDR_SIZE, true);         // e_phentsize
  dv.setUint16(44, segments.length, true);   // e_phnum
  segments.forEach((s, k) => {
    const at = EHDR_SIZE + k * PHDR_SIZE;
    const memsz = Math.max(s.memsz ?? 0, s.data.length);
    const fields = [1 /* PT_LOAD */, offsets[k], s.vaddr, s.vaddr, s.data.length, memsz, s.flags, PAGE];
    fields.forEach((v, j) => dv.setUint32(at + 4 * j, v >>> 0, true));
    bytes.set(s.data, offsets[k]);
  });
  return bytes;
}
