// The simulation side of the TUI: a System run a slice per frame while not paused, answering
// the TUI's messages. The worker (worker.ts) and the in-thread client (local.ts) both use it,
// so the two cannot behave differently.

import { InputError } from '../../machine/errors.js';
import { loadScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';
import { performance } from 'node:perf_hooks';
import { DEFAULT_SPEED, SPEED_MAX, SPEEDS_US } from '../keymap.js';

/** Host milliseconds of simulation per frame at the maximum speed (a frame is 33 ms). */
const MAX_SPEED_BUDGET_MS = 30;
import type { FromSim, ToSim } from './protocol.js';
import { findLab } from '../../apps/labs/index.js';
import { labParameters } from '../../apps/labs/lab.js';

export class SimDriver {
  private system: System | null = null;
  private paused = false;
  private speedIndex = DEFAULT_SPEED;
  private dirty = true;

  constructor(private readonly post: (m: FromSim) => void) {}

  get running(): boolean {
    return this.system !== null && !this.paused && !this.system.done;
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
      case 'pause': this.paused = m.paused; this.dirty = true; break;
      case 'step':
        this.paused = true;
        this.slice();
        break;
      case 'speed':
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

  private slice(): void {
    const s = this.system;
    if (s === null || s.done) return;
    const us = SPEEDS_US[this.speedIndex]!;
    if (us === SPEED_MAX) {
      // As fast as it goes: 500 us slices until most of a frame's host time is used.
      const step = Math.round(s.machine.config.clockHz * 5e-4), until = performance.now() + MAX_SPEED_BUDGET_MS;
      do s.runSlice(step); while (!s.done && performance.now() < until);
    } else {
      s.runSlice(Math.max(1, Math.round((us * s.machine.config.clockHz) / 1e6)));
    }
    this.dirty = true;
  }

  /** One frame: run a slice unless paused, then post a snapshot if anything changed. */
  frame(): void {
    try {
      if (this.running) this.slice();
      if (this.dirty && this.system !== null) {
        this.dirty = false;
        this.post({ type: 'snapshot', snapshot: this.system.snapshot(), paused: this.paused, speedIndex: this.speedIndex });
      }
    } catch (e) {
      this.post({ type: 'error', message: e instanceof Error ? e.message : String(e), input: e instanceof InputError });
      this.system = null;
    }
  }
}
