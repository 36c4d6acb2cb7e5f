// `exolab boot FILE.elf`: a bare ring-0 image on the machine (no exokernel), for machine-level
// work: paging, faults, local APIC timers, IPIs between cores. The image's UART output goes to
// stdout; a write to the power-off register ends the run with that status.

import { writeFileSync, statSync, accessSync, existsSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InputError } from '../machine/errors.js';
import { parseElf32 } from '../machine/elf.js';
import { Machine, machineConfig } from '../machine/machine.js';
import type { Nic } from '../machine/nic.js';
import { loadProfile } from '../machine/profile.js';
import { parseTime, parseSize, ParseError, formatCycles } from '../machine/units.js';
import { readInput } from './exec-command.js';
import { hostWrite } from './host-output.js';

export interface BootArgs {
  file?: string;
  cores?: number | string;
  for?: string;
  seed?: number | string;
  ram?: string;
  profile?: string;
  stats?: boolean;
  hash?: boolean;
  snapshot?: string;
  restore?: string;
  wire?: string;
  queues?: number | string;
  disk?: string;
}

/** Exit status when a core shut down (a triple fault): like a crashed process. */
export const EXIT_SHUTDOWN = 139;
/** Our stdout was closed under us: what a process killed by SIGPIPE reports. */
const EXIT_SIGPIPE = 141;
/** EX_IOERR from sysexits.h: the guest's output could not be written. */
const EXIT_IO = 74;

/** Fail before the run, not after it, when the snapshot could not be written. */
function checkWritable(path: string): void {
  let st;
  try { st = statSync(path); } catch { st = null; }
  if (st?.isDirectory()) throw new InputError(`--snapshot: ${path} is a directory, expected a file name`);
  const dir = dirname(path);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new InputError(`--snapshot: cannot write in ${dir} (missing or not writable)`);
  }
}

function writeSnapshot(path: string, bytes: Uint8Array): void {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new InputError(`--snapshot: cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function flag<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof ParseError) throw new InputError(`--${name}: ${e.message}`);
    throw e;
  }
}

function intFlag(name: string, value: number | string | undefined, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(`--${name}: expected an integer from ${min} to ${max}, found '${value}'`);
  return n;
}

export function bootCommand(args: BootArgs): number {
  // Every flag is checked before any file is read, so a bad flag is named first.
  let m: Machine;
  let span: number;
  if (args.snapshot !== undefined) checkWritable(args.snapshot);
  if (args.restore !== undefined) {
    const clash = (['file', 'cores', 'seed', 'ram', 'profile', 'wire', 'queues', 'disk'] as const).filter((k) => args[k] !== undefined);
    if (clash.length > 0) {
      const names = clash.map((k) => (k === 'file' ? `the image ${args.file}` : `--${k}`)).join(', ');
      throw new InputError(`--restore: the machine comes whole from the snapshot; drop ${names}`);
    }
    const bytes = readInput(args.restore, 'a snapshot file');
    m = Machine.fromSnapshot(bytes, args.restore);
    span = flag('for', () => parseTime(args.for ?? '10ms', m.config.clockHz));
  } else {
    if (args.file === undefined) throw new InputError('boot: expected FILE.elf or --restore SNAPSHOT');
    const profile = loadProfile(args.profile ?? 'default');
    const cores = intFlag('cores', args.cores, 1, 1, 64);
    const seed = intFlag('seed', args.seed, 1, 0, 0xffffffff);
    const ramBytes = flag('ram', () => parseSize(args.ram ?? '64MiB'));
    span = flag('for', () => parseTime(args.for ?? '10ms', profile.clockHz));
    const image = parseElf32(readInput(args.file), args.file);
    const queues = intFlag('queues', args.queues, 4, 1, 16);
    const nic = args.wire !== undefined ? { queues, wire: args.wire } : undefined;
    const disk = args.disk === undefined ? undefined
      : /^\d/.test(args.disk) && !existsSync(args.disk) ? { bytes: flag('disk', () => parseSize(args.disk!)) } : { image: args.disk };
    try {
      m = new Machine({ ...machineConfig(profile, { cores, ramBytes, seed }), nic, disk });
    } catch (e) {
      if (e instanceof InputError && /^(ram|cores):/.test(e.message)) throw new InputError(`--${e.message}`); // the flag's name
      throw e;
    }
    m.loadImage(image, args.file);
    m.boot(image.entry);
  }
  let outputError = 0;
  m.emitter.on('uart', (b) => {
    if (outputError !== 0) return;
    outputError = hostWrite(1, Uint8Array.of(b));
    if (outputError !== 0) m.requestStop();
  });
  const shutdowns: string[] = [];
  m.emitter.on('shutdown', (core, reason) => shutdowns.push(`core ${core}: ${reason}`));
  watchStartIpis(m);

  const t0 = performance.now();
  const insns0 = m.instructions();
  const reason = m.run(m.now + span);
  const hostSeconds = (performance.now() - t0) / 1000;

  if (outputError === -32) return EXIT_SIGPIPE; // the reader went away: stop quietly, as a shell pipeline expects
  if (outputError !== 0) {
    process.stderr.write(`exolab: cannot write the guest's output to stdout (${outputError === -28 ? 'no space left on device' : 'I/O error'})\n`);
    return EXIT_IO;
  }
  if (args.snapshot !== undefined) {
    const bytes = m.snapshot();
    writeSnapshot(args.snapshot, bytes);
    process.stderr.write(`exolab: the machine at ${formatCycles(m.now, m.config.clockHz)} saved to ${args.snapshot} (${bytes.length} bytes); go on with: exolab boot --restore ${args.snapshot}\n`);
  }
  m.close();
  if (args.stats) process.stderr.write(bootStats(m, m.instructions() - insns0, hostSeconds, reason).join('\n') + '\n');
  if (args.hash) process.stdout.write(`state hash ${m.stateHash()}\n`);
  if (reason === 'poweroff') return (m.sysctl.exitStatus ?? 0) & 0xff;
  if (reason === 'shutdown') {
    // The machine stops at the first triple fault (a shutdown cycle resets an x86 platform).
    process.stderr.write(`exolab: the machine stopped: ${shutdowns.length === 1 ? 'a core' : `${shutdowns.length} cores`} shut down (${shutdowns.join('; ') || 'no reason recorded'})\n`);
    return EXIT_SHUTDOWN;
  }
  return 0;
}

