// The labs of DESIGN section 7, in the lab table's order. Each is a module of its own here.

import type { Lab } from './lab.js';
import { faultOverheadLab } from './fault-overhead.js';
import { irqSteeringLab } from './irq-steering.js';
import { revocationLab } from './revocation.js';

export const LABS: Lab[] = [revocationLab, faultOverheadLab, irqSteeringLab];

export function findLab(name: string): Lab | undefined {
  return LABS.find((l) => l.name === name);
}
