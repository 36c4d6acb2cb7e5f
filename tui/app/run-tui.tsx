// Start the TUI: the simulation in a worker thread, Ink on this one. Returns the exit code.

import React from 'react';
import { render } from 'ink';
import type { RunArgs } from '../run-command.js';
import { WorkerSim } from '../sim/client.js';
import { App } from './App.js';

export async function runTui(args: RunArgs): Promise<number> {
  const sim = new WorkerSim();
  let code = 0, message: string | undefined;
  const app = render(
    <App sim={sim} start={{ scenario: args.scenario, seed: args.seed, for: args.for, wire: args.wire, record: args.record }}
      onExit={(c, m) => { code = c; message = m; }} />,
    // Only the lines that changed are written: a full 180x55 frame 30 times a second would keep
    // the terminal (and the machine's other core) busy redrawing what did not move.
    { exitOnCtrlC: false, incrementalRendering: true },
  );
  await app.waitUntilExit();
  if (message !== undefined) process.stderr.write(`exolab: ${message}\n`);
  return code;
}
