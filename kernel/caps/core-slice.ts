// CoreSlice: the right to be scheduled on one core (range base = the core). The round-robin
// scheduler of DESIGN section 3 runs only principals holding a live slice for that core;
// EXECUTE is what it checks, GRANT lets the holder give (donate) it on.

import { CAP, RIGHT } from '../abi.js';
import type { ObjectType } from './object.js';

export const CORE_SLICE_TYPE: ObjectType = {
  type: CAP.CORE_SLICE,
  validRights: RIGHT.READ | RIGHT.EXECUTE | RIGHT.GRANT,
  memory: false,
  rootRangeOk: (base, size) => Number.isInteger(base) && base >= 0 && base < 256 && size === 1,
};
