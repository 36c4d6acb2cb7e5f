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

/** A bordered panel, "[n] Title", its border doubled and coloured when focused. */
export function Panel({ n, title, width, height, focused, mono, note, children }: PanelProps) {
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle={focused ? 'double' : 'single'}
      borderColor={color(focused ? 'focus' : 'border', mono)} overflow="hidden">
      <Text wrap="truncate" bold={focused} color={color('title', mono)}>
        {`[${n}] ${title}`}{note ? <Text color={color('dim', mono)}>{`  ${note}`}</Text> : null}
      </Text>
      {children}
    </Box>
  );
}

/** Lines of text, cut to the panel's inner size. */
/** A line cut to `width` columns, with an ellipsis where it was cut (a cut number must not pass for a whole one). */
export function fit(l: string, width: number): string {
  const w = Math.max(0, width);
  return l.length <= w ? l : w === 0 ? '' : `${l.slice(0, w - 1)}…`;
}

export function Lines({ lines, width, rows, mono, role }: { lines: string[]; width: number; rows: number; mono: boolean; role?: 'dim' | 'bad' | 'ok' }) {
  // One text node for the panel's lines (each cut to the width): a node per line costs Ink a
  // layout and a measure of its own, every frame.
  const shown = lines.slice(0, Math.max(0, rows)).map((l) => fit(l, width));
  return <Text wrap="truncate" color={role ? color(role, mono) : undefined}>{shown.join('\n')}</Text>;
}
