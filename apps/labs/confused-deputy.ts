// Lab "confused-deputy": a deputy that writes to the disk for a client, which names where
// (guests/deputy.c and guests/deputy-client.c, two ring-3 principals on one core talking through
// a Frame the client grants). With ambient authority the deputy's own block range covers its
// billing ledger and the client's area, so the client has it overwrite the ledger. With
// capabilities it writes only with the range the caller granted it, and the same requests are
// refused by the kernel (a sector outside that range, a read-only grant) or by the deputy (a
// capability not the caller's). The figure is read from the disk after each run: the ledger's
// sectors that no longer hold their own record.

import { join } from 'node:path';
import { buildRawGuest } from '../../kernel/guest-build.js';
import { labDir, runScenario, type Lab, type LabFigure, type LabResult } from './lab.js';

const CLIENT_SECTORS = 64;   // the client's area, right after the ledger
const LEDGER_MAGIC = 0x4c4c4942, CLIENT_MAGIC = 0x544e4c43;
const CODES: Record<number, string> = { [-5]: 'rights', [-6]: 'bad_arg', [-15]: 'perm', [-4]: 'wrong_type', [-3]: 'empty' };

export interface DeputyRun {
  /** Ledger sectors that no longer hold their record; of those, the ones with the client's data. */
  overwritten: number; clientData: number;
  /** Sectors of the client's own area holding its data (its two legitimate requests). */
  clientArea: number;
  /** Request statuses: legitimate ones, and the attacks by outcome. */
  legit: number[]; attacks: number[]; console: string;
}

export function deputyRun(capabilities: boolean, attacks: number, sectors: number, ledger: number): DeputyRun {
  const dir = labDir('confused-deputy'), g = (f: string) => buildRawGuest(join('apps', 'labs', 'guests', f)).elf;
  const v = capabilities ? 1 : 0;
  const deputyArg = v | (ledger << 8), clientArg = (v | (attacks << 1) | (sectors << 8) | (ledger << 12) | (0 << 24)) >>> 0;
  const deputyRange = capabilities ? ledger : ledger + CLIENT_SECTORS;
  const yaml = `name: confused-deputy\nseed: 1\nmachine: { cores: 1, ram: 32MiB, disk: { size: 4MiB } }\nprincipals:\n` +
    `  - { name: deputy, image: ${g('deputy.c')}, cores: [0], memory: 1MiB, args: { value: ${deputyArg} }, caps: [{ type: block_range, base: 0, size: ${deputyRange}, rights: rw }] }\n` +
    `  - { name: client, image: ${g('deputy-client.c')}, cores: [0], memory: 1MiB, args: { value: ${clientArg} }, caps: [{ type: block_range, base: ${ledger}, size: ${CLIENT_SECTORS}, rights: rw }] }\n` +
    `run: { for: 200ms }\n`;
  const r = runScenario(yaml, dir, capabilities ? 'capability' : 'ambient');
  const disk = r.system.machine.disk!.backend, buf = new Uint8Array((ledger + CLIENT_SECTORS) * 512);
  disk.read(0, buf);
  const dv = new DataView(buf.buffer), word = (sector: number, k: number) => dv.getUint32(sector * 512 + 4 * k, true);
  let overwritten = 0, clientData = 0, clientArea = 0;
  for (let s = 0; s < ledger; s++) {
    if (word(s, 0) !== LEDGER_MAGIC || word(s, 1) !== s) overwritten++;
    if (word(s, 0) === CLIENT_MAGIC) clientData++;
  }
  for (let s = ledger; s < ledger + CLIENT_SECTORS; s++) if (word(s, 0) === CLIENT_MAGIC) clientArea++;
  const legit: number[] = [], att: number[] = [];
  for (const m of r.console.matchAll(/request (\d+) (\d) status (-?\d+)/g)) (m[2] === '0' ? legit : att).push(Number(m[3]));
  if (legit.length !== 2 || att.length !== attacks) throw new Error(`confused-deputy lab: the client did not finish its requests; console:\n${r.console}`);
  return { overwritten, clientData, clientArea, legit, attacks: att, console: r.console };
}

function outcomes(statuses: number[]): Record<string, number> {
  const out: Record<string, number> = { attacks_succeeded: 0 };
  for (const s of statuses) { const k = s === 0 ? 'attacks_succeeded' : `attacks_refused_${CODES[s] ?? s}`; out[k] = (out[k] ?? 0) + 1; }
  return out;
}

export const confusedDeputyLab: Lab = {
  name: 'confused-deputy',
  title: 'a deputy with ambient authority is tricked into overwriting billing; with the caller\'s capability it is not',
  chapter: 'a deputy acting with the caller\'s capability cannot be tricked',
  params: [
    { name: 'attacks', unit: '', default: 3, describe: 'requests naming the billing ledger, between two legitimate ones', min: 0, max: 127, integer: true },
    { name: 'sectors', unit: '', default: 8, describe: 'sectors per request', min: 1, max: 8, integer: true },
    { name: 'billing', unit: '', default: 64, describe: 'sectors of the billing ledger (disk sectors 0..billing-1)', min: 8, max: 4000, integer: true },
  ],
  run(p): LabResult {
    const [attacks, sectors, ledger] = [p.attacks!, p.sectors!, p.billing!];
    const fig = (name: string, chapter: number | string, r: DeputyRun, note: string): LabFigure => ({
      name, chapter, measured: r.overwritten, unit: 'sectors',
      breakdown: { ...outcomes(r.attacks), with_client_data: r.clientData, ledger_intact: ledger - r.overwritten, client_area_written: r.clientArea, legitimate_ok: r.legit.filter((s) => s === 0).length },
      note,
    });
    const amb = deputyRun(false, attacks, sectors, ledger), cap = deputyRun(true, attacks, sectors, ledger);
    return {
      lab: 'confused-deputy',
      parameters: p,
      figures: [
        fig('ambient authority: billing sectors overwritten', 'the attack succeeds', amb, 'the deputy\'s own range covers the ledger, so every sector the client names is one it may write'),
        fig('caller\'s capability: billing sectors overwritten', 0, cap, 'outside the granted range: EXO_E_BAD_ARG; the read-only grant: EXO_E_RIGHTS; the deputy\'s own slot: refused by the deputy (no caller badge)'),
      ],
    };
  },
};
