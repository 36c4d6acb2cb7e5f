// The disassembler: one named entry per operand form and prefix rule, with the text objdump
// prints for it (taken from `objdump -D -b binary -m i386 -M intel`, binutils 2.40; only the
// emulator's own `native` gate has no objdump text), then a differential test that disassembles
// the .text of every corpus program (-O2) with both and compares each instruction.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { disasm, disasmBytes } from '../../../machine/cpu/disasm.js';
import { OPCODES } from '../../../machine/cpu/opcodes.js';
import { buildGuest, gccAvailable } from '../../helpers/gcc.js';
import { corpusPrograms } from '../../helpers/guest-programs.js';

const AT = 0x1000;

// name, bytes (hex), objdump's text at address 0x1000
const FORMS: readonly [string, string, string][] = [
  // ModRM and SIB addressing
  ['E reg', '01d8', 'add eax,ebx'],
  ['E [base]', '8b00', 'mov eax,DWORD PTR [eax]'],
  ['E [base+disp8]', '8b4508', 'mov eax,DWORD PTR [ebp+0x8]'],
  ['E [base-disp8]', '8b45f8', 'mov eax,DWORD PTR [ebp-0x8]'],
  ['E disp8 of zero is printed', '8b4500', 'mov eax,DWORD PTR [ebp+0x0]'],
  ['E [base+disp32]', '8b8000010000', 'mov eax,DWORD PTR [eax+0x100]'],
  ['E disp32 most negative', '8b8000000080', 'mov eax,DWORD PTR [eax-0x80000000]'],
  ['E disp32 alone', '8b0578563412', 'mov eax,DWORD PTR ds:0x12345678'],
  ['E [base+index*scale+disp]', '8b4c8b10', 'mov ecx,DWORD PTR [ebx+ecx*4+0x10]'],
  ['E [index*scale+disp32]', '8b0485f0ffffff', 'mov eax,DWORD PTR [eax*4-0x10]'],
  ['E [esp]', '8b0424', 'mov eax,DWORD PTR [esp]'],
  ['E [esp+disp8]', '8b442404', 'mov eax,DWORD PTR [esp+0x4]'],
  ['E SIB without index: eiz', '8b0420', 'mov eax,DWORD PTR [eax+eiz*1]'],
  ['E SIB esp with scale: eiz', '8b0464', 'mov eax,DWORD PTR [esp+eiz*2]'],
  ['E SIB disp32 only: eiz', '8b042520000000', 'mov eax,DWORD PTR [eiz*1+0x20]'],
  ['lea padding, 4 bytes', '8d742600', 'lea esi,[esi+eiz*1+0x0]'],
  ['lea padding, 7 bytes', '8db42600000000', 'lea esi,[esi+eiz*1+0x0]'],
  ['Eb reg is a byte register', '88e0', 'mov al,ah'],
  ['Eb mem', 'c60001', 'mov BYTE PTR [eax],0x1'],
  ['Ew mem', '668900', 'mov WORD PTR [eax],ax'],
  ['G first', '0318', 'add ebx,DWORD PTR [eax]'],
  // Immediates
  ['Ib unsigned', 'b0ff', 'mov al,0xff'],
  ['Ibs sign-extended to dword', '83c4f0', 'add esp,0xfffffff0'],
  ['Ibs sign-extended to word', '6683c0ff', 'add ax,0xffff'],
  ['Ibs push', '6a80', 'push 0xffffff80'],
  ['Iz', '0500010000', 'add eax,0x100'],
  ['Iz word', '66050001', 'add ax,0x100'],
  ['Iv mov', 'b878563412', 'mov eax,0x12345678'],
  ['Iw', 'c20400', 'ret 0x4'],
  ['Iw Ib', 'c8100000', 'enter 0x10,0x0'],
  ['G E Ibs', '6bc1f0', 'imul eax,ecx,0xfffffff0'],
  ['G E Iz', '69c100010000', 'imul eax,ecx,0x100'],
  ['E G Ib', '0fa4c105', 'shld ecx,eax,0x5'],
  ['E G CL', '0fadc1', 'shrd ecx,eax,cl'],
  ['shift by 1', 'd1e0', 'shl eax,1'],
  ['shift by CL', 'd3f8', 'sar eax,cl'],
  ['shift /6 is shl', 'd1f0', 'shl eax,1'],
  ['int Ib', 'cd80', 'int 0x80'],
  // Relative targets, absolute
  ['Jb forward', '7401', 'je 0x1003'],
  ['Jb to itself', 'ebfe', 'jmp 0x1000'],
  ['Jz backward', 'e8fbffffff', 'call 0x1000'],
  ['Jz two-byte map', '0f8400000000', 'je 0x1006'],
  ['loop', 'e2fe', 'loop 0x1000'],
  ['jecxz', 'e3fe', 'jecxz 0x1000'],
  // Register in the opcode, implicit registers
  ['Zv', '53', 'push ebx'],
  ['Zb Ib', 'b401', 'mov ah,0x1'],
  ['Zv eAX', '91', 'xchg ecx,eax'],
  ['Zv eAX word', '6691', 'xchg cx,ax'],
  ['Zd', '0fc8', 'bswap eax'],
  ['AL Ib', '2c01', 'sub al,0x1'],
  ['moffs load', 'a178563412', 'mov eax,ds:0x12345678'],
  ['moffs store byte', 'a278563412', 'mov ds:0x12345678,al'],
  ['moffs with fs', '64a114000000', 'mov eax,fs:0x14'],
  // Size-converting moves and two-byte-map forms
  ['movzx byte reg', '0fb6c1', 'movzx eax,cl'],
  ['movzx word reg', '0fb7c1', 'movzx eax,cx'],
  ['movsx byte mem', '0fbe00', 'movsx eax,BYTE PTR [eax]'],
  ['movsx word mem', '0fbf00', 'movsx eax,WORD PTR [eax]'],
  ['setcc reg', '0f94c0', 'sete al'],
  ['setcc mem', '0f9f00', 'setg BYTE PTR [eax]'],
  ['cmovcc', '0f42c1', 'cmovb eax,ecx'],
  ['bt E Ib', '0fbae005', 'bt eax,0x5'],
  ['bts E G', '0fabc1', 'bts ecx,eax'],
  ['xadd', '0fc10a', 'xadd DWORD PTR [edx],ecx'],
  ['cmpxchg8b', 'f00fc70dd8c20408', 'lock cmpxchg8b QWORD PTR ds:0x804c2d8'],
  ['cmpxchg byte', '0fb00a', 'cmpxchg BYTE PTR [edx],cl'],
  ['tzcnt (mandatory F3)', 'f30fbcc1', 'tzcnt eax,ecx'],
  ['pause (mandatory F3)', 'f390', 'pause'],
  // Groups 3, 4, 5
  ['F7 /0 test', 'f7c101000000', 'test ecx,0x1'],
  ['F6 /1 test alias', 'f6c801', 'test al,0x1'],
  ['neg mem', 'f718', 'neg DWORD PTR [eax]'],
  ['mul', 'f7e1', 'mul ecx'],
  ['inc byte', 'fe00', 'inc BYTE PTR [eax]'],
  ['call indirect table', 'ff148500000001', 'call DWORD PTR [eax*4+0x1000000]'],
  ['jmp indirect', 'ffe0', 'jmp eax'],
  ['push mem', 'ff30', 'push DWORD PTR [eax]'],
  ['pop mem', '8f00', 'pop DWORD PTR [eax]'],
  // Segment and control registers, system
  ['mov E Sw reg', '8cd8', 'mov eax,ds'],
  ['mov E Sw reg word', '668cd8', 'mov ax,ds'],
  ['mov E Sw mem', '8c18', 'mov WORD PTR [eax],ds'],
  ['mov Sw E', '8ed8', 'mov ds,eax'],
  ['push Sw', '06', 'push es'],
  ['pop Sw two-byte', '0fa9', 'pop gs'],
  ['mov Rd Cd', '0f20d8', 'mov eax,cr3'],
  ['mov Cd Rd', '0f22c0', 'mov cr0,eax'],
  ['lgdt', '0f0110', 'lgdtd [eax]'],
  ['sidt', '0f0108', 'sidtd [eax]'],
  ['invlpg', '0f0138', 'invlpg BYTE PTR [eax]'],
  ['xlat', 'd7', 'xlat BYTE PTR ds:[ebx]'],
  ['nop Ev', '0f1f4000', 'nop DWORD PTR [eax+0x0]'],
  ['prefetch hint', '0f1808', 'prefetcht0 BYTE PTR [eax]'],
  ['prefetchw hint', '0f0d08', 'prefetchw BYTE PTR [eax]'],
  ['no operands', 'f4', 'hlt'],
  // Names that change with the operand size
  ['cwde', '98', 'cwde'],
  ['cbw', '6698', 'cbw'],
  ['cwd', '6699', 'cwd'],
  ['pushfw', '669c', 'pushfw'],
  ['iretw', '66cf', 'iretw'],
  ['retw', '66c3', 'retw'],
  ['pushw Ib', '666a01', 'pushw 0x1'],
  ['pushw Sw', '661e', 'pushw ds'],
  ['jmpw', '66e90100', 'jmpw 0x1005'],
  ['66 90 is xchg ax,ax', '6690', 'xchg ax,ax'],
  // String instructions: objdump names both operands
  ['movs byte', 'a4', 'movs BYTE PTR es:[edi],BYTE PTR ds:[esi]'],
  ['rep movs dword', 'f3a5', 'rep movs DWORD PTR es:[edi],DWORD PTR ds:[esi]'],
  ['rep movs word', '66f3a5', 'rep movs WORD PTR es:[edi],WORD PTR ds:[esi]'],
  ['movs with fs source', '64a4', 'movs BYTE PTR es:[edi],BYTE PTR fs:[esi]'],
  ['rep stos', 'f3ab', 'rep stos DWORD PTR es:[edi],eax'],
  ['stos with unused fs', '64aa', 'fs stos BYTE PTR es:[edi],al'],
  ['lods', 'ac', 'lods al,BYTE PTR ds:[esi]'],
  ['repz cmps', 'f3a6', 'repz cmps BYTE PTR ds:[esi],BYTE PTR es:[edi]'],
  ['repnz scas', 'f2ae', 'repnz scas al,BYTE PTR es:[edi]'],
  ['repnz movs', 'f2a4', 'repnz movs BYTE PTR es:[edi],BYTE PTR ds:[esi]'],
  // Other prefixes
  ['lock', 'f00fb10a', 'lock cmpxchg DWORD PTR [edx],ecx'],
  ['lock with fs', 'f0640100', 'lock add DWORD PTR fs:[eax],eax'],
  ['segment override', '2e8b00', 'mov eax,DWORD PTR cs:[eax]'],
  ['ds override is shown', '3e8b00', 'mov eax,DWORD PTR ds:[eax]'],
  ['two overrides: the last applies', '263e8b00', 'es mov eax,DWORD PTR ds:[eax]'],
  ['override on lea', '2e8db42600000000', 'lea esi,cs:[esi+eiz*1+0x0]'],
  ['override without memory (branch hint)', '3e7401', 'ds je 0x1004'],
  ['override on a register operand', '2e6690', 'cs xchg ax,ax'],
  ['nop padding with cs', '662e0f1f840000000000', 'nop WORD PTR cs:[eax+eax*1+0x0]'],
  ['nop padding with data16', '66662e0f1f840000000000', 'data16 nop WORD PTR cs:[eax+eax*1+0x0]'],
  ['unused 66', '66f8', 'data16 clc'],
  ['unused 66 on mov Sw mem', '668c18', 'data16 mov WORD PTR [eax],ds'],
  ['repz ret', 'f3c3', 'repz ret'],
  ['bnd ret', 'f2c3', 'bnd ret'],
  ['rep and repnz', 'f3f2a4', 'rep repnz movs BYTE PTR es:[edi],BYTE PTR ds:[esi]'],
  ['F3 beyond the mandatory one', 'f3f390', 'repz pause'],
  // The emulator's own gate (objdump has no name for 0F 3F)
  ['native gate', '0f3f01', 'native 0x1'],
];

