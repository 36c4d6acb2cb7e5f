// Part of `npm run bench`: the exokernel's host costs. Revoking a capability with 1k, 10k and
// 100k descendants (host time per node should stay about constant: revocation is linear), and
// the exo-call round trip (int 0x80 -> native gate -> dispatch -> iret) from a ring-3 guest,
// host ns per call and simulated cycles per call. Not a test: it measures host time.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CAP, RIGHT } from '../../kernel/abi.js';
import { CapSystem } from '../../kernel/caps/cap-system.js';
import { parseScenario } from '../../kernel/scenario.js';
import { System } from '../../kernel/system.js';

/** Host nanoseconds per capability removed when revoking a tree of `n` descendants. */
export function revokeCost(n: number): { nsPerNode: number; removed: number } {
  const caps = new CapSystem();
  const spaces = Math.ceil(n / 60000) + 1;
  for (let k = 1; k <= spaces; k++) caps.createSpace(k, 1 << 16);
  const root = caps.createRoot(1, { type: CAP.UNTYPED, base: 0x100000, size: 1 << 20 }).value;
  // A bushy tree, eight children a node, spread over the spaces by grants.
  const nodes: [number, number][] = [[1, root]];
  const rights = RIGHT.READ | RIGHT.WRITE | RIGHT.GRANT | RIGHT.MAP;
  for (let k = 0; k < n; k++) {
    const [space, slot] = nodes[Math.floor(k / 8)]!;
    const to = 1 + (k % spaces);
    const r = caps.grant(space, slot, to, rights, 0);
    if (r.value < 0) throw new Error(`grant ${k}: ${r.value}`);
    nodes.push([to, r.value]);
  }
  const t0 = performance.now();
  const r = caps.revoke(1, root);
  const ns = (performance.now() - t0) * 1e6;
  return { nsPerNode: ns / Math.max(1, r.value), removed: r.value };
}

const LOOP_C = `#include "exo.h"
static int call(int n, int a) { int r; __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a) : "memory"); return r; }
void _start(void) {
  int bad = 0;
  for (int k = 0; k < CALLS; k++) if (call(EXO_CAP_INSPECT, 0) < 0) bad++;
  call(EXO_EXIT, bad);
  for (;;) ;
}
`;

/** The exo-call round trip from ring 3: `calls` CAP_INSPECTs in a loop. */
export function exoCallCost(root: string, calls: number): { nsPerCall: number; cyclesPerCall: number; ok: boolean } {
  const dir = join(root, 'build', 'bench');
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'exo-loop.c'), elf = join(dir, 'exo-loop.elf');
  writeFileSync(src, LOOP_C);
  const cc = spawnSync('gcc', ['-m32', '-ffreestanding', '-nostdlib', '-static', '-no-pie', '-fno-pic', '-O2', '-mgeneral-regs-only',
    '-fno-stack-protector', `-DCALLS=${calls}`, '-I', join(root, 'libos', 'include'), '-Wl,-Ttext-segment=0x1000000', '-Wl,--build-id=none',
    '-o', elf, src], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  const yaml = `name: exo-loop\nmachine: { cores: 1, ram: 32MiB }\nprincipals:\n  - { name: loop, image: ${elf}, memory: 2MiB }\nrun: { for: 1s }\n`;
  const sys = new System(parseScenario(yaml, join(dir, 'exo-loop.yaml'), dir));
  const t0 = performance.now();
  sys.runToEnd();
  const s = (performance.now() - t0) / 1e3;
  const m = sys.metrics() as { principals: { loop: { exit_status: number; state: string } }; run: { cycles: number } };
  const p = m.principals.loop;
  return { nsPerCall: (s * 1e9) / calls, cyclesPerCall: m.run.cycles / calls, ok: p.state === 'exited' && p.exit_status === 0 };
}
