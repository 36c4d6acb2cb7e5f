// Lab "tcb": how much code runs privileged in each placement, measured from what was built. The
// same app is built as an exo LibOS, a unikernel and a mono image, with or without libos/posix
// (the LibOS features f). Exo: ring 0 is the exokernel alone (its TypeScript; none of the
// image). Unikernel: the whole image is ring 0, so its code grows with f. Mono: the kernel side
// of the image (everything but the .user.* sections) is ring 0.

import { InputError } from '../../machine/errors.js';
import { builtImage, byModule, codeBytes, componentCode, kernelModules, sourceLines, type BuiltImage } from './artifacts.js';
import type { Lab, LabFigure, LabResult } from './lab.js';

const APP = 'reflector';

export const tcbLab: Lab = {
  name: 'tcb',
  title: 'privileged code per placement, from the built images',
  chapter: 'privileged code per configuration: exokernel O(1), unikernel O(f), monolithic large',
  params: [
    { name: 'posix', unit: '', default: 1, describe: `1: libos/posix linked into the ${APP} images (as apps are built), 0: left out`, min: 0, max: 1, integer: true },
  ],
  run(p): LabResult {
    const posix = p.posix === 1;
    const kernel = kernelModules();
    const kLines = kernel.reduce((n, m) => n + m.lines, 0), kBytes = kernel.reduce((n, m) => n + m.jsBytes, 0);
    const exo = builtImage(APP, 'exo', posix), uni = builtImage(APP, 'unikernel', posix);
    const exoCode = codeBytes(exo.build.elf), uniCode = codeBytes(uni.build.elf);
    const hosting = { hosting_exokernel_lines: kLines }, uniLines = sourceLines(uni.manifest, 0);
    const figures: LabFigure[] = [
      {
        name: 'exo: ring-0 code (the exokernel)', chapter: 'O(1): the kernel, whatever the LibOS links', measured: kLines, unit: 'lines',
        breakdown: {
          kernel_modules: kernel.length, kernel_js_bytes: kBytes, image_ring0_components: exo.manifest.components.filter((c) => c.ring === 0).length,
          image_ring3_code_bytes: exoCode.ring0 + exoCode.ring3, image_ring3_lines: sourceLines(exo.manifest, 3),
        },
        note: `code lines of kernel/exo and kernel/caps (TypeScript: no machine code); the same for any f, though more than this unikernel's ${uniLines}: O(1) is growth, not size`,
      },
      {
        name: 'unikernel: ring-0 code (the whole image)', chapter: 'O(f): grows with the LibOS features linked', measured: uniCode.ring0, unit: 'B',
        breakdown: { ...modules(uni), components: uni.manifest.components.length, ring0_lines: uniLines, ...hosting },
        note: 'x86 .text bytes of the image; on exolab the partition also has the exokernel beneath it (hosting_exokernel_lines)',
      },
    ];
    try {
      const mono = builtImage(APP, 'mono', posix), monoCode = codeBytes(mono.build.elf);
      figures.push({
        name: 'mono: ring-0 code (the kernel side)', chapter: 'large: the whole monolithic kernel', measured: monoCode.ring0, unit: 'B',
        breakdown: {
          ...modules(mono, 0), ring0_lines: sourceLines(mono.manifest, 0), user_code_bytes: monoCode.ring3, user_lines: sourceLines(mono.manifest, 3), ...hosting,
        },
        note: 'the monolithic kernel here is the LibOS itself (net, posix, libc); the chapter\'s "large" is a Linux-sized kernel of millions of lines',
      });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      figures.push({ name: 'mono: ring-0 code (the kernel side)', chapter: 'large: the whole monolithic kernel', measured: NaN, unit: 'B', note: `unavailable: ${e.message.split('\n')[0]}` });
    }
    return { lab: 'tcb', parameters: p, figures };
  },
};

/** Code bytes by module (from the object files), in `ring` only when given; {} if the objects are gone. */
function modules(img: BuiltImage, ring?: 0 | 3): Record<string, number> {
  const parts = componentCode(img);
  if (parts === null) return {};
  return Object.fromEntries(Object.entries(byModule([...parts].filter(([c]) => ring === undefined || c.ring === ring))).map(([k, v]) => [`${k}_bytes`, v]));
}
