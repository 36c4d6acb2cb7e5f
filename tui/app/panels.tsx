// The panels of DESIGN section 6, each a function of a snapshot: cores, NIC rings, IOMMU,
// charts, capabilities, event log and console. They only read; nothing here changes the system.

import React from 'react';
import { Text } from 'ink';
import type { CapNode, SystemSnapshot } from '../../kernel/system.js';
import { Lines, Panel } from './Panel.js';
import { brailleChart, smooth } from './braille.js';
import { bar, count, hex, lpad, pad, simTime } from './format.js';
import { color } from './theme.js';

export interface PanelFrame { width: number; height: number; focused: boolean; mono: boolean }

export const PANEL_TITLES = ['Cores', 'NIC rings', 'IOMMU', 'Charts', 'Capabilities', 'Event log', 'Console'] as const;

const inner = (f: PanelFrame) => ({ w: Math.max(0, f.width - 2), h: Math.max(0, f.height - 3) });

export function coreLines(s: SystemSnapshot): string[] {
  const upcallNames = [...new Set(s.cores.flatMap((c) => Object.keys(c.upcalls)))].sort();
  const pw = Math.max(11, ...s.cores.map((c) => (c.principal ?? '').length + 1)); // "pager (killed)" too
  const head = `${pad('core', 5)}${pad('principal', pw)}${pad('state', 9)}CPL ${pad('EIP', 9)}${pad('util', 12)}${lpad('irq', 7)}${lpad('IPI s/r', 12)}${lpad('exc', 6)}${lpad('cross', 7)}  instruction`;
  const rows = s.cores.map((c) => {
    const state = c.waitingOn ? 'waiting' : c.state;
    const ipi = `${count(c.ipisSent)}/${count(c.ipisReceived)}`;
    const util = `${bar(c.utilisation, 6)} ${lpad((c.utilisation * 100).toFixed(0), 3)}%`;
    let line = `${pad(String(c.id), 5)}${pad(c.principal, pw)}${pad(state, 9)}${pad(String(c.cpl), 4)}${pad(hex(c.eip), 9)}${pad(util, 12)}${lpad(count(c.interrupts), 7)}${lpad(ipi, 12)}${lpad(count(c.exceptions), 6)}${lpad(count(c.crossings), 7)}  ${c.insn}`;
    if (upcallNames.length > 0) line += '  upcalls ' + upcallNames.map((u) => `${u}:${count(c.upcalls[u] ?? 0)}`).join(' ');
    if (c.waitingOn) line += `  in kernel, waiting on ${c.waitingOn}`;
    return line;
  });
  return [head, ...rows];
}

export function CoresPanel({ s, ...f }: { s: SystemSnapshot } & PanelFrame) {
  const { w, h } = inner(f);
  return <Panel n={1} title="Cores" note={`${s.cores.length} cores`} {...f}><Lines lines={coreLines(s)} width={w} rows={h} mono={f.mono} /></Panel>;
}

export function nicLines(s: SystemSnapshot): string[] {
  if (s.nic === null) return ['no NIC in this scenario'];
  const n = s.nic;
  const head = `${pad('q', 3)}${pad('TX ring', 14)}${pad('RX ring', 14)}${lpad('TX/s', 8)}${lpad('RX/s', 8)}${lpad('drops', 7)}  fence`;
  const ring = (occ: number, size: number) => (size === 0 ? pad('off', 14) : pad(`${bar(size ? occ / size : 0, 6)} ${occ}/${size}`, 14));
  const rows = n.queues.map((q) => `${pad(String(q.q), 3)}${ring(q.tx.occupancy, q.tx.size)}${ring(q.rx.occupancy, q.rx.size)}${lpad(count(q.tx.rate), 8)}${lpad(count(q.rx.rate), 8)}${lpad(count(q.drops), 7)}  ${q.fence}`);
  return [`link ${n.link ? 'up' : 'down'}  received ${count(n.received)}  delivered ${count(n.delivered)}  dropped ${count(n.dropped)}  sent ${count(n.sent)}`, head, ...rows];
}

export function NicPanel({ s, ...f }: { s: SystemSnapshot } & PanelFrame) {
  const { w, h } = inner(f);
  return <Panel n={2} title="NIC rings" {...f}><Lines lines={nicLines(s)} width={w} rows={h} mono={f.mono} /></Panel>;
}

export function iommuLines(s: SystemSnapshot): string[] {
  const io = s.iommu;
  const out = [`translation ${io.enabled ? 'on' : 'off'}  domains ${io.domains.length}  faults ${io.faultCount}${io.passThrough.length ? `  PASS-THROUGH rid ${io.passThrough.join(',')}` : ''}`];
  for (const d of io.domains) out.push(`domain ${d.id}: requesters ${d.requesters.join(',')}  ${d.mappings} mapping(s)${d.passThrough ? '  pass-through' : ''}`);
  for (const f of io.faults.slice(-4)) out.push(`fault at ${simTime(f.at, s.clockHz)}: rid ${f.rid} iova 0x${hex(f.iova)} ${f.reason}`);
  return out;
}

