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
  | { type: 'quit' };

export type FromSim =
  | { type: 'snapshot'; snapshot: SystemSnapshot; paused: boolean; speedIndex: number }
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
