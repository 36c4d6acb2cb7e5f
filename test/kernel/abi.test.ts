// The exo-call ABI: libos/include/exo.h is exactly what kernel/gen-exo-h.ts renders from
// kernel/abi.ts, and gcc -m32 agrees with TypeScript on every number and struct offset in it;
// the tables are complete and unambiguous; the capability word round-trips.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  BOOT_CAP, BOOT_INFO, BOOT_MAGIC, CALL_DOCS, CAP, CAP_DOCS, EXO_BOOT_INFO_VA, EXO_USER_MIN, UPCALL_FRAME, PART_INFO, PART_MAGIC, CAP_INFO, CAP_WORD, ERR, ERR_DOCS, REPO_NOTICE, RIGHT, RIGHTS_ALL, SYS,
  capTypeName, capWordDecode, capWordEncode, errName, rightsString, structOffset, type SysName,
} from '../../kernel/abi.js';
import { exoHPath, renderExoH } from '../../kernel/gen-exo-h.js';
import { gccAvailable } from '../helpers/gcc.js';
import { guestBuildDir } from '../helpers/paths.js';

test('libos/include/exo.h is what gen-exo-h renders (else: npx tsc -p . && node dist/kernel/gen-exo-h.js)', () => {
  assert.fixture(readFileSync(exoHPath(), 'utf8'), renderExoH());
});

test('gcc -m32 sees the same numbers and struct offsets as abi.ts', () => {
  const gcc = gccAvailable();
  if (!gcc.ok) { console.log(`  skipped: ${gcc.reason}`); return; }
  const checks: string[] = [];
  const eq = (expr: string, v: number) => checks.push(`_Static_assert((${expr}) == ${v}, "${expr.replace(/"/g, '')}");`);
  for (const k of Object.keys(SYS) as SysName[]) eq(`EXO_${k}`, SYS[k]);
  for (const [k, v] of Object.entries(ERR)) eq(`EXO_E_${k}`, v);
  for (const [k, v] of Object.entries(RIGHT)) eq(`EXO_R_${k}`, v);
  for (const [k, v] of Object.entries(CAP)) eq(`EXO_CAP_${k}`, v);
  eq('EXO_BOOT_MAGIC', BOOT_MAGIC);
  eq('EXO_PART_MAGIC', PART_MAGIC);
  eq('EXO_BOOT_INFO_VA', EXO_BOOT_INFO_VA);
  eq('EXO_USER_MIN', EXO_USER_MIN);
  for (const s of [CAP_INFO, REPO_NOTICE, BOOT_INFO, BOOT_CAP, UPCALL_FRAME, PART_INFO]) {
    for (const f of s.fields) eq(`offsetof(struct ${s.name}, ${f.name})`, structOffset(s, f.name));
  }
  const word = capWordEncode({ rights: 0x2b, type: CAP.DMA_DOMAIN, badged: true, hasParent: false, children: 77 });
  const d = capWordDecode(word);
  const fields: Record<keyof typeof CAP_WORD, number> = {
    RIGHTS: d.rights, TYPE: d.type, BADGED: Number(d.badged), HAS_PARENT: Number(d.hasParent), CHILDREN: d.children,
  };
  for (const [k, v] of Object.entries(fields)) eq(`EXO_CAPW_GET(${word}u, ${k})`, v);
  const src = join(guestBuildDir, 'exo-h-check.c');
  writeFileSync(src, ['#include <stddef.h>', '#include "exo.h"', ...checks, ''].join('\n'));
  const r = spawnSync('gcc', ['-m32', '-ffreestanding', '-std=c11', '-Wall', '-Wextra', '-Werror', '-fsyntax-only',
    `-I${join(exoHPath(), '..')}`, src], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test('call numbers: unique, from 0x100 (a Linux number is BAD_CALL), documented with at most 5 arguments', () => {
  const nums = Object.values(SYS);
  assert.is(new Set(nums).size, nums.length);
  for (const n of nums) assert.ok(n >= 0x100);
  assert.equal(Object.keys(CALL_DOCS).sort(), Object.keys(SYS).sort());
  for (const d of Object.values(CALL_DOCS)) assert.ok(d.args.length <= 5 && d.result.length > 0 && d.doc.length > 0);
});

test('error codes: OK is 0, the rest distinct negatives, each documented and named', () => {
  const codes = Object.values(ERR);
  assert.is(new Set(codes).size, codes.length);
  for (const [k, v] of Object.entries(ERR)) {
    assert.ok(k === 'OK' ? v === 0 : v < 0);
    assert.is(errName(v), k);
  }
  assert.equal(Object.keys(ERR_DOCS), Object.keys(ERR));
  assert.is(errName(-999), 'ERR(-999)');
});

test('rights and types: masks, strings, names', () => {
  assert.is(Object.values(RIGHT).reduce((a, b) => a | b, 0), RIGHTS_ALL);
  assert.is(rightsString(RIGHTS_ALL), 'rwxmdg');
  assert.is(rightsString(RIGHT.READ | RIGHT.MAP), 'r--m--');
  assert.is(rightsString(0), '------');
  assert.equal(Object.keys(CAP_DOCS), Object.keys(CAP));
  assert.is(capTypeName(CAP.FRAME), 'FRAME');
  assert.is(capTypeName(99), 'CAP(99)');
});

test('capability word: round-trips, saturates children, is never negative as a register', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: RIGHTS_ALL }), fc.integer({ min: 0, max: 31 }), fc.boolean(), fc.boolean(),
    fc.integer({ min: 0, max: 100000 }),
    (rights, type, badged, hasParent, children) => {
      const v = capWordEncode({ rights, type, badged, hasParent, children });
      assert.ok(v >= 0 && (v | 0) >= 0);
      assert.equal(capWordDecode(v), { rights, type, badged, hasParent, children: Math.min(children, 0x7fff) });
    },
  ), { seed: 0xab1, numRuns: 300 });
});

test('struct offsets: 4 bytes a field; an unknown field throws', () => {
  assert.is(structOffset(CAP_INFO, 'word'), 0);
  assert.is(structOffset(CAP_INFO, 'children'), 20);
  assert.throws(() => structOffset(REPO_NOTICE, 'nope'), /no field nope/);
});

test.run();
