// Scenario files (DESIGN section 5): YAML that names the machine, the principals, a fault
// schedule, the run length and the expectations. The shape is checked against
// kernel/scenario.schema.json (JSON Schema, by ajv), then the meaning (units, core and queue
// numbers, fault kinds, comparisons) here; every mistake is an InputError "file:line:col: ...".

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { InputError } from '../machine/errors.js';
import { loadProfile, type Profile } from '../machine/profile.js';
import { closest, parseFrequency, parseSize, parseTime, ParseError } from '../machine/units.js';
import { formatLoc, inputError, parseYaml, type LNode, type Loc } from '../machine/yaml-input.js';
import { FAULTS, faultKind } from './faults.js';
import { guestApps } from './guest-build.js';

// ---- the parsed scenario -----------------------------------------------------------------

export type Placement = 'exo' | 'mono' | 'unikernel';
export type IrqMode = 'direct' | 'ipi' | 'workqueue';

export interface ScenarioPrincipal {
  name: string;
  image: string;
  placement: Placement;
  cores: number[];
  nicQueues: number[];
  irq: IrqMode;
  memoryBytes: number;
  caps: { type: string; rights: string; [k: string]: unknown }[];
  args: Record<string, unknown>;
  /** file:line:col of its image, for what booting it finds wrong. */
  where: string;
}

export interface ScheduledFault {
  /** Absolute cycle of the first injection. */
  at: number;
  kind: string;
  target?: string | number;
  params: Record<string, string | number>;
  /** Repeat period in cycles (0: once) and how many times in all. */
  every: number;
  times: number;
  where: string;
}

export type Comparison = '==' | '!=' | '>=' | '<=' | '>' | '<';

export interface Expectation {
  metric: string;
  op: Comparison;
  value: number;
  /** As written, e.g. "== 4". */
  text: string;
  where: string;
}

export interface Scenario {
  name: string;
  description: string;
  /** The file as shown in messages, and its directory (relative paths in it start there). */
  file: string;
  dir: string;
  seed: number;
  machine: {
    cores: number;
    ramBytes: number;
    clockHz: number;
    profile: Profile;
    nic?: { queues: number; wire: string };
    disk?: { image?: string; bytes?: number; queues?: number };
    bootImage?: string;
  };
  principals: ScenarioPrincipal[];
  faults: ScheduledFault[];
  runFor: number;
  expect: Expectation[];
}

/** Command-line values that override the file's. */
export interface ScenarioOverrides {
  seed?: string | number;
  for?: string;
  wire?: string;
  record?: string;
}

// ---- where scenarios live ------------------------------------------------------------------

/** apps/scenarios/ of the installed package (from dist/kernel/ or kernel/). */
export function builtinScenarioDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../apps/scenarios', '../apps/scenarios']) {
    const d = resolve(here, up);
    if (existsSync(d)) return d;
  }
  return resolve(here, '../../apps/scenarios');
}

export function builtinScenarios(): string[] {
  try {
    return readdirSync(builtinScenarioDir()).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

/** A built-in scenario's name, or a file path: the file to read and how to show it. */
export function resolveScenario(arg: string): { path: string; shown: string } {
  const looksLikeFile = arg.includes('/') || /\.ya?ml$/i.test(arg) || existsSync(arg);
  if (looksLikeFile) {
    if (!existsSync(arg)) throw new InputError(`${arg}: no such scenario file`);
    if (statSync(arg).isDirectory()) throw new InputError(`${arg}: is a directory, expected a scenario YAML file`);
    return { path: resolve(arg), shown: arg };
  }
  const names = builtinScenarios();
  if (!names.includes(arg)) {
    const near = closest(arg, names);
    throw new InputError(`${arg}: no such scenario: expected a built-in name (${names.join(', ')})${near ? `; did you mean ${near}?` : ''} or a YAML file`);
  }
  const path = join(builtinScenarioDir(), `${arg}.yaml`);
  return { path, shown: `${arg} (${relative(process.cwd(), path) || path})` };
}

/** A scenario file's text: UTF-8 with no NUL, or one message naming the first offending byte. */
function textOf(bytes: Buffer, file: string): string {
  const nul = bytes.indexOf(0);
  let bad = nul;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(nul < 0 ? bytes : bytes.subarray(0, nul));
  } catch {
    // The first byte that does not decode: the longest prefix that does ends just before it.
    let lo = 0, hi = nul < 0 ? bytes.length : nul;
    const ok = (n: number) => { try { new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n)); return true; } catch { return false; } };
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (ok(mid)) lo = mid; else hi = mid - 1; }
    bad = lo;
  }
  if (bad < 0) return bytes.toString('utf8');
  const what = bytes[bad] === 0 ? 'a NUL byte' : `byte 0x${bytes[bad]!.toString(16).padStart(2, '0')}, not UTF-8`;
  throw new InputError(`${file}: offset ${bad}: ${what}: a scenario is a YAML text file`);
}

