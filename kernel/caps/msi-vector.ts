// MsiVector: one interrupt vector an MSI-X message can raise (range base = vector). Binding it
// (MAP) routes the interrupt to the principal in one of three modes (DESIGN section 3).

import { CAP, IRQ_MODE, RIGHT } from '../abi.js';
import type { ObjectType } from './object.js';

export const MSI_VECTOR_TYPE: ObjectType = {
  type: CAP.MSI_VECTOR,
  validRights: RIGHT.READ | RIGHT.MAP | RIGHT.GRANT,
  memory: false,
  rootRangeOk: (base, size) => Number.isInteger(base) && base >= 32 && base < 256 && size === 1,
};

const MODES: readonly number[] = Object.values(IRQ_MODE);

export function irqModeOk(mode: number): boolean {
  return MODES.includes(mode);
}
