// Cycles per principal in its app, its LibOS and the kernel (DESIGN section 4; what a placement
// costs). Measured, not sampled: the CPU puts every cycle in the code class of the block that
// spent it (machine/cpu/cpu.ts classCycles: one compare per block, the class fixed when the
// block is decoded), and the kernel says what a block is when it is decoded (codeClassOf):
// app or LibOS by its address in the image's code ranges (the manifest beside the ELF,
// kernel/guest-map.ts; an image without one is all app), or the kernel by the CPL. Resolution:
// one basic block (a block is in the class of its first instruction; blocks end at every jump,
// so only code falling through from one object into the next is misfiled). Interrupt and
// exception delivery is the CPU's own class; halted time is the core's idleCycles.
//
// Each core's counts are folded into the principal that held it since the last fold: at a
// context switch, when a partition's cores come back, at each request's arrival and for each
// report (cyclesFold). Per placement:
//   exo        app and LibOS by address in ring 3; everything else is the kernel's: its stubs
//              and exo-calls, interrupt delivery, a kernel operation waiting (halted), the
//              switch into the next context. The kernel's idle loop with no context is no
//              principal's (CoreStats.unownedCycles).
//   unikernel  app and LibOS by address in ring 0; delivery into its own IDT is its LibOS's;
//              kernel is exokernel code on its cores while it holds them (none: 0 measured).
//   mono       app and LibOS (its user-side libc and system-call stubs) by address in ring 3;
//              ring 0 is its kernel (the monolithic kernel made of the LibOS), with delivery.
//   idle       a partition's cores halted (its hlt); an exo core idles with no principal.
// So app + libos + kernel + idle is exactly the cycles of the cores while the principal held
// them, and a core's principals' sums plus its unowned cycles are its clock.

import { CLASS_DELIVERY, type Cpu } from '../../machine/cpu/cpu.js';
import type { CodeRange } from '../guest-map.js';
import type { Exokernel, KCore } from './kernel.js';
import type { Principal } from './principal.js';
import type { CycleSplit } from './stats.js';

/** Code classes the kernel gives blocks (Cpu.codeClass). */
export const CLASS_KERNEL = 0, CLASS_APP = 1, CLASS_LIBOS = 2;

/** An image's code ranges, for a lookup by address when a block is decoded. */
export class CodeMap {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly parts: Uint8Array;
  constructor(ranges: readonly CodeRange[]) {
    const sorted = [...ranges].sort((a, b) => a.start - b.start);
    this.starts = Float64Array.from(sorted, (r) => r.start);
    this.ends = Float64Array.from(sorted, (r) => r.end);
    this.parts = Uint8Array.from(sorted, (r) => (r.part === 'libos' ? CLASS_LIBOS : CLASS_APP));
  }

  /** CLASS_APP or CLASS_LIBOS of the code at `va`; code no range names is the app's. */
  classOf(va: number): number {
    let lo = 0, hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (va < this.starts[mid]!) hi = mid - 1;
      else if (va >= this.ends[mid]!) lo = mid + 1;
      else return this.parts[mid]!;
    }
    return CLASS_APP;
  }
}

/** A core's counts at its last fold. */
export class CycleMeter {
  cycles = 0;
  idle = 0;
  readonly cls = new Float64Array(CLASS_DELIVERY + 1);
}

/** Who holds core `kc` now: its partition, or the context running there, or no one. */
function holder(kc: KCore): Principal | null {
  return kc.partition ?? kc.current?.principal ?? null;
}

/** The class of a block about to be decoded at `va` on `cpu` (see the top of the file). */
export function codeClassOf(k: Exokernel, cpu: Cpu, va: number): number {
  const p = holder(k.kcores[cpu.id]!);
  if (p === null || (cpu.cpl === 0 && p.placement !== 'unikernel')) return CLASS_KERNEL;
  return p.code === null ? CLASS_APP : p.code.classOf(va >>> 0);
}

/**
 * Attribute core `kc`'s cycles since its last fold to `owner`, by default whoever holds it now
 * (so call it before that changes).
 */
export function cyclesFold(cpu: Cpu, kc: KCore, owner: Principal | null = holder(kc)): void {
  const m = kc.meter;
  const dCycles = cpu.cycles - m.cycles, dIdle = cpu.idleCycles - m.idle;
  const d = (c: number) => {
    const now = cpu.classCyclesOf(c), delta = now - m.cls[c]!;
    m.cls[c] = now;
    return delta;
  };
  const app = d(CLASS_APP), libos = d(CLASS_LIBOS), kernel = d(CLASS_KERNEL);
  d(CLASS_DELIVERY);
  for (let c = CLASS_LIBOS + 1; c < CLASS_DELIVERY; c++) d(c);
  m.cycles = cpu.cycles;
  m.idle = cpu.idleCycles;
  const p = owner;
  if (p === null) { kc.stats.unownedCycles += dCycles; return; }
  const s = p.stats.cycles;
  s.app += app;
  s.libos += libos;
  if (p.placement === 'exo') {
    s.kernel += dCycles - app - libos;
  } else if (p.placement === 'unikernel') {
    s.kernel += kernel;
    s.idle += dIdle;
    s.libos += dCycles - app - libos - kernel - dIdle;
  } else {
    s.idle += dIdle;
    s.kernel += dCycles - app - libos - dIdle;
  }
}

/** Fold every core (between rounds: for a report, at a request's arrival). */
export function cyclesFoldAll(k: Exokernel): void {
  for (const kc of k.kcores) cyclesFold(k.machine.cores[kc.id]!, kc);
}

/** A split as report metrics, rounded to the thousandth of a cycle (costs may be fractions). */
export function cyclesMetrics(s: CycleSplit, over = 1): Record<string, number> {
  const r = (x: number) => (over === 0 ? 0 : Math.round((x / over) * 1000) / 1000);
  return { app: r(s.app), libos: r(s.libos), kernel: r(s.kernel), idle: r(s.idle) };
}