export function loadScenario(arg: string, over: ScenarioOverrides = {}): Scenario {
  const { path, shown } = resolveScenario(arg);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`${shown}: cannot read: ${(e as Error).message}`);
  }
  const file = shown.includes(' (') ? relative(process.cwd(), path) || path : shown;
  const text = textOf(bytes, file);
  return parseScenario(text, file, dirname(path), over);
}

// ---- JSON Schema check -------------------------------------------------------------------

let validator: ValidateFunction | null = null;

function schemaValidator(): ValidateFunction {
  if (validator !== null) return validator;
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'scenario.schema.json'), resolve(here, '../../kernel/scenario.schema.json')];
  const schemaPath = candidates.find((p) => existsSync(p));
  if (schemaPath === undefined) throw new Error('kernel/scenario.schema.json is missing from the installation');
  // ajv is CommonJS; createRequire keeps its default export straight under NodeNext.
  const Ajv = createRequire(import.meta.url)('ajv') as typeof import('ajv').default;
  const ajv = new Ajv({ allErrors: true, verbose: true, strictTypes: false });
  validator = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  return validator;
}

/** The plain value of a located node, as JSON Schema sees it. */
function plain(n: LNode): unknown {
  if (n.kind === 'scalar') return n.value;
  if (n.kind === 'seq') return n.items.map(plain);
  const out: Record<string, unknown> = {};
  for (const [k, e] of n.entries) out[k] = plain(e.value);
  return out;
}

/** The node at a JSON pointer, and the location of the key that holds it. */
function nodeAt(root: LNode, pointer: string): { node: LNode; keyLoc: Loc } {
  let node = root, keyLoc = root.loc;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node.kind === 'map' && node.entries.has(part)) {
      const e = node.entries.get(part)!;
      keyLoc = e.keyLoc; node = e.value;
    } else if (node.kind === 'seq' && node.items[Number(part)] !== undefined) {
      node = node.items[Number(part)]!; keyLoc = node.loc;
    } else break;
  }
  return { node, keyLoc };
}

function dotted(pointer: string): string {
  return pointer.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
}

function shown(n: LNode): string {
  if (n.kind === 'map') return 'a mapping';
  if (n.kind === 'seq') return n.items.length === 0 ? 'an empty list' : 'a list';
  if (n.value === null) return 'nothing';
  const t = typeof n.value === 'string' ? JSON.stringify(n.value) : n.source;
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

/** The most useful error of ajv's: the deepest, and the first in the file among those. */
function pickError(errors: ErrorObject[], root: LNode): ErrorObject {
  const depth = (e: ErrorObject) => e.instancePath.split('/').length + (e.keyword === 'additionalProperties' || e.keyword === 'required' ? 1 : 0);
  const line = (e: ErrorObject) => {
    const { node, keyLoc } = nodeAt(root, e.instancePath);
    const loc = e.keyword === 'additionalProperties' && node.kind === 'map'
      ? node.entries.get(String(e.params.additionalProperty))?.keyLoc ?? keyLoc : node.loc;
    return loc.line * 10000 + loc.col;
  };
  return [...errors].sort((a, b) => line(a) - line(b) || depth(b) - depth(a))[0]!;
}

function schemaError(e: ErrorObject, root: LNode): InputError {
  const { node, keyLoc } = nodeAt(root, e.instancePath);
  const path = dotted(e.instancePath);
  const what = (e.parentSchema as { description?: string } | undefined)?.description ?? 'a valid value';
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const loc = node.kind === 'map' ? node.entries.get(key)?.keyLoc ?? node.loc : node.loc;
      const known = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      const near = closest(key, known);
      return inputError(loc, '', `unknown key '${key}'${path ? ` in ${path}` : ''}; ${near ? `did you mean '${near}'?` : `expected one of ${known.join(', ')}`}`);
    }
    case 'required': {
      const key = String(e.params.missingProperty);
      const sub = (e.parentSchema as { properties?: Record<string, { description?: string }> }).properties?.[key];
      return inputError(path ? keyLoc : node.loc, path, `missing key '${key}'${sub?.description ? ` (${sub.description})` : ''}`);
    }
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map(String);
      const near = node.kind === 'scalar' ? closest(String(node.value), allowed) : undefined;
      return inputError(node.loc, path, `expected ${what}, got ${shown(node)}${near ? `; did you mean ${near}?` : ''}`);
    }
    case 'minimum': case 'maximum': case 'minItems': case 'type': case 'pattern':
      return inputError(node.loc, path, `expected ${what}, got ${shown(node)}`);
    default:
      return inputError(node.loc, path, `expected ${what} (${e.message ?? e.keyword})`);
  }
}

