// `exolab run SCENARIO`: load and check the scenario, then run it headless (no worker needed)
// or in the TUI. Headless: a progress bar on a TTY only, the summary, and the report, JUnit
// and trace files. Exit codes: 0 every expectation held, 1 one failed, 2 bad input.

import { loadScenario, type ScenarioOverrides } from '../kernel/scenario.js';
import { System } from '../kernel/system.js';
import { performance } from 'node:perf_hooks';
import { checkOutput, junitXml, reportJson, summaryLines, writeOutput } from './report-files.js';
import { simTime } from './app/format.js';

export interface RunArgs extends ScenarioOverrides {
  scenario: string;
  headless?: boolean;
  report?: string;
  junit?: string;
  trace?: string;
  /** Why the TUI was not started, said once before a headless run ('' to say nothing). */
  notice?: string;
}

export const EXIT_OK = 0;
export const EXIT_EXPECTATION = 1;

/** Everything a run needs, checked before the first cycle. */
function prepare(args: RunArgs) {
  for (const flag of ['report', 'junit', 'trace'] as const) {
    const p = args[flag];
    if (p !== undefined) checkOutput(flag, p);
  }
  return loadScenario(args.scenario, { seed: args.seed, for: args.for, wire: args.wire, record: args.record });
}

export function runHeadless(args: RunArgs): number {
  const scenario = prepare(args);
  const system = new System(scenario);
  const tty = process.stderr.isTTY === true;
  if (args.notice) process.stderr.write(`exolab: ${args.notice}\n`);
  let lastPct = -1;
  const t0 = performance.now(); // the progress line's speed only: host time never reaches the simulation
  system.runToEnd(undefined, tty ? (now, end) => {
    const pct = Math.min(100, Math.floor((now / end) * 100));
    if (pct === lastPct) return;
    lastPct = pct;
    const width = 30, filled = Math.round((pct / 100) * width);
    const secs = (performance.now() - t0) / 1000, mips = secs > 0 ? system.machine.instructions() / secs / 1e6 : 0;
    const hz = system.machine.config.clockHz;
    process.stderr.write(`\r${scenario.name} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(pct).padStart(3)}%  ${simTime(now, hz)} / ${simTime(end, hz)}  ${mips.toFixed(1)} MIPS\x1b[K`);
  } : undefined);
  if (tty) process.stderr.write('\r\x1b[2K');
  system.close();
  const report = system.report();
  if (args.report !== undefined) writeOutput('report', args.report, reportJson(report));
  if (args.junit !== undefined) writeOutput('junit', args.junit, junitXml(report));
  if (args.trace !== undefined) writeOutput('trace', args.trace, JSON.stringify(system.trace()) + '\n');
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  process.stdout.write(summaryLines(report, color).join('\n') + '\n');
  return report.passed ? EXIT_OK : EXIT_EXPECTATION;
}

/** The TUI when there is a terminal; otherwise say so and run headless. */
export async function runCommand(args: RunArgs): Promise<number> {
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (args.headless || !interactive) {
    return runHeadless({ ...args, notice: args.headless ? '' : args.notice ?? 'no terminal (stdin or stdout is not a TTY): running headless' });
  }
  prepare(args); // bad input is reported before the screen is taken over
  // Ink draws only the last frame, at exit, when CI or CONTINUOUS_INTEGRATION is set (it reads
  // them once, when it is first imported). Here there is a terminal on both ends and the user
  // asked for the live screen, so the variables are cleared before Ink is loaded.
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  // React's production build unless asked otherwise: its development build's checks cost the
  // TUI's thread about a third of its time per frame.
  process.env.NODE_ENV ??= 'production';
  const { runTui } = await import('./app/run-tui.js');
  return runTui(args);
}
