// Overlays over the panels: the help (drawn from the keymap table itself) and the fault menu
// (drawn from the fault catalogue).

import React from 'react';
import { Box, Text } from 'ink';
import { KEYMAP } from '../keymap.js';
import { FAULTS, type FaultKind } from '../../kernel/faults.js';
import type { SystemSnapshot } from '../../kernel/system.js';
import { LABS } from '../../apps/labs/index.js';
import { color } from './theme.js';

const HELP_MENU_LINE = 'In the fault menu: up/down or a fault\'s key choose, left/right the target, Enter or the key again injects.';

export function HelpOverlay({ width, mono }: { width: number; mono: boolean }) {
  const w = Math.max(...KEYMAP.map((b) => b.keys.length));
  // As wide as its longest line (borders and padding: 4 more), cut only by the screen.
  const lines = [...KEYMAP.map((b) => `${b.keys.padEnd(w + 2)}${b.description}${b.dangerous ? ' (changes the system)' : ''}`), HELP_MENU_LINE];
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color('focus', mono)} width={Math.min(width, Math.max(...lines.map((l) => l.length)) + 4)} paddingX={1}>
      <Text bold color={color('title', mono)}>Keys</Text>
      {KEYMAP.map((b) => (
        <Text key={b.keys} wrap="truncate">
          <Text bold>{b.keys.padEnd(w + 2)}</Text>{b.description}{b.dangerous ? <Text color={color('warn', mono)}> (changes the system)</Text> : null}
        </Text>
      ))}
      <Text color={color('dim', mono)} wrap="truncate">{HELP_MENU_LINE}</Text>
      <Text color={color('dim', mono)}>Esc or ? closes this help.</Text>
    </Box>
  );
}

/** The targets a fault can be given, from what the snapshot shows. */
export function faultTargets(f: FaultKind, s: SystemSnapshot | null): (string | number)[] {
  if (s === null) return [];
  switch (f.target) {
    case 'principal': return s.principals.map((p) => p.name);
    case 'core': return s.cores.map((c) => c.id);
    case 'queue': return s.nic?.queues.map((q) => q.q) ?? [];
    case 'vector': return s.nic ? s.nic.queues.map((q) => q.q).concat([s.nic.queues.length]) : [];
    default: return [];
  }
}

/** The fault menu's width at most (the event log takes the rest of a wide screen). */
export const FAULT_MENU_WIDTH = 78;

export function FaultMenu({ index, targetIndex, snapshot, width, mono, last }: {
  index: number; targetIndex: number; snapshot: SystemSnapshot | null; width: number; mono: boolean; last: string | null;
}) {
  const sel = FAULTS[index]!;
  const targets = faultTargets(sel, snapshot);
  const target = targets.length ? targets[targetIndex % targets.length] : undefined;
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color('warn', mono)} width={Math.min(width, FAULT_MENU_WIDTH)} paddingX={1} flexShrink={0}>
      <Text bold color={color('title', mono)}>Inject a fault</Text>
      {FAULTS.map((f, i) => (
        <Text key={f.kind} wrap="truncate" inverse={i === index}>
          {`${i === index ? '>' : ' '} ${f.key}  ${f.title.padEnd(28)} ${f.layer === 'kernel' && !snapshot?.kernel ? '(needs the kernel)' : ''}`}
        </Text>
      ))}
      <Text wrap="wrap" color={color('dim', mono)}>{sel.description}</Text>
      <Text>{`target: ${target === undefined ? (sel.target === 'none' ? '-' : `none available (${sel.target})`) : `${sel.target} ${target}`}`}</Text>
      {last ? <Text color={color('accent', mono)} wrap="truncate">{last}</Text> : null}
      <Text color={color('dim', mono)}>up/down or its key: choose   left/right: target   Esc: close</Text>
      <Text color={color('dim', mono)}>Enter or the key again: inject</Text>
    </Box>
  );
}

/** The Labs view: the lab table, the one chosen, and its figures once it has run. */
export function LabsOverlay({ index, running, result, width, mono }: {
  index: number; running: string | null; result: { name: string; lines: string[] } | null; width: number; mono: boolean;
}) {
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color('focus', mono)} width={Math.min(width, 110)} paddingX={1}>
      <Text bold color={color('title', mono)}>Labs: the chapter's figures, measured here</Text>
      {LABS.map((l, k) => (
        <Text key={l.name} wrap="truncate" inverse={k === index % LABS.length}>{`${l.name.padEnd(16)} ${l.chapter}`}</Text>
      ))}
      {running !== null ? <Text color={color('warn', mono)}>{`running ${running} ... (the demo waits)`}</Text> : null}
      {result !== null ? result.lines.map((line, k) => <Text key={k} wrap="truncate">{line}</Text>) : null}
      <Text color={color('dim', mono)}>up/down: choose   Enter: run with the chapter's parameters   Esc: close</Text>
    </Box>
  );
}
