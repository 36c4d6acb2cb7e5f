// Part of `npm run bench`: the built-in demo's simulation speed headless, and under the TUI
// (the simulation in its worker thread, Ink rendering every snapshot on this one as the TUI
// does, into a 180x55 terminal that discards the output). Reports frames per second, simulated time per host second,
// and what the TUI costs against headless. Not a test: it measures host time.

import React from 'react';
import { render } from 'ink';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { loadScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';
import { App } from '../../tui/app/App.js';
import { SPEEDS_US } from '../../tui/keymap.js';
import { WorkerSim } from '../../tui/sim/client.js';

const SIM_MS = 30; // long enough that one host hiccup does not decide the figure

/** Simulated seconds per host second for the demo run headless, in slices of `sliceUs`. */
export function headlessSpeed(sliceUs: number): { ratio: number; seconds: number } {
  const s = new System(loadScenario('demo', { for: `${SIM_MS}ms` }));
  const slice = Math.round((sliceUs * s.machine.config.clockHz) / 1e6);
  const t0 = performance.now();
  while (!s.done) { s.runSlice(slice); s.snapshot(); }
  const seconds = (performance.now() - t0) / 1e3;
  s.close();
  return { ratio: SIM_MS / 1e3 / seconds, seconds };
}

/** The same under the TUI at speed index `speed`: frames per second and the simulation's pace. */
export async function tuiSpeed(speed: number): Promise<{ fps: number; ratio: number; frames: number; seconds: number }> {
  const sim = new WorkerSim();
  // Timed from the first snapshot: building the System (guest images, boot) is not the TUI's cost.
  let frames = 0, now = 0, now0 = -1, t0 = 0, clockHz = 2e9, done = false;
  sim.onMessage((m) => {
    if (m.type !== 'snapshot') return;
    if (now0 < 0) { now0 = m.snapshot.now; t0 = performance.now(); } else frames++;
    now = m.snapshot.now; clockHz = m.snapshot.clockHz; done = m.snapshot.stopped !== null;
  });
  // Ink as the TUI runs it (incremental rendering), into a terminal that discards what it gets.
  const tty = Object.assign(new Writable({ write(_c, _e, cb) { cb(); } }), { columns: 180, rows: 55, isTTY: true }) as unknown as NodeJS.WriteStream;
  const app = render(React.createElement(App, { sim, start: { scenario: 'demo', for: `${SIM_MS}ms` }, size: { columns: 180, rows: 55 }, mono: true }),
    { stdout: tty, patchConsole: false, exitOnCtrlC: false, incrementalRendering: true });
  sim.send({ type: 'speed', index: speed });
  const started = performance.now();
  while (!done && performance.now() - started < 120_000) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - t0) / 1e3;
  app.unmount();
  await sim.close();
  return { fps: frames / seconds, ratio: (now - now0) / clockHz / seconds, frames, seconds };
}

/** The worker's pace with nobody rendering its snapshots (what the TUI's thread costs it). */
export async function workerSpeed(speed: number): Promise<{ ratio: number }> {
  const sim = new WorkerSim();
  let now = 0, now0 = -1, t0 = 0, done = false;
  sim.onMessage((m) => {
    if (m.type !== 'snapshot') return;
    if (now0 < 0) { now0 = m.snapshot.now; t0 = performance.now(); }
    now = m.snapshot.now; done = m.snapshot.stopped !== null;
  });
  sim.send({ type: 'start', start: { scenario: 'demo', for: `${SIM_MS}ms` } });
  sim.send({ type: 'speed', index: speed });
  const started = performance.now();
  while (!done && performance.now() - started < 120_000) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - t0) / 1e3;
  await sim.close();
  return { ratio: (now - now0) / 2e9 / seconds };
}

export async function benchTui(table: (rows: [string, string][]) => void): Promise<void> {
  const top = SPEEDS_US.length - 1; // max speed: slices back to back
  const slowest = SPEEDS_US.length - 2; // the fastest paced speed, 1000 us a frame
  console.log(`tui: the demo for ${SIM_MS} ms simulated, headless and under the TUI (worker + Ink, 180x55)`);
  // Best of two headless runs after a warm-up: the host's own pace varies from run to run.
  headlessSpeed(SPEEDS_US[slowest]!);
  const h = [headlessSpeed(SPEEDS_US[slowest]!), headlessSpeed(SPEEDS_US[slowest]!)].reduce((a, b) => (a.ratio > b.ratio ? a : b));
  const alone = await workerSpeed(top);
  const fast = await tuiSpeed(top);
  const dflt = await tuiSpeed(4);
  table([
    ['headless: simulated / host time', h.ratio.toFixed(5)],
    ['the worker alone (no Ink) at max speed: simulated / host time', alone.ratio.toFixed(5)],
    ['TUI at max speed: frames per second', fast.fps.toFixed(1)],
    ['TUI at max speed: simulated / host time', fast.ratio.toFixed(5)],
    ['TUI cost against headless at max speed', `${((1 - fast.ratio / h.ratio) * 100).toFixed(1)} %`],
    [`TUI at ${SPEEDS_US[4]} us/frame (default): frames per second`, dflt.fps.toFixed(1)],
  ]);
}
