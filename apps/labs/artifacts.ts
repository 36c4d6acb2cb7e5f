// What the tcb and risk labs measure: the built artifacts themselves. An image's code is the
// SHF_EXECINSTR sections of its ELF (machine/elf.ts), split by ring as the placement maps them
// (mono's user side is the .user.* sections); its components are the sources its build linked
// in (the manifest kernel/guest-build.ts writes beside it). The exokernel is TypeScript, so it
// has no machine code to count: its measure is the compiled modules Node loads (dist/kernel/exo
// and dist/kernel/caps) and the code lines of their sources.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseElf32Sections, SHF_ALLOC, SHF_EXECINSTR } from '../../machine/elf.js';
import { buildGuestApp, repoRootOf, type GuestBuild, type ImageManifest, type ManifestComponent } from '../../kernel/guest-build.js';

/** A placement as built: the ELF, its manifest, the build's answer. */
export interface BuiltImage { build: GuestBuild; manifest: ImageManifest }

/** Build `app` for `placement` (posix linked or not) and read the manifest the build wrote. */
export function builtImage(app: string, placement: string, posix: boolean): BuiltImage {
  const build = buildGuestApp(app, placement, { posix });
  return { build, manifest: JSON.parse(readFileSync(build.manifest!, 'utf8')) as ImageManifest };
}

/** Bytes of code in an ELF file (executable or object), ring 0 and ring 3 (mono's .user.* sections). */
export function codeBytes(file: string): { ring0: number; ring3: number } {
  const out = { ring0: 0, ring3: 0 };
  for (const s of parseElf32Sections(readFileSync(file), file)) {
    if ((s.flags & (SHF_ALLOC | SHF_EXECINSTR)) !== (SHF_ALLOC | SHF_EXECINSTR) || s.size === 0) continue;
    if (s.name.startsWith('.user.')) out.ring3 += s.size; else out.ring0 += s.size;
  }
  return out;
}

/**
 * Each component's code bytes, from the object files the build left in build/guest/obj/NAME/
 * (mono's user side in user/); null when they are gone (a cache hit after a clean).
 */
export function componentCode(img: BuiltImage): Map<ManifestComponent, number> | null {
  const root = repoRootOf(), name = basename(img.build.elf).replace(/\.elf$/, '');
  const objDir = join(root, 'build', 'guest', 'obj', name), out = new Map<ManifestComponent, number>();
  for (const c of img.manifest.components) {
    const sub = img.manifest.placement === 'mono' && c.ring === 3 ? 'user' : '';
    const obj = join(objDir, sub, `${c.source.replace(/[/\\]/g, '_')}.o`);
    if (!existsSync(obj)) return null;
    const b = codeBytes(obj);
    out.set(c, b.ring0 + b.ring3);
  }
  return out;
}

/** Sums of `bytes` by the components' module, for a breakdown: "libos/net": 9000, ... */
export function byModule(parts: Iterable<[ManifestComponent, number]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [c, n] of parts) out[c.module] = (out[c.module] ?? 0) + n;
  return out;
}

/**
 * Lines that hold code: not blank and not only comment (C and TypeScript share // and the
 * block comment). A scanner of comments and quoted literals, so a "//" inside a string is code.
 */
export function codeLines(text: string): number {
  let n = 0, inBlock = false;
  for (const line of text.split('\n')) {
    let code = false, quote = '';
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]!, next = line[i + 1];
      if (inBlock) { if (ch === '*' && next === '/') { inBlock = false; i++; } continue; }
      if (quote) { if (ch === '\\') i++; else if (ch === quote) quote = ''; code = true; continue; }
      if (ch === '/' && next === '*') { inBlock = true; i++; continue; }
      if (ch === '/' && next === '/') break;
      if (ch === '"' || ch === '\'' || ch === '`') quote = ch;
      if (!/\s/.test(ch)) code = true;
    }
    if (code) n++;
  }
  return n;
}

/** A module of the exokernel: the compiled file Node runs and the TypeScript it came from. */
export interface KernelModule { js: string; ts: string; jsBytes: number; lines: number }

/** The exokernel's modules as loaded: every .js in dist/kernel/exo and dist/kernel/caps. */
export function kernelModules(): KernelModule[] {
  const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'kernel'), root = repoRootOf();
  const out: KernelModule[] = [];
  for (const dir of ['exo', 'caps']) {
    for (const f of readdirSync(join(dist, dir)).filter((x) => x.endsWith('.js')).sort()) {
      const js = join(dist, dir, f), ts = join(root, 'kernel', dir, f.replace(/\.js$/, '.ts'));
      out.push({ js: relative(root, js), ts: relative(root, ts), jsBytes: readFileSync(js).length, lines: existsSync(ts) ? codeLines(readFileSync(ts, 'utf8')) : 0 });
    }
  }
  return out;
}

/** Code lines of the manifest's components in `ring`. */
export function sourceLines(m: ImageManifest, ring: 0 | 3): number {
  const root = repoRootOf();
  return m.components.filter((c) => c.ring === ring).reduce((n, c) => n + codeLines(readFileSync(join(root, c.source), 'utf8')), 0);
}
