// Charts drawn on blessed-contrib's braille canvas (drawille-canvas-blessed-contrib, the
// canvas its line chart uses) and rendered to plain lines of text that Ink lays out.

import { createRequire } from 'node:module';

interface Ctx {
  strokeStyle: string;
  beginPath(): void; moveTo(x: number, y: number): void; lineTo(x: number, y: number): void; stroke(): void;
  _canvas: { frame(delimiter?: string): string };
}
type ContextCtor = new (w: number, h: number) => Ctx;

let ctor: ContextCtor | null = null;

function contextClass(): ContextCtor {
  if (ctor === null) {
    // Resolved from blessed-contrib's own location: it is that package's canvas.
    const fromContrib = createRequire(createRequire(import.meta.url).resolve('blessed-contrib'));
    ctor = fromContrib('drawille-canvas-blessed-contrib') as ContextCtor;
  }
  return ctor;
}

const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * A line chart of `series` (each scaled to `max`) in cols x rows character cells; returns the
 * rows as strings of braille characters (colour codes removed: Ink colours the Text).
 */
export function brailleChart(series: number[][], max: number, cols: number, rows: number): string[] {
  const w = Math.max(2, cols * 2), h = Math.max(4, rows * 4);
  const ctx = new (contextClass())(w, h);
  const top = max > 0 ? max : 1;
  for (const s of series) {
    if (s.length === 0) continue;
    const pts = s.slice(-w);
    ctx.beginPath();
    pts.forEach((v, i) => {
      const x = pts.length === 1 ? 0 : Math.round((i * (w - 1)) / Math.max(1, w - 1));
      const y = Math.round((h - 1) - (Math.min(top, Math.max(0, v)) / top) * (h - 1));
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
  const lines = ctx._canvas.frame('\n').replace(ANSI, '').split('\n');
  return lines.slice(0, rows).map((l) => l.padEnd(cols).slice(0, cols));
}

/** A moving average over `n` samples: the utilisation samples are 0 or 1 each. */
export function smooth(s: number[], n: number): number[] {
  return s.map((_, i) => {
    const from = Math.max(0, i - n + 1);
    let t = 0;
    for (let k = from; k <= i; k++) t += s[k]!;
    return t / (i - from + 1);
  });
}
