// The exolab CLI as a user meets it: bad input is exit 2 with exactly one stderr line and no
// stack trace; help answers; `exec` passes a guest's output, exit code, fault and limit through.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { craftElf, craftElf64 } from '../machine/elf-craft.js';

// This file runs as dist/test/tui/cli.test.js: the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'tui', 'cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'exolab-cli-'));

interface Run { code: number | null; stdout: string; stderr: string }

function exolab(...args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: scratch, encoding: 'utf8', timeout: 60_000, stdio: ['pipe', 'pipe', 'pipe'], input: '',
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: string | Uint8Array): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

function assertUsageError(r: Run, pattern: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.is(r.code, 2, `exit code 2, stderr: ${r.stderr}`);
  assert.is(lines.length, 1, `exactly one stderr line, got:\n${r.stderr}`);
  assert.not.match(r.stderr, /^\s+at /m, 'no stack frames');
  assert.ok(lines[0].startsWith('exolab: '), lines[0]);
  assert.match(lines[0], pattern);
  assert.is(r.stdout, '', 'nothing on stdout');
}

/** A bare ring-0 image: `code` at physical 1 MiB + 0x54, loaded whole (memsz bytes in all). */
const BARE = 0x100000;
function bareElf(code: number[], memsz?: number, base = BARE): Uint8Array {
  return craftElf({
    code, entry: base + 52 + 32,
    phdrs: (l) => [{ type: 1, offset: 0, vaddr: base, filesz: l.length, memsz: memsz ?? l.length, flags: 7, align: 0x1000 }],
  });
}
/** mov dword [addr], value */
const movStore = (addr: number, value: number) => [0xc7, 0x05, ...le32(addr), ...le32(value)];
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const ICR_LO = 0xfee00300, ICR_HI = 0xfee00310, POWEROFF = 0xfe001000;
/** Power off with status 0, then halt. */
const powerOff = [...movStore(POWEROFF, 0), 0xf4, 0xeb, 0xfd];

const BAD: [string, () => string[], RegExp][] = [
  ['nonexistent file', () => ['exec', 'missing.elf'], /missing\.elf: no such file/],
  ['a directory', () => ['exec', scratch], /is a directory/],
  ['a text file', () => ['exec', file('notes.txt', 'just some text\n')], /notes\.txt: not an ELF file/],
  ['an empty file', () => ['exec', file('empty.elf', '')], /empty\.elf: file is empty/],
  ['a truncated ELF', () => ['exec', file('cut.elf', craftElf().slice(0, 30))], /cut\.elf: offset 0x1e: truncated/],
  ['an x86-64 ELF', () => ['exec', file('x64.elf', craftElf64())], /expected EM_386 \(3\), found EM_X86_64 \(62\)/],
  ['a PIE', () => ['exec', file('pie.elf', craftElf({ type: 3 }))], /ET_DYN.*-no-pie/],
  ['an unknown flag', () => ['--frobnicate'], /unknown option --frobnicate/],
  ['an unknown flag after exec', () => ['exec', file('ok.elf', craftElf()), '--turbo'], /unknown option --turbo/],
  ['an unknown command', () => ['frobnicate', 'x.elf'], /unknown command 'frobnicate'/],
  ['exec without a file', () => ['exec'], /expected FILE\.elf/],
  ['exec with two files', () => ['exec', 'a.elf', 'b.elf'], /Unknown argument/],
  ['a bad instruction limit', () => ['exec', file('ok.elf', craftElf()), '--max-instructions', 'lots'],
    /--max-instructions: expected a positive integer, found 'lots'/],
  ['a missing instruction limit', () => ['exec', file('ok.elf', craftElf()), '--max-instructions'],
    /max-instructions/],
  ['boot without an image', () => ['boot'], /boot: expected FILE\.elf or --restore/],
  ['boot of a missing file', () => ['boot', 'missing.elf'], /missing\.elf: no such file/],
  ['boot with zero cores', () => ['boot', file('ok.elf', craftElf()), '--cores', '0'], /--cores: expected an integer from 1 to 64, found '0'/],
  ['boot with 65 cores', () => ['boot', file('ok.elf', craftElf()), '--cores', '65'], /--cores: expected an integer from 1 to 64/],
  ['boot with a bad time unit', () => ['boot', file('ok.elf', craftElf()), '--for', '2xs'], /--for: unknown time unit "xs"/],
  ['boot with a bad RAM size', () => ['boot', file('ok.elf', craftElf()), '--ram', 'lots'], /--ram: /],
  ['boot with an unknown profile', () => ['boot', file('ok.elf', craftElf()), '--profile', 'nosuch'], /nosuch/],
  ['boot with a bad profile file', () => ['boot', file('ok.elf', craftElf()), '--profile', file('bad.yaml', 'clock: 2GHz\nquantum: 1000\ncpuu: {}\n')],
    /bad\.yaml:\d+:\d+: /],
  // Regression: yargs took `--stats=7` for a boolean as false and ran on in silence.
  ['a boolean flag given a value (exec --stats=7)', () => ['exec', file('ok.elf', craftElf()), '--stats=7'],
    /--stats takes no value, found '--stats=7'.*exolab exec --help/],
  ['a boolean flag given true (boot --hash=true)', () => ['boot', file('ok.elf', craftElf()), '--hash=true'], /--hash takes no value/],
  ['a boolean flag given a value (run --headless=yes)', () => ['run', 'demo', '--headless=yes'], /--headless takes no value/],
  ['a boolean alias given a value (-h=1)', () => ['boot', '-h=1'], /-h takes no value/],
  ['boot of an image past the end of RAM', () => ['boot', file('big.elf', bareElf(powerOff, 3 << 20)), '--ram', '2MiB'],
    /big\.elf: segment at physical 0x100000 \(3145728 bytes\) ends past the 2 MiB of RAM; give --ram 4MiB or more$/],
  ['boot of an image linked high', () => ['boot', file('high.elf', craftElf())],
    /give --ram 129MiB or more, or link the image at 1 MiB \(gcc -Wl,-Ttext-segment=0x100000\)$/],
  ['restore of a file that is no snapshot', () => ['boot', '--restore', file('notes.snap', 'hello\n')], /notes\.snap: not an exolab snapshot/],
];

