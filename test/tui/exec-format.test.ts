// The lines `exolab exec` prints about a run: fault, limit and the --stats table.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatFault, formatLimit, formatStats } from '../../tui/exec-format.js';

const fault = (vector: number, name: string, extra: Partial<{ errorCode: number; cr2: number }> = {}) =>
  ({ vector, name, eip: 0x08049012, errorCode: 0, cr2: 0, ...extra });

test('a divide error reads like qemu', () => {
  assert.is(formatFault(fault(0, 'divide error'), 'SIGFPE'),
    'exolab: guest fault #DE (divide error) at eip 0x08049012: killed by SIGFPE');
});

test('the fault name may be given as a mnemonic, with or without its description', () => {
  assert.is(formatFault(fault(0, '#DE (divide error)'), 'SIGFPE'),
    'exolab: guest fault #DE (divide error) at eip 0x08049012: killed by SIGFPE');
  assert.is(formatFault(fault(6, '#UD'), 'SIGILL'),
    'exolab: guest fault #UD (invalid opcode) at eip 0x08049012: killed by SIGILL');
});

test('a page fault names the address and the cause from the error code', () => {
  assert.is(formatFault(fault(14, 'page fault', { errorCode: 6, cr2: 0 }), 'SIGSEGV'),
    'exolab: guest fault #PF (page fault) at eip 0x08049012, address 0x00000000 (user write, page not present): killed by SIGSEGV');
  assert.match(formatFault(fault(14, '#PF', { errorCode: 0x15, cr2: 0x1000 }), 'SIGSEGV'), /user fetch, protection violation/);
});

test('#GP shows a non-zero error code; an unknown vector still prints', () => {
  assert.match(formatFault(fault(13, 'general protection', { errorCode: 0x10 }), 'SIGSEGV'), /#GP .*error code 0x10: killed/);
  assert.match(formatFault(fault(42, 'spurious'), undefined), /vector 42 \(spurious\).*: killed$/);
  assert.is(formatFault(undefined, 'SIGTRAP'), 'exolab: guest killed by SIGTRAP');
});

test('the limit line gives the count and the exit code', () => {
  assert.is(formatLimit(1000), 'exolab: stopped after 1000 guest instructions (the --max-instructions limit); exit code 124');
});

test('the stats table is aligned and computes MIPS', () => {
  const lines = formatStats({ instructions: 50_000_000, cycles: 75_000_000, hostSeconds: 0.5 });
  assert.equal(lines, [
    'guest instructions  50000000',
    'guest cycles        75000000',
    'host seconds           0.500',
    'MIPS                   100.0',
  ]);
  assert.is(formatStats({ instructions: 1, cycles: 1, hostSeconds: 0 })[3].trim().endsWith('0.0'), true);
});

test.run();
