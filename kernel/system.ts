// A running system (DESIGN sections 5 and 6): a Machine built from a scenario, plus the
// exokernel once it plugs in (KernelPlugin below), run in slices of simulated time. It applies
// the fault schedule at exact cycles, keeps the per-core tracks of a Chrome trace, and answers
// snapshot() for the TUI and report() for headless runs, graders and expectations.
// Nothing here reads the host clock or a host random source: the same scenario and seed give the same
// report and trace.

import { InputError } from '../machine/errors.js';
import { Machine, machineConfig, type StopReason } from '../machine/machine.js';
import { disasm } from '../machine/cpu/disasm.js';
import { Prng } from '../machine/prng.js';
import { closest } from '../machine/units.js';
import { NIC_QUEUE_BASE, NIC_QUEUE_STRIDE, Q_FENCE } from '../machine/nic.js';
import type { EventOwner } from '../machine/events.js';
import { FAULTS, faultKind, type FaultOutcome, type FaultRequest } from './faults.js';
import { compare, type Expectation, type Scenario } from './scenario.js';
import { loadBareImage } from './system-image.js';
import { ExoPlugin } from './exo/plugin.js';

// ---- the kernel's side ---------------------------------------------------------------------

/** A capability as the TUI draws it: a node of its derivation tree. */
export interface CapNode {
  id: number;
  type: string;
  rights: string;
  label: string;
  children: CapNode[];
}

/** What the kernel tells about one core. */
export interface KernelCoreView {
  /** The principal running there, or null (idle, or in the kernel for no one). */
  principal: string | null;
  upcalls: Record<string, number>;
  crossings: number;
  kernelEntries: number;
  /** "in kernel, waiting on ..." when a kernel operation waits for the machine. */
  waitingOn: string | null;
}

export interface PrincipalView {
  name: string;
  placement: string;
  cores: number[];
  state: string;
}

/** Where the kernel reports trace events: per-core tracks, times in cycles. */
export interface TraceSink {
  instant(core: number, name: string, cat: string, at: number, args?: Record<string, number | string>): void;
  span(core: number, name: string, cat: string, start: number, end: number, args?: Record<string, number | string>): void;
  log(text: string, at: number, core?: number): void;
}

/**
 * The exokernel as the System sees it. `boot` loads the principals and points the IDT at the
 * kernel; from then on the kernel runs inside the machine (native gates), and the System only
 * reads it through the views below and sends it the faults of layer 'kernel'.
 */
export interface KernelPlugin {
  boot(machine: Machine, scenario: Scenario, sink: TraceSink): void;
  core(k: number): KernelCoreView;
  principals(): PrincipalView[];
  /** The principal's capabilities as derivation trees (roots first). */
  capabilities(principal: string): CapNode[];
  /** principals.NAME.* of the report, one record per principal. */
  principalMetrics(principal: string): Record<string, unknown>;
  /** kernel.* of the report. */
  metrics(): Record<string, unknown>;
  applyFault(f: FaultRequest, at: number): FaultOutcome;
}

export type KernelFactory = () => KernelPlugin;

let kernelFactory: KernelFactory | null = () => new ExoPlugin();

/** The kernel registers itself here (so that this file needs no import of kernel/exo). */
export function registerKernel(factory: KernelFactory | null): void {
  kernelFactory = factory;
}

// ---- snapshots -------------------------------------------------------------------------------

export interface CoreSnapshot {
  id: number;
  state: string;
  principal: string;
  cpl: number;
  eip: number;
  insn: string;
  instructions: number;
  interrupts: number;
  exceptions: number;
  ipisSent: number;
  ipisReceived: number;
  upcalls: Record<string, number>;
  crossings: number;
  utilisation: number;
  waitingOn: string | null;
}

export interface NicQueueSnapshot {
  q: number;
  tx: { occupancy: number; size: number; frames: number; rate: number };
  rx: { occupancy: number; size: number; frames: number; rate: number };
  drops: number;
  fence: string;
}

export interface LogEntry {
  seq: number;
  at: number;
  core: number | null;
  kind: string;
  text: string;
}

export interface SystemSnapshot {
  scenario: { name: string; description: string; file: string; seed: number };
  now: number;
  clockHz: number;
  runFor: number;
  stopped: string | null;
  cores: CoreSnapshot[];
  nic: { link: boolean; queues: NicQueueSnapshot[]; received: number; delivered: number; dropped: number; sent: number } | null;
  iommu: {
    enabled: boolean;
    domains: { id: number; requesters: number[]; mappings: number; passThrough: boolean }[];
    passThrough: number[];
    faults: { at: number; rid: number; iova: number; reason: string }[];
    faultCount: number;
  };
  caps: { principal: string; tree: CapNode[] }[];
  principals: PrincipalView[];
  events: LogEntry[];
  console: string;
  /** Per-slice samples for the charts: utilisation per core and NIC frames per second. */
  history: { utilisation: number[][]; rxRate: number[]; txRate: number[] };
  kernel: boolean;
}

