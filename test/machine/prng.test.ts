import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Prng } from '../../machine/prng.js';

test('same seed, same sequence; other seed, other sequence', () => {
  const a = new Prng(42), b = new Prng(42), c = new Prng(43);
  const xs = Array.from({ length: 100 }, () => a.next());
  assert.equal(Array.from({ length: 100 }, () => b.next()), xs);
  assert.not.equal(Array.from({ length: 100 }, () => c.next()), xs);
  for (const x of xs) assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32);
});

test('below(n) stays in range and covers it evenly', () => {
  const r = new Prng(7), n = 10, counts = new Array(n).fill(0);
  for (let k = 0; k < 100000; k++) counts[r.below(n)]++;
  for (const c of counts) assert.ok(c > 9500 && c < 10500, `bucket count ${c}`);
  assert.throws(() => r.below(0));
});

test('state round-trips mid-sequence', () => {
  const a = new Prng(5);
  for (let k = 0; k < 17; k++) a.next();
  const b = new Prng(999);
  b.loadState(a.saveState());
  assert.equal(Array.from({ length: 20 }, () => b.next()), Array.from({ length: 20 }, () => a.next()));
});

test.run();
