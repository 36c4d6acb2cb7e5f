// Part of the TUI bench: the demo run headless as `exolab run demo --headless` runs it (the
// System's own slices, no snapshots), in a thread of its own so that it starts as cold as the
// TUI's worker does. Posts the simulated and host time at the start and end of the window.

import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { loadScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';

const { simMs, warmMs } = workerData as { simMs: number; warmMs: number };
const s = new System(loadScenario('demo', { for: `${simMs}ms` }));
const warm = (warmMs / 1e3) * s.machine.config.clockHz;
let from: { now: number; t: number } | null = null;
s.runToEnd(undefined, (now) => {
  if (from === null && now >= warm) from = { now, t: performance.now() };
});
const t = performance.now();
s.close();
parentPort!.postMessage({ simSeconds: (s.machine.now - from!.now) / s.machine.config.clockHz, hostSeconds: (t - from!.t) / 1e3 });
