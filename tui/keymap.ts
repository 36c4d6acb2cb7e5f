// The TUI's keys: ONE table drives both dispatch (keyAction) and the `?` overlay, so the help
// can never disagree with what a key does. Ink cannot tell F-keys apart, so none is used.

import type { Key } from 'ink';

export type Action =
  | { type: 'quit' } | { type: 'help' } | { type: 'pause' } | { type: 'step' }
  | { type: 'faster' } | { type: 'slower' } | { type: 'focus-next' } | { type: 'focus-prev' }
  | { type: 'filter' } | { type: 'faults' } | { type: 'labs' } | { type: 'back' } | { type: 'jump'; panel: number };

/** Where a binding applies: the main screen, or always (also over an overlay). */
export type When = 'main' | 'always';

export interface Binding {
  /** As shown in the help overlay. */
  keys: string;
  description: string;
  when: When;
  /** Changes the simulated system (the help marks it). */
  dangerous?: boolean;
  match(input: string, key: Key): boolean;
  action(input: string): Action;
}

const ch = (c: string) => (input: string, key: Key) => input === c && !key.ctrl && !key.meta;

export const KEYMAP: readonly Binding[] = [
  { keys: 'q', description: 'quit', when: 'main', match: ch('q'), action: () => ({ type: 'quit' }) },
  { keys: 'Ctrl-C', description: 'quit (anywhere)', when: 'always', match: (i, k) => k.ctrl && i === 'c', action: () => ({ type: 'quit' }) },
  { keys: '?', description: 'this help', when: 'main', match: ch('?'), action: () => ({ type: 'help' }) },
  { keys: 'Esc', description: 'close the overlay or clear the filter', when: 'always', match: (_i, k) => k.escape, action: () => ({ type: 'back' }) },
  { keys: 'p', description: 'pause or resume the simulation', when: 'main', match: ch('p'), action: () => ({ type: 'pause' }) },
  { keys: 's', description: 'step one slice (pauses first)', when: 'main', match: ch('s'), action: () => ({ type: 'step' }) },
  { keys: '+', description: 'faster: more simulated time per frame', when: 'main', match: (i) => i === '+' || i === '=', action: () => ({ type: 'faster' }) },
  { keys: '-', description: 'slower', when: 'main', match: ch('-'), action: () => ({ type: 'slower' }) },
  { keys: 'Tab', description: 'focus the next panel', when: 'main', match: (_i, k) => k.tab && !k.shift, action: () => ({ type: 'focus-next' }) },
  { keys: 'Shift-Tab', description: 'focus the previous panel', when: 'main', match: (_i, k) => k.tab && k.shift, action: () => ({ type: 'focus-prev' }) },
  { keys: '1-7', description: 'jump to a panel by its number', when: 'main', match: (i) => /^[1-7]$/.test(i), action: (i) => ({ type: 'jump', panel: Number(i) - 1 }) },
  { keys: '/', description: 'filter the event log and the capability panel', when: 'main', match: ch('/'), action: () => ({ type: 'filter' }) },
  { keys: 'f', description: 'fault menu: inject a fault from the catalogue', when: 'main', dangerous: true, match: ch('f'), action: () => ({ type: 'faults' }) },
  { keys: 'L', description: 'labs: run one (the chapter\'s figure beside the measured one)', when: 'main', match: ch('L'), action: () => ({ type: 'labs' }) },
];

/** The action for a key press, or null. `overlay` limits the keys to those that work over one. */
export function keyAction(input: string, key: Key, overlay: boolean): Action | null {
  for (const b of KEYMAP) {
    if (overlay && b.when !== 'always') continue;
    if (b.match(input, key)) return b.action(input);
  }
  return null;
}

/**
 * Speeds the + and - keys step through: simulated microseconds per frame, and last, 0: as fast
 * as the host goes (slices back to back, a snapshot a frame). Host time then sets how much is
 * simulated between two snapshots, never what is simulated: the run is the same run.
 */
export const SPEEDS_US = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 0] as const;
export const SPEED_MAX = 0;
/** The speed as the title bar shows it. */
export function speedText(us: number): string {
  return us === SPEED_MAX ? 'max speed' : `${us} us/frame`;
}
export const DEFAULT_SPEED = 4; // 20 us per frame
