// Quantities with units: exact conversion to cycles, Hz, bytes and ratios, rounding half up,
// strict rejection of bad text with a reason, and the report formatters.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatCycles, formatFrequency, formatSize, parseFrequency, parsePerByte, parseRate, parseSize, parseTime,
  ParseError, rateCycles, ratioApply,
} from '../../machine/units.js';

const GHZ2 = 2_000_000_000;

function throwsParse(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ParseError);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a ParseError matching ${pattern}`);
}

test('times become exact whole cycles', () => {
  assert.is(parseTime('0.35ms', GHZ2), 700_000);
  assert.is(parseTime('0.25 ms', GHZ2), 500_000);
  assert.is(parseTime('0.4us', GHZ2), 800);
  assert.is(parseTime('10us', GHZ2), 20_000);
  assert.is(parseTime('1s', GHZ2), GHZ2);
  assert.is(parseTime('1.5ns', GHZ2), 3);
  assert.is(parseTime('5e-1us', GHZ2), 1000);
  assert.is(parseTime('800 cycles', GHZ2), 800);
  assert.is(parseTime('1000', GHZ2, { bare: true }), 1000);
  assert.is(parseTime(1000, GHZ2, { bare: true }), 1000);
  assert.is(parseTime('0ns', GHZ2), 0);
});

test('times round half up', () => {
  assert.is(parseTime('0.25ns', GHZ2), 1);   // 0.5 cycles
  assert.is(parseTime('0.75ns', GHZ2), 2);   // 1.5 cycles
  assert.is(parseTime('0.7ns', GHZ2), 1);    // 1.4 cycles
  assert.is(parseTime('1us', 3_000_000_001), 3000);  // 3000.000001
});

test('bad times are rejected with the reason', () => {
  throwsParse(() => parseTime('1000', GHZ2), /needs a unit/);
  throwsParse(() => parseTime('10 MS', GHZ2), /unknown time unit "MS".*did you mean "ms"/);
  throwsParse(() => parseTime('-1ms', GHZ2), /must not be negative/);
  throwsParse(() => parseTime('abc', GHZ2), /expected a time/);
  throwsParse(() => parseTime('1.5', GHZ2, { bare: true }), /not a whole number of cycles/);
  throwsParse(() => parseTime('0.1ns', GHZ2), /less than half a cycle at 2 GHz/);
  throwsParse(() => parseTime('1ms5', GHZ2), /unknown time unit/);
  throwsParse(() => parseTime('1e30s', GHZ2), /too large/);
});

test('frequencies are whole Hz', () => {
  assert.is(parseFrequency('2GHz'), GHZ2);
  assert.is(parseFrequency('2.4 GHz'), 2_400_000_000);
  assert.is(parseFrequency('32768Hz'), 32768);
  assert.is(parseFrequency('100', { bare: true }), 100);
  throwsParse(() => parseFrequency('2ghz'), /did you mean "GHz"/);
  throwsParse(() => parseFrequency('1.5Hz'), /whole number of Hz/);
  throwsParse(() => parseFrequency('0GHz'), /greater than zero/);
  throwsParse(() => parseFrequency('2000'), /needs a unit/);
});

test('sizes: binary and decimal prefixes, whole bytes', () => {
  assert.is(parseSize('64KiB'), 65536);
  assert.is(parseSize('128MiB'), 128 << 20);
  assert.is(parseSize('1.5 KiB'), 1536);
  assert.is(parseSize('1GiB'), 2 ** 30);
  assert.is(parseSize('2kB'), 2000);
  assert.is(parseSize('1MB'), 1_000_000);
  assert.is(parseSize('512B'), 512);
  assert.is(parseSize('512', { bare: true }), 512);
  throwsParse(() => parseSize('4KB'), /KiB \(1024 B\) or kB \(1000 B\)/);
  throwsParse(() => parseSize('4M'), /MiB .* or MB/);
  throwsParse(() => parseSize('0.3KiB'), /whole number of bytes/);
  throwsParse(() => parseSize('4mib'), /did you mean "MiB"/);
});

test('rates stay exact: 160/ms at 2 GHz is one descriptor per 12500 cycles', () => {
  const r = parseRate('160/ms', GHZ2);
  assert.equal(r, { num: 1, den: 12500 });
  assert.is(ratioApply(r, 2_000_000), 160);   // events in one ms
  assert.is(rateCycles(r, 64), 800_000);      // q/r = 0.4 ms
  assert.equal(parseRate('5e4/s', GHZ2), { num: 1, den: 40000 });
  assert.equal(parseRate('3/cycle', GHZ2), { num: 3, den: 1 });
  assert.equal(parseRate('0.5', GHZ2, { bare: true }), { num: 1, den: 2 });
  throwsParse(() => parseRate('160/mss', GHZ2), /did you mean "ms"/);
  throwsParse(() => parseRate('160ms', GHZ2), /expected a rate such as 160\/ms/);
  throwsParse(() => parseRate('160', GHZ2), /needs a unit/);
});

test('per-byte times stay exact', () => {
  const c = parsePerByte('0.1ns/B', GHZ2);
  assert.equal(c, { num: 1, den: 5 });
  assert.is(ratioApply(c, 65536), 13107);     // 13107.2 cycles
  assert.is(ratioApply(c, 5 * 65536 + 2), 65536); // 65536.4 cycles
  assert.is(ratioApply(c, 5 * 65536 + 3), 65537); // 65536.6 cycles
  assert.equal(parsePerByte('2cycles/B', GHZ2), { num: 2, den: 1 });
  assert.equal(parsePerByte('100ns/KiB', GHZ2), { num: 25, den: 128 });
  assert.equal(parsePerByte('0.5', GHZ2, { bare: true }), { num: 1, den: 2 });
  throwsParse(() => parsePerByte('0.1ns', GHZ2), /time per byte/);
  throwsParse(() => parsePerByte('0.1ns/KB', GHZ2), /KiB \(1024 B\)/);
  throwsParse(() => parsePerByte('0.1ps/B', GHZ2), /unknown time unit "ps"/);
});

test('ratioApply is exact beyond 2^53 intermediate products', () => {
  assert.is(ratioApply({ num: 3, den: 7 }, 2 ** 52), Math.round((2 ** 52 * 3) / 7));
});

test('formatters', () => {
  assert.is(formatCycles(2_500_000, GHZ2), '1.25 ms');
  assert.is(formatCycles(24_000, GHZ2), '12 us');
  assert.is(formatCycles(1, GHZ2), '0.5 ns');
  assert.is(formatCycles(700_000, GHZ2), '350 us');
  assert.is(formatCycles(1_999_990, GHZ2), '1 ms');
  assert.is(formatCycles(6 * GHZ2, GHZ2), '6 s');
  assert.is(formatCycles(0, GHZ2), '0 s');
  assert.is(formatSize(65536), '64 KiB');
  assert.is(formatSize(1536 * 1024), '1.5 MiB');
  assert.is(formatSize(512), '512 B');
  assert.is(formatFrequency(GHZ2), '2 GHz');
  assert.is(formatFrequency(32768), '32.8 kHz');
});

test('formatted times parse back to nearly the same cycles', () => {
  for (const c of [1, 777, 24_000, 2_500_000, 3 * GHZ2]) {
    const back = parseTime(formatCycles(c, GHZ2), GHZ2);
    assert.ok(Math.abs(back - c) <= c * 0.005, `${c} -> ${formatCycles(c, GHZ2)} -> ${back}`);
  }
});

test.run();
