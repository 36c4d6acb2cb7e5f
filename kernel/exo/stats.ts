// Counters and latency histograms the kernel keeps per core and per principal. Plain numbers
// and typed arrays: the report, the TUI and the labs read them; nothing here allocates on the
// hot path.

export const UPCALL_KINDS = ['page_fault', 'interrupt', 'revocation', 'timer'] as const;
export const IRQ_MODES = ['direct', 'ipi', 'workqueue'] as const;
export type IrqModeName = typeof IRQ_MODES[number];

/**
 * A latency histogram in power-of-two buckets of cycles (bucket k holds [2^k, 2^(k+1))), with
 * the exact minimum, maximum and sum kept beside it so the worst case is not rounded.
 */
export class Histogram {
  readonly buckets = new Float64Array(40);
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  /** Every sample, for exact percentiles in reports (bounded: the oldest are kept). */
  readonly samples: number[] = [];
  static readonly SAMPLE_LIMIT = 100_000;

  add(cycles: number): void {
    const v = Math.max(0, cycles);
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.buckets[v < 1 ? 0 : Math.min(39, Math.floor(Math.log2(v)))]++;
    if (this.samples.length < Histogram.SAMPLE_LIMIT) this.samples.push(v);
  }

  /** The p-th percentile (0..100) of the kept samples, nearest rank; 0 when empty. */
  percentile(p: number): number {
    if (this.samples.length === 0) return 0;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank]!;
  }

  summary(): { count: number; min: number; max: number; mean: number; p50: number; p99: number } {
    return {
      count: this.count, min: this.count === 0 ? 0 : this.min, max: this.max,
      mean: this.count === 0 ? 0 : this.sum / this.count, p50: this.percentile(50), p99: this.percentile(99),
    };
  }
}

export class CoreStats {
  /** Kernel entries from ring 3 and the returns to ring 3: each is one privilege crossing. */
  entries = 0;
  exits = 0;
  exoCalls = 0;
  interrupts = 0;
  timerTicks = 0;
  contextSwitches = 0;
  forwardedIpis = 0;
  /** YIELDs with nothing else to run: the core halted until an interrupt. */
  sleeps = 0;
  /** Interrupts merged into an upcall of the same vector already pending for the context. */
  mergedInterrupts = 0;
  readonly upcalls = new Float64Array(UPCALL_KINDS.length);
  /** Cycles charged for the kernel's own work on this core. */
  kernelCycles = 0;
  /** Cycles this core spent waiting in the kernel (drains, invalidations). */
  waitCycles = 0;
  /** Cycles with no principal on the core: the kernel's idle loop, its work for no one (kernel/exo/cycles.ts). */
  unownedCycles = 0;
  readonly irqLatency: Record<IrqModeName, Histogram> = { direct: new Histogram(), ipi: new Histogram(), workqueue: new Histogram() };
  get crossings(): number { return this.entries + this.exits; }
}

/** A principal's cycles in its app, its LibOS and the kernel, and halted (kernel/exo/cycles.ts). */
export class CycleSplit {
  app = 0;
  libos = 0;
  kernel = 0;
  idle = 0;
  copyFrom(o: CycleSplit): void { this.app = o.app; this.libos = o.libos; this.kernel = o.kernel; this.idle = o.idle; }
}

export class PrincipalStats {
  entries = 0;
  exits = 0;
  exoCalls = 0;
  readonly exoCallsByNumber = new Map<number, number>();
  readonly upcalls = new Float64Array(UPCALL_KINDS.length);
  pageFaults = 0;
  interrupts = 0;
  blockIos = 0;
  kernelCycles = 0;
  /** UDP datagrams the NIC delivered to its queues (kernel/exo/requests.ts). */
  requests = 0;
  /** Its crossing count when the second and the latest of them arrived. */
  crossingsAtSecondRequest = 0;
  crossingsAtLastRequest = 0;
  /** Where its cores' cycles went while it held them; and that at the second and the latest request. */
  readonly cycles = new CycleSplit();
  readonly cyclesAtSecondRequest = new CycleSplit();
  readonly cyclesAtLastRequest = new CycleSplit();
  get crossings(): number { return this.entries + this.exits; }
}
