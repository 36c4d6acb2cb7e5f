// The guest test programs on the host CPU: each corpus program passes its own checks and
// prints the same at every optimisation level (so it has no undefined behaviour that the
// differential test would mistake for a CPU bug), and each fault program dies as expected.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildGuest } from '../helpers/gcc.js';
import { corpusOptLevels, corpusPrograms, faultOptLevels, faultPrograms } from '../helpers/guest-programs.js';
import { nativeAvailable, runNative } from '../helpers/native.js';
import { describeOutputDiff } from '../helpers/output-diff.js';

const native = nativeAvailable();

if (!native.ok) {
  console.warn(`guest programs: native runs skipped: ${native.reason}`);
  test.skip('guest programs natively', () => {});
} else {
  for (const prog of corpusPrograms()) {
    test(`${prog.name} natively, same output at ${corpusOptLevels.join(' ')}`, () => {
      const ref = runNative(buildGuest(prog.name, prog.sources, corpusOptLevels[0]));
      for (const opt of corpusOptLevels) {
        const r = opt === corpusOptLevels[0] ? ref : runNative(buildGuest(prog.name, prog.sources, opt));
        const failed = r.stdout.toString('latin1').split('\n').filter((l) => l.includes('FAIL'));
        assert.is(r.exitCode, 0, `${prog.name} ${opt} exits ${r.exitCode}${r.signal ? ` (${r.signal})` : ''}: ${failed.slice(0, 5).join('; ')}`);
        const diff = describeOutputDiff(corpusOptLevels[0], ref.stdout, opt, r.stdout);
        if (diff) assert.unreachable(`${prog.name}: ${diff}`);
      }
    });
  }
  for (const prog of faultPrograms()) {
    for (const opt of faultOptLevels) {
      test(`${prog.name} ${opt} natively dies by ${prog.signal}`, () => {
        const r = runNative(buildGuest(prog.name, prog.sources, opt));
        assert.is(r.signal, prog.signal, `${prog.name} ${opt}: signal`);
        assert.is(r.exitCode, prog.exitCode, `${prog.name} ${opt}: exit code`);
        assert.ok(!r.stdout.toString().includes('not reached'), `${prog.name} ${opt} ran past its fault`);
      });
    }
  }
}

test.run();