const ICR_MODE_NAMES = ['fixed', 'lowest priority', 'SMI', 'reserved', 'NMI', 'INIT', 'STARTUP', 'ExtINT'];
const ICR_MODE_STARTUP = 6, ICR_MODE_EXTINT = 7;
const SIPI_HINT = 'a STARTUP vector is 8 bits, so a core starts on a 4 KiB page below 1 MiB (see README.md, "Boot a bare ring-0 image")';

/**
 * A core that waits for a start IPI that never comes is silent, so say why on stderr, once per
 * cause: a STARTUP IPI to a page holding no code, or an ICR write the machine ignores (such as
 * `0x4600 | entry >> 12` with the entry above 1 MiB, which overflows into delivery mode 7).
 */
function watchStartIpis(m: Machine): void {
  const warned = new Set<string>();
  const warn = (key: string, line: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    process.stderr.write(`exolab: warning: ${line}\n`);
  };
  m.emitter.on('ipi', (from, to, vector, mode) => {
    if (mode !== ICR_MODE_STARTUP) return;
    const at = vector << 12, code = at + 16 <= m.mem.size ? m.mem.ram8.subarray(at, at + 16) : null;
    if (code !== null && code.some((b) => b !== 0)) return;
    warn(`sipi ${at}`, `core ${from} sent a STARTUP IPI with vector 0x${vector.toString(16)} to core ${to}: it starts at physical 0x${at.toString(16)}, where no code is loaded; ${SIPI_HINT}`);
  });
  m.emitter.on('ipiIgnored', (from, lo) => {
    const mode = (lo >>> 8) & 7, logical = ((lo >>> 11) & 1) === 1;
    const what = logical ? 'a logical destination' : `delivery mode ${mode} (${ICR_MODE_NAMES[mode]})`;
    const hint = mode === ICR_MODE_EXTINT ? `; if this was meant as a STARTUP IPI, ${SIPI_HINT}` : '';
    warn(`icr ${lo}`, `core ${from} wrote ICR 0x${lo.toString(16).padStart(8, '0')}: ${what} is not modelled, the IPI was ignored${hint}`);
  });
}

function bootStats(m: Machine, insns: number, hostSeconds: number, reason: string): string[] {
  const clock = m.config.clockHz;
  const simSeconds = m.now / clock;
  const rows: [string, string][] = [
    ['stopped by', reason === 'time' ? 'the --for limit' : reason],
    ['simulated time', formatCycles(m.now, clock)],
    ['guest instructions', String(insns)],
    ['host seconds', hostSeconds.toFixed(3)],
    ['MIPS', (insns / Math.max(hostSeconds, 1e-9) / 1e6).toFixed(1)],
    ['simulated / host time', (simSeconds / Math.max(hostSeconds, 1e-9)).toFixed(4)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  const out = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
  out.push('core  state     instructions  cycles        TLB hits      TLB misses  walks    exceptions  interrupts  IPIs sent/recv');
  m.cores.forEach((c, k) => {
    const ctr = c.counterValues();
    out.push([
      String(k).padEnd(4), c.state.padEnd(8), String(c.instructions).padStart(12), String(c.cycles).padStart(12),
      String(ctr.tlbHits).padStart(12), String(ctr.tlbMisses).padStart(11), String(ctr.pageWalks).padStart(8), String(ctr.exceptions).padStart(11),
      String(ctr.interrupts).padStart(11), `${m.ipiSent[k]}/${m.ipiReceived[k]}`.padStart(15),
    ].join('  '));
  });
  if (m.nic !== null) out.push(...nicStats(m.nic));
  return out;
}

/** "ring full 2, too long 1": the reasons that happened, or "" when none did. */
function byReason(drops: Record<string, number>): string {
  return Object.entries(drops).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(', ');
}

/**
 * The NIC's own accounting (received = delivered + dropped + in flight), what it sent, and on
 * a line apart what the wire dropped before the NIC ever saw it (refused capture records).
 */
function nicStats(nic: Nic): string[] {
  const t = nic.inspect().totals;
  const why = (n: number, drops: Record<string, number>) => `${n}${n > 0 ? ` (${byReason(drops)})` : ''}`;
  const txDropped = Object.values(t.txDrops).reduce((a, b) => a + b, 0);
  return [
    `nic   received ${t.received}, delivered ${t.delivered}, dropped ${why(t.dropped, t.drops)}, in flight ${t.inFlight}; sent ${t.sent}, not sent ${why(txDropped, t.txDrops)}`,
    `wire  ${nic.wire.spec}: dropped before the NIC ${why(t.wire.dropped, t.wire.drops)}`,
  ];
}
