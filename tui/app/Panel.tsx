import React from 'react';
import { Box, Text } from 'ink';
import { color } from './theme.js';

export interface PanelProps {
  n: number;
  title: string;
  width: number;
  height: number;
  focused: boolean;
  mono: boolean;
  /** Extra text right of the title (a count, a filter). */
  note?: string;
  children?: React.ReactNode;
}

/**
 * A bordered panel, "[n] Title", its border doubled and coloured when focused. Its content is
 * cut to fit by the panels themselves (Lines, the chart): Ink's clipping (overflow hidden)
 * would cut every line of every frame again, about a third of Ink's time per frame.
 */
export function Panel({ n, title, width, height, focused, mono, note, children }: PanelProps) {
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle={focused ? 'double' : 'single'}
      borderColor={color(focused ? 'focus' : 'border', mono)}>
      <Text wrap="truncate" bold={focused} color={color('title', mono)}>
        {`[${n}] ${title}`}{note ? <Text color={color('dim', mono)}>{`  ${note}`}</Text> : null}
      </Text>
      {children}
    </Box>
  );
}

/** A line cut to `width` columns, with an ellipsis where it was cut (a cut number must not pass for a whole one). */
export function fit(l: string, width: number): string {
  const w = Math.max(0, width);
  return l.length <= w ? l : w === 0 ? '' : `${l.slice(0, w - 1)}…`;
}

/** Lines of text cut to a panel's inner size: at most `rows` of them, each at most `width` columns. */
export function Lines({ lines, width, rows, mono, role }: { lines: string[]; width: number; rows: number; mono: boolean; role?: 'dim' | 'bad' | 'ok' }) {
  // One text node for the panel's lines (each cut to the width): a node per line costs Ink a
  // layout and a measure of its own, every frame.
  // A line is one row: a newline inside one would push the panel's bottom border down.
  const shown = lines.slice(0, Math.max(0, rows)).map((l) => fit(l.replace(/\n/g, ' '), width));
  return <Text wrap="truncate" color={role ? color(role, mono) : undefined}>{shown.join('\n')}</Text>;
}