for (const [name, args, pattern] of BAD) {
  test(`bad input: ${name} -> exit 2, one line`, () => assertUsageError(exolab(...args()), pattern));
}

test('--help answers with the commands and examples', () => {
  const r = exolab('--help');
  assert.is(r.code, 0);
  assert.match(r.stdout, /exolab exec <file>/);
  assert.match(r.stdout, /Examples:/);
  const e = exolab('exec', '--help');
  assert.is(e.code, 0);
  assert.match(e.stdout, /--max-instructions/);
  assert.match(e.stdout, /124/);
  assert.match(e.stdout, /Examples:/);
});

test('--version prints the package version', () => {
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const r = exolab('--version');
  assert.is(r.code, 0);
  assert.is(r.stdout.trim(), version);
});

test('no command, no TTY: says so and runs the built-in demo headless (exit 0: its expectations hold)', () => {
  const r = exolab();
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /^exolab: no terminal .*running headless\n$/);
  assert.match(r.stdout, /^demo: [\d.]+ ms simulated/);
  assert.match(r.stdout, /expectation\(s\) held/);
});

// Guest programs through the whole path: gcc -> ELF -> loader -> CPU -> Linux int 0x80 subset.
const RT = `
static void sys_exit(int code) { __asm__ volatile ("int $0x80" :: "a"(1), "b"(code)); for (;;) ; }
static void sys_write(int fd, const char *s, int n) { int r; __asm__ volatile ("int $0x80" : "=a"(r) : "a"(4), "b"(fd), "c"(s), "d"(n) : "memory"); }
`;
const GUESTS: Record<string, string> = {
  hello: `${RT} void _start(void) { sys_write(1, "hello\\n", 6); sys_write(2, "warn\\n", 5); sys_exit(3); }`,
  divzero: `${RT} volatile int zero; void _start(void) { sys_exit(100 / zero); }`,
  spin: `${RT} void _start(void) { for (volatile int i = 0; ; i++) ; }`,
};

function buildGuest(name: string): string | null {
  const src = file(`${name}.c`, GUESTS[name]);
  const out = join(scratch, `${name}.elf`);
  const r = spawnSync('gcc', ['-m32', '-static', '-nostdlib', '-ffreestanding', '-fno-pic', '-no-pie',
    '-mgeneral-regs-only', '-fno-stack-protector', '-O1', '-o', out, src], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    console.log(`  skipped: gcc -m32 cannot build guest programs here (${r.error?.message ?? r.stderr.trim().split('\n')[0]})`);
    return null;
  }
  return out;
}

test('exec: guest stdout, stderr and exit code pass through', () => {
  const elf = buildGuest('hello');
  if (!elf) return;
  const r = exolab('exec', elf);
  assert.is(r.stdout, 'hello\n');
  assert.is(r.stderr, 'warn\n');
  assert.is(r.code, 3);
});

