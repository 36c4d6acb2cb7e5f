// Lab "risk": the union bound on the chance that some privileged component is exploitable,
// p <= sum p_i, over the components of what runs in ring 0. The components come from the
// manifests the guest build writes (one per source file linked in) and, for the exokernel, from
// its compiled modules; a C or assembly component counts p_c, a memory-safe one p_safe. The
// chapter's configuration (8 C components, 12 memory-safe) goes through the same function.

import { InputError } from '../../machine/errors.js';
import { builtImage, kernelModules } from './artifacts.js';
import type { Lab, LabFigure, LabResult } from './lab.js';

const APP = 'reflector';

export interface RiskComponent { name: string; safe: boolean }

/** The union bound and, for comparison, 1 - prod(1 - p_i) (independent components). */
export function unionBound(parts: readonly RiskComponent[], pC: number, pSafe: number): { bound: number; independent: number; c: number; safe: number } {
  let bound = 0, none = 1, c = 0;
  for (const x of parts) {
    const p = x.safe ? pSafe : pC;
    bound += p;
    none *= 1 - p;
    if (!x.safe) c++;
  }
  return { bound, independent: 1 - none, c, safe: parts.length - c };
}

/** The ring-0 components of `app` built for `placement`, from its manifest. */
export function imageRing0(app: string, placement: string): RiskComponent[] {
  return builtImage(app, placement, true).manifest.components.filter((x) => x.ring === 0).map((x) => ({ name: x.source, safe: false }));
}

export function kernelRing0(): RiskComponent[] {
  return kernelModules().map((m) => ({ name: m.ts, safe: true }));
}

export const riskLab: Lab = {
  name: 'risk',
  title: 'union bound on an exploitable ring-0 component, over the built manifests',
  chapter: 'p_uni <= sum p_i = 8.12e-4 for 8 C components (1e-4) and 12 memory-safe (1e-6)',
  params: [
    { name: 'p_c', unit: '', default: 1e-4, describe: 'chance that one C (or assembly) component is exploitable', min: 0, max: 1 },
    { name: 'p_safe', unit: '', default: 1e-6, describe: 'chance that one memory-safe (TypeScript) component is exploitable', min: 0, max: 1 },
  ],
  run(p): LabResult {
    const pC = p.p_c!, pSafe = p.p_safe!;
    const chapterParts: RiskComponent[] = [
      ...Array.from({ length: 8 }, (_, k) => ({ name: `c${k}`, safe: false })),
      ...Array.from({ length: 12 }, (_, k) => ({ name: `safe${k}`, safe: true })),
    ];
    const kernel = kernelRing0(), hosting = unionBound(kernel, pC, pSafe).bound;
    const fig = (name: string, chapter: number | string, parts: RiskComponent[], note: string, extra: Record<string, number> = {}): LabFigure => {
      const u = unionBound(parts, pC, pSafe);
      return { name, chapter, measured: u.bound, unit: '', breakdown: { c_components: u.c, safe_components: u.safe, independent: u.independent, ...extra }, note };
    };
    const uni = imageRing0(APP, 'unikernel');
    const figures: LabFigure[] = [
      fig('the chapter\'s configuration (8 C + 12 memory-safe)', 8.12e-4, chapterParts, 'the chapter\'s component counts through the same sum, with these p_c and p_safe'),
      fig(`unikernel ${APP}: its image's components`, 8.12e-4, uni,
        `this image is all C: ${uni.length} source files in ring 0 and no memory-safe ones, where the chapter's has 8 C and 12 memory-safe`,
        { plus_hosting_exokernel: hosting }),
      fig(`exo ${APP}: the exokernel's modules (the LibOS is ring 3)`, 'the kernel alone', [...kernel, ...imageRing0(APP, 'exo')],
        `${kernel.length} TypeScript modules of kernel/exo and kernel/caps, none of the LibOS image`),
    ];
    const monoName = `mono ${APP}: its kernel side's components`;
    try {
      const mono = imageRing0(APP, 'mono');
      figures.push(fig(monoName, 'a monolithic kernel', mono,
        `the ring-0 side of the mono image: ${mono.length} C source files (the LibOS as kernel)`, { plus_hosting_exokernel: hosting }));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      figures.push({ name: monoName, chapter: 'a monolithic kernel', measured: NaN, unit: '', note: `unavailable: ${e.message.split('\n')[0]}` });
    }
    return { lab: 'risk', parameters: p, figures };
  },
};
