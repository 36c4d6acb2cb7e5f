// Quantities with units, as users write them in profiles and scenarios: times, frequencies,
// sizes, rates and per-byte times. Parsing is exact (decimal text becomes a fraction of
// BigInts) until the final rounding, so "0.35ms" at 2 GHz is 700000 cycles, not 699999.
//
// Conventions, documented once here:
// - A number is decimal digits with an optional fraction and exponent: 250, 0.25, .5, 5e4.
//   One space may separate it from the unit ("1.25 ms"). No sign: quantities are never
//   negative, and "-1ms" is rejected with that reason.
// - Units are case-sensitive (mHz would be millihertz): ns us ms s, Hz kHz MHz GHz,
//   B KiB MiB GiB (powers of 2) and kB MB GB (powers of 10, as SI and IEC 80000-13 define
//   them). "KB" is rejected: JEDEC reads it as 1024 and SI as 1000.
// - A time becomes whole cycles, rounded half up; a non-zero time that would round to 0
//   cycles is an error (give it in cycles, or as a per-byte cost). "cycles" is always a
//   valid time unit; a plain number is cycles only where the caller allows it (`bare`).
// - Rates ("160/ms") and per-byte times ("0.1ns/B") keep their exact value as a Ratio of
//   integers; ratioApply() scales one by a count with the same round-half-up rule.

/** A malformed quantity. Callers add the file and line (InputError). */
export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParseError';
  }
}

/** An exact non-negative fraction num/den in lowest terms, both safe integers, den > 0. */
export interface Ratio {
  readonly num: number;
  readonly den: number;
}

export interface QuantityOptions {
  /** A plain number is accepted, in the base unit (cycles, Hz, bytes, per cycle, cycles/B). */
  bare?: boolean;
}

// ---- exact decimals --------------------------------------------------------------------

interface Frac { n: bigint; d: bigint }

const NUMBER_RE = /^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?/;

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

function frac(n: bigint, d: bigint): Frac {
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
}

function mul(a: Frac, b: Frac): Frac { return frac(a.n * b.n, a.d * b.d); }
function div(a: Frac, b: Frac): Frac { return frac(a.n * b.d, a.d * b.n); }

/** Round half up (the argument is never negative). */
function roundHalfUp(f: Frac): bigint {
  return (2n * f.n + f.d) / (2n * f.d);
}

function toSafe(v: bigint, what: string, text: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ParseError(`${quote(text)} is too large for ${what}`);
  return Number(v);
}

function toRatio(f: Frac, text: string): Ratio {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (f.n > max || f.d > max) throw new ParseError(`${quote(text)} has too many digits to keep exact`);
  return { num: Number(f.n), den: Number(f.d) };
}

function quote(text: string): string {
  return JSON.stringify(text);
}

interface Split { value: Frac; unit: string }

/** Split "1.25 ms" into an exact number and the unit text after it. */
function split(input: string | number, kind: string, example: string): Split {
  const text = String(input).trim();
  if (text.startsWith('-')) throw new ParseError(`${kind} must not be negative, got ${quote(text)}`);
  if (typeof input === 'number' && !Number.isFinite(input)) throw new ParseError(`expected ${kind} such as ${example}, got ${text}`);
  const m = NUMBER_RE.exec(text);
  if (!m) throw new ParseError(`expected ${kind} such as ${example}, got ${quote(text)}`);
  const [whole, frac0 = ''] = m[1]!.split('.');
  const digits = (whole ?? '') + frac0;
  const exp = -frac0.length + (m[2] ? Number(m[2]) : 0);
  if (Math.abs(exp) > 400) throw new ParseError(`${quote(text)}: exponent out of range`);
  let n = BigInt(digits || '0');
  let d = 1n;
  if (exp >= 0) n *= 10n ** BigInt(exp);
  else d = 10n ** BigInt(-exp);
  let rest = text.slice(m[0].length);
  if (rest.startsWith(' ')) rest = rest.slice(1);
  return { value: frac(n, d), unit: rest };
}

function suggestUnit(unit: string, units: readonly string[]): string {
  const hit = units.find(u => u.toLowerCase() === unit.toLowerCase()) ?? closest(unit, units);
  return hit ? `; did you mean "${hit}"?` : '';
}

function unknownUnit(text: string, unit: string, kind: string, units: readonly string[], extra = ''): ParseError {
  return new ParseError(
    `unknown ${kind} unit ${quote(unit)} in ${quote(text)}; expected one of ${units.join(', ')}` +
    (extra || suggestUnit(unit, units)));
}

// ---- unit tables -----------------------------------------------------------------------

/** Seconds per time unit, as a fraction. `cycles` is handled apart. */
const TIME_UNITS: Record<string, Frac> = {
  ns: { n: 1n, d: 1_000_000_000n },
  us: { n: 1n, d: 1_000_000n },
  'µs': { n: 1n, d: 1_000_000n },
  'μs': { n: 1n, d: 1_000_000n },
  ms: { n: 1n, d: 1_000n },
  s: { n: 1n, d: 1n },
};
const TIME_SHOWN = ['ns', 'us', 'ms', 's', 'cycles'];
const CYCLE_UNITS = ['cycles', 'cycle'];

