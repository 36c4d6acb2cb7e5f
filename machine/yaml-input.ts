// YAML input with positions, and a small schema that checks it: the one mechanism behind cost
// profiles and scenario files. YAML (1.2, via the `yaml` package) becomes a tree of located
// nodes; fields read that tree into typed values and report the first mistake as an
// InputError "file:line:col: path: what was expected".

import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { InputError } from './errors.js';
import { closest, ParseError } from './units.js';

export { closest };

// ---- located nodes ---------------------------------------------------------------------

/** Where a value came from. line 0 means "not in a file" (a command-line flag, a default). */
export interface Loc {
  file: string;
  line: number;
  col: number;
}

export type Scalar = string | number | boolean | null;

export type LNode =
  | { kind: 'map'; loc: Loc; entries: Map<string, LEntry> }
  | { kind: 'seq'; loc: Loc; items: LNode[] }
  | { kind: 'scalar'; loc: Loc; value: Scalar; /** the text as written */ source: string };

export interface LEntry {
  keyLoc: Loc;
  value: LNode;
}

export function formatLoc(loc: Loc): string {
  return loc.line > 0 ? `${loc.file}:${loc.line}:${loc.col}` : loc.file;
}

/** An InputError pointing at loc; `path` (dotted) names the value when there is one. */
export function inputError(loc: Loc, path: string, message: string): InputError {
  return new InputError(`${formatLoc(loc)}: ${path ? `${path}: ` : ''}${message}`);
}

const MAX_DEPTH = 64;

/** Parse YAML text into located nodes. Syntax errors, duplicate keys and warnings throw. */
export function parseYaml(text: string, file: string): LNode {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  const locAt = (offset: number): Loc => ({ file, ...lineCounter.linePos(offset) });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw inputError(locAt(problem.pos[0]), '', yamlMessage(problem.message));
  if (doc.contents === null) return { kind: 'scalar', loc: locAt(0), value: null, source: '' };
  return toLNode(doc, doc.contents, locAt, 0);
}

/** The yaml package's messages sometimes carry position text of their own; keep the gist. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return `YAML syntax: ${first.charAt(0).toLowerCase()}${first.slice(1)}`;
}

function toLNode(doc: Document, node: unknown, locAt: (o: number) => Loc, depth: number): LNode {
  const range = (node as Node | null)?.range;
  const loc = locAt(range ? range[0] : 0);
  if (depth > MAX_DEPTH) throw inputError(loc, '', `nested more than ${MAX_DEPTH} levels deep`);
  if (isAlias(node)) {
    const target = node.resolve(doc);
    if (!target) throw inputError(loc, '', `unknown alias *${node.source}`);
    return toLNode(doc, target, locAt, depth + 1);
  }
  if (isMap(node)) {
    const entries = new Map<string, LEntry>();
    for (const pair of node.items) {
      const keyRange = (pair.key as Node | null)?.range;
      const keyLoc = keyRange ? locAt(keyRange[0]) : loc;
      if (!isScalar(pair.key) || pair.key.value === null || typeof pair.key.value === 'object') {
        throw inputError(keyLoc, '', 'expected a plain key name');
      }
      const value = pair.value === null
        ? { kind: 'scalar' as const, loc: keyLoc, value: null, source: '' }
        : toLNode(doc, pair.value, locAt, depth + 1);
      entries.set(String(pair.key.value), { keyLoc, value });
    }
    return { kind: 'map', loc, entries };
  }
  if (isSeq(node)) return { kind: 'seq', loc, items: node.items.map(i => toLNode(doc, i, locAt, depth + 1)) };
  if (isScalar(node)) {
    const v = node.value;
    if (v !== null && typeof v === 'object') throw inputError(loc, '', 'unsupported YAML value');
    const value = typeof v === 'bigint' ? Number(v) : v as Scalar;
    return { kind: 'scalar', loc, value, source: node.source ?? String(v) };
  }
  throw inputError(loc, '', 'unsupported YAML node');
}

/** Read and parse a YAML file; an unreadable file is an InputError naming it. */
export function readYamlFile(path: string, shownAs = path): LNode {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${shownAs}: cannot read: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return parseYaml(text, shownAs);
}

/** `over` laid on `base`: maps merge key by key (recursively), anything else is replaced. */
export function mergeNodes(base: LNode, over: LNode): LNode {
  if (base.kind !== 'map' || over.kind !== 'map') return over;
  const entries = new Map(base.entries);
  for (const [key, entry] of over.entries) {
    const under = entries.get(key);
    entries.set(key, under ? { keyLoc: entry.keyLoc, value: mergeNodes(under.value, entry.value) } : entry);
  }
  return { kind: 'map', loc: over.loc, entries };
}

/** A scalar node for a value that came from elsewhere (a flag, a default). */
export function scalarNode(value: Scalar, origin: string): LNode {
  return { kind: 'scalar', loc: { file: origin, line: 0, col: 0 }, value, source: String(value) };
}

// ---- fields ----------------------------------------------------------------------------

/** Where a value sits: its dotted path and the location of its key (for "missing" errors). */
export interface At {
  path: string;
  keyLoc: Loc;
}

export interface Field<T> {
  /** What a good value looks like, for "expected ..." messages. */
  describe: string;
  read(node: LNode, at: At): T;
  /** May be left out of its mapping; then `fallback` (if any) is used. */
  optional?: boolean;
  fallback?: T;
}