// name, bytes: encodings the CPU does not define, one (bad) byte each
const BAD: readonly [string, string][] = [
  ['undefined two-byte opcode', '0fff'],
  ['undefined group member', 'ffff'],
  ['M operand given a register', '0f01c0'],
  ['address-size prefix', '67e3fe'],
  ['not in the subset: far return', 'cb'],
  ['not in the subset: x87', 'd9c0'],
  ['cut off by the window', 'e800'],
  ['a lone prefix', '66'],
  ['more than 15 bytes', '66666666666666666666666666660500000000'],
];

function hexBytes(h: string): number[] {
  return h.match(/../g)!.map((x) => parseInt(x, 16));
}

function window(bytes: readonly number[]): (k: number) => number {
  return (k) => (k < bytes.length ? bytes[k] : -1);
}

for (const [name, h, text] of FORMS) {
  test(`form: ${name}`, () => {
    const bytes = hexBytes(h);
    const d = disasm(window(bytes), AT);
    assert.is(d.text, text);
    assert.is(d.len, bytes.length);
    assert.equal(d.bytes, bytes);
  });
}

for (const [name, h] of BAD) {
  test(`(bad): ${name}`, () => {
    const bytes = hexBytes(h);
    const d = disasm(window(bytes), AT);
    assert.is(d.text, '(bad)');
    assert.is(d.len, 1);
    assert.equal(d.bytes, bytes.slice(0, 1));
  });
}

