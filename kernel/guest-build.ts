// The guest build: app X for placement P -> build/guest/X-P.elf, from the LibOS (libos/libc,
// libos/net, libos/posix, libos/exo + libos/pager for exo, libos/plat/<placement>) and the app
// (apps/X/*.c) with the system gcc and `ld -m elf_i386` and the placement's linker script. A
// build is named by a content hash of everything that goes into it (sources, headers, linker
// script, flags, defines, the tool versions): the same hash again is a cache hit and costs one
// hash, no compiler run. One source file (a guest test program) builds the same way, without
// libos/net and libos/posix (buildGuestProgram). In the mono placement the app (or program)
// is the ring-3 side of one image, with its own libos/libc and libos/plat/mono/user, and the
// LibOS with libos/net is the ring-0 side (monoSides).
//
//   node dist/kernel/guest-build.js reflector unikernel [-DNAME=VALUE ...]
//   node dist/kernel/guest-build.js test/guest/exo/irq.c exo
//   node dist/kernel/guest-build.js --all

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../machine/errors.js';
import { NIC_QUEUE_BASE, NIC_QUEUE_STRIDE } from '../machine/nic.js';
import { codeRangesFromFiles, type CodeRange } from './guest-map.js';

export const PLACEMENTS = ['unikernel', 'exo', 'mono'] as const;
export type Placement = typeof PLACEMENTS[number];
/** Where each placement's platform layer lives under libos/plat/. */
const PLAT_DIR: Record<Placement, string> = { unikernel: 'uni', exo: 'exo', mono: 'mono' };
/** The bare machine's board (PCI, the IOMMU, the disk) under libos/plat/, for the placements whose ring-0 side drives it itself. */
const BOARD_DIR: Record<Placement, string | null> = { unikernel: 'pc', exo: null, mono: 'pc' };

/** gcc older than this lacks flags the guests need (-mgeneral-regs-only on x86 came in 7). */
export const GCC_MIN_MAJOR = 7;

const CFLAGS = [
  '-m32', '-march=i686', '-std=gnu11', '-ffreestanding', '-nostdlib', '-fno-pic', '-fno-pie',
  '-mgeneral-regs-only', '-fno-stack-protector', '-fno-tree-loop-distribute-patterns',
  '-fno-asynchronous-unwind-tables', '-fno-exceptions', '-Wall', '-Wextra', '-Wno-unused-parameter',
  '-Werror=implicit-function-declaration',
];
/** Bump when the build recipe changes in a way the hash would not see. */
const RECIPE = 1;

export interface GuestBuildOptions {
  /** -D definitions; they name a separate output (X-P-<hash of the defines>.elf). */
  defines?: Record<string, string | number>;
  opt?: '-O0' | '-O1' | '-O2' | '-Os';
  /** The repository root (default: found from this module). */
  root?: string;
  /** Link libos/posix into an app (default true); false leaves it out, for an app that calls none of it (X-noposix-P.elf). */
  posix?: boolean;
}

export interface GuestBuild {
  elf: string;
  /** The content hash the build is named by. */
  hash: string;
  /** True when nothing was compiled. */
  cached: boolean;
  sources: string[];
  /** <elf>.manifest.json: what went into the image (ImageManifest); none for a raw guest. */
  manifest?: string;
}

/** One source file linked into an image: its LibOS module (directory), language and ring. */
export interface ManifestComponent { source: string; module: string; language: 'c' | 'asm'; ring: 0 | 3 }

/**
 * What an image is made of, written beside it by every build (cached or not). `code`: the
 * address ranges of its code, each the app's or the LibOS's (kernel/guest-map.ts, from the
 * link map), by which the exokernel splits a principal's cycles.
 */
export interface ImageManifest { image: string; placement: Placement; hash: string; components: ManifestComponent[]; code: CodeRange[] }

interface Tools { gcc: string; ld: string }
let tools: Tools | undefined;

