// BlockRange: sectors [base, base + size) of the block device (range base = first sector,
// size = sectors). BLOCK_IO reads (READ) or writes (WRITE) inside it; the kernel moves the data
// by DMA straight into or out of the caller's own mapped pages: a secure binding of disk
// blocks in the spirit of Xok's XN, without a kernel buffer cache.

import { CAP, RIGHT } from '../abi.js';
import { isU32, type ObjectType } from './object.js';

export const BLOCK_RANGE_TYPE: ObjectType = {
  type: CAP.BLOCK_RANGE,
  validRights: RIGHT.READ | RIGHT.WRITE | RIGHT.GRANT,
  memory: false,
  rootRangeOk: (base, size) => isU32(base) && Number.isInteger(size) && size >= 1 && base + size <= 2 ** 32,
};
