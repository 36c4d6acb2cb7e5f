// The exokernel as the System runs it (kernel/system.ts KernelPlugin): boot from a scenario's
// principal list (each image built or loaded, its boot capabilities granted), the views the
// TUI and the reports read, and the faults of layer 'kernel' (revoke, kill, unsafe unmap,
// page-fault storm, malicious mapping).

import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InputError } from '../../machine/errors.js';
import { parseElf32, type ElfImage } from '../../machine/elf.js';
import type { Machine } from '../../machine/machine.js';
import { CTR_RING0_TO_3, CTR_RING3_TO_0 } from '../../machine/cpu/arch.js';
import { CAP, IRQ_MODE, RIGHT, capTypeName, rightsString } from '../abi.js';
import type { Cap } from '../caps/cap.js';
import type { FaultOutcome, FaultRequest } from '../faults.js';
import { buildGuestApp } from '../guest-build.js';
import type { Scenario, ScenarioPrincipal } from '../scenario.js';
import type { CapNode, KernelCoreView, KernelPlugin, PrincipalView, TraceSink } from '../system.js';
import { KERNEL_SPACE } from './calls.js';
import { Exokernel } from './kernel.js';
import type { Principal } from './principal.js';
import { crossingsOf, crossingsPerRequest, cyclesPerRequest, requestsWatch } from './requests.js';
import { cyclesFoldAll, cyclesMetrics } from './cycles.js';
import type { CodeRange } from '../guest-map.js';
import { IRQ_MODES, UPCALL_KINDS } from './stats.js';

/** How long a principal has to give back what a `revoke` fault asks for, unless it says. */
export const DEFAULT_REVOKE_DEADLINE_US = 100;

export class ExoPlugin implements KernelPlugin {
  kernel!: Exokernel;
  private machine!: Machine;
  private scenario!: Scenario;

  boot(machine: Machine, scenario: Scenario, sink: TraceSink): void {
    this.machine = machine;
    this.scenario = scenario;
    const k = this.kernel = new Exokernel(machine, scenario.machine.profile);
    for (const sp of scenario.principals) {
      // What is wrong with an image (not an ELF, built for another placement, an app the
      // placement does not serve) is told at the image's line in the scenario.
      const at = (m: string, what = 'image: ') => new InputError(`${sp.where}: principal ${sp.name}: ${what}${m.replace(/^guest build: /, '')}`);
      let loaded: ReturnType<typeof principalImage>;
      try {
        loaded = principalImage(scenario, sp);
      } catch (e) {
        if (e instanceof InputError) throw at(e.message);
        throw e;
      }
      const { image, file, code } = loaded;
      try {
        k.addPrincipal({
          name: sp.name, image, file, code, placement: sp.placement, cores: sp.cores, memory: sp.memoryBytes, nicQueues: sp.nicQueues,
          irqMode: IRQ_MODE[sp.irq.toUpperCase() as keyof typeof IRQ_MODE], arg: Number(sp.args.value ?? 0) | 0,
          blockRanges: blockRanges(sp),
        });
      } catch (e) {
        if (e instanceof RangeError) throw at(e.message, '');
        throw e;
      }
    }
    k.emitter.on('upcall', (core, p, kind, at) => sink.instant(core, `upcall ${kind}`, 'upcall', at, { principal: p }));
    k.emitter.on('crossing', (core, p, v, at) => sink.instant(core, v === 0x80 ? 'exo-call' : `kernel entry ${v}`, 'kernel', at, { principal: p }));
    k.emitter.on('killed', (p, why) => sink.log(`${p} killed: ${why}`, machine.time()));
    k.emitter.on('exited', (p, st) => sink.log(`${p} exited with status ${st}`, machine.time()));
    k.emitter.on('revocation', (t) => {
      sink.span(t.core, t.safe ? 'DMA revocation' : 'unsafe DMA unmap', 'revocation', t.start, t.done,
        { principal: t.principal, in_flight: t.inFlight, drained: t.drained - t.start, invalidated: t.invalidated - t.start });
      sink.log(`${t.principal}: DMA revocation of ${t.pages} page(s) with ${t.inFlight} descriptor(s) in flight took ${t.done - t.start} cycles${t.safe ? '' : ' (unsafe: no fence, no drain)'}`, t.done, t.core);
    });
    k.emitter.on('reclaim', (p, outcome, slot, at) => sink.log(`${p}: capability in slot ${slot} ${outcome === 'returned' ? 'given back' : 'repossessed at the deadline'}`, at));
    k.start();
    requestsWatch(k);
  }