// ---- reports ---------------------------------------------------------------------------------

export interface ExpectationResult {
  metric: string;
  is: string;
  wanted: { op: string; value: number };
  measured: number | null;
  passed: boolean;
  where: string;
  message: string;
}

export interface Report {
  exolab: { format: number };
  scenario: { name: string; file: string; seed: number };
  run: { for_cycles: number; cycles: number; seconds: number; clock_hz: number; stopped_by: string; instructions: number };
  metrics: Record<string, unknown>;
  expectations: ExpectationResult[];
  passed: boolean;
  faults: { at: number; kind: string; target: string | number | null; origin: string; applied: boolean; detail: string }[];
  console: string;
}

export const REPORT_FORMAT = 1;

// ---- the system ----------------------------------------------------------------------------

const SYSTEM_EVENT_ID = 0x30000;
const EV_SCHEDULED = 1, EV_STORM = 2, EV_UNMASK = 3, EV_UNSTALL = 4, EV_PASSTHROUGH_OFF = 5;
const LOG_LIMIT = 500;
const TRACE_LIMIT = 200_000;
const HISTORY = 120;
const CONSOLE_TAIL = 8192;

interface TraceEvent { name: string; cat: string; ph: string; ts: number; pid: number; tid: number; s?: string; dur?: number; args?: Record<string, number | string> }

/** Snake-case names for metric paths: "ring full" -> ring_full. */
export function metricName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
}

export class System implements EventOwner {
  readonly eventId = SYSTEM_EVENT_ID;
  readonly machine: Machine;
  readonly scenario: Scenario;
  readonly kernel: KernelPlugin | null;
  private readonly end: number;
  private stopped: StopReason | null = null;
  private readonly rng: Prng;
  private readonly interrupts: Float64Array;
  private readonly exceptions: Float64Array;
  private readonly busySamples: Float64Array;
  private samples = 0;
  private readonly log: LogEntry[] = [];
  private logSeq = 0;
  private readonly traceEvents: TraceEvent[] = [];
  private traceDropped = 0;
  private readonly faultLog: Report['faults'] = [];
  /**
   * Faults held on a target (a stalled queue, a masked vector, pass-through), by kind and
   * target: held for good, or until the latest `for` given. A timed one's end lifts the fault
   * only when nothing holds it longer, so that a short stall does not end a permanent one.
   */
  private readonly holds = new Map<string, { forever: boolean; until: number }>();
  private readonly msiDrop: Float64Array;
  private readonly msiDup: Float64Array;
  private readonly ipiLost: Float64Array;
  private msisDropped = 0;
  private msisDuplicated = 0;
  private ipisLost = 0;
  private readonly fired = new Map<number, number>();
  private readonly storms: { core: number; vector: number; left: number; every: number }[] = [];
  private readonly history: SystemSnapshot['history'];
  private lastSample = { at: 0, rx: 0, tx: 0 };

  constructor(scenario: Scenario, opts: { kernel?: KernelFactory | null } = {}) {
    this.scenario = scenario;
    const sm = scenario.machine;
    const config = machineConfig(sm.profile, { cores: sm.cores, ramBytes: sm.ramBytes, seed: scenario.seed });
    config.clockHz = sm.clockHz;
    try {
      this.machine = new Machine({
        ...config,
        nic: sm.nic,
        disk: sm.disk === undefined ? undefined : { image: sm.disk.image, bytes: sm.disk.bytes, queues: sm.disk.queues },
      });
    } catch (e) {
      // Device errors name their own input (a capture, a disk image, a wire): say which scenario asked.
      if (e instanceof InputError) throw new InputError(/^(\/|\.|[A-Za-z]:)/.test(e.message) ? `${e.message} (the NIC's wire or the disk of ${scenario.file})` : `${scenario.file}: machine.${e.message}`);
      throw e;
    }
    const m = this.machine;
    const n = sm.cores;
    this.rng = new Prng((scenario.seed ^ 0x5ca1ab1e) >>> 0);
    this.interrupts = new Float64Array(n);
    this.exceptions = new Float64Array(n);
    this.busySamples = new Float64Array(n);
    this.msiDrop = new Float64Array(n);
    this.msiDup = new Float64Array(n);
    this.ipiLost = new Float64Array(n);
    this.history = { utilisation: Array.from({ length: n }, () => []), rxRate: [], txRate: [] };
    this.end = scenario.runFor;
    m.events.register(this);
    this.listen();

    const needsKernel = scenario.principals.length > 0;
    const factory = opts.kernel === undefined ? kernelFactory : opts.kernel;
    if (needsKernel && factory === null) {
      throw new InputError(`${scenario.file}: principals need the exokernel, which this exolab does not have yet; boot a bare ring-0 image with machine.boot_image instead`);
    }
    if (!needsKernel && sm.bootImage === undefined) {
      throw new InputError(`${scenario.file}: nothing to run: give principals or machine.boot_image`);
    }
    this.kernel = needsKernel ? factory!() : null;
    if (this.kernel !== null) {
      this.kernel.boot(m, scenario, this.sink());
    } else {
      const { image, file } = loadBareImage(sm.bootImage!);
      m.loadImage(image, file);
      m.boot(image.entry);
    }
    this.checkMetrics();
    this.hookMsi();
    this.hookIpi();
    scenario.faults.forEach((f, k) => m.events.schedule(f.at, this, EV_SCHEDULED, k));
    this.note(0, null, 'boot', this.kernel ? `booted ${scenario.principals.length} principal(s)` : `booted ${sm.bootImage!.split('/').pop()} on core 0`);
  }

