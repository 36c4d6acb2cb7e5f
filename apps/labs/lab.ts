// Labs (DESIGN section 7): each reproduces one of the chapter's figures by measurement. A lab
// has parameters (inputs, with units, settable from the command line), runs real scenarios on
// the machine, kernel and LibOSes, and returns figures: the chapter's value beside the one
// measured here, the breakdown it came from, and one line where the two differ. A lab that
// printed a constant would be a defect: every `measured` comes out of a simulation.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../machine/errors.js';
import { parseScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';
import { repoRootOf } from '../../kernel/guest-build.js';

/** Units a parameter is given in; values are kept in that unit. */
export type LabUnit = 'ns' | 'us' | 'ms' | '/ms' | '/s' | 'B' | 'KiB' | '';

export interface LabParam {
  name: string;
  unit: LabUnit;
  /** The chapter's value, in `unit`. */
  default: number;
  describe: string;
  /** Smallest and largest accepted, in `unit`. */
  min?: number;
  max?: number;
  integer?: boolean;
}

export interface LabFigure {
  name: string;
  /** The chapter's value (a number, or a description where it gives none). */
  chapter: number | string;
  measured: number;
  unit: string;
  /** What the measured value is made of. */
  breakdown?: Record<string, number>;
  /** The model's prediction for these parameters, where the lab has one. */
  model?: number;
  /** Why measured and chapter differ, when they do. */
  note?: string;
}

export interface LabResult {
  lab: string;
  parameters: Record<string, number>;
  figures: LabFigure[];
}

export interface Lab {
  name: string;
  title: string;
  /** The chapter's figure, as the lab table states it. */
  chapter: string;
  params: LabParam[];
  run(p: Record<string, number>): LabResult;
}

// ---- parameters from the command line ---------------------------------------------------

const SCALE: Record<string, Record<string, number>> = {
  time: { ns: 1e-3, us: 1, ms: 1e3, s: 1e6 },              // to us
  rate: { '/us': 1e3, '/ms': 1, '/s': 1e-3 },              // to /ms
  size: { B: 1, KiB: 1024, MiB: 1024 * 1024 },              // to B
};
const FAMILY: Record<LabUnit, string> = { ns: 'time', us: 'time', ms: 'time', '/ms': 'rate', '/s': 'rate', B: 'size', KiB: 'size', '': '' };

/** A parameter's text ("0.25ms", "160/ms", "64KiB", "64") in the parameter's own unit. */
export function parseParam(p: LabParam, text: string): number {
  const m = /^([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([a-zA-Z/]*)$/.exec(text.trim());
  if (!m) throw new InputError(`--set ${p.name}=${text}: expected a number${p.min !== undefined && p.min >= 0 ? ' (not negative)' : ''}${p.unit ? ` with a unit like ${p.unit}` : ''}`);
  const n = Number(m[1]), u = m[2]!;
  let v = n;
  if (p.unit === '') {
    if (u !== '') throw new InputError(`--set ${p.name}=${text}: ${p.name} takes a plain number, not "${u}"`);
  } else {
    const fam = SCALE[FAMILY[p.unit]]!;
    const unit = u === '' ? p.unit : u;
    if (fam[unit] === undefined) throw new InputError(`--set ${p.name}=${text}: unknown unit "${unit}"; ${p.name} takes ${Object.keys(fam).join(', ')}`);
    v = (n * fam[unit]!) / fam[p.unit]!;
  }
  if (p.integer && !Number.isInteger(v)) throw new InputError(`--set ${p.name}=${text}: expected a whole number`);
  if ((p.min !== undefined && v < p.min) || (p.max !== undefined && v > p.max)) {
    throw new InputError(`--set ${p.name}=${text}: expected ${p.min ?? '-inf'} to ${p.max ?? 'inf'}${p.unit ? ` ${p.unit}` : ''}`);
  }
  return v;
}

/** Defaults overlaid with `--set NAME=VALUE` items; an unknown name is an error naming the known. */
export function labParameters(lab: Lab, sets: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of lab.params) out[p.name] = p.default;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new InputError(`--set ${s}: expected NAME=VALUE`);
    const name = s.slice(0, eq), p = lab.params.find((x) => x.name === name);
    if (p === undefined) {
      throw new InputError(`--set ${s}: lab ${lab.name} has no parameter "${name}"; it has ${lab.params.map((x) => x.name).join(', ') || 'none'}`);
    }
    out[name] = parseParam(p, s.slice(eq + 1));
  }
  return out;
}

// ---- running scenarios -------------------------------------------------------------------

/** Where labs write scenarios, profiles and images: build/labs/NAME/. */
export function labDir(name: string): string {
  const d = join(repoRootOf(), 'build', 'labs', name);
  mkdirSync(d, { recursive: true });
  return d;
}

export interface LabRun { system: System; metrics: any; console: string }

/** Run a scenario (YAML text) to its end; relative paths in it are from `dir`. */
export function runScenario(yaml: string, dir: string, name = 'lab'): LabRun {
  const system = new System(parseScenario(yaml, join(dir, `${name}.yaml`), dir));
  system.runToEnd();
  const r = system.report();
  system.close();
  return { system, metrics: r.metrics, console: r.console };
}

/** A number printed by a guest as "<label> <n>", or NaN. */
export function consoleNumber(text: string, label: string): number {
  const m = new RegExp(`${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*(-?[0-9.]+)`).exec(text);
  return m ? Number(m[1]) : NaN;
}

export const CLOCK_HZ = 2e9;
export const cyclesToUs = (c: number, hz = CLOCK_HZ) => (c * 1e6) / hz;
