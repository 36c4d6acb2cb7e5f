// The simulation's worker thread (DESIGN section 6): a frame every 1/30 s, a slice of simulated
// time per frame, a snapshot posted per frame at most, once the TUI has drawn the last. At max speed the frames follow each other
// with no gap: each runs slices for most of a frame's host time (SimDriver), and the next one
// starts as soon as the messages that came meanwhile (pause, a fault) have been handled.
// Host time paces the frames only; it never reaches the simulation.

import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { SimDriver } from './driver.js';
import type { ToSim } from './protocol.js';

export const FRAME_MS = 33;

if (parentPort !== null) {
  const port = parentPort;
  const driver = new SimDriver((m) => port.postMessage(m), { waitForDrawn: true });
  let quit = false;
  const tick = () => {
    if (quit) return;
    const t0 = performance.now();
    driver.frame();
    // setImmediate lets the port's messages in before the next frame (they are polled first).
    if (driver.flatOut) setImmediate(tick);
    else setTimeout(tick, Math.max(0, FRAME_MS - (performance.now() - t0)));
  };
  tick();
  port.on('message', (m: ToSim) => {
    driver.handle(m);
    if (m.type === 'quit') { quit = true; port.close(); }
  });
}