// ---- meaning -------------------------------------------------------------------------------

function entry(n: LNode, key: string): LNode | undefined {
  return n.kind === 'map' ? n.entries.get(key)?.value : undefined;
}

function quantity<T>(n: LNode | undefined, path: string, parse: (t: string) => T): T | undefined {
  if (n === undefined) return undefined;
  const text = n.kind === 'scalar' ? (typeof n.value === 'number' ? n.source : String(n.value)) : '';
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof ParseError || e instanceof InputError) throw inputError(n.loc, path, e.message);
    throw e;
  }
}

/** A relative file in the scenario is found beside it. */
function beside(dir: string, p: string): string {
  return isAbsolute(p) ? p : join(dir, p);
}

/** The wire spec with its files made relative to the scenario's directory. */
function wireBeside(dir: string, spec: string): string {
  return spec.split('+').map((part) => {
    const m = /^(pcap:|record:)([^@,]+)(.*)$/.exec(part);
    return m ? `${m[1]}${beside(dir, m[2]!)}${m[3]}` : part;
  }).join('+');
}

const COMPARISON = /^\s*(==|!=|>=|<=|>|<|=)?\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*$/i;

export function parseComparison(text: string): { op: Comparison; value: number } | null {
  const m = COMPARISON.exec(text);
  if (!m) return null;
  const op = (m[1] === undefined || m[1] === '=' ? '==' : m[1]) as Comparison;
  return { op, value: Number(m[2]) };
}

export function compare(measured: number, op: Comparison, wanted: number): boolean {
  switch (op) {
    case '==': return measured === wanted;
    case '!=': return measured !== wanted;
    case '>=': return measured >= wanted;
    case '<=': return measured <= wanted;
    case '>': return measured > wanted;
    case '<': return measured < wanted;
  }
}

/** The first part of every metric path. */
export const METRIC_ROOTS = ['run', 'cores', 'principals', 'nic', 'iommu', 'kernel', 'machine', 'faults'] as const;

/** A principal's image is an ELF file (a path) or the name of an app in apps/. */
function checkImage(image: string, dir: string, loc: Loc, path: string): void {
  if (image.trim() === '') throw inputError(loc, path, 'expected an app name (reflector, udp-echo, ...) or an ELF file, got an empty string');
  const file = isAbsolute(image) ? image : resolve(dir, image);
  if (existsSync(file)) {
    if (statSync(file).isFile()) return;
    throw inputError(loc, path, `${file} is a directory, not an ELF file`);
  }
  if (/\.elf$/i.test(image) || image.includes('/')) throw inputError(loc, path, `no such file ${file}`);
  const apps = guestApps();
  if (apps.includes(image)) return;
  const near = closest(image, apps);
  throw inputError(loc, path, `no app '${image}' in apps/ (${apps.join(', ')}) and no file of that name${near ? `; did you mean ${near}?` : ''}`);
}

