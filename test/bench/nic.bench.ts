// The NIC's device-side host cost, driven from TypeScript with no CPU in the loop: one queue,
// IOMMU translation on (a context entry and I/O page tables identity-mapping the rings and
// buffers), and a "driver" that only recycles descriptors in batches (a few typed-array
// writes per frame). Two paths: RX from a `gen:` wire, and TX -> loop -> RX.
// `node dist/test/bench/nic.bench.js [rx|loop] [frames]` runs it alone (for --cpu-prof);
// cpu.bench.ts imports nicHostCost(). Not a test: it measures host time.

import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MmioBus } from '../../machine/bus.js';
import type { DeviceHost } from '../../machine/device.js';
import { EventQueue } from '../../machine/events.js';
import { GCMD_TE, Iommu } from '../../machine/iommu.js';
import { PhysicalMemory } from '../../machine/memory.js';
import { CMD_EOP, CMD_RS, DESC_SIZE, Nic, NIC_QUEUE_BASE, Q_RXEN, Q_TXEN } from '../../machine/nic.js';
import { CFG_COMMAND, CMD_MASTER, CMD_MEMORY, PciBus } from '../../machine/pci.js';
import { Prng } from '../../machine/prng.js';
import { loadProfile } from '../../machine/profile.js';
import { genFrame, parseWire } from '../../machine/wire.js';

const PROFILE = loadProfile('default');
const RAM = 16 << 20;
// Physical layout (identity-mapped for the NIC's requester ID 00:02.0).
const CTX_TABLE = 0x10000, PD = 0x11000, PT = 0x12000;
const RXR = 0x100000, TXR = 0x110000, RXBUF = 0x200000, TXBUF = 0x400000;
const MAP_FROM = 0x100000, MAP_TO = 0x600000;
const RING = 256, BUF = 2048, FRAME = 64;
const NIC_RID = 2 << 3;
// Queue 0 registers.
const TXBASE = 0x00, TXSIZE = 0x04, TXHEAD = 0x08, TXTAIL = 0x0c, RXBASE = 0x10, RXSIZE = 0x14, RXHEAD = 0x18, RXTAIL = 0x1c, QCTRL = 0x20;
/** The driver looks at the rings once per this many cycles (10 us: ~40 frames at 4 Mpps). */
const STEP = 20000;

export type NicBenchMode = 'rx' | 'loop';

export interface NicHostCost {
  mode: NicBenchMode; frames: number; hostSeconds: number; usPerFrame: number;
  simulatedSeconds: number; events: number; iotlbHitRate: number;
  /** A digest of the run's observable results, for checking that an optimisation changed nothing. */
  fingerprint: string;
}

class BenchHost implements DeviceHost {
  t = 0;
  readonly events = new EventQueue();
  readonly rng = new Prng(1);
  dma!: DeviceHost['dma'];
  msis = 0;
  now(): number { return this.events.firing >= 0 ? this.events.firing : this.t; }
  msi(): void { this.msis++; }
}

/** Identity-map [MAP_FROM, MAP_TO) read/write in the domain's two-level I/O page table. */
function iommuIdentity(mem: PhysicalMemory, iommu: Iommu): void {
  for (let pa = MAP_FROM; pa < MAP_TO; pa += 4096) {
    const pdi = pa >>> 22, pt = PT + pdi * 4096;
    mem.write32(PD + pdi * 4, pt | 3);
    mem.write32(pt + ((pa >>> 12) & 0x3ff) * 4, pa | 3);
  }
  mem.write32(CTX_TABLE + NIC_RID * 8, PD | (1 << 8) | 1); // present, domain 1
  iommu.mmioWrite(0x020, 4, CTX_TABLE);                    // CTXPTR
  iommu.mmioWrite(0x018, 4, GCMD_TE);                      // translation on
}

