// The ring-0 guest programs (test/guest/r0/*.c with the runtime in test/guest/r0/rt/): built
// by gcc as bare images linked at 1 MiB, run on a Machine straight from the ELF.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf32 } from '../../machine/elf.js';
import { Machine, machineConfig, type StopReason } from '../../machine/machine.js';
import { loadProfile } from '../../machine/profile.js';
import { buildGuest, type OptLevel } from './gcc.js';
import { guestDir } from './paths.js';

const r0Dir = join(guestDir, 'r0');
export const r0Runtime: readonly string[] = [join(r0Dir, 'rt', 'start.S'), join(r0Dir, 'rt', 'rt.c')];
const linkAt1MiB = '-Wl,-Ttext-segment=0x100000';

/** Build test/guest/r0/FILE.c (with -D defines) into build/guest/r0-NAME-OPT.elf. */
export function buildR0(file: string, opt: OptLevel = '-O2', defines: Record<string, number> = {}): string {
  const tag = Object.entries(defines).map(([k, v]) => `-${k.toLowerCase()}${v}`).join('');
  const flags = [linkAt1MiB, ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`)];
  return buildGuest(`r0-${file}${tag}`, [...r0Runtime, join(r0Dir, `${file}.c`)], opt, flags);
}

export interface R0Run {
  machine: Machine;
  reason: StopReason;
  status: number | null;
  text: string;
  shutdowns: string[];
}

/** A machine with the default profile and `cores`, the image loaded and booted. */
export function bootR0(elf: string, cores: number, seed = 1): { machine: Machine; shutdowns: string[] } {
  const image = parseElf32(readFileSync(elf), elf);
  const machine = new Machine(machineConfig(loadProfile('default'), { cores, ramBytes: 64 << 20, seed }));
  machine.loadImage(image, elf);
  machine.boot(image.entry);
  const shutdowns: string[] = [];
  machine.emitter.on('shutdown', (core, reason) => shutdowns.push(`core ${core}: ${reason}`));
  return { machine, shutdowns };
}

/** Boot and run until `until` cycles (default 20 ms at 2 GHz) or the guest stops. */
export function runR0(elf: string, cores: number, until = 40_000_000, seed = 1): R0Run {
  const { machine, shutdowns } = bootR0(elf, cores, seed);
  const reason = machine.run(until);
  return { machine, reason, status: machine.sysctl.exitStatus, text: machine.consoleText(), shutdowns };
}