  /**
   * Every expectation names a metric this run has: the metrics exist from boot (their values
   * change, their paths do not), so a misspelt one is bad input before the first cycle, not a
   * failure after the last. Groups filled only once something happens are listed here.
   */
  private checkMetrics(): void {
    const paths = new Set(metricPaths(this.metrics()));
    const later = ['kernel.revocations.last.'];
    for (const e of this.scenario.expect) {
      if (paths.has(e.metric) || later.some((p) => e.metric.startsWith(p))) continue;
      const group = metricAt(this.metrics(), e.metric);
      const all = [...paths];
      const near = closest(e.metric, all);
      const parent = e.metric.split('.').slice(0, -1).join('.');
      const siblings = all.filter((p) => p.startsWith(`${parent}.`)).slice(0, 6);
      throw new InputError(`${e.where}: expect metric '${e.metric}': ${group !== undefined ? 'a group, not a number' : 'no such metric'}` +
        `${near ? `; did you mean ${near}?` : siblings.length ? `; ${parent} has ${siblings.join(', ')}` : ''}`);
    }
  }

  // ---- observing the machine ---------------------------------------------------------------

  private listen(): void {
    const m = this.machine;
    m.emitter.on('interrupt', (core, vector) => {
      this.interrupts[core]++;
      this.instant(core, `irq ${vector}`, 'interrupt', m.time(), { vector });
    });
    m.emitter.on('exception', (core, vector, error, eip) => {
      this.exceptions[core]++;
      this.instant(core, `exception ${vector}`, 'exception', m.time(), { vector, error, eip: `0x${eip.toString(16)}` });
      // Under the kernel an exception is an upcall (counted per core) or a kill (logged by it).
      if (this.kernel === null && this.exceptions[core] <= 20) this.note(m.time(), core, 'exception', `vector ${vector} at eip 0x${eip.toString(16)} (error ${error})`);
    });
    m.emitter.on('ipi', (from, to, vector, mode, at) => {
      this.instant(from, `ipi -> ${to}`, 'ipi', m.time(), { to, vector, mode });
      this.instant(to, `ipi <- ${from}`, 'ipi', at, { from, vector, mode });
    });
    m.emitter.on('shutdown', (core, reason) => this.note(m.time(), core, 'shutdown', reason));
    m.emitter.on('poweroff', (status) => this.note(m.time(), null, 'poweroff', `status ${status}`));
  }

  private sink(): TraceSink {
    return {
      instant: (core, name, cat, at, args) => this.instant(core, name, cat, at, args),
      span: (core, name, cat, start, end, args) => this.span(core, name, cat, start, end, args),
      log: (text, at, core) => this.note(at, core ?? null, 'kernel', text),
    };
  }

  private us(cycles: number): number {
    return Math.round((cycles * 1e9) / this.machine.config.clockHz) / 1000;
  }

  private instant(core: number, name: string, cat: string, at: number, args?: Record<string, number | string>): void {
    if (this.traceEvents.length >= TRACE_LIMIT) { this.traceDropped++; return; }
    this.traceEvents.push({ name, cat, ph: 'i', s: 't', ts: this.us(at), pid: 1, tid: core, ...(args ? { args } : {}) });
  }

  private span(core: number, name: string, cat: string, start: number, end: number, args?: Record<string, number | string>): void {
    if (this.traceEvents.length >= TRACE_LIMIT) { this.traceDropped++; return; }
    const ts = this.us(start);
    this.traceEvents.push({ name, cat, ph: 'X', ts, dur: Math.max(0, this.us(end) - ts), pid: 1, tid: core, ...(args ? { args } : {}) });
  }

  private note(at: number, core: number | null, kind: string, text: string): void {
    this.log.push({ seq: this.logSeq++, at, core, kind, text });
    if (this.log.length > LOG_LIMIT) this.log.shift();
  }

  // ---- machine-level faults: hooks ------------------------------------------------------------

  /** Chains in front of whatever the kernel installed, so that both see every MSI. */
  private hookMsi(): void {
    const m = this.machine;
    const inner = m.onMsi;
    m.onMsi = (dest, vector, at) => {
      if (this.msiDrop[dest]! > 0) {
        this.msiDrop[dest]!--; this.msisDropped++;
        this.note(at, dest, 'fault', `MSI vector ${vector} to core ${dest} dropped`);
        this.instant(dest, `msi ${vector} dropped`, 'fault', at);
        return false;
      }
      if (this.msiDup[dest]! > 0) {
        this.msiDup[dest]!--; this.msisDuplicated++;
        this.note(at, dest, 'fault', `MSI vector ${vector} to core ${dest} duplicated`);
        m.events.schedule(at + 2 * m.config.msiLatency, this, EV_STORM, (dest << 16) | vector | (1 << 15));
      }
      return inner === null ? true : inner(dest, vector, at);
    };
  }

