// The POSIX layer and its file system: kernel/fs-image.ts builds exofs images (checked against
// libos/include/exofs.h by gcc -m32, and by its own parser and zlib's CRC-32), and fileread
// reads a file of one with read() on the zero-copy and the bounce paths, in the unikernel
// placement on a bare Machine, in the exo placement from a scenario, and in the mono placement
// on a bare Machine (its kernel drives the disk; the app's read() is a system call). The
// checksum it prints equals the host's, each read() phase is reported, and the image file is
// untouched. sock-echo answers gen: traffic through the socket API in all three placements.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { DIRENT_LAYOUT, EXOFS, SUPER_LAYOUT, crc32, fsImageBuild, fsImageFile, fsImageParse, fsImageWrite } from '../../kernel/fs-image.js';
import { buildGuestApp, buildGuestProgram, guestTools } from '../../kernel/guest-build.js';
import { parseScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';
import { parseElf32 } from '../../machine/elf.js';
import { InputError } from '../../machine/errors.js';
import { Machine, machineConfig } from '../../machine/machine.js';
import { readPcap } from '../../machine/pcap.js';
import { loadProfile } from '../../machine/profile.js';
import { repoPath } from '../helpers/paths.js';

const outDir = repoPath('build', 'libos-posix');
const TOOL = repoPath('dist', 'kernel', 'fs-image.js');
let toolsMissing = '';
try { guestTools(); } catch (e) { toolsMissing = (e as Error).message; }
const skip = () => { if (toolsMissing) { console.log(`  skipped: ${toolsMissing}`); return true; } return false; };

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** 200 KiB from xorshift32: the same bytes every run, no structure a bug could hide behind. */
function pseudoRandom(bytes: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed >>> 0;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

interface Fixture { img: string; data: Uint8Array; readme: Uint8Array; scratch: Uint8Array }
let fixture: Fixture | undefined;

/** data.bin (200 KiB pseudo-random), the repository's README.md and scratch.bin, by the CLI. */
function image(): Fixture {
  if (fixture) return fixture;
  mkdirSync(outDir, { recursive: true });
  const data = pseudoRandom(200 * 1024), scratch = pseudoRandom(5000, 7);
  writeFileSync(join(outDir, 'data.bin'), data);
  writeFileSync(join(outDir, 'scratch.bin'), scratch);
  const readmePath = join(outDir, 'README.md');
  writeFileSync(readmePath, readFileSync(repoPath('README.md')));   // a snapshot: others may edit it meanwhile
  const img = join(outDir, 'fs.img');
  const r = spawnSync(process.execPath, [TOOL, img, join(outDir, 'data.bin'), readmePath, join(outDir, 'scratch.bin')], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  fixture = { img, data, readme: readFileSync(readmePath), scratch };
  return fixture;
}

// ---- the format ------------------------------------------------------------------------------

test('libos/include/exofs.h agrees with kernel/fs-image.ts (gcc -m32 static asserts)', () => {
  if (skip()) return;
  const checks: string[] = [];
  const eq = (expr: string, v: number) => checks.push(`_Static_assert((${expr}) == ${v}u, "${expr.replace(/"/g, '')}");`);
  for (const [k, v] of Object.entries(EXOFS)) eq(`EXOFS_${k}`, v);
  for (const l of [SUPER_LAYOUT, DIRENT_LAYOUT]) {
    eq(`sizeof(struct ${l.name})`, l.bytes);
    for (const f of l.fields) eq(`offsetof(struct ${l.name}, ${f.name})`, f.offset);
  }
  eq('sizeof(((struct exofs_dirent *)0)->name)', EXOFS.NAME_MAX + 1);
  mkdirSync(outDir, { recursive: true });
  const src = join(outDir, 'exofs-h-check.c');
  writeFileSync(src, ['#include <stddef.h>', '#include "exofs.h"', ...checks, ''].join('\n'));
  const r = spawnSync('gcc', ['-m32', '-ffreestanding', '-std=c11', '-Wall', '-Wextra', '-Werror', '-fsyntax-only',
    `-I${repoPath('libos', 'include')}`, src], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test('an image: superblock, directory, contiguous extents zero-padded, CRC-32 as zlib computes it', () => {
  const a = pseudoRandom(1000, 1), b = new Uint8Array(0), c = pseudoRandom(4096, 2);
  const img = fsImageBuild([{ name: 'a', data: a }, { name: 'empty', data: b }, { name: 'c.bin', data: c }], { sizeBytes: 64 * 512 });
  assert.is(img.length, 64 * 512);
  const fs = fsImageParse(img);
  assert.equal(fs.super, { magic: EXOFS.MAGIC, version: 1, sectors: 64, dirStart: 1, dirSectors: 1, files: 3, dataStart: 2 });
  assert.equal(fs.entries.map((e) => [e.name, e.size, e.start, e.sectors]), [['a', 1000, 2, 2], ['empty', 0, 4, 0], ['c.bin', 4096, 4, 8]]);
  for (const [e, d] of [[fs.entries[0]!, a], [fs.entries[2]!, c]] as const) assert.is(e.crc32, zlibCrc32(d));
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926, 'the CRC-32 check value');
  assert.is(sha(fsImageFile(img, 'a')!), sha(a));
  assert.ok(img.subarray(2 * 512 + 1000, 4 * 512).every((x) => x === 0), 'the last sector is zero past the size');
  assert.is(fsImageFile(img, 'nope'), null);
  // 9 files take a second directory sector
  const many = fsImageParse(fsImageBuild(Array.from({ length: 9 }, (_, k) => ({ name: `f${k}`, data: new Uint8Array([k]) }))));
  assert.is(many.super.dirSectors, 2);
  assert.is(many.entries[8]!.start, 3 + 8);
});

test('fs-image API: bad inputs are one-line InputErrors', () => {
  const f = (name: string, n = 1) => ({ name, data: new Uint8Array(n) });
  const cases: [string, () => unknown, RegExp][] = [
    ['name too long', () => fsImageBuild([f('x'.repeat(48))]), /48 bytes; at most 47/],
    ['empty name', () => fsImageBuild([f('')]), /empty/],
    ['slash in name', () => fsImageBuild([f('a/b')]), /'\/'/],
    ['duplicate', () => fsImageBuild([f('a'), f('a')]), /two files are named "a"/],
    ['too many files', () => fsImageBuild(Array.from({ length: 257 }, (_, k) => f(`f${k}`))), /at most 256/],
    ['image too big for --size', () => fsImageBuild([f('a', 4096)], { sizeBytes: 4096 }), /image too big: the files need 10 sectors/],
    ['odd --size', () => fsImageBuild([f('a')], { sizeBytes: 1000 }), /multiple of 512/],
    ['image over 256 MiB', () => fsImageBuild([f('a')], { sizeBytes: 300 << 20 }), /image too big/],
    ['not exofs', () => fsImageParse(new Uint8Array(1024)), /not an exofs image: magic/],
  ];
  for (const [what, fn, msg] of cases) {
    assert.throws(fn, (e: unknown) => e instanceof InputError && msg.test(e.message) && !e.message.includes('\n'), what);
  }
  const img = fsImageBuild([f('a', 600)]);
  new DataView(img.buffer).setUint32(512 + 52, 999, true);   // a's start: past the image
  assert.throws(() => fsImageParse(img), /entry "a" leaves the image/);
});

test('fs-image CLI: bad inputs exit 2 with one line on stderr and write nothing', () => {
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, 'bad.img');
  const long = join(outDir, `${'n'.repeat(60)}.txt`);
  writeFileSync(long, 'x');
  const cases: [string, string[], RegExp][] = [
    ['missing file', [out, join(outDir, 'no-such-file')], /no-such-file: no such file/],
    ['name too long', [out, long], /is 64 bytes; at most 47/],
    ['image too big', [out, repoPath('README.md'), '--size', '1KiB'], /image too big/],
    ['a directory', [out, outDir], /not a regular file/],
    ['no files', [out], /at least one file/],
    ['unknown option', [out, long, '--frob'], /unknown option --frob/],
    ['bad size', [out, long, '--size', 'lots'], /--size/],
  ];
  for (const [what, args, msg] of cases) {
    rmSync(out, { force: true });
    const r = spawnSync(process.execPath, [TOOL, ...args], { encoding: 'utf8' });
    assert.is(r.status, 2, `${what}: exit ${r.status} ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, `${what}: ${r.stderr}`);
    assert.match(lines[0]!, msg, what);
    assert.is(r.stdout, '', what);
    assert.not.ok(existsSync(out), `${what}: no image written`);
  }
});

test('fs-image CLI and fsImageWrite: the image holds the files as they are', () => {
  const fx = image();
  const img = readFileSync(fx.img);
  const fs = fsImageParse(img);
  assert.equal(fs.entries.map((e) => e.name), ['data.bin', 'README.md', 'scratch.bin']);
  assert.is(sha(fsImageFile(img, 'data.bin')!), sha(fx.data));
  assert.is(sha(fsImageFile(img, 'README.md')!), sha(fx.readme));
  const again = join(outDir, 'again.img');
  fsImageWrite(again, [join(outDir, 'data.bin'), join(outDir, 'README.md'), join(outDir, 'scratch.bin')]);
  assert.is(sha(readFileSync(again)), sha(img), 'the API and the CLI build the same bytes');
});

// ---- fileread in the two placements ----------------------------------------------------------

interface Phases { reads: number; copied: number; lookup: number; cap: number; sg: number; dma: number; copy: number }

/** The guest's report: the checksum line and each path's per-phase averages. */
function parseRun(text: string): { crc: string; paths: Record<string, Phases> } {
  const m = /^fileread: crc32 ([0-9a-f]{8}) ok$/m.exec(text);
  assert.ok(m, `no checksum line (or a MISMATCH) in:\n${text}`);
  const paths: Record<string, Phases> = {};
  for (const p of text.matchAll(/^fileread: phases (\S+) reads (\d+) commands \d+ bytes \d+ copied (\d+) cycles\/read: lookup (\d+) cap (\d+) sg (\d+) dma (\d+) copy (\d+) total \d+$/gm)) {
    const n = p.slice(2).map(Number);
    paths[p[1]!] = { reads: n[0]!, copied: n[1]!, lookup: n[2]!, cap: n[3]!, sg: n[4]!, dma: n[5]!, copy: n[6]! };
  }
  assert.equal(Object.keys(paths).sort(), ['bounce', 'zero-copy'], text);
  return { crc: m![1]!, paths };
}

function checkPhases(paths: Record<string, Phases>, sectorMultiple: boolean): void {
  for (const [name, p] of Object.entries(paths)) {
    assert.ok(p.reads > 0, `${name}: reads`);
    for (const k of ['lookup', 'cap', 'sg', 'dma'] as const) assert.ok(p[k] > 0, `${name}: ${k} ${p[k]}`);
  }
  assert.ok(paths.bounce!.copy > 0 && paths.bounce!.copied > 0, 'the bounce path copies');
  if (sectorMultiple) assert.is(paths['zero-copy']!.copied, 0, 'a whole-sector file goes into the buffer with no copy');
  else assert.ok(paths['zero-copy']!.copied > 0 && paths['zero-copy']!.copied < 512 * paths['zero-copy']!.reads, 'only partial last sectors bounce');
}

interface BareRun { text: string; status: number | null; disk: Uint8Array; entries: number; exits: number }

/** A ring-0 image (unikernel or mono) on a bare Machine with `img` as its disk; the disk's
 * contents at the end, and the privilege crossings the CPU counted (ring 3 -> 0 and back). */
function bootBare(elf: string, img: string): BareRun {
  const image = parseElf32(readFileSync(elf), elf);
  const m = new Machine({ ...machineConfig(loadProfile('default'), { cores: 1, ramBytes: 64 << 20, seed: 1 }), disk: { image: img } });
  try {
    m.loadImage(image, elf);
    m.boot(image.entry);
    m.run(4_000_000_000);
    const disk = new Uint8Array(m.disk!.backend.sectors * 512);
    m.disk!.backend.read(0, disk);
    const c = m.cores[0]!.counterValues();
    return { text: m.consoleText(), status: m.sysctl.exitStatus, disk, entries: c.ring3To0!, exits: c.ring0To3! };
  } finally {
    m.close();
  }
}

function runExo(elf: string, img: string, caps = ''): { text: string; p: any } {
  mkdirSync(outDir, { recursive: true });
  const yaml = `name: fileread\nseed: 1\nmachine: { cores: 1, ram: 64MiB, disk: { image: ${img} } }\nprincipals:\n` +
    `  - { name: fr, image: ${elf}, placement: exo, cores: [0], memory: 8MiB${caps} }\nrun: { for: 500ms }\n`;
  const s = new System(parseScenario(yaml, join(outDir, 'fileread.yaml'), outDir));
  s.runToEnd();
  const r = s.report();
  return { text: r.console, p: (r.metrics as any).principals.fr };
}

const readmeDefines = { FILEREAD_FILE: '"README.md"', FILEREAD_WRITE: 1 };

// mono: its kernel drives the disk as the unikernel does (libos/plat/pc), the app's read()
// a system call into it; the app's buffer's alignment still chooses the path in the kernel
for (const placement of ['unikernel', 'mono'] as const) {
  test(`${placement}: fileread of data.bin (200 KiB) on both paths, bare machine; checksum = the host's; phases positive; image untouched`, () => {
    if (skip()) return;
    const fx = image(), before = sha(readFileSync(fx.img));
    const r = bootBare(buildGuestApp('fileread', placement).elf, fx.img);
    assert.is(r.status, 0, r.text);
    const { crc, paths } = parseRun(r.text);
    assert.is(crc, hex8(zlibCrc32(fx.data)));
    checkPhases(paths, true);
    assert.is(paths['zero-copy']!.reads, 2 * Math.ceil(fx.data.length / 65536), 'two passes of 64 KiB reads');
    assert.match(r.text, new RegExp(`^${placement === 'mono' ? 'mono' : 'uni'}: exit 0; iommu fault messages 0$`, 'm'));
    assert.is(sha(readFileSync(fx.img)), before, 'the image file is unchanged');
  });
}

test('unikernel: README.md (a partial last sector) and writes that reach the disk (copy-on-write)', () => {
  if (skip()) return;
  const fx = image(), before = sha(readFileSync(fx.img));
  const r = bootBare(buildGuestApp('fileread', 'unikernel', { defines: readmeDefines }).elf, fx.img);
  assert.is(r.status, 0, r.text);
  const { crc, paths } = parseRun(r.text);
  assert.is(crc, hex8(zlibCrc32(fx.readme)));
  checkPhases(paths, fx.readme.length % 512 === 0);
  assert.match(r.text, /^fileread: write check ok: scratch.bin now 5120 bytes$/m);
  // the disk as the guest left it: the pattern at [100, 3100), the size on disk grown
  const after = fsImageParse(r.disk).entries.find((e) => e.name === 'scratch.bin')!;
  assert.is(after.size, 5120);
  const got = fsImageFile(r.disk, 'scratch.bin')!;
  const want = Uint8Array.from({ length: 3000 }, (_, k) => (k * 13 + 7) & 0xff);
  assert.is(sha(got.subarray(100, 3100)), sha(want));
  assert.is(sha(got.subarray(0, 100)), sha(fx.scratch.subarray(0, 100)), 'the bytes before it kept');
  assert.is(sha(got.subarray(3100, 5000)), sha(fx.scratch.subarray(3100)), 'and after it');
  assert.is(sha(readFileSync(fx.img)), before, 'the image file is unchanged');
});

test('exo: fileread of data.bin through EXO_BLOCK_IO; checksum = the host\'s; phases positive; image untouched', () => {
  if (skip()) return;
  const fx = image(), before = sha(readFileSync(fx.img));
  const r = runExo(buildGuestApp('fileread', 'exo').elf, fx.img);
  assert.is(r.p.exit_status, 0, r.text);
  const { crc, paths } = parseRun(r.text);
  assert.is(crc, hex8(zlibCrc32(fx.data)));
  checkPhases(paths, true);
  assert.ok(r.p.exo_calls >= 2 * paths['zero-copy']!.reads, `one BLOCK_IO per read at least: ${r.p.exo_calls} exo-calls`);
  assert.is(sha(readFileSync(fx.img)), before, 'the image file is unchanged');
});

test('exo: README.md; writing needs a writable block range (EROFS on the default read-only one)', () => {
  if (skip()) return;
  const fx = image(), before = sha(readFileSync(fx.img));
  const elf = buildGuestApp('fileread', 'exo', { defines: readmeDefines }).elf;
  const ro = runExo(elf, fx.img);
  assert.is(ro.p.exit_status, 0, ro.text);
  assert.is(parseRun(ro.text).crc, hex8(zlibCrc32(fx.readme)));
  assert.match(ro.text, /^fileread: write: open scratch.bin: EROFS$/m);
  const sectors = readFileSync(fx.img).length / 512;
  const rw = runExo(elf, fx.img, `, caps: [{ type: block_range, base: 0, size: ${sectors}, rights: rw }]`);
  assert.is(rw.p.exit_status, 0, rw.text);
  assert.match(rw.text, /^fileread: write check ok: scratch.bin now 5120 bytes$/m);
  assert.is(sha(readFileSync(fx.img)), before, 'the image file is unchanged');
});

test('mono: each read() is one system call, exactly 2 privilege crossings (int 0x80 in, iret out), by the CPU\'s count', () => {
  if (skip()) return;
  const fx = image();
  // the same run but for the read() calls: four passes (two paths, two each) of the whole
  // file in CHUNK-byte reads and one more that returns 0; the same lines printed
  const calls = (chunk: number) => 4 * (Math.ceil(fx.data.length / chunk) + 1);
  const runs = [65536, 16384].map((chunk) => {
    const r = bootBare(buildGuestApp('fileread', 'mono', { defines: { CHUNK: chunk } }).elf, fx.img);
    assert.is(r.status, 0, r.text);
    // the first iret into ring 3 has no entry before it, the exit call no return after it
    assert.is(r.entries, r.exits);
    return { reads: calls(chunk), crossings: r.entries + r.exits };
  });
  const reads = runs[1]!.reads - runs[0]!.reads, crossings = runs[1]!.crossings - runs[0]!.crossings;
  assert.is(reads, 36);
  assert.is(crossings, 2 * reads, `${crossings} more crossings for ${reads} more reads`);
  console.log(`  mono read(): ${crossings / reads} crossings per read (${runs.map((x) => `${x.reads} reads, ${x.crossings} crossings in the run`).join('; ')})`);
});

test('mono: the POSIX system calls refuse pointers outside the app\'s pages with EFAULT, and the app goes on (test/libos/posix-boundary.c)', () => {
  if (skip()) return;
  mkdirSync(outDir, { recursive: true });
  const elf = buildGuestProgram(join('test', 'libos', 'posix-boundary.c'), 'mono').elf;
  const yaml = `name: posix-boundary\nseed: 1\nmachine: { cores: 1, ram: 64MiB }\n` +
    `principals:\n  - { name: pb, image: ${elf}, placement: mono, cores: [0], memory: 16MiB }\nrun: { for: 20ms }\n`;
  const s = new System(parseScenario(yaml, join(outDir, 'posix-boundary.yaml'), outDir));
  s.runToEnd();
  const r = s.report();
  assert.not.match(r.console, /FAIL/, r.console);
  assert.is((r.console.match(/^ok /gm) ?? []).length, 16, r.console);
  assert.match(r.console, /^done 0 failed$/m);
  assert.is((r.metrics as any).principals.pb.exit_status, 0, 'it ran to its end');
});

test('a LibOS refuses a corrupt image: a directory entry past the disk is not followed', () => {
  if (skip()) return;
  const fx = image();
  const img = new Uint8Array(readFileSync(fx.img));
  new DataView(img.buffer).setUint32(512 + 52, 0x7fffffff, true);   // data.bin's start
  const bad = join(outDir, 'corrupt.img');
  writeFileSync(bad, img);
  const r = runExo(buildGuestApp('fileread', 'exo').elf, bad);
  assert.is(r.p.exit_status, 2, r.text);
  assert.match(r.text, /posix: exofs refused: an entry's extent leaves the image \(0\)/);
  assert.match(r.text, /fileread: open data.bin: errno 5/);
});

// ---- sockets: sock-echo (socket, bind, recvfrom, sendto) in the three placements -------------

const be16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;

/** Every recorded frame an echo from port 7 of our address to one of gen's flows, as long as sent. */
function checkEchoes(pcap: string, count: number, text: string): void {
  const outs = readPcap(pcap).records.map((r) => r.data);
  assert.is(outs.length, count, text);
  for (const o of outs) {
    assert.equal(Array.from(o.subarray(6, 12)), [0x02, 0, 0, 0, 0, 0x01], 'from our MAC');
    assert.equal(Array.from(o.subarray(26, 30)), [10, 0, 0, 1], 'from our IP');
    assert.is(be16(o, 34), 7);
    assert.ok(be16(o, 36) >= 10000 && be16(o, 36) < 10004, `to port ${be16(o, 36)}`);
    assert.is(o.length, 200);
  }
  assert.match(text, /^sock-echo: error paths ok$/m);
  assert.match(text, new RegExp(`^sock-echo: echoed ${count} datagrams, ${count * 158} payload bytes, failed 0; sockets queued ${count}, queue full 0, no socket 0$`, 'm'));
  assert.match(text, new RegExp(`^net: received ${count} = answered 0 \\+ delivered ${count} \\+ dropped 0 ok$`, 'm'));
}

test('sockets, unikernel: sock-echo answers 500 gen: datagrams through socket/bind/recvfrom/sendto', () => {
  if (skip()) return;
  mkdirSync(outDir, { recursive: true });
  const elf = buildGuestApp('sock-echo', 'unikernel').elf, out = join(outDir, 'sock-echo-uni.pcap');
  rmSync(out, { force: true });
  const image = parseElf32(readFileSync(elf), elf);
  const m = new Machine({ ...machineConfig(loadProfile('default'), { cores: 1, ramBytes: 64 << 20, seed: 1 }),
    nic: { queues: 1, wire: `gen:rate=50/ms,size=200,flows=4,count=500,port=7+record:${out}` } });
  let text = '';
  try {
    m.loadImage(image, elf);
    m.boot(image.entry);
    m.run(400_000_000);
    text = m.consoleText();
    assert.is(m.sysctl.exitStatus, 0, text);
  } finally {
    m.close();
  }
  checkEchoes(out, 500, text);
});

/** sock-echo as a principal of the exokernel in `placement`, on 200 gen: datagrams; its metrics. */
function sockEchoIn(placement: 'exo' | 'mono'): any {
  mkdirSync(outDir, { recursive: true });
  const elf = buildGuestApp('sock-echo', placement).elf, out = join(outDir, `sock-echo-${placement}.pcap`);
  rmSync(out, { force: true });
  const yaml = `name: sock-echo\nseed: 1\nmachine: { cores: 1, ram: 64MiB, nic: { queues: 1, wire: "gen:rate=50/ms,size=200,flows=4,count=200,port=7", record: ${out} } }\n` +
    `principals:\n  - { name: se, image: ${elf}, placement: ${placement}, cores: [0], nic_queues: [0], memory: 16MiB }\nrun: { for: 100ms }\n`;
  const s = new System(parseScenario(yaml, join(outDir, 'sock-echo.yaml'), outDir));
  s.runToEnd();
  const r = s.report();
  const p = (r.metrics as any).principals.se;
  assert.is(p.exit_status, 0, r.console);
  checkEchoes(out, 200, r.console);
  return p;
}

test('sockets, exo: the same sock-echo as a ring-3 LibOS over its NIC queue', () => {
  if (skip()) return;
  sockEchoIn('exo');
});

test('sockets, mono: the same sock-echo in ring 3 over the mono kernel\'s sockets; 4 crossings per request (recvfrom, sendto)', () => {
  if (skip()) return;
  const p = sockEchoIn('mono');
  assert.is(p.requests, 200);
  // one recvfrom and one sendto per datagram, each an int 0x80 in and an iret out; the wait
  // for the next datagram is in the kernel, so no interrupt lands in ring 3
  assert.is(p.crossings_per_request, 4);
  assert.is(p.kernel_entries, 0, 'the exokernel itself is never entered');  console.log(`  mono sock-echo: ${p.crossings_per_request} crossings per request (${p.crossings} in the whole run, ${p.requests} requests)`);
});

test.run();
