// The labs of DESIGN section 7, in the lab table's order. Each is a module of its own here.

import type { Lab } from './lab.js';
import { capabilitiesLab } from './capabilities.js';
import { confusedDeputyLab } from './confused-deputy.js';
import { crossingsLab, echoLab } from './echo.js';
import { faultOverheadLab } from './fault-overhead.js';
import { irqSteeringLab } from './irq-steering.js';
import { posixReadLab } from './posix-read.js';
import { revocationLab } from './revocation.js';
import { riskLab } from './risk.js';
import { tcbLab } from './tcb.js';
import { zeroCopyLab } from './zero-copy.js';

export const LABS: Lab[] = [revocationLab, faultOverheadLab, irqSteeringLab, crossingsLab, zeroCopyLab, posixReadLab, echoLab, tcbLab, riskLab, confusedDeputyLab, capabilitiesLab];

export function findLab(name: string): Lab | undefined {
  return LABS.find((l) => l.name === name);
}