  /** Lost IPIs: a fixed IPI to exactly the lost core (no shorthand) never arrives. */
  private hookIpi(): void {
    const m = this.machine;
    const send = m.sendIpi.bind(m);
    m.sendIpi = (from: number, lo: number, hi: number) => {
      const dest = hi >>> 24, shorthand = (lo >>> 18) & 3, mode = (lo >>> 8) & 7;
      if (shorthand === 0 && mode === 0 && dest < this.ipiLost.length && this.ipiLost[dest]! > 0) {
        this.ipiLost[dest]!--; this.ipisLost++;
        const at = m.cores[from]!.cycles;
        this.note(at, from, 'fault', `IPI vector ${lo & 0xff} from core ${from} to core ${dest} lost`);
        this.instant(from, `ipi -> ${dest} lost`, 'fault', at);
        return;
      }
      send(from, lo, hi);
    };
  }

  onEvent(kind: number, arg: number, at: number): void {
    const m = this.machine;
    if (kind === EV_SCHEDULED) {
      const f = this.scenario.faults[arg]!;
      this.inject({ kind: f.kind, target: f.target, params: f.params, origin: `schedule (${f.where})` }, at);
      // Repeats are scheduled one at a time so the queue stays small; `fired` counts them.
      const fired = (this.fired.get(arg) ?? 0) + 1;
      this.fired.set(arg, fired);
      if (f.every > 0 && fired < f.times) m.events.schedule(at + f.every, this, EV_SCHEDULED, arg);
    } else if (kind === EV_STORM) {
      const core = arg >>> 16, vector = arg & 0xff;
      m.lapics[core]!.accept(vector);
      if ((arg & (1 << 15)) !== 0) return; // a duplicated MSI: once
      const s = this.storms[(arg >>> 8) & 0x7f];
      if (s !== undefined && --s.left > 0) m.events.schedule(at + s.every, this, EV_STORM, arg);
    } else if (kind === EV_UNMASK) {
      if (!this.release('mask-vector', arg, at)) return;
      this.writeVectorMask(arg, false);
      this.note(at, null, 'fault', `NIC MSI-X vector ${arg} unmasked`);
    } else if (kind === EV_UNSTALL) {
      if (!this.release('nic-stall', arg, at)) return;
      this.setFence(arg, false);
      this.note(at, null, 'fault', `NIC queue ${arg} resumed`);
    } else if (kind === EV_PASSTHROUGH_OFF) {
      if (!this.release('iommu-passthrough', arg, at)) return;
      this.setPassThrough(false);
      this.note(at, null, 'fault', 'IOMMU translation restored for the NIC');
    }
  }

  /** Hold fault `kind` on `target` from `at`, for `cycles` (undefined: for good); schedules its end. */
  private hold(kind: string, target: number, at: number, cycles: number | undefined, end: number): void {
    const key = `${kind}:${target}`, h = this.holds.get(key) ?? { forever: false, until: 0 };
    if (cycles === undefined) h.forever = true;
    else {
      h.until = Math.max(h.until, at + cycles);
      this.machine.events.schedule(at + cycles, this, end, target);
    }
    this.holds.set(key, h);
  }

  /** A timed end of `kind` on `target` came: whether the fault is lifted now. */
  private release(kind: string, target: number, at: number): boolean {
    const key = `${kind}:${target}`, h = this.holds.get(key);
    if (h === undefined || h.forever || at < h.until) return false;
    this.holds.delete(key);
    return true;
  }

  private writeVectorMask(v: number, masked: boolean): void {
    const msix = this.machine.nic!.msix;
    msix.mmioWrite(v * 16 + 12, 4, masked ? 1 : 0);
  }

  private queueReg(q: number): number {
    return NIC_QUEUE_BASE + q * NIC_QUEUE_STRIDE + 0x20; // QCTRL
  }

  private setFence(q: number, on: boolean): void {
    const nic = this.machine.nic!;
    const v = nic.mmioRead(this.queueReg(q), 4);
    nic.mmioWrite(this.queueReg(q), 4, on ? v | Q_FENCE : v & ~Q_FENCE);
  }

  private setPassThrough(on: boolean): void {
    const rid = this.machine.nic!.fn.rid;
    for (let k = 0; k < 8; k++) this.machine.iommu.setPassThrough(rid + k, on);
  }

  // ---- faults --------------------------------------------------------------------------------