export function parseScenario(text: string, file: string, dir: string, over: ScenarioOverrides = {}): Scenario {
  const root = parseYaml(text, file);
  const validate = schemaValidator();
  if (!validate(plain(root))) throw schemaError(pickError(validate.errors ?? [], root), root);
  const doc = plain(root) as Record<string, any>;
  const m = entry(root, 'machine')!;
  const mach = doc.machine as Record<string, any>;

  const profile = quantity(entry(m, 'profile'), 'machine.profile', (t) => loadProfile(isBuiltinProfile(t) ? t : beside(dir, t))) ?? loadProfile('default');
  const clockHz = quantity(entry(m, 'clock'), 'machine.clock', (t) => parseFrequency(t)) ?? profile.clockHz;
  const ramBytes = quantity(entry(m, 'ram'), 'machine.ram', (t) => parseSize(t)) ?? 64 << 20;
  const cores = mach.cores as number;

  let nic: Scenario['machine']['nic'];
  if (mach.nic) {
    let wire = over.wire ?? wireBeside(dir, mach.nic.wire as string);
    const record = over.record ?? (mach.nic.record !== undefined ? beside(dir, mach.nic.record as string) : undefined);
    if (record !== undefined && !/\brecord:/.test(wire)) wire += `+record:${record}${mach.nic.record_rx ? ',rx' : ''}`;
    nic = { queues: mach.nic.queues ?? 4, wire };
  } else if (over.wire !== undefined || over.record !== undefined) {
    const wire = over.wire ?? 'loop';
    nic = { queues: 4, wire: over.record !== undefined && !/\brecord:/.test(wire) ? `${wire}+record:${over.record}` : wire };
  }
  let disk: Scenario['machine']['disk'];
  if (mach.disk) {
    const d = entry(m, 'disk')!;
    if (mach.disk.image !== undefined && mach.disk.size !== undefined) throw inputError(d.loc, 'machine.disk', 'give an image or a size, not both');
    disk = mach.disk.image !== undefined
      ? { image: beside(dir, mach.disk.image), queues: mach.disk.queues }
      : { bytes: quantity(entry(d, 'size'), 'machine.disk.size', (t) => parseSize(t)) ?? 16 << 20, queues: mach.disk.queues };
  }

  const principals = readPrincipals(root, doc, cores, nic?.queues ?? 0, dir);
  const bootImage = mach.boot_image !== undefined ? beside(dir, mach.boot_image as string) : undefined;
  if (bootImage !== undefined && !existsSync(bootImage)) throw inputError(entry(m, 'boot_image')!.loc, 'machine.boot_image', `no such file ${bootImage}`);

  const runFor = over.for !== undefined
    ? flagTime('for', over.for, clockHz)
    : quantity(entry(entry(root, 'run')!, 'for'), 'run.for', (t) => positiveTime(t, clockHz))!;
  let seed = doc.seed ?? 1;
  if (over.seed !== undefined) {
    const s = Number(over.seed);
    if (!Number.isInteger(s) || s < 0 || s > 0xffffffff) throw new InputError(`--seed: expected a whole number from 0 to 4294967295, found '${over.seed}'`);
    seed = s;
  }

  return {
    name: doc.name, description: doc.description ?? '', file, dir, seed,
    machine: { cores, ramBytes, clockHz, profile, nic, disk, bootImage },
    principals,
    faults: readFaults(root, clockHz, cores, principals, nic?.queues ?? 0),
    runFor,
    expect: readExpectations(root, cores, principals),
  };
}

function isBuiltinProfile(t: string): boolean {
  return t === 'default' || t === 'seed-chapter';
}

function positiveTime(t: string, clockHz: number): number {
  const c = parseTime(t, clockHz);
  if (c <= 0) throw new ParseError(`expected a time greater than zero, got "${t}"`);
  return c;
}

function flagTime(name: string, t: string, clockHz: number): number {
  try {
    return positiveTime(t, clockHz);
  } catch (e) {
    if (e instanceof ParseError) throw new InputError(`--${name}: ${e.message}`);
    throw e;
  }
}