/** Check once that gcc and ld can build -m32 guests; one InputError saying what is missing. */
export function guestTools(): Tools {
  if (tools) return tools;
  const v = spawnSync('gcc', ['-dumpfullversion', '-dumpversion'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) {
    throw new InputError(`guest build: gcc not found (${v.error?.message ?? v.stderr.trim()}); install gcc and binutils that can build 32-bit code (gcc -m32)`);
  }
  const version = v.stdout.trim();
  const major = Number(version.split('.')[0]);
  if (!(major >= GCC_MIN_MAJOR)) {
    throw new InputError(`guest build: gcc ${version} is too old; gcc ${GCC_MIN_MAJOR} or later is needed (-mgeneral-regs-only on x86)`);
  }
  const l = spawnSync('ld', ['-V'], { encoding: 'utf8' });
  if (l.error || l.status !== 0) throw new InputError(`guest build: ld not found (${l.error?.message ?? l.stderr.trim()}); install binutils`);
  if (!/\belf_i386\b/.test(l.stdout)) throw new InputError('guest build: ld cannot link 32-bit x86 (no elf_i386 emulation); install binutils for x86');
  const probe = spawnSync('gcc', [...CFLAGS, '-x', 'c', '-c', '-o', '/dev/null', '-'], { input: 'int probe(int x) { return x + 1; }\n', encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new InputError(`guest build: gcc ${version} cannot compile -m32 freestanding code (${(probe.stderr || '').trim().split('\n')[0]}); install gcc with 32-bit support`);
  }
  tools = { gcc: `gcc ${version}`, ld: l.stdout.split('\n')[0]!.trim() };
  return tools;
}

export function repoRootOf(start = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'exolab') return dir;
    if (dirname(dir) === dir) throw new Error('guest-build: no exolab package.json above this module');
  }
}

/** The apps there are: directories of apps/ with C sources (scenarios are not apps). */
export function guestApps(root = repoRootOf()): string[] {
  const dir = join(root, 'apps');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((a) => a !== 'scenarios' && statSync(join(dir, a)).isDirectory() &&
    readdirSync(join(dir, a)).some((f) => f.endsWith('.c'))).sort();
}

const filesIn = (dir: string, exts: string[]): string[] =>
  existsSync(dir) ? readdirSync(dir).filter((f) => exts.some((e) => f.endsWith(e))).sort().map((f) => join(dir, f)) : [];

/** Build `app` for `placement` (see the top of the file); throws InputError on bad input. */
export function buildGuestApp(app: string, placement: string, o: GuestBuildOptions = {}): GuestBuild {
  const root = o.root ?? repoRootOf();
  const apps = guestApps(root);
  if (!/^[\w-]+$/.test(app) || !apps.includes(app)) {
    throw new InputError(`guest build: no app "${app}" (apps/: ${apps.join(', ') || 'none'})`);
  }
  const plat = platformDir(root, placement);
  const posix = o.posix ?? true, name = posix ? app : `${app}-noposix`;
  if (placement === 'mono') {
    const appDir = join(root, 'apps', app), m = monoSides(root, plat, filesIn(appDir, ['.c', '.S']), posix);
    return buildFrom(root, name, 'mono', m.kernel, [...m.dirs, appDir], { app }, o, m.user);
  }
  const dirs = [...libosDirs(root, placement as Placement, true, posix), ...platDirs(root, placement as Placement, plat), join(root, 'apps', app)];
  return buildFrom(root, name, placement as Placement, dirs.flatMap((d) => filesIn(d, ['.c', '.S'])), dirs, { app }, o);
}

/**
 * The mono placement's two sides (libos/plat/mono/plat.c): the kernel is the LibOS with its
 * network stack (the system calls serve it) and the platform, and with libos/posix its system
 * calls (libos/plat/mono/posix); the user side is the app's
 * `sources` with a libos/libc of its own and libos/plat/mono/user, linked apart (buildFrom's
 * `user`).
 */
