// `exolab lab list` and `exolab lab NAME [--set NAME=VALUE ...] [--json]`: run a lab headless
// and print, figure by figure, the chapter's value, the measured one, the model's where there
// is one, and the breakdown it came from.

import { InputError } from '../machine/errors.js';
import { closest } from '../machine/units.js';
import { LABS, findLab } from '../apps/labs/index.js';
import { labParameters, type LabFigure, type LabResult } from '../apps/labs/lab.js';

export interface LabArgs { name: string; set: string[]; json: boolean }

function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e7)) return v.toExponential(3);
  return Number(v.toPrecision(6)).toString();
}

export function labListText(): string {
  const w = Math.max(...LABS.map((l) => l.name.length));
  const lines = LABS.map((l) => `  ${l.name.padEnd(w)}  ${l.title}\n  ${' '.repeat(w)}  chapter: ${l.chapter}\n  ${' '.repeat(w)}  parameters: ${l.params.map((p) => `${p.name}=${p.default}${p.unit}`).join(' ') || 'none'}`);
  return `labs (exolab lab NAME [--set NAME=VALUE] [--json]):\n${lines.join('\n')}\n`;
}

function figureText(f: LabFigure): string[] {
  const out = [`  ${f.name}: measured ${num(f.measured)} ${f.unit}   chapter ${typeof f.chapter === 'number' ? `${num(f.chapter)} ${f.unit}` : f.chapter}${f.model !== undefined ? `   model ${num(f.model)} ${f.unit}` : ''}`];
  if (f.breakdown) out.push(`    from: ${Object.entries(f.breakdown).map(([k, v]) => `${k} ${num(v)}`).join(', ')}`);
  if (f.note) out.push(`    note: ${f.note}`);
  return out;
}

export function labText(r: LabResult): string {
  const units = new Map(findLab(r.lab)?.params.map((p) => [p.name, p.unit]) ?? []);
  const params = Object.entries(r.parameters).map(([k, v]) => `${k}=${num(v)}${units.get(k) ?? ''}`).join(' ');
  return [`lab ${r.lab}${params ? ` (${params})` : ''}`, ...r.figures.flatMap(figureText)].join('\n') + '\n';
}

/** Runs the lab; returns the exit code (2 for bad input, thrown as InputError to the CLI). */
export function labCommand(a: LabArgs): number {
  if (a.name === 'list') { process.stdout.write(a.json ? `${JSON.stringify(LABS.map((l) => ({ lab: l.name, title: l.title, chapter: l.chapter, parameters: l.params })))}\n` : labListText()); return 0; }
  const lab = findLab(a.name);
  if (lab === undefined) {
    const near = closest(a.name, LABS.map((l) => l.name));
    throw new InputError(`lab: no lab "${a.name}"${near ? `; did you mean ${near}?` : ''} (exolab lab list shows them: ${LABS.map((l) => l.name).join(', ')})`);
  }
  const r = lab.run(labParameters(lab, a.set));
  process.stdout.write(a.json
    // Figures to 12 significant digits: a sum of milliseconds is measured, not its float noise.
    ? `${JSON.stringify({ lab: r.lab, parameters: r.parameters, figures: r.figures.map((f) => ({ name: f.name, chapter: f.chapter, measured: f.measured, unit: f.unit, ...(f.model !== undefined ? { model: f.model } : {}), ...(f.breakdown ? { breakdown: f.breakdown } : {}), ...(f.note ? { note: f.note } : {}) })) }, (_k, v) => (typeof v === 'number' ? +v.toPrecision(12) : v))}\n`
    : labText(r));
  return 0;
}