function readPrincipals(root: LNode, doc: Record<string, any>, cores: number, queues: number, dir: string): ScenarioPrincipal[] {
  const list = (doc.principals ?? []) as Record<string, any>[];
  const seen = new Set<string>();
  /** Who took each NIC queue, and who holds each core (and whether as a partition). */
  const queueOwner = new Map<number, string>();
  const coreUsers = new Map<number, { name: string; partition: boolean }[]>();
  return list.map((p, i) => {
    const at = `principals[${i}]`;
    const node = entry(root, 'principals')!.kind === 'seq' ? (entry(root, 'principals') as Extract<LNode, { kind: 'seq' }>).items[i]! : root;
    if (seen.has(p.name)) throw inputError(entry(node, 'name')!.loc, `${at}.name`, `a second principal named '${p.name}'; names must be unique`);
    seen.add(p.name);
    const coreList = (p.cores ?? [0]) as number[];
    const partition = p.placement === 'unikernel' || p.placement === 'mono';
    if (coreList.length === 0) throw inputError(entry(node, 'cores')!.loc, `${at}.cores`, 'expected at least one core number');
    coreList.forEach((c, k) => {
      if (c >= cores) throw inputError(itemLoc(node, 'cores', k), `${at}.cores[${k}]`, `core ${c} does not exist: the machine has ${cores} (0 to ${cores - 1})`);
      if (coreList.indexOf(c) !== k) throw inputError(itemLoc(node, 'cores', k), `${at}.cores[${k}]`, `core ${c} is listed twice`);
      const users = coreUsers.get(c) ?? [];
      const clash = users.find((u) => u.partition || partition);
      if (clash) {
        throw inputError(itemLoc(node, 'cores', k), `${at}.cores[${k}]`,
          `core ${c} is also ${clash.name}'s: a ${partition ? p.placement : clash.partition ? 'partition' : ''} principal needs whole cores (unikernel and mono placements share a core with nobody)`);
      }
      users.push({ name: p.name, partition });
      coreUsers.set(c, users);
    });
    const qs = (p.nic_queues ?? []) as number[];
    qs.forEach((q, k) => {
      if (queues === 0) throw inputError(itemLoc(node, 'nic_queues', k), `${at}.nic_queues`, 'the machine has no NIC (add machine.nic)');
      if (q >= queues) throw inputError(itemLoc(node, 'nic_queues', k), `${at}.nic_queues[${k}]`, `queue ${q} does not exist: the NIC has ${queues} (0 to ${queues - 1})`);
      const owner = queueOwner.get(q);
      if (owner !== undefined) throw inputError(itemLoc(node, 'nic_queues', k), `${at}.nic_queues[${k}]`, `NIC queue ${q} is already ${owner}'s: a queue has one owner`);
      queueOwner.set(q, p.name);
    });
    if (partition && p.irq !== undefined) {
      throw inputError(entry(node, 'irq')!.loc, `${at}.irq`, `irq modes are the exokernel's demultiplexing: a ${p.placement} partition takes its interrupts on its own core (leave irq out)`);
    }
    if (p.args?.value !== undefined && !Number.isInteger(p.args.value)) {
      throw inputError(entry(entry(node, 'args')!, 'value')?.loc ?? entry(node, 'args')!.loc, `${at}.args.value`, `expected a whole number, got ${JSON.stringify(p.args.value)}`);
    }
    checkImage(p.image, dir, entry(node, 'image')!.loc, `${at}.image`);
    const memoryBytes = quantity(entry(node, 'memory'), `${at}.memory`, (t) => parseSize(t)) ?? 16 << 20;
    return {
      name: p.name, image: p.image, placement: p.placement ?? 'exo', cores: coreList, nicQueues: qs, where: formatLoc(entry(node, 'image')!.loc),
      irq: p.irq ?? 'direct', memoryBytes, caps: (p.caps ?? []).map((c: any) => ({ rights: '', ...c })), args: p.args ?? {},
    };
  });
}

function itemLoc(node: LNode, key: string, k: number): Loc {
  const l = entry(node, key);
  return l?.kind === 'seq' ? l.items[k]?.loc ?? l.loc : node.loc;
}

function readFaults(root: LNode, clockHz: number, cores: number, principals: ScenarioPrincipal[], queues: number): ScheduledFault[] {
  const seq = entry(root, 'faults');
  if (seq === undefined || seq.kind !== 'seq') return [];
  return seq.items.map((n, i) => {
    const at = `faults[${i}]`;
    const kindNode = entry(n, 'kind')!;
    const kind = String((kindNode as { value?: unknown }).value);
    const fk = faultKind(kind);
    if (!fk) {
      const near = closest(kind, FAULTS.map((f) => f.kind));
      throw inputError(kindNode.loc, `${at}.kind`, `unknown fault '${kind}'; ${near ? `did you mean ${near}?` : `expected one of ${FAULTS.map((f) => f.kind).join(', ')}`}`);
    }
    const when = quantity(entry(n, 'at'), `${at}.at`, (t) => parseTime(t, clockHz))!;
    const every = quantity(entry(n, 'every'), `${at}.every`, (t) => positiveTime(t, clockHz)) ?? 0;
    const targetNode = entry(n, 'target');
    const target = targetNode?.kind === 'scalar' ? targetNode.value as string | number : undefined;
    if (target === undefined && !fk.targetOptional) throw inputError(n.loc, at, `missing key 'target' (${kind} needs a ${fk.target})`);
    if (target !== undefined) checkTarget(fk.target, target, targetNode!.loc, `${at}.target`, cores, principals, queues);
    const params: Record<string, string | number> = {};
    if (n.kind === 'map') {
      for (const [key, e] of n.entries) {
        if (['at', 'kind', 'target', 'every', 'times'].includes(key)) continue;
        const p = fk.params.find((x) => x.name === key);
        if (!p) {
          const names = fk.params.map((x) => x.name);
          const near = closest(key, names);
          throw inputError(e.keyLoc, '', `unknown key '${key}' in ${at} (${kind}); ${near ? `did you mean '${near}'?` : names.length ? `its parameters are ${names.join(', ')}` : 'it takes no parameters'}`);
        }
        params[key] = p.type === 'time' ? quantity(e.value, `${at}.${key}`, (t) => parseTime(t, clockHz))!
          : p.type === 'integer' ? quantity(e.value, `${at}.${key}`, (t) => wholeNumber(t))!
            : String((e.value as { value?: unknown }).value);
      }
    }
    const timesNode = entry(n, 'times') as { value?: number; loc: Loc } | undefined;
    if (timesNode !== undefined && every === 0) throw inputError(timesNode.loc, `${at}.times`, 'times needs every (the period of the repeats)');
    const times = every > 0 ? timesNode?.value ?? Number.POSITIVE_INFINITY : 1;
    return { at: when, kind, target, params, every, times, where: formatLoc(n.loc) };
  }).sort((a, b) => a.at - b.at);
}