  /** Apply a fault now (between slices) or at `at` (from the schedule). */
  inject(f: FaultRequest, at = this.machine.now): FaultOutcome {
    const fk = faultKind(f.kind);
    let out: FaultOutcome;
    if (!fk) out = { applied: false, detail: `unknown fault '${f.kind}'; the catalogue has ${FAULTS.map((x) => x.kind).join(', ')}` };
    else if (this.done) out = { applied: false, detail: 'the run has ended: a fault now would change a machine whose report is final' };
    else if (fk.layer === 'kernel') {
      out = this.kernel === null
        ? { applied: false, detail: `${fk.title} needs the exokernel; this run boots a bare image` }
        : this.kernel.applyFault(f, at);
    } else out = this.machineFault(f, at);
    const target = f.target ?? null;
    this.faultLog.push({ at, kind: f.kind, target, origin: f.origin, applied: out.applied, detail: out.detail });
    this.note(at, typeof target === 'number' && fk?.target === 'core' ? target : null, 'fault', `${f.kind}${target !== null ? ` ${target}` : ''}: ${out.applied ? '' : 'refused: '}${out.detail}`);
    this.instant(typeof target === 'number' && fk?.target === 'core' ? target : 0, `fault ${f.kind}`, 'fault', at, { applied: out.applied ? 1 : 0 });
    return out;
  }

  private num(v: string | number | undefined, dflt: number): number {
    return v === undefined ? dflt : Number(v);
  }

  private machineFault(f: FaultRequest, at: number): FaultOutcome {
    const m = this.machine, nic = m.nic;
    const target = typeof f.target === 'number' ? f.target : f.target === undefined ? 0 : Number(f.target);
    const n = this.num(f.params.count, 1);
    const needNic = (): FaultOutcome | null => (nic === null ? { applied: false, detail: 'the machine has no NIC' } : null);
    const coreOk = Number.isInteger(target) && target >= 0 && target < m.cores.length;
    switch (f.kind) {
      case 'msi-drop':
        if (!coreOk) return { applied: false, detail: `no core ${f.target}` };
        this.msiDrop[target] += n;
        return { applied: true, detail: `the next ${n} MSI(s) to core ${target} will be dropped` };
      case 'msi-duplicate':
        if (!coreOk) return { applied: false, detail: `no core ${f.target}` };
        this.msiDup[target] += n;
        return { applied: true, detail: `the next ${n} MSI(s) to core ${target} will arrive twice` };
      case 'ipi-lost':
        if (!coreOk) return { applied: false, detail: `no core ${f.target}` };
        this.ipiLost[target] += n;
        return { applied: true, detail: `the next ${n} IPI(s) to core ${target} will be lost` };
      case 'irq-storm': {
        if (!coreOk) return { applied: false, detail: `no core ${f.target}` };
        const vector = this.num(f.params.vector, 0x40), count = this.num(f.params.count, 1000);
        const every = Math.max(1, this.num(f.params.spacing, Math.round(m.config.clockHz * 2e-6)));
        if (vector < 32 || vector > 255) return { applied: false, detail: `vector ${vector} is not 32 to 255` };
        if (this.storms.length >= 127) return { applied: false, detail: 'too many storms at once' };
        this.storms.push({ core: target, vector, left: count, every });
        m.events.schedule(at, this, EV_STORM, (target << 16) | ((this.storms.length - 1) << 8) | vector);
        return { applied: true, detail: `${count} interrupts of vector ${vector} on core ${target}, one every ${every} cycles` };
      }
      case 'mask-vector': {
        const bad = needNic(); if (bad) return bad;
        if (target >= nic!.msix.vectors) return { applied: false, detail: `the NIC has MSI-X vectors 0 to ${nic!.msix.vectors - 1}` };
        this.writeVectorMask(target, true);
        this.hold('mask-vector', target, at, f.params.for === undefined ? undefined : Number(f.params.for), EV_UNMASK);
        return { applied: true, detail: `NIC MSI-X vector ${target} masked${f.params.for !== undefined ? ` for ${f.params.for} cycles` : ''}` };
      }
      case 'nic-stall': {
        const bad = needNic(); if (bad) return bad;
        if (target >= nic!.queues) return { applied: false, detail: `the NIC has queues 0 to ${nic!.queues - 1}` };
        this.setFence(target, true);
        this.hold('nic-stall', target, at, f.params.for === undefined ? undefined : Number(f.params.for), EV_UNSTALL);
        return { applied: true, detail: `NIC queue ${target} fenced behind the driver's back` };
      }
      case 'iommu-passthrough': {
        const bad = needNic(); if (bad) return bad;
        this.setPassThrough(true);
        this.hold('iommu-passthrough', 0, at, f.params.for === undefined ? undefined : Number(f.params.for), EV_PASSTHROUGH_OFF);
        return { applied: true, detail: 'the NIC\'s DMA bypasses the IOMMU' };
      }
      case 'dma-bitflip': return this.bitflip(f, target);
      default:
        return { applied: false, detail: `${f.kind} is not a machine fault` };
    }
  }