function monoSides(root: string, plat: string, sources: string[], posix = true): { kernel: string[]; user: string[]; dirs: string[] } {
  const kdirs = [...libosDirs(root, 'mono', true, posix), ...platDirs(root, 'mono', plat), ...(posix ? [join(plat, 'posix')] : [])], udirs = [join(root, 'libos', 'libc'), join(plat, 'user')];
  const files = (ds: string[]) => ds.flatMap((d) => filesIn(d, ['.c', '.S']));
  return { kernel: files(kdirs), user: [...files(udirs), ...sources], dirs: [...kdirs, ...udirs] };
}

/**
 * Build one program, `sourceFile` (a .c or .S; relative to the repository root or absolute),
 * for `placement` instead of an apps/ directory: with libos/libc, libos/exo (exo placement
 * only) and the placement's platform layer, not libos/net. Headers next to the source and
 * libos/net's count in the hash. Output: build/guest/<the source's path, '/' as '-', no
 * extension>-P.elf.
 */
export function buildGuestProgram(sourceFile: string, placement: string, o: GuestBuildOptions = {}): GuestBuild {
  const root = o.root ?? repoRootOf();
  const src = resolve(root, sourceFile);
  if (!/\.(c|S)$/.test(src) || !existsSync(src) || !statSync(src).isFile()) {
    throw new InputError(`guest build: no C or assembly source "${sourceFile}"`);
  }
  const plat = platformDir(root, placement);
  const rel = relative(root, src);
  const program = (rel.startsWith('..') ? src : rel).replace(/\.(c|S)$/, '').replace(/^[/\\]+/, '').replace(/[/\\]+/g, '-');
  if (!/^[\w.-]+$/.test(program)) throw new InputError(`guest build: the source path "${sourceFile}" makes no file name`);
  if (placement === 'mono') {   // the program is the app; the kernel side needs libos/net
    const m = monoSides(root, plat, [src]);
    return buildFrom(root, program, 'mono', m.kernel, [...m.dirs, dirname(src)], { program: rel }, o, m.user);
  }
  const dirs = [...libosDirs(root, placement as Placement, false), ...platDirs(root, placement as Placement, plat)];
  const sources = [...dirs.flatMap((d) => filesIn(d, ['.c', '.S'])), src];
  // libos/net's headers count too: a program may include its register maps (nicq.h)
  const headerDirs = [...dirs, join(root, 'libos', 'net'), dirname(src)];
  return buildFrom(root, program, placement as Placement, sources, headerDirs, { program: rel }, o);
}

/** The placement's platform directory, checked to exist with its linker script. */
function platformDir(root: string, placement: string): string {
  if (!(PLACEMENTS as readonly string[]).includes(placement)) {
    throw new InputError(`guest build: placement must be one of ${PLACEMENTS.join(', ')}, got "${placement}"`);
  }
  const plat = join(root, 'libos', 'plat', PLAT_DIR[placement as Placement]);
  if (!existsSync(join(plat, 'link.ld'))) {
    throw new InputError(`guest build: placement ${placement} has no platform layer yet (${relative(root, plat)}/link.ld is missing)`);
  }
  return plat;
}

/** The platform directory, after the board it drives (BOARD_DIR) if any. */
function platDirs(root: string, placement: Placement, plat: string): string[] {
  const board = BOARD_DIR[placement];
  return board === null ? [plat] : [join(root, 'libos', 'plat', board), plat];
}

/** The LibOS parts below the platform: libc, the network stack and posix if asked, libexo and the pager for exo. */
function libosDirs(root: string, placement: Placement, net: boolean, posix = net): string[] {
  const dirs = [join(root, 'libos', 'libc')];
  if (net) dirs.push(join(root, 'libos', 'net'));
  if (posix) dirs.push(join(root, 'libos', 'posix'));
  if (placement === 'exo') dirs.push(join(root, 'libos', 'exo'), join(root, 'libos', 'pager'));
  return dirs;
}

