// Part of `npm run bench`: the built-in demo's simulation speed headless, and under the TUI
// (the simulation in its worker thread, Ink rendering every snapshot on this one as the TUI
// does, into a 180x55 terminal that discards the output). Reports frames per second, simulated
// time per host second, and what the TUI costs against headless. Not a test: it measures host
// time.
//
// Each run starts in a fresh thread (a fresh JavaScript engine, as a new `exolab` process has)
// and is timed over the same window of simulated time, after the first WARM_MS: the engine's
// warm-up is the same for both and is left out of both.

import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { SPEEDS_US } from '../../tui/keymap.js';
import { WorkerSim } from '../../tui/sim/client.js';
import type { SystemSnapshot } from '../../kernel/system.js';

const SIM_MS = 80;
const WARM_MS = 15;

interface Pace { ratio: number; hostSeconds: number }

/** Simulated seconds per host second for the demo run headless. */
export function headlessSpeed(): Promise<Pace> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./headless-worker.js', import.meta.url), { workerData: { simMs: SIM_MS, warmMs: WARM_MS } });
    w.once('message', (m: { simSeconds: number; hostSeconds: number }) => resolve({ ratio: m.simSeconds / m.hostSeconds, hostSeconds: m.hostSeconds }));
    w.once('error', reject);
  });
}

/** Follows the snapshots of a worker: the pace over the window, and the frames Ink drew in it. */
class Window {
  constructor(private readonly warmMs = WARM_MS) {}
  private from: { now: number; t: number } | null = null;
  private to: { now: number; t: number } | null = null;
  private draws = 0;
  done = false;

  /** Ink drew a frame (one render to the terminal). */
  drew(): void {
    if (this.from !== null && !this.done) this.draws++;
  }

  see(s: SystemSnapshot): void {
    const t = performance.now();
    if (this.from === null) {
      if (s.now >= (this.warmMs / 1e3) * s.clockHz) this.from = { now: s.now, t };
    } else {
      this.to = { now: s.now, t };
    }
    this.done = s.stopped !== null;
  }

  pace(clockHz = 2e9): Pace & { fps: number } {
    if (this.from === null || this.to === null) return { ratio: 0, hostSeconds: 0, fps: 0 };
    const hostSeconds = (this.to.t - this.from.t) / 1e3;
    return { ratio: (this.to.now - this.from.now) / clockHz / hostSeconds, hostSeconds, fps: this.draws / hostSeconds };
  }
}

async function until(done: () => boolean): Promise<void> {
  const started = performance.now();
  while (!done() && performance.now() - started < 300_000) await new Promise((r) => setTimeout(r, 20));
}

/**
 * The same under the TUI at speed index `speed`: frames per second and the simulation's pace.
 * With `hostMs`, over that much host time from the first frame instead (a paced speed takes
 * minutes to reach the window).
 */
export async function tuiSpeed(speed: number, hostMs?: number): Promise<Pace & { fps: number; inkMs: number; busy: number }> {
  // React's production build, as `exolab` loads it (tui/run-command.ts).
  process.env.NODE_ENV ??= 'production';
  const [{ default: React }, { render }, { App }, { INK_OPTIONS }] = await Promise.all(
    [import('react'), import('ink'), import('../../tui/app/App.js'), import('../../tui/app/run-tui.js')]);
  const sim = new WorkerSim();
  const win = new Window(hostMs === undefined ? WARM_MS : 0);
  let clockHz = 2e9;
  sim.onMessage((m) => { if (m.type === 'snapshot') { clockHz = m.snapshot.clockHz; win.see(m.snapshot); } });
  // Ink as the TUI runs it (INK_OPTIONS), into a terminal that discards what it gets.
  const tty = Object.assign(new Writable({ write(_c, _e, cb) { cb(); } }), { columns: 180, rows: 55, isTTY: true }) as unknown as NodeJS.WriteStream;
  let inkMs = 0, renders = 0;
  const app = render(React.createElement(App, { sim, start: { scenario: 'demo', for: `${SIM_MS}ms` }, size: { columns: 180, rows: 55 }, mono: true }),
    { ...INK_OPTIONS, stdout: tty, patchConsole: false, onRender: ({ renderTime }) => { inkMs += renderTime; renders++; win.drew(); } });
  sim.send({ type: 'speed', index: speed });
  const started = performance.now(), elu0 = performance.eventLoopUtilization();
  await until(() => win.done || (hostMs !== undefined && performance.now() - started > hostMs));
  const busy = performance.eventLoopUtilization(elu0).utilization;
  app.unmount();
  await sim.close();
  return { ...win.pace(clockHz), inkMs: inkMs / Math.max(1, renders), busy };
}

/** The worker's pace with nobody rendering its snapshots (what the TUI's thread costs it). */
export async function workerSpeed(speed: number): Promise<Pace> {
  const sim = new WorkerSim();
  const win = new Window();
  // Drawn at once: the worker's own pace, with the snapshots a TUI would get.
  sim.onMessage((m) => { if (m.type === 'snapshot') { win.see(m.snapshot); sim.send({ type: 'drawn' }); } });
  sim.send({ type: 'start', start: { scenario: 'demo', for: `${SIM_MS}ms` } });
  sim.send({ type: 'speed', index: speed });
  await until(() => win.done);
  await sim.close();
  return win.pace();
}

const median = (v: number[]): number => { const o = [...v].sort((a, b) => a - b); return o.length % 2 ? o[o.length >> 1]! : (o[o.length / 2 - 1]! + o[o.length / 2]!) / 2; };
const PAIRS = 5;

export async function benchTui(table: (rows: [string, string][]) => void): Promise<void> {
  const top = SPEEDS_US.length - 1; // max speed: frames back to back
  console.log(`tui: the demo from ${WARM_MS} to ${SIM_MS} ms simulated, headless and under the TUI (worker + Ink, 180x55), ${PAIRS} pairs, medians`);
  // Pairs run one after the other, so that a slow spell of the host falls on both sides of a
  // pair; the cost is the median over the pairs (this machine's pace varies by 20 % between runs).
  const heads: Pace[] = [], tuis: (Pace & { fps: number; inkMs: number; busy: number })[] = [];
  for (let k = 0; k < PAIRS; k++) { heads.push(await headlessSpeed()); tuis.push(await tuiSpeed(top)); }
  const costs = tuis.map((t, k) => 1 - t.ratio / heads[k]!.ratio);
  const alone = await workerSpeed(top);
  const dflt = await tuiSpeed(4, 4000);
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  table([
    ['headless: simulated / host time', median(heads.map((h) => h.ratio)).toFixed(5)],
    ['the worker alone (no Ink) at max speed: simulated / host time', alone.ratio.toFixed(5)],
    ['TUI at max speed: frames per second', `${median(tuis.map((t) => t.fps)).toFixed(1)} (lowest ${Math.min(...tuis.map((t) => t.fps)).toFixed(1)})`],
    ['TUI at max speed: simulated / host time', median(tuis.map((t) => t.ratio)).toFixed(5)],
    ['TUI cost against headless at max speed (median of pairs)', `${pct(median(costs))} (pairs ${costs.map(pct).join(', ')})`],
    ['TUI at max speed: Ink output per frame / TUI thread busy', `${median(tuis.map((t) => t.inkMs)).toFixed(1)} ms / ${pct(median(tuis.map((t) => t.busy)))}`],
    [`TUI at ${SPEEDS_US[4]} us/frame (default): frames per second`, dflt.fps.toFixed(1)],
  ]);
}