  private bitflip(f: FaultRequest, q: number): FaultOutcome {
    const m = this.machine;
    let pa: number, span = 2048;
    if (f.params.address !== undefined) pa = Number(f.params.address);
    else {
      if (m.nic === null) return { applied: false, detail: 'the machine has no NIC; give address' };
      const rx = m.nic.inspect().queues[q]?.rx;
      if (rx === undefined) return { applied: false, detail: `no NIC queue ${q}` };
      if (rx.size === 0) return { applied: false, detail: `NIC queue ${q} has no RX ring yet` };
      // The ring and its buffers are at I/O addresses: found where the queue's own DMA would go.
      const rid = m.nic.dmaRid({ q }), desc = m.iommu.probe(rid, rx.base + (rx.head % rx.size) * 16);
      if (desc < 0 || !m.mem.isRam(desc)) return { applied: false, detail: `NIC queue ${q}'s next RX descriptor is not mapped for its DMA` };
      pa = m.iommu.probe(rid, m.mem.read32(desc));
      if (pa < 0) return { applied: false, detail: `the buffer of NIC queue ${q}'s next RX descriptor is not mapped for its DMA` };
      span = Math.min(span, 4096 - (pa & 0xfff)); // its next I/O page may lie anywhere
    }
    const bit = f.params.bit !== undefined ? Number(f.params.bit) : this.rng.below(span * 8);
    const byte = pa + (bit >>> 3);
    if (!m.mem.isRam(byte)) return { applied: false, detail: `0x${byte.toString(16)} is not RAM` };
    m.mem.write8(byte, m.mem.ram8[byte]! ^ (1 << (bit & 7))); // write8 drops decoded code there
    return { applied: true, detail: `bit ${bit & 7} of physical 0x${byte.toString(16)} flipped` };
  }

  // ---- running -------------------------------------------------------------------------------

  get now(): number { return this.machine.now; }
  get endsAt(): number { return this.end; }
  get done(): boolean { return this.stopped !== null && this.stopped !== 'stopped' ? true : this.machine.now >= this.end; }

  /** Run up to `cycles` more (never past the scenario's end); returns why the machine stopped. */
  runSlice(cycles: number): StopReason {
    const m = this.machine;
    if (this.done) return this.stopped ?? 'time';
    const until = Math.min(this.end, m.now + Math.max(1, cycles));
    const reason = m.run(until);
    this.sample();
    if (reason !== 'time' || m.now >= this.end) this.stopped = reason;
    if (reason !== 'time') this.note(m.now, null, 'stop', `the machine stopped: ${reason}`);
    return reason;
  }

  /** Run to the end in slices; `progress` sees each slice's end. */
  runToEnd(slice = Math.max(1, Math.round(this.machine.config.clockHz * 1e-4)), progress?: (now: number, end: number) => void): StopReason {
    let reason: StopReason = 'time';
    while (!this.done) {
      reason = this.runSlice(slice);
      progress?.(this.machine.now, this.end);
    }
    return this.stopped ?? reason;
  }

  /** One sample per slice: which cores ran (not halted or waiting), and the NIC's rates. */
  private sample(): void {
    const m = this.machine;
    this.samples++;
    m.cores.forEach((c, k) => {
      const busy = c.state === 'running' ? 1 : 0;
      this.busySamples[k] += busy;
      const h = this.history.utilisation[k]!;
      h.push(busy);
      if (h.length > HISTORY) h.shift();
    });
    if (m.nic !== null) {
      const t = m.nic.inspect().totals;
      const dt = Math.max(1, m.now - this.lastSample.at) / m.config.clockHz;
      this.history.rxRate.push((t.delivered - this.lastSample.rx) / dt);
      this.history.txRate.push((t.sent - this.lastSample.tx) / dt);
      if (this.history.rxRate.length > HISTORY) { this.history.rxRate.shift(); this.history.txRate.shift(); }
      this.lastSample = { at: m.now, rx: t.delivered, tx: t.sent };
    }
  }

  close(): void {
    this.machine.close();
  }

  // ---- views ---------------------------------------------------------------------------------

  private insnAt(k: number): string {
    const c = this.machine.cores[k]!;
    if (c.state === 'waiting' || c.state === 'shutdown') return '';
    const mem = this.machine.mem;
    try {
      return disasm((i) => {
        const pa = c.probe((c.eip + i) >>> 0);
        return pa < 0 || !mem.isRam(pa) ? -1 : mem.ram8[pa]!;
      }, c.eip >>> 0).text;
    } catch {
      return '(undecodable)';
    }
  }

  private coreSnapshot(k: number): CoreSnapshot {
    const m = this.machine, c = m.cores[k]!;
    const kv = this.kernel?.core(k);
    return {
      id: k, state: c.state, principal: kv?.principal ?? (this.kernel ? '-' : 'bare'),
      cpl: c.cpl, eip: c.eip >>> 0, insn: this.insnAt(k), instructions: c.instructions,
      interrupts: this.interrupts[k]!, exceptions: this.exceptions[k]!,
      ipisSent: m.ipiSent[k]!, ipisReceived: m.ipiReceived[k]!,
      upcalls: kv?.upcalls ?? {}, crossings: kv?.crossings ?? 0,
      utilisation: this.samples === 0 ? 0 : this.busySamples[k]! / this.samples,
      waitingOn: kv?.waitingOn ?? null,
    };
  }