test('exec --stats: a table of instructions, cycles, host seconds and MIPS on stderr', () => {
  const elf = buildGuest('hello');
  if (!elf) return;
  const r = exolab('exec', elf, '--stats');
  assert.is(r.code, 3);
  for (const label of ['guest instructions', 'guest cycles', 'host seconds', 'MIPS']) {
    assert.match(r.stderr, new RegExp(`^${label}\\s+[0-9.]+$`, 'm'));
  }
});

test('exec: a guest fault is one qemu-style line and 128+signal', () => {
  const elf = buildGuest('divzero');
  if (!elf) return;
  const r = exolab('exec', elf);
  assert.is(r.code, 136);
  assert.match(r.stderr, /^exolab: guest fault #DE \(divide error\) at eip 0x[0-9a-f]{8}: killed by SIGFPE\n$/);
});

test('exec --max-instructions: a runaway guest stops with exit 124', () => {
  const elf = buildGuest('spin');
  if (!elf) return;
  const r = exolab('exec', elf, '--max-instructions', '10000');
  assert.is(r.code, 124);
  assert.match(r.stderr, /^exolab: stopped after 10000 guest instructions/);
});

// Regression: smp-bench.c started its cores with `0x4600 | ap_entry >> 12`, which overflows the
// 8-bit vector once linked at 1 MiB as README.md says; cores 1-3 waited in silence.
test('boot: a STARTUP IPI to a page with no code, and an ICR write that is ignored, each warn on stderr', () => {
  const elf = file('sipi.elf', bareElf([
    ...movStore(ICR_HI, 1 << 24), ...movStore(ICR_LO, 0x4500), // INIT to core 1
    ...movStore(ICR_LO, 0x4620), ...movStore(ICR_LO, 0x4620),  // STARTUP at 0x20000, nothing there (twice: one line)
    ...movStore(ICR_LO, 0x4701),                                // 0x4600 | 0x101000 >> 12: ExtINT
    ...powerOff,
  ]));
  const r = exolab('boot', elf, '--cores', '2');
  assert.is(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 2, r.stderr);
  assert.match(lines[0], /^exolab: warning: core 0 sent a STARTUP IPI with vector 0x20 to core 1: it starts at physical 0x20000, where no code is loaded; a STARTUP vector is 8 bits, so a core starts on a 4 KiB page below 1 MiB/);
  assert.match(lines[1], /^exolab: warning: core 0 wrote ICR 0x00004701: delivery mode 7 \(ExtINT\) is not modelled, the IPI was ignored; if this was meant as a STARTUP IPI/);
});

test('boot --stats with a NIC: its counters and the wire\'s drops, on lines of their own', () => {
  const r = exolab('boot', file('off.elf', bareElf(powerOff)), '--wire', 'loop', '--stats');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /^nic   received 0, delivered 0, dropped 0, in flight 0; sent 0, not sent 0$/m);
  assert.match(r.stderr, /^wire  loop: dropped before the NIC 0$/m);
  assert.not.match(exolab('boot', file('off.elf', bareElf(powerOff)), '--stats').stderr, /^nic /m, 'no NIC, no NIC line');
});

/** README.md's own build line for smp-bench.c, from its "Boot a bare ring-0 image" section. */
function readmeSmpBuild(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Boot a bare ring-0 image'));
  const m = /^gcc (.*?)-o smp\.elf$/ms.exec(section);
  assert.ok(m, 'README.md builds smp-bench.c with a gcc line ending in -o smp.elf');
  return m![1]!.replace(/\\\n/g, ' ').split(/\s+/).filter((a) => a !== '');
}

test('README: smp-bench.c built as README.md says starts every core under exolab boot --cores 4', () => {
  const args = readmeSmpBuild().map((a) => (a === 'test/bench/smp-bench.c' ? join(ROOT, a) : a));
  assert.ok(args.includes('-Wl,-Ttext-segment=0x100000'), `README links at 1 MiB: ${args.join(' ')}`);
  const out = join(scratch, 'smp.elf');
  const b = spawnSync('gcc', [...args, '-DROUNDS=1', '-o', out], { encoding: 'utf8' }); // one round: the same start-up, sooner
  if (b.error || b.status !== 0) {
    console.log(`  skipped: gcc -m32 cannot build smp-bench.c here (${b.error?.message ?? b.stderr.trim().split('\n')[0]})`);
    return;
  }
  const r = exolab('boot', out, '--cores', '4', '--for', '20ms');
  assert.is(r.stderr, '', 'no warning');
  assert.match(r.stdout, /^smp-bench: cores 00000004 result [0-9a-f]{8} ok\n$/);
  assert.is(r.code, 0);
});

test.run();
