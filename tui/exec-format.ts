// The lines `exolab exec` prints about a guest run: the qemu-style fault line, the
// instruction-limit line and the --stats table. Pure functions, so tests need no guest.

/** Exit code for a run stopped by --max-instructions, as timeout(1) uses. */
export const EXIT_LIMIT = 124;

export interface GuestFault {
  vector: number;
  name: string;
  eip: number;
  errorCode: number;
  cr2: number;
}

export interface RunFigures {
  instructions: number;
  cycles: number;
  hostSeconds: number;
}

// x86 exception vectors (Intel SDM vol. 3A, table 6-1): mnemonic and description.
const VECTORS: Record<number, readonly [string, string]> = {
  0:  ['#DE', 'divide error'],
  1:  ['#DB', 'debug'],
  3:  ['#BP', 'breakpoint'],
  4:  ['#OF', 'overflow'],
  5:  ['#BR', 'bound range exceeded'],
  6:  ['#UD', 'invalid opcode'],
  7:  ['#NM', 'device not available'],
  8:  ['#DF', 'double fault'],
  10: ['#TS', 'invalid TSS'],
  11: ['#NP', 'segment not present'],
  12: ['#SS', 'stack-segment fault'],
  13: ['#GP', 'general protection'],
  14: ['#PF', 'page fault'],
  16: ['#MF', 'x87 floating-point error'],
  17: ['#AC', 'alignment check'],
  18: ['#MC', 'machine check'],
  19: ['#XM', 'SIMD floating-point exception'],
};

const PF_PRESENT = 0x1;   // #PF error code bits (SDM 4.7)
const PF_WRITE   = 0x2;
const PF_USER    = 0x4;
const PF_FETCH   = 0x10;

/** `exolab: guest fault #DE (divide error) at eip 0x08049012: killed by SIGFPE`. */
export function formatFault(fault: GuestFault | undefined, signal: string | undefined): string {
  const killed = signal ? `killed by ${signal}` : 'killed';
  if (!fault) return `exolab: guest ${killed}`;
  const [mnemonic, description] = faultNames(fault);
  let line = `exolab: guest fault ${mnemonic} (${description}) at eip ${hex32(fault.eip)}`;
  if (fault.vector === 14) line += `, address ${hex32(fault.cr2)} (${pageFaultCause(fault.errorCode)})`;
  else if ((fault.vector === 13 || fault.vector === 12 || fault.vector === 11) && fault.errorCode !== 0) {
    line += `, error code ${hex(fault.errorCode)}`;
  }
  return `${line}: ${killed}`;
}

export function formatLimit(instructions: number): string {
  return `exolab: stopped after ${instructions} guest instructions (the --max-instructions limit); exit code ${EXIT_LIMIT}`;
}

/** The --stats table: label column padded, figures right-aligned. */
export function formatStats(r: RunFigures): string[] {
  const mips = r.hostSeconds > 0 ? r.instructions / r.hostSeconds / 1e6 : 0;
  const rows: [string, string][] = [
    ['guest instructions', String(r.instructions)],
    ['guest cycles', String(r.cycles)],
    ['host seconds', r.hostSeconds.toFixed(3)],
    ['MIPS', mips.toFixed(1)],
  ];
  const labelWidth = Math.max(...rows.map(([l]) => l.length));
  const valueWidth = Math.max(...rows.map(([, v]) => v.length));
  return rows.map(([l, v]) => `${l.padEnd(labelWidth)}  ${v.padStart(valueWidth)}`);
}

/** Mnemonic and description, whether the name is "#DE (divide error)", "#DE" or "divide error". */
function faultNames(fault: GuestFault): readonly [string, string] {
  const known = VECTORS[fault.vector];
  const m = /^#?([A-Z]{2})(?:\s*\((.*)\))?$/.exec(fault.name.trim());
  const mnemonic = m ? `#${m[1]}` : known?.[0] ?? `vector ${fault.vector}`;
  const description = m ? m[2] ?? known?.[1] ?? 'exception' : fault.name.trim() || known?.[1] || 'exception';
  return [mnemonic, description];
}

function pageFaultCause(code: number): string {
  const who = code & PF_USER ? 'user' : 'kernel';
  const what = code & PF_FETCH ? 'fetch' : code & PF_WRITE ? 'write' : 'read';
  const why = code & PF_PRESENT ? 'protection violation' : 'page not present';
  return `${who} ${what}, ${why}`;
}

function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}