  snapshot(): SystemSnapshot {
    const m = this.machine, s = this.scenario;
    const nic = m.nic?.inspect();
    const io = m.iommu.inspect({ mappings: 0, faults: 8 });
    const principals = this.kernel?.principals() ?? [];
    return {
      scenario: { name: s.name, description: s.description, file: s.file, seed: s.seed },
      now: m.now, clockHz: m.config.clockHz, runFor: this.end, stopped: this.done ? (this.stopped ?? 'time') : null,
      cores: m.cores.map((_, k) => this.coreSnapshot(k)),
      nic: nic === undefined ? null : {
        link: nic.link, received: nic.totals.received, delivered: nic.totals.delivered, dropped: nic.totals.dropped, sent: nic.totals.sent,
        queues: nic.queues.map((q) => ({
          q: q.q,
          tx: { occupancy: q.tx.occupancy, size: q.tx.size, frames: q.tx.frames, rate: (q.tx.rate.frames * m.config.clockHz) / q.tx.rate.windowCycles },
          rx: { occupancy: q.rx.occupancy, size: q.rx.size, frames: q.rx.frames, rate: (q.rx.rate.frames * m.config.clockHz) / q.rx.rate.windowCycles },
          drops: sum(q.rx.drops) + sum(q.tx.drops), fence: q.fence,
        })),
      },
      iommu: {
        enabled: io.enabled,
        domains: io.domains.map((d) => ({ id: d.id, requesters: d.requesters, mappings: d.mappingCount, passThrough: d.passThrough })),
        passThrough: io.passThroughSwitches,
        faults: io.faults.map((f) => ({ at: f.at, rid: f.rid, iova: f.iova, reason: f.reason })),
        faultCount: io.counters.faults,
      },
      caps: principals.map((p) => ({ principal: p.name, tree: this.kernel!.capabilities(p.name) })),
      principals,
      events: this.log.slice(-100),
      console: tail(m.consoleText(), CONSOLE_TAIL),
      history: { utilisation: this.history.utilisation.map((h) => [...h]), rxRate: [...this.history.rxRate], txRate: [...this.history.txRate] },
      kernel: this.kernel !== null,
    };
  }

  /** Every metric, by dotted path: cores.N.*, principals.NAME.*, nic.*, iommu.*, kernel.*, machine.*, faults.*, run.* */
  metrics(): Record<string, unknown> {
    const m = this.machine;
    const cores: Record<string, unknown> = {};
    m.cores.forEach((c, k) => {
      const ctr = c.counterValues();
      const kv = this.kernel?.core(k);
      cores[String(k)] = {
        state: c.state, instructions: c.instructions, cycles: c.cycles,
        interrupts: this.interrupts[k], exceptions: this.exceptions[k], page_faults: ctr.pageFaults,
        ipis_sent: m.ipiSent[k], ipis_received: m.ipiReceived[k],
        tlb_misses: ctr.tlbMisses, tlb_hits: ctr.tlbHits, page_walks: ctr.pageWalks,
        utilisation: this.samples === 0 ? 0 : round6(this.busySamples[k]! / this.samples),
        upcalls: kv?.upcalls ?? {}, crossings: kv?.crossings ?? 0, kernel_entries: kv?.kernelEntries ?? 0,
      };
    });
    const principals: Record<string, unknown> = {};
    for (const p of this.scenario.principals) principals[p.name] = this.kernel?.principalMetrics(p.name) ?? {};
    const faults: Record<string, number> = { injected: this.faultLog.length, applied: this.faultLog.filter((f) => f.applied).length };
    faults.refused = faults.injected! - faults.applied!;
    for (const f of FAULTS) faults[metricName(f.kind)] = this.faultLog.filter((x) => x.kind === f.kind && x.applied).length;
    return {
      run: { cycles: m.now, seconds: round6(m.now / m.config.clockHz), instructions: m.instructions() },
      cores,
      principals,
      nic: this.nicMetrics(),
      iommu: this.iommuMetrics(),
      kernel: this.kernel?.metrics() ?? { present: 0 },
      machine: {
        msi_errors: m.msiErrors, ipi_errors: m.ipiErrors, msis_dropped: this.msisDropped, msis_duplicated: this.msisDuplicated,
        ipis_lost: this.ipisLost, powered_off: m.sysctl.exitStatus === null ? 0 : 1, exit_status: m.sysctl.exitStatus ?? -1,
        console_bytes: m.console.length, trace_events_dropped: this.traceDropped,
      },
      faults,
    };
  }

