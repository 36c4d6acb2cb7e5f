// Messages between the TUI (Ink, main thread) and the simulation (a worker thread, or the
// same thread in tests). Everything is structured-cloneable: snapshots are plain objects.

import type { FaultOutcome, FaultRequest } from '../../kernel/faults.js';
import type { SystemSnapshot } from '../../kernel/system.js';
import type { LabResult } from '../../apps/labs/lab.js';

export interface SimStart {
  scenario: string;
  seed?: string | number;
  for?: string;
  wire?: string;
  record?: string;
}

export type ToSim =
  | { type: 'start'; start: SimStart }
  | { type: 'pause'; paused: boolean }
  | { type: 'step' }
  | { type: 'speed'; index: number }
  | { type: 'fault'; request: FaultRequest }
  | { type: 'lab'; name: string }
  /** The TUI has drawn the last snapshot: the next may come (a worker waits for it). */
  | { type: 'drawn' }
  | { type: 'quit' };

export type FromSim =
  /**
   * `controls`: how many pause, step and speed messages the simulation had taken when it took
   * the snapshot, so that the TUI can tell a snapshot older than its last such request (whose
   * paused and speed it must not show) from one that answers it.
   */
  | { type: 'snapshot'; snapshot: SystemSnapshot; paused: boolean; speedIndex: number; controls: number }
  | { type: 'fault-result'; request: FaultRequest; outcome: FaultOutcome }
  | { type: 'lab-result'; name: string; result: LabResult | null; error: string | null }
  | { type: 'error'; message: string; input: boolean }
  | { type: 'closed' };

/** The TUI's handle on a simulation, wherever it runs. */
export interface SimClient {
  onMessage(cb: (m: FromSim) => void): () => void;
  send(m: ToSim): void;
  close(): Promise<void>;
}
