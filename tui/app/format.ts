// Small formatting helpers shared by the panels.

export function hex(n: number, width = 8): string {
  return (n >>> 0).toString(16).padStart(width, '0');
}

/** Simulated time in the best unit: 950 ns, 12.5 us, 4.52 ms, 1.2 s. */
export function simTime(cycles: number, clockHz: number): string {
  const s = cycles / clockHz;
  if (s < 1e-6) return `${(s * 1e9).toFixed(0)} ns`;
  if (s < 1e-3) return `${(s * 1e6).toFixed(1)} us`;
  if (s < 1) return `${(s * 1e3).toFixed(2)} ms`;
  return `${s.toFixed(3)} s`;
}

/** A count in at most 6 characters: 999, 12.3k, 4.5M. */
export function count(n: number): string {
  if (n < 10000) return String(Math.round(n));
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)}M`;
  return `${(n / 1e9).toFixed(1)}G`;
}

/** A horizontal bar of `width` cells for a fraction (ASCII when mono, so it reads without colour). */
export function bar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return '#'.repeat(full) + '.'.repeat(Math.max(0, width - full));
}

export function pad(s: string, w: number): string {
  return s.length >= w ? s.slice(0, w) : s + ' '.repeat(w - s.length);
}

export function lpad(s: string, w: number): string {
  return s.length >= w ? s.slice(0, w) : ' '.repeat(w - s.length) + s;
}
