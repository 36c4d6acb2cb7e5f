// DmaDomain: an IOMMU domain (range base = domain id). With MAP its holder maps Frames that
// carry DMA into it; devices whose context points at the domain then reach only those frames.

import { CAP, RIGHT } from '../abi.js';
import { isU32, type ObjectType } from './object.js';

export const DMA_DOMAIN_TYPE: ObjectType = {
  type: CAP.DMA_DOMAIN,
  validRights: RIGHT.MAP | RIGHT.DMA | RIGHT.GRANT,
  memory: false,
  rootRangeOk: (base, size) => isU32(base) && base < 256 && size === 1,
};

/** What a device may do to a frame mapped into a domain. */
export const DMA_PERMS = RIGHT.READ | RIGHT.WRITE;
