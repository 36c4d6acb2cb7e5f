// Shared by the pcap, wire and NIC tests: the shared captures (skipped with a message where
// /work/shared is absent) and tshark's view of a file (used only when tshark is on PATH).

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PCAP_DIR = '/work/shared/pcaps';

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

export function sharedCaptures(): string[] {
  if (!existsSync(PCAP_DIR)) { console.log(`${PCAP_DIR} is absent: the shared-capture tests are skipped`); return []; }
  return readdirSync(PCAP_DIR).filter((f) => f.endsWith('.pcap')).sort().map((f) => join(PCAP_DIR, f));
}