const FREQ_UNITS: Record<string, bigint> = {
  Hz: 1n, kHz: 1_000n, MHz: 1_000_000n, GHz: 1_000_000_000n,
};

const SIZE_UNITS: Record<string, bigint> = {
  B: 1n,
  KiB: 1n << 10n, MiB: 1n << 20n, GiB: 1n << 30n,
  kB: 1_000n, MB: 1_000_000n, GB: 1_000_000_000n,
};
const SIZE_SHOWN = ['B', 'KiB', 'MiB', 'GiB', 'kB', 'MB', 'GB'];

function sizeHint(unit: string): string {
  if (unit === 'KB' || unit === 'K' || unit === 'k') return '; write KiB (1024 B) or kB (1000 B)';
  if (unit === 'M' || unit === 'G') return `; write ${unit}iB (powers of 2) or ${unit}B (powers of 10)`;
  return '';
}

// ---- time ------------------------------------------------------------------------------

/** Exact cycles of a time text, before rounding; `null` unit check left to callers. */
function timeFrac(text: string, unit: string, value: Frac, clockHz: number, opts: QuantityOptions, kind: string): Frac {
  if (unit === '') {
    if (!opts.bare) throw new ParseError(`${quote(text)} needs a unit (${TIME_SHOWN.join(', ')})`);
    return value;
  }
  if (CYCLE_UNITS.includes(unit)) return value;
  const u = TIME_UNITS[unit];
  if (!u) throw unknownUnit(text, unit, kind, TIME_SHOWN);
  return mul(mul(value, u), { n: BigInt(clockHz), d: 1n });
}

function checkClock(clockHz: number): void {
  if (!Number.isSafeInteger(clockHz) || clockHz <= 0) throw new Error(`bad clock ${clockHz} Hz`);
}

/** A time ("250us", "1.5 ms", "800 cycles") in whole cycles of a clock, rounded half up. */
export function parseTime(input: string | number, clockHz: number, opts: QuantityOptions = {}): number {
  checkClock(clockHz);
  const text = String(input).trim();
  const { value, unit } = split(input, 'a time', '250us or 1.5 ms');
  const exact = timeFrac(text, unit, value, clockHz, opts, 'time');
  const cycles = roundHalfUp(exact);
  if (unit === '' || CYCLE_UNITS.includes(unit)) {
    if (exact.d !== 1n) throw new ParseError(`${quote(text)} is not a whole number of cycles`);
  } else if (cycles === 0n && exact.n !== 0n) {
    throw new ParseError(`${quote(text)} is less than half a cycle at ${formatFrequency(clockHz)}`);
  }
  return toSafe(cycles, 'a number of cycles', text);
}

// ---- frequency -------------------------------------------------------------------------

/** A frequency ("2GHz", "2.4 GHz", "32768Hz") in whole Hz, greater than zero. */
export function parseFrequency(input: string | number, opts: QuantityOptions = {}): number {
  const text = String(input).trim();
  const { value, unit } = split(input, 'a frequency', '2GHz');
  let mult: bigint;
  if (unit === '') {
    if (!opts.bare) throw new ParseError(`${quote(text)} needs a unit (${Object.keys(FREQ_UNITS).join(', ')})`);
    mult = 1n;
  } else {
    const u = FREQ_UNITS[unit];
    if (u === undefined) throw unknownUnit(text, unit, 'frequency', Object.keys(FREQ_UNITS));
    mult = u;
  }
  const hz = mul(value, { n: mult, d: 1n });
  if (hz.d !== 1n) throw new ParseError(`${quote(text)} is not a whole number of Hz`);
  if (hz.n === 0n) throw new ParseError(`a frequency must be greater than zero, got ${quote(text)}`);
  return toSafe(hz.n, 'a frequency', text);
}

// ---- size ------------------------------------------------------------------------------

/** A size ("64KiB", "1.5 MiB", "512B") in whole bytes. */
export function parseSize(input: string | number, opts: QuantityOptions = {}): number {
  const text = String(input).trim();
  const { value, unit } = split(input, 'a size', '64KiB or 512B');
  const mult = sizeUnit(text, unit, opts);
  const bytes = mul(value, { n: mult, d: 1n });
  if (bytes.d !== 1n) throw new ParseError(`${quote(text)} is not a whole number of bytes`);
  return toSafe(bytes.n, 'a size', text);
}

function sizeUnit(text: string, unit: string, opts: QuantityOptions): bigint {
  if (unit === '') {
    if (!opts.bare) throw new ParseError(`${quote(text)} needs a unit (${SIZE_SHOWN.join(', ')})`);
    return 1n;
  }
  const u = SIZE_UNITS[unit];
  if (u === undefined) throw unknownUnit(text, unit, 'size', SIZE_SHOWN, sizeHint(unit));
  return u;
}

// ---- rate and per-byte time ------------------------------------------------------------

