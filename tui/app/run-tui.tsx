// Start the TUI: the simulation in a worker thread, Ink on this one. Returns the exit code.

import React from 'react';
import { render } from 'ink';
import type { RunArgs } from '../run-command.js';
import { WorkerSim } from '../sim/client.js';
import { App } from './App.js';

/** How the TUI has Ink render (the TUI bench renders the same way). */
export const INK_OPTIONS = {
  exitOnCtrlC: false,
  // Only the lines that changed are written: a full 180x55 frame 30 times a second would keep
  // the terminal (and the machine's other core) busy redrawing what did not move.
  incrementalRendering: true,
  // The worker paces the snapshots (30 a second at most, each once the last was drawn). Ink's
  // own limit, at its default of 30, would drop every other one of them: it only guards
  // against bursts here (keys, resizes).
  maxFps: 60,
} as const;

export async function runTui(args: RunArgs): Promise<number> {
  const sim = new WorkerSim();
  let code = 0, message: string | undefined;
  const app = render(
    <App sim={sim} start={{ scenario: args.scenario, seed: args.seed, for: args.for, wire: args.wire, record: args.record }}
      onExit={(c, m) => { code = c; message = m; }} />,
    INK_OPTIONS,
  );
  await app.waitUntilExit();
  if (message !== undefined) process.stderr.write(`exolab: ${message}\n`);
  return code;
}
