// The ELF32 loader: a real gcc-built executable loads as readelf describes it, and every kind
// of bad input is one InputError line that names the file and what was expected.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseElf32, PF_R, PF_W, PF_X } from '../../machine/elf.js';
import { InputError } from '../../machine/errors.js';
import { craftElf, craftElf64, CRAFT_BASE, wholeFileLoad, type CraftPhdr } from './elf-craft.js';

const scratch = mkdtempSync(join(tmpdir(), 'exolab-elf-'));

/** Builds C source with gcc and the given flags; null (with the reason) when gcc cannot. */
function gcc(name: string, source: string, flags: string[]): { path: string } | { skip: string } {
  const src = join(scratch, `${name}.c`);
  const out = join(scratch, name);
  writeFileSync(src, source);
  const r = spawnSync('gcc', [...flags, '-o', out, src], { encoding: 'utf8' });
  if (r.error) return { skip: `gcc not found (${r.error.message})` };
  if (r.status !== 0) return { skip: `gcc ${flags.join(' ')} failed: ${r.stderr.trim().split('\n')[0]}` };
  return { path: out };
}

const PROGRAM = `
static int counter = 5;          /* .data */
static char zeroes[8192];        /* .bss: memsz > filesz */
void _start(void) {
  zeroes[counter] = 1;
  __asm__ volatile ("int $0x80" :: "a"(1), "b"(zeroes[5]));
  for (;;) ;
}
`;
const STATIC32 = ['-m32', '-static', '-nostdlib', '-fno-pic', '-no-pie', '-ffreestanding', '-O1'];

function expectInputError(bytes: Uint8Array, pattern: RegExp, file = 'bad.elf'): void {
  try {
    parseElf32(bytes, file);
  } catch (e) {
    assert.instance(e, InputError);
    const msg = (e as Error).message;
    assert.not.match(msg, /\n/, 'one line');
    assert.ok(msg.startsWith(`${file}: `), `names the file: ${msg}`);
    assert.match(msg, pattern);
    return;
  }
  assert.unreachable(`expected an InputError matching ${pattern}`);
}

test('a hand-made static executable loads', () => {
  const bytes = craftElf();
  const img = parseElf32(bytes, 'ok.elf');
  assert.is(img.entry, CRAFT_BASE + 52 + 32);
  assert.is(img.segments.length, 1);
  const [seg] = img.segments;
  assert.is(seg.vaddr, CRAFT_BASE);
  assert.is(seg.memsz, bytes.length + 0x1000);
  assert.is(seg.flags, PF_R | PF_X);
  assert.equal(Array.from(seg.data), Array.from(bytes));
});

test('only PT_LOAD segments are returned, in file order', () => {
  const note: CraftPhdr = { type: 4, offset: 0, vaddr: 0, filesz: 4, memsz: 4, flags: PF_R, align: 4 };
  const stack: CraftPhdr = { type: 0x6474e551, offset: 0, vaddr: 0, filesz: 0, memsz: 0, flags: PF_R | PF_W, align: 16 };
  const img = parseElf32(craftElf({ phdrs: (l) => [note, wholeFileLoad(l), stack] }), 'ok.elf');
  assert.is(img.segments.length, 1);
});

test('a gcc-built static i386 executable loads as readelf says', () => {
  const built = gcc('valid', PROGRAM, STATIC32);
  if ('skip' in built) { console.log(`  skipped: ${built.skip}`); return; }
  const bytes = readFileSync(built.path);
  const img = parseElf32(bytes, built.path);
  const re = spawnSync('readelf', ['-lhW', built.path], { encoding: 'utf8' });
  if (re.error || re.status !== 0) { console.log('  readelf unavailable: checked the loader only'); }
  else {
    const entry = Number(/Entry point address:\s+(0x[0-9a-f]+)/.exec(re.stdout)![1]);
    assert.is(img.entry, entry);
    const loads = re.stdout.split('\n').filter((l) => /^\s+LOAD\s/.test(l)).map((l) => l.trim().split(/\s+/));
    assert.is(img.segments.length, loads.length);
    loads.forEach((f, i) => {
      const seg = img.segments[i];
      assert.is(seg.vaddr, Number(f[2]));
      assert.is(seg.data.length, Number(f[4]));
      assert.is(seg.memsz, Number(f[5]));
      const flags = f.slice(6, -1).join('');
      assert.is(seg.flags, (flags.includes('R') ? PF_R : 0) | (flags.includes('W') ? PF_W : 0) | (flags.includes('E') ? PF_X : 0));
      assert.equal(Array.from(seg.data), Array.from(bytes.subarray(Number(f[1]), Number(f[1]) + Number(f[4]))));
    });
  }
  assert.ok(img.segments.some((s) => s.memsz > s.data.length), 'bss extends a segment');
  assert.ok(img.segments.some((s) => s.flags & PF_X && img.entry >= s.vaddr && img.entry < s.vaddr + s.memsz));
});

