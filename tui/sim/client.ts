// SimClients: the worker thread the TUI uses, and an in-thread one (tests, and whatever cannot
// start a worker) that runs frames when told to.

import { Worker } from 'node:worker_threads';
import { SimDriver } from './driver.js';
import type { FromSim, SimClient, ToSim } from './protocol.js';

type Listener = (m: FromSim) => void;

class Listeners {
  private readonly list = new Set<Listener>();
  add(cb: Listener): () => void { this.list.add(cb); return () => { this.list.delete(cb); }; }
  emit(m: FromSim): void { for (const cb of [...this.list]) cb(m); }
}

export class WorkerSim implements SimClient {
  private readonly worker: Worker;
  private readonly listeners = new Listeners();

  constructor() {
    this.worker = new Worker(new URL('./worker.js', import.meta.url));
    this.worker.on('message', (m: FromSim) => this.listeners.emit(m));
    this.worker.on('error', (e: Error) => this.listeners.emit({ type: 'error', message: e.message, input: false }));
  }

  onMessage(cb: Listener): () => void { return this.listeners.add(cb); }
  send(m: ToSim): void { this.worker.postMessage(m); }

  async close(): Promise<void> {
    const closed = new Promise<void>((res) => this.worker.once('exit', () => res()));
    this.worker.postMessage({ type: 'quit' } satisfies ToSim);
    const timer = setTimeout(() => void this.worker.terminate(), 1000);
    await closed;
    clearTimeout(timer);
  }
}

/** Runs in this thread; frame() advances it (tests drive it, never a clock). */
export class LocalSim implements SimClient {
  private readonly listeners = new Listeners();
  readonly sent: ToSim[] = [];
  private readonly driver = new SimDriver((m) => this.listeners.emit(m));

  onMessage(cb: Listener): () => void { return this.listeners.add(cb); }
  send(m: ToSim): void { this.sent.push(m); this.driver.handle(m); }
  frame(): void { this.driver.frame(); }
  async close(): Promise<void> { this.driver.handle({ type: 'quit' }); }
}