/** Run `frames` 64-byte frames through queue 0 and time it. */
export function nicHostCost(mode: NicBenchMode, frames: number): NicHostCost {
  const h = new BenchHost();
  const mem = new PhysicalMemory(RAM);
  const pci = new PciBus(new MmioBus());
  const iommu = new Iommu(h, mem, PROFILE.iommu, (rid) => pci.functions[rid]?.busMaster === true);
  h.dma = iommu.dma;
  const spec = mode === 'rx' ? `gen:rate=4/us,size=${FRAME},flows=1,count=${frames}` : 'loop';
  const nic = new Nic(h, pci, PROFILE.nic, { queues: 1, wire: parseWire(spec, { clockHz: PROFILE.clockHz, rng: h.rng }) });
  nic.fn.mmioWrite(CFG_COMMAND, 2, CMD_MEMORY | CMD_MASTER);
  iommuIdentity(mem, iommu);
  const q = (off: number) => NIC_QUEUE_BASE + off;
  const wr = (off: number, v: number) => nic.mmioWrite(q(off), 4, v);
  const rd = (off: number) => nic.mmioRead(q(off), 4) >>> 0;
  const r32 = mem.ram32;
  const desc = (ring: number, slot: number, addr: number, len: number, cmd: number) => {
    const w = (ring + slot * DESC_SIZE) >>> 2;
    r32[w] = addr; r32[w + 1] = 0; r32[w + 2] = len | (cmd << 16); r32[w + 3] = 0;
  };
  wr(RXBASE, RXR); wr(RXSIZE, RING);
  for (let k = 0; k < RING; k++) desc(RXR, k, RXBUF + k * BUF, BUF, 0);
  let ctrl = Q_RXEN;
  if (mode === 'loop') {
    wr(TXBASE, TXR); wr(TXSIZE, RING);
    const f = genFrame(FRAME, 0, 0, 9000, new Prng(2));
    for (let k = 0; k < RING; k++) { mem.ram8.set(f, TXBUF + k * BUF); desc(TXR, k, TXBUF + k * BUF, FRAME, CMD_EOP | CMD_RS); }
    ctrl |= Q_TXEN;
  }
  wr(QCTRL, ctrl);
  wr(RXTAIL, RING - 1);
  let rxHead = 0, txHead = 0, txTail = 0, posted = 0, received = 0;
  const start = performance.now();
  while (received < frames) {
    if (mode === 'loop') {
      // Keep the TX ring full (one slot empty) until every frame has been posted.
      const head = rd(TXHEAD);
      for (; txHead !== head; txHead = (txHead + 1) & (RING - 1)) r32[((TXR + txHead * DESC_SIZE) >>> 2) + 2] = FRAME | ((CMD_EOP | CMD_RS) << 16);
      let tail = txTail;
      while (((tail + 1) & (RING - 1)) !== txHead && posted < frames) { tail = (tail + 1) & (RING - 1); posted++; }
      if (tail !== txTail) { txTail = tail; wr(TXTAIL, tail); }
    }
    h.t += STEP;
    h.events.runUntil(h.t);
    // Recycle what the device filled: length back to the buffer size, status cleared.
    const head = rd(RXHEAD);
    if (head === rxHead && h.events.size === 0) break; // nothing more will come
    for (; rxHead !== head; rxHead = (rxHead + 1) & (RING - 1)) { r32[((RXR + rxHead * DESC_SIZE) >>> 2) + 2] = BUF; received++; }
    wr(RXTAIL, (head - 1) & (RING - 1));
  }
  const hostSeconds = (performance.now() - start) / 1000;
  const i = nic.inspect(), io = iommu.inspect();
  let digest = 0;
  for (let a = RXBUF >>> 2; a < (RXBUF + RING * BUF) >>> 2; a++) digest = (Math.imul(digest, 31) + r32[a]) | 0;
  const fingerprint = [i.totals.received, i.totals.delivered, i.totals.dropped, i.totals.sent, h.events.fired, h.t,
    io.counters.iotlbHits, io.counters.iotlbMisses, io.counters.bytes, (digest >>> 0).toString(16), i.lastFault ?? '-'].join('/');
  return {
    mode, frames: received, hostSeconds, usPerFrame: hostSeconds * 1e6 / Math.max(1, received),
    simulatedSeconds: h.t / PROFILE.clockHz, events: h.events.fired,
    iotlbHitRate: io.counters.iotlbHits / Math.max(1, io.counters.iotlbHits + io.counters.iotlbMisses), fingerprint,
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const modes = (process.argv[2] ?? 'rx,loop').split(',') as NicBenchMode[];
  const frames = Number(process.argv[3] ?? 200000);
  for (const mode of modes) {
    nicHostCost(mode, 20000); // warm up the JIT
    const r = nicHostCost(mode, frames);
    console.log(`${mode}: ${r.frames} frames, ${r.usPerFrame.toFixed(3)} us/frame host, ${(r.frames / r.hostSeconds / 1e6).toFixed(3)} M frames/host s, ` +
      `${r.events} events, IOTLB hits ${(100 * r.iotlbHitRate).toFixed(1)}%, simulated ${(r.simulatedSeconds * 1e3).toFixed(3)} ms\n  fingerprint ${r.fingerprint}`);
  }
}
