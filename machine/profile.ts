// The cost profile (DESIGN section 2, "Cost profile"): every time-like figure of the machine,
// read from a YAML file in machine/profiles/ and checked with line-numbered errors. Times
// become whole cycles of the profile's clock; rates and per-byte times stay exact Ratios.

import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COST_CLASSES, type CostClass, type CpuCosts } from './cpu/costs.js';
import { InputError } from './errors.js';
import { parseFrequency, parsePerByte, parseRate, parseTime, ParseError, type Ratio } from './units.js';
import {
  expected, inputError, integer, mergeNodes, object, optional, parseYaml, quantity, readRoot, readYamlFile,
  string, type Field, type LNode,
} from './yaml-input.js';

export interface Profile {
  name: string;
  clockHz: number;
  /** Cycles each core runs per scheduling round. */
  quantum: number;
  /** Instruction classes; `interrupt`, `iret` and `gate` come from the interrupts section. */
  cpu: CpuCosts;
  mmu: { tlbEntries: number; tlbHit: number };
  interrupts: {
    exceptionEntry: number; iret: number; int80: number; nativeGate: number; eoi: number;
    ipiLatency: number; msiLatency: number;
  };
  iommu: { iotlbEntries: number; walkLevel: number; invalidationLatency: number; unmap: number };
  nic: {
    /** Latency of one descriptor, fetch to status write-back (not counting DMA per byte). */
    perDescriptor: number;
    fenceLatency: number;
    /** Descriptors a queue completes per cycle (its throughput): drain time = in-flight / rate. */
    queueRate: Ratio;
    /** Cycles per byte of NIC DMA. */
    dmaPerByte: Ratio;
    /** Descriptors a queue engine holds in flight at most (its fetch-ahead). */
    fetchWindow: number;
  };
  block: { latency: number; perByte: Ratio };
  /** Cycles per byte of a copy the kernel makes for a guest (mono syscalls, bounce buffers). */
  copyPerByte: Ratio;
  kernel: {
    capLookup: number; pteInstall: number; upcallDispatch: number;
    /** Decoding and dispatching one exo-call, before the operation's own cost. */
    exoCall: number;
    /** Per capability removed by delete or revoke (revocation is linear in the descendants). */
    revokePerNode: number;
    /** Saving one principal's context and loading another's (CR3 reload included). */
    contextSwitch: number;
    /** The LAPIC timer period of the per-core round robin. */
    timeSlice: number;
  };
}

/** The profiles that ship with exolab, addressed by name. */
export const BUILTIN_PROFILES = ['default', 'seed-chapter'] as const;

/** Classes charged from the interrupts section rather than cpu.classes. */
const ENTRY_CLASSES = ['interrupt', 'iret', 'gate'] as const;
type PlainClass = Exclude<CostClass, typeof ENTRY_CLASSES[number]>;
const PLAIN_CLASSES = COST_CLASSES.filter((c): c is PlainClass => !(ENTRY_CLASSES as readonly string[]).includes(c));

// ---- schema ----------------------------------------------------------------------------

function fields(clockHz: number) {
  const cycles = quantity('cycles or a time such as 200ns', t => parseTime(t, clockHz, { bare: true }));
  const rate = quantity('a rate such as 160/ms', t => {
    const r = parseRate(t, clockHz);
    if (r.num === 0) throw new ParseError(`a rate must be greater than zero, got "${t}"`);
    return r;
  });
  const perByte = quantity('a time per byte such as 0.1ns/B', t => parsePerByte(t, clockHz, { bare: true }));
  const entries = integer({ min: 1, describe: 'a number of entries, 1 or more' });
  const classes = Object.fromEntries(PLAIN_CLASSES.map(c => [c, cycles])) as Record<PlainClass, Field<number>>;
  return object({
    name: optional(string('a profile name')),
    extends: optional(string('a profile name or path')),
    clock: quantity('a frequency such as 2GHz', t => parseFrequency(t)),
    quantum: quantity('cycles (1 or more) or a time', t => {
      const q = parseTime(t, clockHz, { bare: true });
      if (q < 1) throw new ParseError('the quantum must be at least one cycle');
      return q;
    }),
    cpu: object({
      classes: object(classes, `a mapping of the instruction classes ${PLAIN_CLASSES.join(', ')}`),
      taken: cycles,
      mem_operand: cycles,
      walk_level: cycles,
    }),
    mmu: object({ tlb_entries: entries, tlb_hit: cycles }),
    interrupts: object({
      exception_entry: cycles, iret: cycles, int80: cycles, native_gate: cycles, eoi: cycles,
      ipi_latency: cycles, msi_latency: cycles,
    }),
    iommu: object({ iotlb_entries: entries, walk_level: cycles, invalidation_latency: cycles, unmap: cycles }),
    nic: object({ per_descriptor: cycles, fence_latency: cycles, queue_rate: rate, dma_per_byte: perByte, fetch_window: entries }),
    block: object({ latency: cycles, per_byte: perByte }),
    copy_per_byte: perByte,
    kernel: object({
      cap_lookup: cycles, pte_install: cycles, upcall_dispatch: cycles,
      exo_call: cycles, revoke_per_node: cycles, context_switch: cycles, time_slice: cycles,
    }),
  });
}

