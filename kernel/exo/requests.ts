// Requests, for what a placement costs per request (DESIGN section 7, the echo and crossings
// labs). A principal's request is a UDP/IPv4 datagram the NIC delivered into the ring of a
// queue it holds: the NIC tells the kernel of each frame it delivers (Nic.onRxDelivered) and
// the kernel reads the frame's own EtherType (0x0800) and IP protocol (17). ARP, ICMP and
// other frames are not requests; a UDP frame the LibOS then finds malformed is one (it is
// dropped without costing a crossing in any placement). Counted from the wire, not from what
// a guest says it served, so no placement can report itself cheaper than it is.
//
// Crossings per request is the steady state: at each request's arrival the owner's crossing
// count is sampled (partitions: its cores' CPU counters; ring-3 principals: the kernel's
// entries and exits), and the figure is the crossings between the second arrival and the
// last over the requests served in between (each interval holds one request's service when
// the traffic is paced). The first request is outside: the wire starts when the LibOS first
// posts receive buffers, so it arrives while the LibOS is still starting. Start-up (bring-up,
// console lines) and shut-down (idle timeouts, counters, exit) fall outside too; the whole
// run's `crossings` are beside it in the report. With fewer than three requests the figure is
// the whole run's crossings over the requests (0 with none). Cycles per request (app, LibOS,
// kernel, idle: kernel/exo/cycles.ts) are taken over the same window.

import { CAP } from '../abi.js';
import { cyclesFoldAll, cyclesMetrics } from './cycles.js';
import type { Exokernel } from './kernel.js';
import { partitionCrossings } from './partition.js';
import type { Principal } from './principal.js';
import { CycleSplit } from './stats.js';

const ETH_P_IP = 0x0800, IPPROTO_UDP = 17;

/** Privilege crossings of `p` so far, counted where they can be seen (see the top of the file). */
export function crossingsOf(p: Principal): number {
  return p.partition !== null ? partitionCrossings(p) : p.stats.crossings;
}

/** True if the first `len` bytes of `f` are an Ethernet frame carrying UDP over IPv4. */
function isUdp(f: Uint8Array, len: number): boolean {
  return len >= 34 && ((f[12]! << 8) | f[13]!) === ETH_P_IP && f[23] === IPPROTO_UDP;
}

/** Count requests from now on: each queue's holder by the boot capabilities (DeviceQueue). */
export function requestsWatch(k: Exokernel): void {
  const nic = k.machine.nic;
  if (nic === null) return;
  const owner = new Map<number, Principal>();
  for (const p of k.principals) {
    const space = k.calls.caps.space(p.id);
    if (space === undefined) continue;
    for (const c of space.caps()) if (c.object.type === CAP.DEVICE_QUEUE && !owner.has(c.object.base & 0xffff)) owner.set(c.object.base & 0xffff, p);
  }
  nic.onRxDelivered = (q, frame, len) => {
    const p = owner.get(q);
    if (p === undefined || !p.alive || !isUdp(frame, len)) return;
    const s = p.stats, now = crossingsOf(p);
    s.requests++;
    if (s.requests === 2) s.crossingsAtSecondRequest = now;
    s.crossingsAtLastRequest = now;
    cyclesFoldAll(k);
    if (s.requests === 2) s.cyclesAtSecondRequest.copyFrom(s.cycles);
    s.cyclesAtLastRequest.copyFrom(s.cycles);
  };
}

/** The steady-state crossings per request (see the top of the file). */
export function crossingsPerRequest(p: Principal): number {
  const s = p.stats;
  const perRequest = s.requests < 3 ? (s.requests === 0 ? 0 : crossingsOf(p) / s.requests)
    : (s.crossingsAtLastRequest - s.crossingsAtSecondRequest) / (s.requests - 2);
  return Math.round(perRequest * 1e6) / 1e6;
}

/** The steady-state cycles per request in app, LibOS, kernel and idle (the window above); fold first. */
export function cyclesPerRequest(p: Principal): Record<string, number> {
  const s = p.stats;
  if (s.requests < 3) return cyclesMetrics(s.cycles, s.requests);
  const a = s.cyclesAtLastRequest, b = s.cyclesAtSecondRequest, d = new CycleSplit();
  d.app = a.app - b.app; d.libos = a.libos - b.libos; d.kernel = a.kernel - b.kernel; d.idle = a.idle - b.idle;
  return cyclesMetrics(d, s.requests - 2);
}
