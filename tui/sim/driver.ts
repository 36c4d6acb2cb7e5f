// The simulation side of the TUI: a System run a slice per frame while not paused, answering
// the TUI's messages. The worker (worker.ts) and the in-thread client (local.ts) both use it,
// so the two cannot behave differently.

import { InputError } from '../../machine/errors.js';
import { loadScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';
import { performance } from 'node:perf_hooks';
import { DEFAULT_SPEED, SPEED_MAX, SPEEDS_US } from '../keymap.js';

import type { FromSim, ToSim } from './protocol.js';
import { findLab } from '../../apps/labs/index.js';
import { labParameters } from '../../apps/labs/lab.js';

/**
 * At max speed: host milliseconds of slices per frame (messages, such as the TUI's 'drawn', are
 * taken between frames), and the least time between two snapshots (at most 22 a second: each
 * costs the TUI's thread 15 to 20 ms of Ink at 180x55, and the worker about 1 ms).
 */
const MAX_SPEED_FRAME_MS = 10;
const MAX_SPEED_SNAPSHOT_MS = 38;
/** How long a snapshot waits for the TUI to say it drew the last one, at most. */
const DRAWN_TIMEOUT_MS = 1000;

export interface DriverOptions {
  /**
   * Post a snapshot only once the TUI has drawn the last one ('drawn'): a TUI slower than the
   * frames gets fewer of them instead of a queue of stale ones (the worker). Off, a snapshot
   * goes with every frame that changed something (tests drive frames by hand).
   */
  waitForDrawn?: boolean;
}

export class SimDriver {
  private system: System | null = null;
  private paused = false;
  private speedIndex = DEFAULT_SPEED;
  private dirty = true;
  /** Host time of the last snapshot, and whether the TUI has said it drew it. */
  private postedAt = -Infinity;
  private drawn = true;
  /** Pause, step and speed messages taken (posted with each snapshot). */
  private controls = 0;

  constructor(private readonly post: (m: FromSim) => void, private readonly options: DriverOptions = {}) {}

  get running(): boolean {
    return this.system !== null && !this.paused && !this.system.done;
  }

  /** Running at max speed: the next frame should start at once, not a frame's time later. */
  get flatOut(): boolean {
    return this.running && SPEEDS_US[this.speedIndex] === SPEED_MAX;
  }

  handle(m: ToSim): void {
    try {
      this.handleOrThrow(m);
    } catch (e) {
      this.post({ type: 'error', message: e instanceof Error ? e.message : String(e), input: e instanceof InputError });
    }
  }

  private handleOrThrow(m: ToSim): void {
    switch (m.type) {
      case 'start':
        this.system = new System(loadScenario(m.start.scenario, m.start));
        this.dirty = true;
        break;
      case 'pause': this.controls++; this.paused = m.paused; this.dirty = true; break;
      case 'step':
        this.controls++;
        this.paused = true;
        this.slice(true);
        break;
      case 'speed':
        this.controls++;
        this.speedIndex = Math.max(0, Math.min(SPEEDS_US.length - 1, m.index));
        this.dirty = true;
        break;
      case 'fault': {
        if (this.system === null) return;
        const outcome = this.system.inject(m.request);
        this.post({ type: 'fault-result', request: m.request, outcome });
        this.dirty = true;
        break;
      }
      case 'drawn': this.drawn = true; break;
      case 'lab': {
        // A lab runs its own scenarios to the end; the demo waits meanwhile (no frames).
        const lab = findLab(m.name);
        if (lab === undefined) { this.post({ type: 'lab-result', name: m.name, result: null, error: `no lab ${m.name}` }); break; }
        try {
          this.post({ type: 'lab-result', name: m.name, result: lab.run(labParameters(lab, [])), error: null });
        } catch (e) {
          this.post({ type: 'lab-result', name: m.name, result: null, error: e instanceof Error ? e.message : String(e) });
        }
        break;
      }
      case 'quit':
        this.system?.close();
        this.system = null;
        this.post({ type: 'closed' });
        break;
    }
  }

  /** A frame's slice; a step (`s`) at max speed is the longest paced one, never host-timed. */
  private slice(step = false): void {
    const s = this.system;
    if (s === null || s.done) return;
    let us: number = SPEEDS_US[this.speedIndex]!;
    if (us === SPEED_MAX && step) us = SPEEDS_US[SPEEDS_US.length - 2]!;
    if (us === SPEED_MAX) {
      // As fast as it goes: 500 us slices until the frame's host time is used.
      const step = Math.round(s.machine.config.clockHz * 5e-4), until = performance.now() + MAX_SPEED_FRAME_MS;
      do s.runSlice(step); while (!s.done && performance.now() < until);
    } else {
      s.runSlice(Math.max(1, Math.round((us * s.machine.config.clockHz) / 1e6)));
    }
    this.dirty = true;
  }

  private mayPost(): boolean {
    if (!this.options.waitForDrawn) return true;
    const since = performance.now() - this.postedAt;
    if (this.flatOut && since < MAX_SPEED_SNAPSHOT_MS) return false;
    return this.drawn || since > DRAWN_TIMEOUT_MS;
  }

  /** One frame: run a slice unless paused, then post a snapshot if anything changed. */
  frame(): void {
    try {
      if (this.running) this.slice();
      if (this.dirty && this.system !== null && this.mayPost()) {
        this.dirty = false;
        this.postedAt = performance.now();
        this.drawn = false;
        this.post({ type: 'snapshot', snapshot: this.system.snapshot(), paused: this.paused, speedIndex: this.speedIndex, controls: this.controls });
      }
    } catch (e) {
      this.post({ type: 'error', message: e instanceof Error ? e.message : String(e), input: e instanceof InputError });
      this.system = null;
    }
  }
}