// ---- loading ---------------------------------------------------------------------------

/** machine/profiles/, found from this module whether it runs from dist/machine/ or machine/. */
export function profilesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'profiles'), join(here, '..', '..', 'machine', 'profiles')];
  return candidates.find(d => existsSync(d)) ?? candidates[1]!;
}

/** A built-in profile by name ('default', 'seed-chapter') or a profile file by path. */
export function loadProfile(nameOrPath: string): Profile {
  const path = resolveProfile(nameOrPath, process.cwd());
  if (!existsSync(path)) {
    throw new InputError(`${nameOrPath}: no such profile: expected ${BUILTIN_PROFILES.join(' or ')}, or a YAML file`);
  }
  if (statSync(path).isDirectory()) throw new InputError(`${nameOrPath}: is a directory, expected a profile YAML file`);
  const shown = shownPath(path);
  return buildProfile(withBase(readYamlFile(path, shown), dirname(path), [path]), stem(path));
}

/** A profile from text; `file` names it in errors, and a relative `extends` is found beside it. */
export function parseProfile(text: string, file: string): Profile {
  return buildProfile(withBase(parseYaml(text, file), dirname(resolve(file)), [resolve(file)]), stem(file));
}

function resolveProfile(nameOrPath: string, baseDir: string): string {
  if ((BUILTIN_PROFILES as readonly string[]).includes(nameOrPath)) return join(profilesDir(), `${nameOrPath}.yaml`);
  return isAbsolute(nameOrPath) ? nameOrPath : resolve(baseDir, nameOrPath);
}

function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function stem(file: string): string {
  return file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/, '');
}

/** Lay a profile over the one it `extends` (recursively); name and extends are not inherited. */
function withBase(root: LNode, dir: string, chain: string[]): LNode {
  if (root.kind !== 'map') return root;
  const ext = root.entries.get('extends');
  if (!ext) return root;
  const at = { path: 'extends', keyLoc: ext.keyLoc };
  const baseName = string('a profile name or path').read(ext.value, at);
  const basePath = resolveProfile(baseName, dir);
  if (chain.includes(basePath)) throw inputError(ext.value.loc, 'extends', `profile ${baseName} extends itself (${chain.map(shownPath).join(' -> ')})`);
  let base: LNode;
  try {
    base = withBase(readYamlFile(basePath, shownPath(basePath)), dirname(basePath), [...chain, basePath]);
  } catch (e) {
    if (e instanceof InputError && !existsSync(basePath)) {
      throw inputError(ext.value.loc, 'extends', `no profile ${JSON.stringify(baseName)}: expected ${BUILTIN_PROFILES.join(' or ')} or a file path`);
    }
    throw e;
  }
  if (base.kind === 'map') {
    base = { ...base, entries: new Map([...base.entries].filter(([k]) => k !== 'name' && k !== 'extends')) };
  }
  return mergeNodes(base, root);
}

function buildProfile(root: LNode, fallbackName: string): Profile {
  if (root.kind !== 'map') throw expected(root, { path: '', keyLoc: root.loc }, 'a mapping of profile keys');
  const clock = root.entries.get('clock');
  if (!clock) throw inputError(root.loc, '', "missing key 'clock' (a frequency such as 2GHz)");
  const clockHz = quantity('a frequency such as 2GHz', t => parseFrequency(t)).read(clock.value, { path: 'clock', keyLoc: clock.keyLoc });
  const v = readRoot(fields(clockHz), root);
  const ints = v.interrupts;
  return {
    name: v.name ?? fallbackName,
    clockHz,
    quantum: v.quantum,
    cpu: {
      classes: { ...v.cpu.classes, interrupt: ints.exception_entry, iret: ints.iret, gate: ints.native_gate },
      taken: v.cpu.taken,
      memOperand: v.cpu.mem_operand,
      walkLevel: v.cpu.walk_level,
    },
    mmu: { tlbEntries: v.mmu.tlb_entries, tlbHit: v.mmu.tlb_hit },
    interrupts: {
      exceptionEntry: ints.exception_entry, iret: ints.iret, int80: ints.int80, nativeGate: ints.native_gate,
      eoi: ints.eoi, ipiLatency: ints.ipi_latency, msiLatency: ints.msi_latency,
    },
    iommu: {
      iotlbEntries: v.iommu.iotlb_entries, walkLevel: v.iommu.walk_level,
      invalidationLatency: v.iommu.invalidation_latency, unmap: v.iommu.unmap,
    },
    nic: {
      perDescriptor: v.nic.per_descriptor, fenceLatency: v.nic.fence_latency,
      queueRate: v.nic.queue_rate, dmaPerByte: v.nic.dma_per_byte, fetchWindow: v.nic.fetch_window,
    },
    block: { latency: v.block.latency, perByte: v.block.per_byte },
    copyPerByte: v.copy_per_byte,
    kernel: {
      capLookup: v.kernel.cap_lookup, pteInstall: v.kernel.pte_install, upcallDispatch: v.kernel.upcall_dispatch,
      exoCall: v.kernel.exo_call, revokePerNode: v.kernel.revoke_per_node,
      contextSwitch: v.kernel.context_switch, timeSlice: v.kernel.time_slice,
    },
  };
}