  core(n: number): KernelCoreView {
    const kc = this.kernel.kcores[n]!;
    const upcalls: Record<string, number> = {};
    UPCALL_KINDS.forEach((u, i) => { upcalls[u] = kc.stats.upcalls[i]!; });
    // A killed principal's context stays current while the kernel waits out its DMA in flight.
    const cur = kc.current?.principal;
    return {
      principal: kc.partition?.name ?? (cur ? (cur.alive ? cur.name : `${cur.name} (${cur.state})`) : null) ?? this.holders(n), upcalls,
      // A partition's core never enters the kernel: its crossings are what its CPU counts.
      crossings: kc.partition !== null ? this.machine.cores[n]!.counters[CTR_RING3_TO_0]! + this.machine.cores[n]!.counters[CTR_RING0_TO_3]! : kc.stats.crossings,
      kernelEntries: kc.stats.entries, waitingOn: kc.waiting,
    };
  }

  /** Who may run on core n when nobody is running there (asleep, or waiting for its turn). */
  private holders(n: number): string | null {
    const names = [...new Set(this.kernel.kcores[n]!.runQueue.filter((c) => c.principal.alive).map((c) => c.principal.name))];
    return names.length === 0 ? null : names.join(',');
  }

  principals(): PrincipalView[] {
    return this.kernel.principals.map((p) => ({ name: p.name, placement: p.placement, cores: [...p.cores], state: p.state }));
  }

  capabilities(name: string): CapNode[] {
    const p = this.byName(name);
    const space = p === undefined ? undefined : this.kernel.calls.caps.space(p.id);
    if (p === undefined || space === undefined) return [];
    const node = (c: Cap): CapNode => ({
      id: c.id, type: capTypeName(c.object.type).toLowerCase(), rights: rightsString(c.rights),
      label: `${c.principal === p.id ? `slot ${c.slot}` : `${this.nameOf(c.principal)} slot ${c.slot}`} ${describe(c)}`,
      children: [...c.children].map(node),
    });
    return [...space.caps()].filter((c) => c.parent === null || c.parent.principal !== p.id).map(node);
  }

  principalMetrics(name: string): Record<string, unknown> {
    const p = this.byName(name);
    if (p === undefined) return {};
    const s = p.stats;
    const upcalls: Record<string, number> = {};
    UPCALL_KINDS.forEach((u, i) => { upcalls[u] = s.upcalls[i]!; });
    const space = this.kernel.calls.caps.space(p.id);
    cyclesFoldAll(this.kernel);
    return {
      state: p.state, alive: p.alive ? 1 : 0, exit_status: p.exitStatus ?? -1,
      crossings: crossingsOf(p), requests: s.requests, crossings_per_request: crossingsPerRequest(p),
      cycles: cyclesMetrics(s.cycles), cycles_per_request: cyclesPerRequest(p),
      kernel_entries: s.entries, exo_calls: s.exoCalls, upcalls,
      page_faults: s.pageFaults, interrupts: s.interrupts, kernel_cycles: s.kernelCycles,
      capabilities: space === undefined ? 0 : [...space.caps()].length,
      bindings: this.kernel.calls.caps.bindingsOfPrincipal(p.id).length,
      console_bytes: p.console.length, notices_pending: p.notices.length,
    };
  }