function wholeNumber(t: string): number {
  const v = Number(t);
  if (!Number.isSafeInteger(v) || v < 0) throw new ParseError(`expected a whole number, got "${t}"`);
  return v;
}

function checkTarget(kind: string, target: string | number, loc: Loc, path: string, cores: number, principals: ScenarioPrincipal[], queues: number): void {
  if (kind === 'principal') {
    const names = principals.map((p) => p.name);
    if (!names.includes(String(target))) {
      const near = closest(String(target), names);
      throw inputError(loc, path, `no principal '${target}'; ${names.length === 0 ? 'the scenario has none' : near ? `did you mean ${near}?` : `expected one of ${names.join(', ')}`}`);
    }
    return;
  }
  const n = typeof target === 'number' ? target : Number.NaN;
  if (!Number.isInteger(n) || n < 0) throw inputError(loc, path, `expected a ${kind} number, got ${JSON.stringify(target)}`);
  if (kind === 'core' && n >= cores) throw inputError(loc, path, `core ${n} does not exist: the machine has ${cores} (0 to ${cores - 1})`);
  if (kind === 'queue' && n >= queues) throw inputError(loc, path, queues === 0 ? 'the machine has no NIC (add machine.nic)' : `queue ${n} does not exist: the NIC has ${queues} (0 to ${queues - 1})`);
}

function readExpectations(root: LNode, cores: number, principals: ScenarioPrincipal[]): Expectation[] {
  const seq = entry(root, 'expect');
  if (seq === undefined || seq.kind !== 'seq') return [];
  return seq.items.map((n, i) => {
    const at = `expect[${i}]`;
    const metricNode = entry(n, 'metric')!, isNode = entry(n, 'is')!;
    const metric = String((metricNode as { value?: unknown }).value);
    const parts = metric.split('.');
    if (!(METRIC_ROOTS as readonly string[]).includes(parts[0]!)) {
      const near = closest(parts[0]!, METRIC_ROOTS);
      throw inputError(metricNode.loc, `${at}.metric`, `a metric starts with one of ${METRIC_ROOTS.join(', ')}, got '${parts[0]}'${near ? `; did you mean ${near}?` : ''}`);
    }
    if (parts[0] === 'cores' && parts[1] !== undefined && /^\d+$/.test(parts[1]) && Number(parts[1]) >= cores) {
      throw inputError(metricNode.loc, `${at}.metric`, `core ${parts[1]} does not exist: the machine has ${cores} (0 to ${cores - 1})`);
    }
    if (parts[0] === 'principals' && parts[1] !== undefined && !principals.some((p) => p.name === parts[1])) {
      throw inputError(metricNode.loc, `${at}.metric`, `no principal '${parts[1]}' in this scenario`);
    }
    const text = isNode.kind === 'scalar' ? (typeof isNode.value === 'number' ? isNode.source : String(isNode.value)) : '';
    const c = parseComparison(text);
    if (c === null) throw inputError(isNode.loc, `${at}.is`, `expected a comparison such as "== 4", ">= 1" or "< 2.5", got ${JSON.stringify(text)}`);
    return { metric, op: c.op, value: c.value, text: text.trim(), where: formatLoc(n.loc) };
  });
}

