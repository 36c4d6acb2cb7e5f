// `exolab exec FILE.elf`: one static i386 ELF on one core under the tiny Linux int 0x80
// subset, like qemu-i386. Guest stdout/stderr go straight to ours; the exit code is the guest's.
// Loaded lazily by cli.ts so that `exolab --help` does not pay for the emulator.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { InputError } from '../machine/errors.js';
import { parseElf32 } from '../machine/elf.js';
import { execElf } from '../kernel/linux/exec.js';
import { hostWrite } from './host-output.js';
import { EXIT_LIMIT, formatFault, formatLimit, formatStats } from './exec-format.js';

export interface ExecArgs {
  file: string;
  maxInstructions?: string | number;
  stats?: boolean;
}

/** Runs the guest; returns the process exit code. Bad input throws InputError. */
export function execCommand(args: ExecArgs): number {
  const maxInstructions = parseLimit(args.maxInstructions);
  const image = parseElf32(readInput(args.file), args.file);
  const start = performance.now();
  const result = execElf(image, {
    file: args.file,
    maxInstructions,
    onStdout: (bytes) => hostWrite(1, bytes),
    onStderr: (bytes) => hostWrite(2, bytes),
  });
  const hostSeconds = (performance.now() - start) / 1000;
  let code = result.exitCode;
  if (result.status === 'fault' && result.signal !== 'SIGPIPE') process.stderr.write(formatFault(result.fault, result.signal) + '\n');
  if (result.status === 'limit') {
    process.stderr.write(formatLimit(result.instructions) + '\n');
    code = EXIT_LIMIT;
  }
  if (args.stats) {
    const lines = formatStats({ instructions: result.instructions, cycles: result.cycles, hostSeconds });
    process.stderr.write(lines.join('\n') + '\n');
  }
  return code;
}

/** The whole file, or one InputError line saying why it cannot be read. */
export function readInput(file: string, what = 'an ELF file'): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file'
      : code === 'EISDIR' ? `is a directory, expected ${what}`
      : code === 'EACCES' ? 'permission denied'
      : `cannot read (${(e as Error).message})`;
    throw new InputError(`${file}: ${why}`);
  }
}

function parseLimit(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).replace(/_/g, '');
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n <= 0) {
    throw new InputError(`--max-instructions: expected a positive integer, found '${value}'`);
  }
  return n;
}
