// Shared by the pcap, wire and NIC tests: the shared captures in ../shared/pcaps (skipped with
// one visible line where they are absent) and tshark's view of a file (only with tshark on PATH).

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPcaps } from '../helpers/paths.js';

let tshark: boolean | undefined;
export function haveTshark(): boolean {
  if (tshark === undefined) {
    try {
      execFileSync('tshark', ['-v'], { stdio: 'ignore' });
      tshark = true;
    } catch {
      tshark = false;
      console.log('tshark is not on PATH: comparisons with tshark are skipped');
    }
  }
  return tshark;
}

/** tshark's view of a capture: one captured length per frame. */
export function tsharkLengths(file: string): number[] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.cap_len'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l.trim() !== '').map(Number);
}

/** Every .pcap in ../shared/pcaps, sorted; none (and one skip line naming `what`) when absent. */
export function sharedCaptures(what: string): string[] {
  const dir = sharedPcaps(what);
  if (dir === null) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.pcap')).sort().map((f) => join(dir, f));
}
