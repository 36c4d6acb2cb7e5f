// A principal: one LibOS instance with its capability space, its page directory (written only
// by the kernel, from secure bindings), its upcall entry points and one context per core it
// may run on.

import type { Binding } from '../caps/binding.js';
import type { PageTable } from './paging.js';
import type { CodeMap } from './cycles.js';
import type { PartitionState } from './partition.js';
import { PrincipalStats } from './stats.js';

export type Placement = 'exo' | 'mono' | 'unikernel';

export interface UpcallEntry { handler: number; stackTop: number }

/** An upcall waiting to be delivered to a context. */
export interface PendingUpcall {
  kind: number;
  arg0: number;
  arg1: number;
  /** Cycle at which its cause happened (the MSI write, the fault), for latency. */
  raisedAt: number;
  /** Irq mode index for interrupt latency accounting, or -1. */
  mode: number;
  /** The frame's `info` word (a revocation's time to the deadline). */
  info?: number;
}

/** A principal's register state on one core while it is not running there. */
export class Context {
  readonly regs = new Int32Array(8);
  eip = 0;
  eflags = 0x202;
  esp = 0;
  /** Ring 0 for a partition (unikernel, mono kernel), 3 for an exo LibOS. */
  cpl = 3;
  readonly pending: PendingUpcall[] = [];
  /** Cycles this context has run on its core. */
  runCycles = 0;
  /** The slot of the CoreSlice that lets it run here. */
  sliceSlot = -1;
  /** It yielded with nothing else to run: not runnable until the core's next interrupt. */
  sleeping = false;
  constructor(readonly principal: Principal, readonly core: number) {}
}

export class Principal {
  state: 'running' | 'exited' | 'killed' = 'running';
  exitStatus: number | null = null;
  killReason: string | null = null;
  readonly contexts = new Map<number, Context>();
  readonly upcalls = new Map<number, UpcallEntry>();
  readonly stats = new PrincipalStats();
  /** Virtual page -> the binding (a frame's or a queue's) that mapped it. */
  readonly vmaps = new Map<number, Binding>();
  /** The first page-aligned address above the image (boot info free_va). */
  freeVa = 0;
  /** Notices of resources repossessed by force, for REPO_NOTICE. */
  readonly notices: number[][] = [];
  /** Bytes of the quota the image, stack and boot page took (the rest is its free Untyped). */
  imageEnd = 0;
  /** Physical address of its boot-info page. */
  bootInfo = 0;
  /** Set for the unikernel and mono placements: a ring-0 image on whole cores. */
  partition: PartitionState | null = null;
  /** Console bytes this principal wrote. */
  readonly console: number[] = [];
  /** Its image's code, app or LibOS by address (from the image's manifest); null: all the app's. */
  code: CodeMap | null = null;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly placement: Placement,
    readonly pt: PageTable,
    readonly cores: readonly number[],
    /** Physical range of its memory quota. */
    readonly memBase: number,
    readonly memSize: number,
  ) {}

  get alive(): boolean { return this.state === 'running'; }
}