  metrics(): Record<string, unknown> {
    const k = this.kernel;
    const irq: Record<string, unknown> = {};
    for (const mode of IRQ_MODES) {
      let count = 0, max = 0;
      const samples: number[] = [];
      const buckets = new Float64Array(40);
      const perCore: Record<string, number> = {};
      for (const kc of k.kcores) {
        const h = kc.stats.irqLatency[mode];
        count += h.count; max = Math.max(max, h.max); samples.push(...h.samples);
        h.buckets.forEach((n, b) => { buckets[b] += n; });
        if (h.count > 0) perCore[String(kc.id)] = h.count;
      }
      // Power-of-two buckets of cycles: "2^k" counts latencies in [2^k, 2^(k+1)).
      const histogram: Record<string, number> = {};
      buckets.forEach((n, b) => { if (n > 0) histogram[`2^${b}`] = n; });
      samples.sort((a, b) => a - b);
      const pct = (q: number) => samples.length === 0 ? 0 : samples[Math.min(samples.length - 1, Math.max(0, Math.ceil(q * samples.length) - 1))]!;
      irq[mode] = { count, max_cycles: max, p50_cycles: pct(0.5), p99_cycles: pct(0.99), histogram, by_core: perCore };
    }
    const revs = k.revocations;
    const last = revs[revs.length - 1];
    cyclesFoldAll(k);
    const unowned: Record<string, number> = {};
    for (const kc of k.kcores) unowned[String(kc.id)] = kc.stats.unownedCycles;
    return {
      present: 1,
      unowned_cycles: unowned,
      principals: k.principals.length,
      exo_calls: k.kcores.reduce((n, kc) => n + kc.stats.exoCalls, 0),
      crossings: k.kcores.reduce((n, kc) => n + kc.stats.crossings, 0),
      context_switches: k.kcores.reduce((n, kc) => n + kc.stats.contextSwitches, 0),
      forwarded_ipis: k.kcores.reduce((n, kc) => n + kc.stats.forwardedIpis, 0),
      sleeps: k.kcores.reduce((n, kc) => n + kc.stats.sleeps, 0),
      merged_interrupts: k.kcores.reduce((n, kc) => n + kc.stats.mergedInterrupts, 0),
      spurious_interrupts: k.spurious,
      iommu_fault_interrupts: k.iommuFaultIrqs,
      capabilities: { objects: k.calls.caps.objects, bindings: k.calls.caps.bindingCount() },
      irq,
      revocations: {
        count: revs.length, safe: revs.filter((t) => t.safe).length,
        ...(last === undefined ? {} : { last: {
          cycles: last.done - last.start, in_flight: last.inFlight, safe: last.safe ? 1 : 0,
          drain_cycles: last.drained - last.start, unmap_cycles: last.invalidated - last.drained,
        } }),
      },
      reclaims: {
        returned: k.reclaims.filter((r) => r.outcome === 'returned').length,
        repossessed: k.reclaims.filter((r) => r.outcome === 'repossessed').length,
      },
    };
  }

  // ---- faults --------------------------------------------------------------------------------

  applyFault(f: FaultRequest, at: number): FaultOutcome {
    const p = typeof f.target === 'string' ? this.byName(f.target) : undefined;
    if (p === undefined) return { applied: false, detail: `no principal '${String(f.target)}'` };
    if (!p.alive) return { applied: false, detail: `${p.name} is ${p.state}` };
    const calls = this.kernel.calls;
    switch (f.kind) {
      case 'revoke': {
        const slot = this.pickSlot(p, f.params.cap);
        if (slot < 0) return { applied: false, detail: `${p.name} has no capability '${String(f.params.cap ?? 'revocable')}'` };
        const hz = this.machine.config.clockHz;
        const within = Math.max(1, f.params.deadline === undefined ? Math.round((DEFAULT_REVOKE_DEADLINE_US * hz) / 1e6) : Number(f.params.deadline));
        const us = Math.round((within * 1e9) / hz) / 1000;
        const r = calls.requestBack(p, slot, within, at);
        if (typeof r === 'string') return { applied: false, detail: r };
        return { applied: true, detail: `asked ${p.name} for slot ${slot} back within ${us} us (request ${r.id}); repossessed then if not returned` };
      }
      case 'kill':
        this.kernel.kill(p, 'killed by fault injection');
        return { applied: true, detail: `${p.name} killed; its capabilities and bindings are gone` };
      case 'unsafe-unmap':
        calls.unsafeUnmaps++;
        return { applied: true, detail: `the next DMA unmap or revoke of ${p.name}'s frames skips fence and drain` };
      case 'pf-storm': {
        const n = calls.dropMappings(p, Number(f.params.pages ?? 64));
        return n > 0 ? { applied: true, detail: `${n} page(s) of ${p.name} unmapped; its next touches fault` } : { applied: false, detail: `${p.name} has no frame mappings` };
      }
      case 'malicious-map': {
        const victim = f.params.victim !== undefined ? this.byName(String(f.params.victim)) : this.kernel.principals.find((q) => q !== p && q.alive);
        if (victim === undefined) return { applied: false, detail: 'no victim principal' };
        const r = calls.maliciousMap(p, victim);
        return { applied: true, detail: r };
      }
      default:
        return { applied: false, detail: `${f.kind} is not a kernel fault` };
    }
  }

