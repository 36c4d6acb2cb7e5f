// Which code of a linked guest image is the app's and which the LibOS's, from GNU ld's link
// map (`ld -Map`, the "Linker script and memory map" part): every input section of code
// (.text, .text.*, and the mono user side's .user.text*) with its address, size and object
// file, the object's source under libos/ (LibOS) or anywhere else (the app). The mono user
// side is linked apart first (ld -r) into one object, so its own map gives each object's
// offset inside that object's sections, which the final map places. Written into the image's
// manifest (kernel/guest-build.ts); the exokernel attributes cycles by it (kernel/exo/cycles.ts).

import { readFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';

export type CodePart = 'app' | 'libos';

/** One address range [start, end) of an image's code and whose it is. */
export interface CodeRange { start: number; end: number; part: CodePart }

/** An input section in a link map: the output section it went to, its name, place and object file. */
export interface MapSection { out: string; outAddr: number; name: string; addr: number; size: number; file: string }

const HEX = /^0x[0-9a-f]+$/i;

/** The input sections of a GNU ld map, in map order (discarded sections, listed before, are not). */
export function mapSections(text: string): MapSection[] {
  const lines = text.split('\n');
  const from = lines.findIndex((l) => l.startsWith('Linker script and memory map'));
  const out: MapSection[] = [];
  let osec = '', obase = 0;
  // A section's address, size and file follow its name on the same line, or on the next one
  // when the name is long.
  const rest = (i: number, after: string): { f: string[]; used: number } => {
    const own = after.trim().split(/\s+/).filter((x) => x !== '');
    if (own.length > 0) return { f: own, used: 0 };
    const next = lines[i + 1] ?? '';
    return /^\s+0x/.test(next) ? { f: next.trim().split(/\s+/), used: 1 } : { f: [], used: 0 };
  };
  for (let i = from < 0 ? lines.length : from + 1; i < lines.length; i++) {
    const l = lines[i]!;
    const om = /^(\.\S+)(.*)$/.exec(l);
    if (om) {                                     // an output section, at column 0
      const r = rest(i, om[2]!);
      osec = om[1]!;
      obase = HEX.test(r.f[0] ?? '') ? Number(r.f[0]) : 0;
      i += r.used;
      continue;
    }
    const im = /^ (\.\S+)(.*)$/.exec(l);          // an input section, one space in
    if (!im) continue;
    const r = rest(i, im[2]!);
    if (!HEX.test(r.f[0] ?? '') || !HEX.test(r.f[1] ?? '') || r.f.length < 3) continue;
    out.push({ out: osec, outAddr: obase, name: im[1]!, addr: Number(r.f[0]), size: Number(r.f[1]), file: r.f.slice(2).join(' ') });
    i += r.used;
  }
  return out;
}

const isCode = (name: string) => /^\.(user\.)?text(\.|$)/.test(name);

/**
 * The code ranges of an image from its link map (`mapText`) and, for mono, its user side's
 * (`user`: that map, the linked user object's path, and its objects' sources). `sources` maps
 * each object file of the final link to its source. Adjacent ranges of one part (alignment
 * fill between them) are merged. Throws if the map names no code of a known source.
 */
export function codeRanges(root: string, mapText: string, sources: Map<string, string>,
  user?: { mapText: string; object: string; sources: Map<string, string> }): CodeRange[] {
  const partOf = (src: string): CodePart => relative(root, src).startsWith(`libos${sep}`) ? 'libos' : 'app';
  const raw: CodeRange[] = [];
  const userBase = new Map<string, number>();
  for (const s of mapSections(mapText)) {
    if (!isCode(s.name) || s.size === 0) continue;
    const file = resolve(s.file);
    if (user !== undefined && file === resolve(user.object)) { userBase.set(s.name, s.addr); continue; }
    const src = sources.get(file);
    if (src !== undefined) raw.push({ start: s.addr, end: s.addr + s.size, part: partOf(src) });
  }
  if (user !== undefined) {
    for (const s of mapSections(user.mapText)) {
      if (!isCode(s.name) || s.size === 0) continue;
      const base = userBase.get(`.user${s.out}`), src = user.sources.get(resolve(s.file));
      if (base === undefined || src === undefined) continue;
      const start = base + (s.addr - s.outAddr);
      raw.push({ start, end: start + s.size, part: partOf(src) });
    }
  }
  if (raw.length === 0) throw new Error('guest build: the link map names no code of the image\'s sources');
  raw.sort((a, b) => a.start - b.start);
  const merged: CodeRange[] = [];
  for (const r of raw) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.part === r.part && r.start - last.end < 64 && r.start >= last.end) last.end = r.end;
    else merged.push({ ...r });
  }
  return merged;
}

/** codeRanges from map files on disk. */
export function codeRangesFromFiles(root: string, map: string, sources: Map<string, string>,
  user?: { map: string; object: string; sources: Map<string, string> }): CodeRange[] {
  return codeRanges(root, readFileSync(map, 'utf8'), sources,
    user === undefined ? undefined : { mapText: readFileSync(user.map, 'utf8'), object: user.object, sources: user.sources });
}
