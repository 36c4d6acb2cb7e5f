// The labs of DESIGN section 7, in the lab table's order. Each is a module of its own here.

import type { Lab } from './lab.js';
import { revocationLab } from './revocation.js';

export const LABS: Lab[] = [revocationLab];

export function findLab(name: string): Lab | undefined {
  return LABS.find((l) => l.name === name);
}