test('every opcode table entry disassembles', () => {
  for (const d of OPCODES) {
    // Mandatory prefix, opcode, ModRM [eax] with the group digit, then zeros for any immediate.
    const bytes = [...(d.prefix ? [d.prefix] : []), ...(d.code > 0xff ? [0x0f] : []), d.code & 0xff, (d.ext & 7) << 3, 0, 0, 0, 0, 0];
    const got = disasm(window(bytes), AT);
    assert.is.not(got.text, '(bad)', `${d.mnem} 0x${d.code.toString(16)}`);
    assert.ok(got.len <= bytes.length, `${d.mnem} 0x${d.code.toString(16)}: length ${got.len}`);
  }
});

test('disasmBytes walks a buffer, resuming after (bad)', () => {
  const d = disasmBytes(Uint8Array.from(hexBytes('5589e5' + 'd9d6' + '7400' + 'c3')), 0x8049000);
  assert.equal(d.map((x) => x.text), ['push ebp', 'mov ebp,esp', '(bad)', '(bad)', 'je 0x8049007', 'ret']);
  assert.equal(d.map((x) => x.len), [1, 2, 1, 1, 2, 1]);
});

// ---- Differential test against objdump on the corpus ----

/** Instructions gcc emits that the CPU subset does not define: ours says (bad), objdump names them. */
const OUTSIDE_SUBSET = ['cmpxchg8b'];