/** A rate ("160/ms", "5e4/s", "1/cycle") as an exact number of events per cycle. */
export function parseRate(input: string | number, clockHz: number, opts: QuantityOptions = {}): Ratio {
  checkClock(clockHz);
  const text = String(input).trim();
  const { value, unit } = split(input, 'a rate', '160/ms');
  if (unit === '') {
    if (!opts.bare) throw new ParseError(`${quote(text)} needs a unit: per ns, us, ms, s or cycle, as in 160/ms`);
    return toRatio(value, text);
  }
  if (!unit.startsWith('/')) throw new ParseError(`expected a rate such as 160/ms, got ${quote(text)}`);
  const per = unit.slice(1).trim();
  if (per === 'cycle') return toRatio(value, text);
  const u = TIME_UNITS[per];
  if (!u) throw unknownUnit(text, per, 'rate', ['/ns', '/us', '/ms', '/s', '/cycle'], suggestUnit(per, ['ns', 'us', 'ms', 's']));
  // events per unit / (cycles per unit)
  return toRatio(div(value, mul(u, { n: BigInt(clockHz), d: 1n })), text);
}

/** A time per byte ("0.1ns/B", "2 cycles/B", "100ns/KiB") as exact cycles per byte. */
export function parsePerByte(input: string | number, clockHz: number, opts: QuantityOptions = {}): Ratio {
  checkClock(clockHz);
  const text = String(input).trim();
  const { value, unit } = split(input, 'a time per byte', '0.1ns/B');
  if (unit === '') {
    if (!opts.bare) throw new ParseError(`${quote(text)} needs a unit, as in 0.1ns/B or 2cycles/B`);
    return toRatio(value, text);
  }
  const slash = unit.indexOf('/');
  if (slash < 0) throw new ParseError(`expected a time per byte such as 0.1ns/B, got ${quote(text)}`);
  const timeUnit = unit.slice(0, slash).trim();
  const sizeText = unit.slice(slash + 1).trim();
  const cycles = timeFrac(text, timeUnit || 'cycles', value, clockHz, {}, 'time');
  const bytes = sizeUnit(text, sizeText, {});
  return toRatio(div(cycles, { n: bytes, d: 1n }), text);
}

// ---- exact arithmetic on ratios --------------------------------------------------------

/** count * r, rounded half up to a whole number (cycles for a per-byte cost, events for a rate). */
export function ratioApply(r: Ratio, count: number): number {
  const p = count * r.num;
  if (Number.isSafeInteger(p)) return Math.floor((2 * p + r.den) / (2 * r.den));
  return Number(roundHalfUp({ n: BigInt(count) * BigInt(r.num), d: BigInt(r.den) }));
}

/** Cycles that `count` events take at rate r (events per cycle), rounded half up. */
export function rateCycles(r: Ratio, count: number): number {
  if (r.num === 0) throw new Error('rateCycles: zero rate');
  return ratioApply({ num: r.den, den: r.num }, count);
}

/** The ratio as a float, for display and rough comparisons only. */
export function ratioValue(r: Ratio): number {
  return r.num / r.den;
}

// ---- formatting ------------------------------------------------------------------------

/** Three significant digits, trailing zeros dropped: 1.25, 12, 0.5, 350. */
function sig3(v: number): string {
  return String(Number(v.toPrecision(3)));
}

const TIME_STEPS: [number, string][] = [[1e9, 'ns'], [1e6, 'us'], [1e3, 'ms'], [1, 's']];

/** Cycles as a time for reports: "1.25 ms", "12 us", "0.5 ns", "0 s". */
export function formatCycles(cycles: number, clockHz: number): string {
  const seconds = cycles / clockHz;
  const abs = Math.abs(seconds);
  if (abs === 0) return '0 s';
  let i = abs < 1e-6 ? 0 : abs < 1e-3 ? 1 : abs < 1 ? 2 : 3;
  let text = sig3(seconds * TIME_STEPS[i]![0]);
  // 999.7 us rounds to "1000 us": say "1 ms" instead.
  if (Math.abs(Number(text)) >= 1000 && i < 3) text = sig3(seconds * TIME_STEPS[++i]![0]);
  return `${text} ${TIME_STEPS[i]![1]}`;
}

/** Bytes for reports: "512 B", "64 KiB", "1.5 MiB". */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${sig3(v)} ${units[i]}`;
}

/** Hz for reports: "2 GHz", "2.4 GHz", "32.8 kHz". */
export function formatFrequency(hz: number): string {
  const [scale, unit] = hz >= 1e9 ? [1e9, 'GHz'] : hz >= 1e6 ? [1e6, 'MHz'] : hz >= 1e3 ? [1e3, 'kHz'] : [1, 'Hz'];
  return `${sig3(hz / scale)} ${unit}`;
}

// ---- suggestions (shared with yaml-input.ts) -----------------------------------------------------------------------

/** The known word nearest to `word` (edit distance, case-insensitive), if it is close. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDist) { best = k; bestDist = d; }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return bestDist <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur[j] = Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1);
    }
    prev = cur;
  }
  return prev[b.length]!;
}