export function IommuPanel({ s, ...f }: { s: SystemSnapshot } & PanelFrame) {
  const { w, h } = inner(f);
  return <Panel n={3} title="IOMMU" {...f}><Lines lines={iommuLines(s)} width={w} rows={h} mono={f.mono} /></Panel>;
}

export function ChartsPanel({ s, ...f }: { s: SystemSnapshot } & PanelFrame) {
  const { w, h } = inner(f);
  const rows = Math.max(1, h - 1);
  const busy = s.history.utilisation.length === 0 ? [] : s.history.utilisation[0]!.map((_, i) => s.history.utilisation.reduce((t, c) => t + (c[i] ?? 0), 0));
  const series = [smooth(busy, 8)];
  const chart = brailleChart(series, s.cores.length, Math.max(2, w), rows);
  const rx = s.history.rxRate.at(-1) ?? 0;
  return (
    <Panel n={4} title="Charts" note={`busy cores (0-${s.cores.length}) over the last ${busy.length} slices`} {...f}>
      {chart.map((l, i) => <Text key={i} color={color('accent', f.mono)}>{l}</Text>)}
      <Text wrap="truncate" color={color('dim', f.mono)}>{`NIC RX ${count(rx)}/s  TX ${count(s.history.txRate.at(-1) ?? 0)}/s`}</Text>
    </Panel>
  );
}

/**
 * The capability trees, a principal at a time. With a filter only the principals whose name
 * holds it (or, failing that, the lines that do) are shown. Capabilities that are new since
 * `seen` (the ids of the previous frame) are marked `+`.
 */
export function capLines(s: SystemSnapshot, filter = '', seen: ReadonlySet<number> | null = null): string[] {
  if (!s.kernel) return ['no exokernel in this run (a bare image): no capabilities'];
  const f = filter.toLowerCase();
  const byName = f === '' ? s.caps : s.caps.filter((p) => p.principal.toLowerCase().includes(f));
  const out: string[] = [];
  const walk = (n: CapNode, depth: number) => {
    const mark = seen !== null && !seen.has(n.id) ? '+' : ' ';
    out.push(`${mark}${'  '.repeat(depth)}${depth > 0 ? '└ ' : ''}#${n.id} ${n.type} ${n.rights}${n.label ? ` ${n.label}` : ''}`);
    for (const c of n.children) walk(c, depth + 1);
  };
  for (const p of byName.length > 0 || f === '' ? byName : s.caps) {
    out.push(`${p.principal}:`);
    if (p.tree.length === 0) out.push('   (none)');
    for (const root of p.tree) walk(root, 1);
  }
  const lines = byName.length === 0 && f !== '' ? out.filter((l) => l.toLowerCase().includes(f)) : out;
  return lines.length ? lines : [f ? `no capability matches "${filter}"` : 'no principals'];
}

/** The ids of every capability in a snapshot (for the `+` marks of the next frame). */
export function capIds(s: SystemSnapshot): Set<number> {
  const ids = new Set<number>();
  const walk = (n: CapNode) => { ids.add(n.id); n.children.forEach(walk); };
  for (const p of s.caps) p.tree.forEach(walk);
  return ids;
}

export function CapsPanel({ s, filter = '', seen = null, ...f }: { s: SystemSnapshot; filter?: string; seen?: ReadonlySet<number> | null } & PanelFrame) {
  const { w, h } = inner(f);
  return (
    <Panel n={5} title="Capabilities" note={filter ? `filter: ${filter}` : undefined} {...f}>
      <Lines lines={capLines(s, filter, seen)} width={w} rows={h} mono={f.mono} />
    </Panel>
  );
}

export function eventLines(s: SystemSnapshot, filter: string): string[] {
  const f = filter.toLowerCase();
  return s.events
    .filter((e) => f === '' || `${e.kind} ${e.text}`.toLowerCase().includes(f))
    .map((e) => `${lpad(simTime(e.at, s.clockHz), 9)} ${e.core === null ? '  ' : `c${e.core}`} ${pad(e.kind, 9)} ${e.text}`);
}

export function EventLogPanel({ s, filter, ...f }: { s: SystemSnapshot; filter: string } & PanelFrame) {
  const { w, h } = inner(f);
  const lines = eventLines(s, filter);
  return (
    <Panel n={6} title="Event log" note={filter ? `filter: ${filter}` : `${lines.length} events`} {...f}>
      <Lines lines={lines.slice(-h)} width={w} rows={h} mono={f.mono} />
    </Panel>
  );
}

export function ConsolePanel({ s, ...f }: { s: SystemSnapshot } & PanelFrame) {
  const { w, h } = inner(f);
  const lines = s.console.replace(/[^\n\x20-\x7e]/g, '.').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return <Panel n={7} title="Console" {...f}><Lines lines={lines.slice(-h)} width={w} rows={h} mono={f.mono} /></Panel>;
}