function shown(node: LNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  if (node.value === null) return 'nothing';
  if (typeof node.value === 'string') return `the string ${JSON.stringify(node.value)}`;
  return `${typeof node.value} ${node.source}`;
}

export function expected(node: LNode, at: At, what: string): InputError {
  return inputError(node.loc, at.path, `expected ${what}, got ${shown(node)}`);
}

/** A field that reads one scalar; `parse` throws ParseError (or InputError) on bad text. */
export function scalarField<T>(describe: string, parse: (value: Scalar, source: string) => T): Field<T> {
  return {
    describe,
    read(node, at) {
      if (node.kind !== 'scalar' || node.value === null) throw expected(node, at, describe);
      try {
        return parse(node.value, node.source);
      } catch (e) {
        if (e instanceof ParseError) throw inputError(node.loc, at.path, e.message);
        throw e;
      }
    },
  };
}

export function integer(opts: { min?: number; max?: number; describe?: string } = {}): Field<number> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const describe = opts.describe ?? (min === 0 ? 'a whole number, 0 or more' : min === 1 ? 'a whole number, 1 or more' : 'a whole number');
  return scalarField(describe, (v, src) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ParseError(`expected ${describe}, got ${JSON.stringify(src)}`);
    if (v < min) throw new ParseError(min === 0 ? `must not be negative, got ${src}` : `must be at least ${min}, got ${src}`);
    if (v > max) throw new ParseError(`must be at most ${max}, got ${src}`);
    return v;
  });
}

export function string(describe = 'a string'): Field<string> {
  return scalarField(describe, v => {
    if (typeof v !== 'string') throw new ParseError(`expected ${describe}, got ${v}`);
    return v;
  });
}

export function boolean(): Field<boolean> {
  return scalarField('true or false', v => {
    if (typeof v !== 'boolean') throw new ParseError(`expected true or false, got ${JSON.stringify(v)}`);
    return v;
  });
}

export function oneOf<const V extends string>(values: readonly V[]): Field<V> {
  const describe = `one of ${values.join(', ')}`;
  return scalarField(describe, v => {
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as V;
    const near = closest(String(v), values);
    throw new ParseError(`expected ${describe}, got ${JSON.stringify(v)}${near ? `; did you mean ${near}?` : ''}`);
  });
}

/** A quantity with units (see units.ts): numbers go to `parse` as their source text. */
export function quantity<T>(describe: string, parse: (text: string) => T): Field<T> {
  return scalarField(describe, (v, src) => {
    if (typeof v !== 'string' && typeof v !== 'number') throw new ParseError(`expected ${describe}, got ${v}`);
    return parse(typeof v === 'number' ? src : v);
  });
}

export function optional<T>(field: Field<T>, fallback?: T): Field<T | undefined> {
  return { ...field, optional: true, fallback };
}

export function list<T>(item: Field<T>, opts: { min?: number } = {}): Field<T[]> {
  const describe = `a list of ${item.describe}`;
  return {
    describe,
    read(node, at) {
      if (node.kind !== 'seq') throw expected(node, at, describe);
      if (node.items.length < (opts.min ?? 0)) throw inputError(node.loc, at.path, `expected at least ${opts.min} item(s)`);
      return node.items.map((n, i) => item.read(n, { path: `${at.path}[${i}]`, keyLoc: n.loc }));
    },
  };
}

export type Shape = Record<string, Field<unknown>>;
export type ShapeValue<S extends Shape> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

/** A mapping with exactly these keys: unknown keys and missing required keys are errors. */
export function object<S extends Shape>(shape: S, describe = `a mapping of ${Object.keys(shape).join(', ')}`): Field<ShapeValue<S>> {
  const known = Object.keys(shape);
  return {
    describe,
    read(node, at) {
      if (node.kind !== 'map') throw expected(node, at, describe);
      for (const [key, entry] of node.entries) {
        if (!(key in shape)) throw unknownKey(entry.keyLoc, at.path, key, known);
      }
      const out: Record<string, unknown> = {};
      for (const key of known) {
        const field = shape[key]!;
        const entry = node.entries.get(key);
        const path = at.path ? `${at.path}.${key}` : key;
        if (entry) out[key] = field.read(entry.value, { path, keyLoc: entry.keyLoc });
        else if (field.optional) out[key] = field.fallback;
        else throw inputError(at.keyLoc, at.path, `missing key '${key}' (${field.describe})`);
      }
      return out as ShapeValue<S>;
    },
  };
}

/** A mapping from any key names to values of one field. */
export function record<T>(value: Field<T>, describe = `a mapping of names to ${value.describe}`): Field<Record<string, T>> {
  return {
    describe,
    read(node, at) {
      if (node.kind !== 'map') throw expected(node, at, describe);
      const out: Record<string, T> = {};
      for (const [key, entry] of node.entries) {
        out[key] = value.read(entry.value, { path: at.path ? `${at.path}.${key}` : key, keyLoc: entry.keyLoc });
      }
      return out;
    },
  };
}

function unknownKey(loc: Loc, path: string, key: string, known: readonly string[]): InputError {
  const near = closest(key, known);
  const where = path ? ` in ${path}` : '';
  const hint = near ? `; did you mean '${near}'?` : `; expected one of ${known.join(', ')}`;
  return inputError(loc, '', `unknown key '${key}'${where}${hint}`);
}

/** Read a whole document with a field; the root's "key" is the document start. */
export function readRoot<T>(field: Field<T>, node: LNode): T {
  return field.read(node, { path: '', keyLoc: node.loc });
}
