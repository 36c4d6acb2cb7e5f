// The tcb and risk labs against measurements made here another way: readelf's section sizes
// for the images and objects, the guest build's own source lists, the compiled kernel's files.
// posix in and out, and other p_c and p_safe, so that no constant could pass.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLab } from '../../apps/labs/index.js';
import { labParameters } from '../../apps/labs/lab.js';
import { codeLines } from '../../apps/labs/artifacts.js';
import { buildGuestApp, guestTools } from '../../kernel/guest-build.js';
import { parseElf32Sections } from '../../machine/elf.js';
import { repoPath } from '../helpers/paths.js';

let missing = '';
try { guestTools(); } catch (e) { missing = (e as Error).message; }
const skip = () => { if (missing) { console.log(`  skipped: ${missing}`); return true; } return false; };

function run(name: string, sets: string[] = []) {
  const lab = findLab(name)!;
  return lab.run(labParameters(lab, sets));
}
const fig = (r: ReturnType<typeof run>, name: string) => r.figures.find((f) => f.name.startsWith(name))!;

/** readelf -SW: name -> size of each allocated executable section. */
function readelfCode(file: string): Map<string, number> {
  const out = new Map<string, number>();
  const r = spawnSync('readelf', ['-SW', file], { encoding: 'utf8' });
  for (const m of r.stdout.matchAll(/\]\s+(\S+)\s+PROGBITS\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(\S*X\S*)\s/g)) {
    if (m[3]!.includes('A')) out.set(m[1]!, parseInt(m[2]!, 16));
  }
  return out;
}
const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);
const distKernel = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'kernel');
const kernelJs = ['exo', 'caps'].flatMap((d) => readdirSync(join(distKernel, d)).filter((f) => f.endsWith('.js')));

test('parseElf32Sections agrees with readelf on an image and on an object file', () => {
  if (skip()) return;
  const b = buildGuestApp('reflector', 'mono');
  const obj = join(dirname(b.elf), 'obj', 'reflector-mono', 'libos_net_udp.c.o');
  for (const f of [b.elf, obj]) {
    const mine = new Map(parseElf32Sections(readFileSync(f), f).filter((s) => (s.flags & 6) === 6 && s.size > 0).map((s) => [s.name, s.size]));
    assert.equal(mine, readelfCode(f), f);
  }
});

test('codeLines skips blank and comment-only lines, keeps code with a trailing comment and "//" in strings', () => {
  assert.is(codeLines('/* a\n * b */\n\nint x; // c\n// d\nchar *s = "//";\n  /* e */ y();\n'), 3);
});

test('tcb lab: the unikernel image is all ring 0 and grows with posix; the exokernel\'s count stays; mono\'s ring 0 is its kernel side', () => {
  if (skip()) return;
  const r1 = run('tcb'), r0 = run('tcb', ['posix=0']);
  for (const [r, posix] of [[r1, true], [r0, false]] as const) {
    const uni = buildGuestApp('reflector', 'unikernel', { posix }), mono = buildGuestApp('reflector', 'mono', { posix });
    assert.is(fig(r, 'unikernel').measured, sum(readelfCode(uni.elf).values()), `posix ${posix}`);
    const m = readelfCode(mono.elf);
    assert.is(fig(r, 'mono').measured, sum([...m].filter(([n]) => !n.startsWith('.user.')).map(([, v]) => v)));
    assert.is(fig(r, 'mono').breakdown!.user_code_bytes, m.get('.user.text'));
    assert.is(fig(r, 'exo').breakdown!.image_ring0_components, 0);
    assert.is(fig(r, 'exo').breakdown!.kernel_modules, kernelJs.length);
  }
  assert.is(fig(r1, 'exo').measured, fig(r0, 'exo').measured, 'the exokernel does not change with f');
  assert.ok(fig(r1, 'exo').measured > 1000);
  // What posix adds to the unikernel is its objects' code (up to the alignment between them).
  const posixObjs = readdirSync(join(dirname(buildGuestApp('reflector', 'unikernel').elf), 'obj', 'reflector-unikernel')).filter((f) => f.startsWith('libos_posix_'));
  const posixBytes = sum(posixObjs.map((f) => sum(readelfCode(join(dirname(buildGuestApp('reflector', 'unikernel').elf), 'obj', 'reflector-unikernel', f)).values())));
  const grew = fig(r1, 'unikernel').measured - fig(r0, 'unikernel').measured;
  assert.ok(posixBytes > 0 && Math.abs(grew - posixBytes) < 16 * posixObjs.length, `grew ${grew} B, posix objects ${posixBytes} B`);
  assert.is(fig(r1, 'unikernel').breakdown!['libos/posix_bytes'], posixBytes);
  assert.is(fig(r0, 'unikernel').breakdown!['libos/posix_bytes'], undefined);
});

for (const [sets, pC, pSafe] of [[[], 1e-4, 1e-6], [['p_c=3e-4', 'p_safe=2e-5'], 3e-4, 2e-5]] as [string[], number, number][]) {
  test(`risk lab: sum p_i over the manifests (${sets.join(' ') || 'the chapter\'s'})`, () => {
    if (skip()) return;
    const r = run('risk', sets);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 + 1e-9 * Math.abs(b);
    const chapter = fig(r, 'the chapter');
    assert.ok(close(chapter.measured, 8 * pC + 12 * pSafe), `${chapter.measured}`);
    if (sets.length === 0) assert.ok(close(chapter.measured, 8.12e-4));
    // Every source the unikernel build linked is C or assembly in ring 0.
    const uni = buildGuestApp('reflector', 'unikernel').sources.length;
    assert.ok(close(fig(r, 'unikernel').measured, uni * pC), `${fig(r, 'unikernel').measured} for ${uni} sources`);
    assert.ok(close(fig(r, 'exo').measured, kernelJs.length * pSafe));
    // mono: everything but its user side (its own libc, plat/mono/user, the app).
    const mono = buildGuestApp('reflector', 'mono').sources.filter((s) => !/libos\/plat\/mono\/user\/|apps\/reflector\//.test(s));
    const monoKernel = mono.length - readdirSync(repoPath('libos', 'libc')).filter((f) => /\.(c|S)$/.test(f)).length;
    assert.ok(close(fig(r, 'mono').measured, monoKernel * pC), `${fig(r, 'mono').measured} for ${monoKernel}`);
    assert.ok(fig(r, 'unikernel').breakdown!.independent! < fig(r, 'unikernel').measured, 'the bound is above the independent value');
  });
}

test.run();