  /** A slot named by number or type (frame, untyped, device_queue, ...); default: a frame, else the last. */
  private pickSlot(p: Principal, which: string | number | undefined): number {
    const space = this.kernel.calls.caps.space(p.id);
    if (space === undefined) return -1;
    const caps = [...space.caps()];
    if (which !== undefined && /^\d+$/.test(String(which))) return caps.some((c) => c.slot === Number(which)) ? Number(which) : -1;
    const want = which === undefined ? null : CAP[String(which).toUpperCase().replace(/-/g, '_') as keyof typeof CAP];
    if (which !== undefined && want === undefined) return -1;
    const ofType = (t: number) => caps.filter((c) => c.object.type === t);
    // Unnamed: what a LibOS can give back first (an MSI vector), else a frame, else anything.
    const list = want !== null ? ofType(want)
      : [ofType(CAP.MSI_VECTOR), ofType(CAP.FRAME), caps.filter((c) => c.object.type !== CAP.CORE_SLICE)].find((l) => l.length > 0) ?? [];
    return list.length === 0 ? -1 : list[list.length - 1]!.slot;
  }

  private byName(name: string): Principal | undefined {
    return this.kernel.principals.find((p) => p.name === name);
  }

  private nameOf(id: number): string {
    return id === KERNEL_SPACE ? 'kernel' : this.kernel.principals[id]?.name ?? `#${id}`;
  }
}

function describe(c: Cap): string {
  const o = c.object;
  const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
  switch (o.type) {
    case CAP.UNTYPED: case CAP.FRAME: return `${hex(o.base)}+${o.size >= 1 << 20 ? `${o.size >> 20}M` : `${o.size >> 10}K`}${c.bindings.size ? ` (${c.bindings.size} binding${c.bindings.size > 1 ? 's' : ''})` : ''}`;
    case CAP.CORE_SLICE: return `core ${o.base}`;
    case CAP.DEVICE_QUEUE: return `nic queue ${o.base & 0xffff}${c.bindings.size ? ' (bound)' : ''}`;
    case CAP.MSI_VECTOR: return `vector ${o.base}${c.bindings.size ? ' (bound)' : ''}`;
    case CAP.DMA_DOMAIN: return `domain ${o.base}`;
    default: return '';
  }
}

/** The scenario's block_range capabilities of a principal, or undefined (the kernel's default). */
function blockRanges(sp: ScenarioPrincipal): { base: number; size: number; rights: number }[] | undefined {
  const list = sp.caps.filter((c) => c.type === 'block_range');
  if (list.length === 0) return undefined;
  return list.map((c) => ({
    base: Number(c.base ?? 0), size: Number(c.size ?? 1),
    rights: (c.rights.includes('r') ? RIGHT.READ : 0) | (c.rights.includes('w') ? RIGHT.WRITE : 0),
  }));
}

/**
 * A principal's image: an ELF file, or an app of apps/ built for its placement (the scenario's
 * parser has checked that it is one of the two); its code ranges from the manifest beside it, if any.
 */
function principalImage(scenario: Scenario, sp: ScenarioPrincipal): { image: ElfImage; file: string; code?: CodeRange[] } {
  const path = isAbsolute(sp.image) ? sp.image : resolve(scenario.dir, sp.image);
  const file = existsSync(path) ? path : buildGuestApp(sp.image, sp.placement).elf;
  return { image: parseElf32(readFileSync(file), file), file, code: manifestCode(`${file}.manifest.json`) };
}

/** The code ranges of an image's manifest (kernel/guest-build.ts), or undefined without one (all app). */
function manifestCode(manifest: string): CodeRange[] | undefined {
  if (!existsSync(manifest)) return undefined;
  let m: unknown;
  try { m = JSON.parse(readFileSync(manifest, 'utf8')); } catch { throw new InputError(`${manifest}: not JSON; rebuild the image or remove the file`); }
  const code = (m as { code?: unknown } | null)?.code;
  if (code === undefined) return undefined;
  const ok = Array.isArray(code) && code.every((r) => r !== null && typeof r === 'object' && Number.isInteger(r.start) && Number.isInteger(r.end) &&
    r.start >= 0 && r.end >= r.start && r.end <= 0x100000000 && (r.part === 'app' || r.part === 'libos'));
  if (!ok) throw new InputError(`${manifest}: "code" must be a list of { start, end, part: "app" | "libos" } address ranges`);
  return code as CodeRange[];
}