/**
 * Compile `sources` and link them with the placement's script into build/guest/<name>-P.elf,
 * unless the content hash (sources, the headers of libos/include and `headerDirs`, script,
 * flags, tools, `key`) matches the last build's. `user` sources (mono) are linked apart first
 * into one object whose symbols become __user_* and whose sections .user.*, so that the
 * script can put them on user pages and nothing of theirs resolves against the kernel's.
 */
function buildFrom(root: string, name0: string, placement: Placement, sources: string[], headerDirs: string[],
  key: Record<string, string>, o: GuestBuildOptions, user: string[] = []): GuestBuild {
  const script = join(root, 'libos', 'plat', PLAT_DIR[placement], 'link.ld');
  const t = guestTools();
  const include = join(root, 'libos', 'include');
  const headers = [...new Set([include, ...headerDirs])].flatMap((d) => filesIn(d, ['.h']));
  const defines: Record<string, string> = {
    EXO_NIC_QUEUE_BASE: `0x${NIC_QUEUE_BASE.toString(16)}`,
    EXO_NIC_QUEUE_STRIDE: `0x${NIC_QUEUE_STRIDE.toString(16)}`,
  };
  const userDefines = Object.entries(o.defines ?? {}).map(([k, v]) => {
    if (!/^[A-Za-z_]\w*$/.test(k)) throw new InputError(`guest build: bad define name "${k}"`);
    return [k, String(v)] as const;
  }).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [k, v] of userDefines) defines[k] = v;
  const cflags = [...CFLAGS, o.opt ?? '-O2', '-I', include, ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`)];

  const h = createHash('sha256');
  h.update(JSON.stringify({ RECIPE, tools: t, cflags, placement, ...key, user: user.map((f) => relative(root, f)) }));
  for (const f of [...new Set([...sources, ...user, ...headers, script])].sort()) {
    h.update(`\0${relative(root, f)}\0`);
    h.update(readFileSync(f));
  }
  const hash = h.digest('hex');
  const tag = userDefines.length ? `-${createHash('sha256').update(JSON.stringify(userDefines)).digest('hex').slice(0, 8)}` : '';
  const outDir = join(root, 'build', 'guest');
  const name = `${name0}-${placement}${tag}`;
  const elf = join(outDir, `${name}.elf`), stamp = `${elf}.hash`;
  // The link maps (the manifest's code ranges come from them) are kept beside the ELF, each
  // replaced whole, before the stamp that makes the next build a cache hit.
  const objDir = join(outDir, 'obj', name), userDir = join(objDir, 'user'), userObj = join(objDir, 'user.o');
  const linkMap = `${elf}.map`, userMap = `${elf}.user.map`;
  const objOf = (dir: string, src: string) => join(dir, `${relative(root, src).replace(/[/\\]/g, '_')}.o`);
  const manifest = () => {
    const code = codeRangesFromFiles(root, linkMap, new Map(sources.map((f) => [objOf(objDir, f), f])),
      user.length === 0 ? undefined : { map: userMap, object: userObj, sources: new Map(user.map((f) => [objOf(userDir, f), f])) });
    return writeManifest(root, elf, placement, hash, sources, user, code);
  };
  if (existsSync(elf) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash &&
    existsSync(linkMap) && (user.length === 0 || existsSync(userMap))) {
    return { elf, hash, cached: true, sources: [...sources, ...user], manifest: manifest() };
  }

  rmSync(objDir, { recursive: true, force: true });
  mkdirSync(objDir, { recursive: true });
  const compile = (dir: string) => (src: string) => {
    const obj = objOf(dir, src);
    run('gcc', [...cflags, '-c', '-o', obj, src], `compiling ${relative(root, src)}`);
    return obj;
  };
  const objs = sources.map(compile(objDir));
  if (user.length > 0) {
    mkdirSync(userDir);
    run('ld', ['-m', 'elf_i386', '-r', '-d', `-Map=${join(objDir, 'user.map')}`, '-o', userObj, ...user.map(compile(userDir))], `linking the user side of ${name}`);
    run('objcopy', ['--prefix-symbols=__user_', '--prefix-alloc-sections=.user', userObj], `renaming the user side of ${name}`);
    objs.push(userObj);
  }
  const tmp = `${elf}.tmp${process.pid}`;
  try {
    run('ld', ['-m', 'elf_i386', '-nostdlib', '--build-id=none', `-Map=${tmp}.map`, '-T', script, '-o', tmp, ...objs], `linking ${name}.elf`);
  } catch (e) {
    const missing = [...new Set([...(e as Error).message.matchAll(/undefined reference to `__user_(\w+)'/g)].map((m) => m[1]!))];
    // The pager is the exo placement's (it pages through exo-calls): an app of it elsewhere is not served.
    const pager = [...new Set([...(e as Error).message.matchAll(/undefined reference to `(pager_\w+)'/g)].map((m) => m[1]!))];
    if (pager.length > 0 && placement !== 'exo') {
      throw new NotServedError(`guest build: ${name0} cannot run in the ${placement} placement: it calls ${pager.join(', ')}, and libos/pager pages through exo-calls (exo placement only)`);
    }
    if (user.length === 0 || missing.length === 0) throw e;
    throw new NotServedError(`guest build: ${name0} cannot run in the ${placement} placement: it calls ${missing.join(', ')}, which its kernel does not serve as system calls (libos/plat/${PLAT_DIR[placement]}/mono.h)`);
  }
  if (user.length > 0) renameSync(join(objDir, 'user.map'), userMap);
  renameSync(`${tmp}.map`, linkMap);
  renameSync(tmp, elf);   // whole or not at all
  writeFileSync(stamp, `${hash}\n`);
  return { elf, hash, cached: false, sources: [...sources, ...user], manifest: manifest() };
}

/**
 * <elf>.manifest.json: each source linked in, with its module (its directory), language and
 * the ring it runs in: all 0 for a unikernel, all 3 for an exo LibOS, mono's user side 3 and
 * its kernel 0; and the code ranges, app or LibOS. Returns the path.
 */
function writeManifest(root: string, elf: string, placement: Placement, hash: string, sources: string[], user: string[], code: CodeRange[]): string {
  const entry = (ring: 0 | 3) => (f: string): ManifestComponent => ({
    source: relative(root, f), module: relative(root, dirname(f)), language: f.endsWith('.S') ? 'asm' : 'c', ring,
  });
  const kernelRing = placement === 'exo' ? 3 : 0;
  const m: ImageManifest = { image: relative(root, elf), placement, hash, components: [...sources.map(entry(kernelRing)), ...user.map(entry(3))], code };
  const file = `${elf}.manifest.json`, tmp = `${file}.tmp${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(m, null, 1)}\n`);
  renameSync(tmp, file);
  return file;
}

/** An app needs what the placement's kernel does not offer it (mono: a call with no system call). */
export class NotServedError extends InputError {}

/**
 * A raw ring-3 principal from one C file and the headers beside it (no LibOS: its own _start
 * and int 0x80), linked at 16 MiB: the kernel tests and the labs' guests. Cached by content.
 */
export function buildRawGuest(sourceFile: string, o: GuestBuildOptions = {}): GuestBuild {
  const root = o.root ?? repoRootOf();
  const src = resolve(root, sourceFile);
  if (!existsSync(src)) throw new InputError(`guest build: no source "${sourceFile}"`);
  const t = guestTools();
  const dir = dirname(src), include = join(root, 'libos', 'include');
  const defs = Object.entries(o.defines ?? {}).map(([k, v]) => `-D${k}=${v}`).sort();
  const flags = ['-m32', '-ffreestanding', '-nostdlib', '-static', '-no-pie', '-fno-pic', o.opt ?? '-O2', '-mgeneral-regs-only',
    '-fno-stack-protector', '-Wall', '-I', include, '-I', dir, '-Wl,-Ttext-segment=0x1000000', '-Wl,--build-id=none', ...defs];
  const h = createHash('sha256');
  h.update(JSON.stringify({ RECIPE, tools: t, flags }));
  for (const f of [src, ...filesIn(dir, ['.h']), ...filesIn(include, ['.h'])].sort()) { h.update(`\0${relative(root, f)}\0`); h.update(readFileSync(f)); }
  const hash = h.digest('hex');
  const outDir = join(root, 'build', 'guest', 'raw');
  mkdirSync(outDir, { recursive: true });
  const tag = defs.length ? `-${createHash('sha256').update(defs.join(' ')).digest('hex').slice(0, 8)}` : '';
  const elf = join(outDir, `${relative(root, src).replace(/[/\\]/g, '_').replace(/\.c$/, '')}${tag}.elf`), stamp = `${elf}.hash`;
  if (existsSync(elf) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return { elf, hash, cached: true, sources: [src] };
  const tmp = `${elf}.tmp${process.pid}`;
  run('gcc', [...flags, '-o', tmp, src], `building ${relative(root, src)}`);
  renameSync(tmp, elf);
  writeFileSync(stamp, `${hash}\n`);
  return { elf, hash, cached: false, sources: [src] };
}

/** A compiler error is the user's (their C), so an InputError with the compiler's own words. */
function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new InputError(`guest build: ${cmd} failed ${what}:\n${(r.error?.message ?? (r.stderr || r.stdout)).trim()}`);
  }
}

// ---- the command line ----------------------------------------------------------------

function cli(argv: string[]): number {
  const usage = 'usage: node dist/kernel/guest-build.js APP|FILE.c PLACEMENT [-DNAME=VALUE ...] | --all [--install]';
  // `npm install` builds every app (--all --install): without a usable gcc it says so once and
  // lets the install finish (exolab then says the same when a scenario needs a guest).
  const install = argv[0] === '--all' && argv[1] === '--install' && argv.length === 2;
  if (install) {
    argv = ['--all'];
    try { guestTools(); } catch (e) {
      if (!(e instanceof InputError)) throw e;
      console.error(`exolab: the guests were not built: ${e.message}`);
      return 0;
    }
  }
  try {
    if (argv.includes('--help') || argv.includes('-h')) { console.log(usage); return 0; }
    const jobs: [string, string][] = [];
    const defines: Record<string, string> = {};
    if (argv[0] === '--all' && argv.length === 1) {
      const root = repoRootOf();
      for (const app of guestApps(root)) {
        for (const p of PLACEMENTS) if (existsSync(join(root, 'libos', 'plat', PLAT_DIR[p], 'link.ld'))) jobs.push([app, p]);
      }
    } else {
      const [app, placement, ...rest] = argv;
      if (!app || !placement) throw new InputError(usage);
      for (const d of rest) {
        const m = /^-D([A-Za-z_]\w*)(?:=(.*))?$/.exec(d);
        if (!m) throw new InputError(`guest build: unexpected argument "${d}"\n${usage}`);
        defines[m[1]!] = m[2] ?? '1';
      }
      jobs.push([app, placement]);
    }
    const tally = { built: 0, cached: 0, skipped: 0 };
    for (const [app, p] of jobs) {
      let b: GuestBuild;
      try {
        b = /\.(c|S)$/.test(app) ? buildGuestProgram(app, p, { defines }) : buildGuestApp(app, p, { defines });
      } catch (e) {
        if (!(e instanceof NotServedError) || argv[0] !== '--all') throw e;
        tally.skipped++;
        if (!install) console.log(`skipped: ${e.message.replace(/^guest build: /, '')}`);   // --all: what cannot be built there
        continue;
      }
      tally[b.cached ? 'cached' : 'built']++;
      if (!install) console.log(`${relative(process.cwd(), b.elf) || b.elf}${b.cached ? ' (cached)' : ''}`);
    }
    if (install) console.log(`exolab: guests built into build/guest/: ${tally.built} compiled, ${tally.cached} up to date, ${tally.skipped} app/placement pairs not served`);
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
