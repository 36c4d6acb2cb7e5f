// Semantic colours for the TUI, and monochrome when NO_COLOR is set (https://no-color.org):
// components ask for a role, never a colour name.

export type Role = 'title' | 'focus' | 'border' | 'ok' | 'warn' | 'bad' | 'dim' | 'accent' | 'badge';

const COLORS: Record<Role, string> = {
  title: 'cyan', focus: 'yellow', border: 'gray', ok: 'green', warn: 'yellow', bad: 'red', dim: 'gray', accent: 'magenta', badge: 'black',
};

export function noColor(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '';
}

/** The colour for a role, or undefined in monochrome. */
export function color(role: Role, mono: boolean): string | undefined {
  return mono ? undefined : COLORS[role];
}
