// The simulation's worker thread (DESIGN section 6): a frame every 1/30 s, a slice of simulated
// time per frame, a snapshot posted per frame at most. Host time paces the frames only; it
// never reaches the simulation.

import { parentPort } from 'node:worker_threads';
import { SimDriver } from './driver.js';
import type { ToSim } from './protocol.js';

export const FRAME_MS = 33;

if (parentPort !== null) {
  const port = parentPort;
  const driver = new SimDriver((m) => port.postMessage(m));
  const timer = setInterval(() => driver.frame(), FRAME_MS);
  port.on('message', (m: ToSim) => {
    driver.handle(m);
    if (m.type === 'quit') { clearInterval(timer); port.close(); }
  });
}