  private nicMetrics(): Record<string, unknown> {
    const nic = this.machine.nic?.inspect();
    if (nic === undefined) return { present: 0 };
    const drops = (r: Record<string, number>) => {
      const out: Record<string, number> = { total: sum(r) };
      for (const [k, v] of Object.entries(r)) out[metricName(k)] = v;
      return out;
    };
    const queues: Record<string, unknown> = {};
    for (const q of nic.queues) {
      queues[String(q.q)] = {
        received: q.received, rx_frames: q.rx.frames, rx_bytes: q.rx.bytes, tx_frames: q.tx.frames, tx_bytes: q.tx.bytes,
        rx_dropped: drops(q.rx.drops), tx_dropped: drops(q.tx.drops), rx_occupancy: q.rx.occupancy, tx_occupancy: q.tx.occupancy,
        fenced: q.fence === 'off' ? 0 : 1,
      };
    }
    return {
      present: 1, link: nic.link ? 1 : 0, received: nic.totals.received, delivered: nic.totals.delivered, sent: nic.totals.sent,
      in_flight: nic.totals.inFlight, dropped: drops(nic.totals.drops), tx_dropped: drops(nic.totals.txDrops),
      wire_dropped: drops(nic.totals.wire.drops), // before the NIC: not in received
      bad_accesses: nic.badAccesses, queues,
    };
  }

  private iommuMetrics(): Record<string, unknown> {
    const io = this.machine.iommu.inspect({ mappings: 0, faults: 0 });
    const c = io.counters;
    return {
      enabled: io.enabled ? 1 : 0, domains: io.domains.length, mappings: io.domains.reduce((n, d) => n + d.mappingCount, 0),
      faults: c.faults, dma_reads: c.dmaReads, dma_writes: c.dmaWrites, dma_bytes: c.bytes,
      iotlb_hits: c.iotlbHits, iotlb_misses: c.iotlbMisses, pass_through: c.passThrough, invalidations: c.waitsCompleted,
    };
  }

  report(): Report {
    const m = this.machine, s = this.scenario;
    const metrics = this.metrics();
    const expectations = s.expect.map((e) => evaluate(e, metrics));
    return {
      exolab: { format: REPORT_FORMAT },
      scenario: { name: s.name, file: s.file, seed: s.seed },
      run: {
        for_cycles: this.end, cycles: m.now, seconds: round6(m.now / m.config.clockHz), clock_hz: m.config.clockHz,
        stopped_by: this.stopped ?? 'not finished', instructions: m.instructions(),
      },
      metrics,
      expectations,
      passed: expectations.every((e) => e.passed),
      faults: this.faultLog.map((f) => ({ ...f })),
      console: m.consoleText(),
    };
  }

  /** The Chrome trace-event JSON (Perfetto opens it): one track per core, times in microseconds. */
  trace(): { traceEvents: TraceEvent[]; displayTimeUnit: string; otherData: Record<string, string | number> } {
    const meta: TraceEvent[] = [{ name: 'process_name', cat: '__metadata', ph: 'M', ts: 0, pid: 1, tid: 0, args: { name: `exolab ${this.scenario.name}` } }];
    for (let k = 0; k < this.machine.cores.length; k++) {
      meta.push({ name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid: 1, tid: k, args: { name: `core ${k}` } });
    }
    return {
      traceEvents: [...meta, ...this.traceEvents],
      displayTimeUnit: 'ns',
      otherData: { scenario: this.scenario.name, seed: this.scenario.seed, clock_hz: this.machine.config.clockHz, dropped: this.traceDropped },
    };
  }
}

// ---- helpers ---------------------------------------------------------------------------------

function sum(r: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(r)) n += v;
  return n;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function tail(s: string, n: number): string {
  return s.length > n ? s.slice(s.length - n) : s;
}

/** The value at a dotted path, or undefined. */
export function metricAt(metrics: Record<string, unknown>, path: string): unknown {
  let v: unknown = metrics;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object' || !(part in (v as object))) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** The metric paths under `prefix` that hold numbers (for "did you mean" and the TUI). */
export function metricPaths(metrics: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(metrics)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'number') out.push(p);
    else if (v !== null && typeof v === 'object') out.push(...metricPaths(v as Record<string, unknown>, p));
  }
  return out;
}

export function evaluate(e: Expectation, metrics: Record<string, unknown>): ExpectationResult {
  const v = metricAt(metrics, e.metric);
  const base = { metric: e.metric, is: e.text, wanted: { op: e.op, value: e.value }, where: e.where };
  if (typeof v !== 'number') {
    const paths = metricPaths(metrics);
    const parent = e.metric.split('.').slice(0, -1).join('.');
    const near = paths.filter((p) => p.startsWith(parent + '.')).slice(0, 5);
    const why = v === undefined ? 'no such metric in this run' : 'not a number (a group of metrics)';
    return { ...base, measured: null, passed: false, message: `${e.metric}: ${why}${near.length ? `; nearby: ${near.join(', ')}` : ''}` };
  }
  const passed = compare(v, e.op, e.value);
  return { ...base, measured: v, passed, message: `${e.metric} ${passed ? 'is' : 'was'} ${v}, wanted ${e.op} ${e.value}` };
}