interface Section { addr: number; bytes: Uint8Array }

/** The .text section of an ELF32 file, from its section headers. */
function textSection(file: Uint8Array): Section {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const shoff = v.getUint32(0x20, true), shentsize = v.getUint16(0x2e, true), shnum = v.getUint16(0x30, true);
  const strtab = v.getUint32(shoff + v.getUint16(0x32, true) * shentsize + 0x10, true);
  for (let s = 0; s < shnum; s++) {
    const h = shoff + s * shentsize;
    let name = '';
    for (let p = strtab + v.getUint32(h, true); file[p] !== 0; p++) name += String.fromCharCode(file[p]);
    if (name !== '.text') continue;
    const off = v.getUint32(h + 0x10, true), size = v.getUint32(h + 0x14, true);
    return { addr: v.getUint32(h + 0x0c, true), bytes: file.subarray(off, off + size) };
  }
  throw new Error('no .text section');
}

interface Line { addr: number; len: number; text: string }

/**
 * objdump's listing of .text, normalized for what is cosmetic only: whitespace collapsed, and a
 * branch target's `ADDR <symbol+off>` written as our `0xADDR`. Nop padding (xchg ax,ax, data16,
 * cs nop) needs no normalizing: the disassembler prints it as objdump does.
 */
function objdumpText(elf: string, section: Section): Line[] {
  const r = spawnSync('objdump', ['-d', '-M', 'intel', '--no-show-raw-insn', '-j', '.text', elf], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`objdump failed on ${elf}: ${r.stderr}`);
  const lines: Line[] = [];
  for (const l of r.stdout.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t(.*)$/.exec(l);
    if (!m) continue;
    const text = m[2].trim().replace(/\s+/g, ' ').replace(/\b([0-9a-f]+) <[^>]*>/g, '0x$1');
    lines.push({ addr: parseInt(m[1], 16), len: 0, text });
  }
  const end = section.addr + section.bytes.length;
  lines.forEach((x, k) => { x.len = (k + 1 < lines.length ? lines[k + 1].addr : end) - x.addr; });
  return lines;
}

function objdumpAvailable(): string {
  const r = spawnSync('objdump', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? 'objdump not found; install binutils' : '';
}

const gcc = gccAvailable();
const missing = !gcc.ok ? gcc.reason : objdumpAvailable();
if (missing) {
  console.warn(`disasm: differential test against objdump skipped: ${missing}`);
  test.skip('disasm against objdump on the corpus', () => {});
} else {
  test('disasm against objdump on the corpus (-O2)', () => {
    let total = 0, same = 0;
    const outside: string[] = [], wrong: string[] = [];
    for (const prog of corpusPrograms()) {
      const elf = buildGuest(prog.name, prog.sources, '-O2');
      const text = textSection(readFileSync(elf));
      for (const want of objdumpText(elf, text)) {
        // Each instruction on its own, at objdump's address: a (bad) does not throw the rest off.
        const at = want.addr - text.addr;
        const got = disasm((k) => (at + k < text.bytes.length ? text.bytes[at + k] : -1), want.addr);
        total++;
        if (got.text === want.text && got.len === want.len) { same++; continue; }
        const where = `${prog.name} ${want.addr.toString(16)}: objdump '${want.text}' (${want.len}), ours '${got.text}' (${got.len})`;
        if (got.text === '(bad)' && OUTSIDE_SUBSET.some((m) => want.text.split(' ').includes(m))) outside.push(where);
        else wrong.push(where);
      }
    }
    console.log(`disasm: ${same}/${total} instructions agree with objdump (${(100 * same / total).toFixed(2)}%); `
      + `${outside.length} outside the CPU subset${outside.length ? `, e.g. ${outside[0]}` : ''}`);
    assert.ok(wrong.length === 0, `${wrong.length} instructions differ:\n${wrong.slice(0, 30).join('\n')}`);
  });
}

test.run();