test('gcc output that is not a static i386 executable is refused', () => {
  const cases: [string, string[], RegExp][] = [
    ['reloc.o', ['-m32', '-c', '-fno-pic'], /ET_REL.*-static -fno-pic -no-pie/],
    ['pie', ['-m32', '-nostdlib', '-fpie', '-pie'], /ET_DYN.*-static -fno-pic -no-pie/],
    ['x86-64', ['-static', '-nostdlib', '-fno-pic', '-no-pie'], /expected EM_386 \(3\), found EM_X86_64 \(62\)/],
  ];
  for (const [name, flags, pattern] of cases) {
    const built = gcc(name, PROGRAM, flags);
    if ('skip' in built) { console.log(`  skipped ${name}: ${built.skip}`); continue; }
    expectInputError(readFileSync(built.path), pattern, built.path);
  }
});

// Named defects, one per rule of the loader.
const BAD: [string, () => Uint8Array, RegExp][] = [
  ['empty file', () => new Uint8Array(0), /empty/],
  ['text file', () => new TextEncoder().encode('#!/bin/sh\necho hi\n'), /not an ELF file.*found 23 21 2f 62/],
  ['DOS executable', () => new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 3, 0, 0, 0]), /not an ELF file/],
  ['one byte of magic', () => craftElf().slice(0, 1), /truncated: expected 16 bytes of ELF identification, the file ends after 1/],
  ['magic only', () => craftElf().slice(0, 4), /offset 0x4: truncated/],
  ['cut inside e_ident', () => craftElf().slice(0, 10), /truncated/],
  ['cut after e_ident', () => craftElf().slice(0, 16), /truncated: expected 52 bytes of ELF header/],
  ['cut inside the header', () => craftElf().slice(0, 40), /offset 0x28: truncated: expected 52 bytes of ELF header/],
  ['cut inside the program headers', () => craftElf().slice(0, 70), /program headers inside the file \(70 bytes\)/],
  ['cut inside the segment', () => craftElf({ phdrs: (l) => [{ ...wholeFileLoad(l), filesz: l.length + 1, memsz: l.length + 1 }] }),
    /PT_LOAD\): expected its data inside the file/],
  ['ELFCLASS64 x86-64', () => craftElf64(), /offset 0x12: expected EM_386 \(3\), found EM_X86_64 \(62\) in a 64-bit ELF/],
  ['ELFCLASS64 claiming EM_386', () => craftElf({ cls: 2 }), /offset 0x4: expected a 32-bit ELF \(ELFCLASS32, 1\), found a 64-bit one \(ELFCLASS64, 2\)/],
  ['ELFCLASSNONE', () => craftElf({ cls: 0 }), /expected ELFCLASS32 \(1\), found 0/],
  ['big-endian', () => craftElf({ data: 2 }), /offset 0x5: expected little-endian .*found big-endian/],
  ['bad EI_VERSION', () => craftElf({ identVersion: 0 }), /offset 0x6: expected ELF version EV_CURRENT/],
  ['bad e_version', () => craftElf({ version: 2 }), /offset 0x14: expected e_version EV_CURRENT \(1\), found 2/],
  ['ARM', () => craftElf({ machine: 40 }), /offset 0x12: expected EM_386 \(3\), found EM_ARM \(40\)/],
  ['x32 (ELF32 for x86-64)', () => craftElf({ machine: 62 }), /expected EM_386 \(3\), found EM_X86_64 \(62\)/],
  ['unknown machine', () => craftElf({ machine: 9999 }), /found machine \(9999\)/],
  ['ET_REL', () => craftElf({ type: 1 }), /offset 0x10: .*relocatable object \(ET_REL, 1\).*gcc -m32 -static -fno-pic -no-pie/],
  ['ET_DYN', () => craftElf({ type: 3 }), /position-independent executable or shared object \(ET_DYN, 3\).*-no-pie/],
  ['ET_CORE', () => craftElf({ type: 4 }), /expected ET_EXEC \(2\), found ET_CORE \(4\)/],
  ['bad e_ehsize', () => craftElf({ ehsize: 64 }), /expected e_ehsize 52, found 64/],
  ['bad e_phentsize', () => craftElf({ phentsize: 56 }), /offset 0x2a: expected e_phentsize 32, found 56/],
  ['no program headers', () => craftElf({ phnum: 0 }), /found none \(e_phnum 0\)/],
  ['PN_XNUM', () => craftElf({ phnum: 0xffff }), /extended numbering/],
  ['program headers past the end', () => craftElf({ phoff: 0x10000 }), /found them at 0x10000\.\.0x10020/],
  ['program header count past the end', () => craftElf({ phnum: 40 }), /expected 40 program headers inside the file/],
  ['no PT_LOAD', () => craftElf({ phdrs: () => [{ type: 4, offset: 0, vaddr: 0, filesz: 4, memsz: 4, flags: 4, align: 4 }] }),
    /at least one PT_LOAD/],
  ['PT_INTERP', () => craftElf({ phdrs: (l) => [{ type: 3, offset: l.codeOffset, vaddr: 0, filesz: 1, memsz: 1, flags: 4, align: 1 }, wholeFileLoad(l)] }),
    /offset 0x34: program header 0: .*PT_INTERP.*dynamic loader/],
  ['PT_DYNAMIC', () => craftElf({ phdrs: (l) => [wholeFileLoad(l), { type: 2, offset: 0, vaddr: 0, filesz: 0, memsz: 0, flags: 4, align: 4 }] }),
    /program header 1: .*PT_DYNAMIC/],
  ['filesz > memsz', () => craftElf({ phdrs: (l) => [{ ...wholeFileLoad(l), memsz: 8 }] }), /expected p_filesz <= p_memsz/],
  ['segment offset past the end', () => craftElf({ phdrs: (l) => [wholeFileLoad(l), { ...wholeFileLoad(l), offset: 0x100000, vaddr: 0x09000000, filesz: 16, memsz: 16 }] }),
    /offset 0x54: program header 1 \(PT_LOAD\): expected its data inside the file/],
  ['address wrap past 4 GiB', () => craftElf({ entry: 0xfffff010, phdrs: (l) => [{ ...wholeFileLoad(l), vaddr: 0xfffff000 }] }),
    /wrapping past 0xffffffff/],
  ['overlapping segments', () => craftElf({ phdrs: (l) => [wholeFileLoad(l), { ...wholeFileLoad(l), vaddr: CRAFT_BASE + 0x1000 }] }),
    /not to overlap/],
  ['misaligned segment', () => craftElf({ phdrs: (l) => [{ ...wholeFileLoad(l), vaddr: CRAFT_BASE + 4 }], entry: CRAFT_BASE + 0x60 }),
    /p_vaddr = p_offset modulo p_align/],
  ['entry outside every segment', () => craftElf({ entry: 0x1000 }), /entry point .* 0x1000 outside/],
];

for (const [name, make, pattern] of BAD) {
  test(`refuses: ${name}`, () => expectInputError(make(), pattern));
}

test('every truncation of a valid file is refused, never thrown past as a RangeError', () => {
  const bytes = craftElf();
  for (let n = 0; n < bytes.length; n++) {
    try {
      parseElf32(bytes.slice(0, n), 'cut.elf');
      assert.unreachable(`length ${n} loaded`);
    } catch (e) {
      assert.instance(e, InputError, `length ${n}: ${(e as Error).message}`);
    }
  }
});

test('the returned data is a copy: changing the file afterwards does not change it', () => {
  const bytes = craftElf();
  const img = parseElf32(bytes, 'ok.elf');
  bytes[0] = 0;
  assert.is(img.segments[0].data[0], 0x7f);
});

test.run();
