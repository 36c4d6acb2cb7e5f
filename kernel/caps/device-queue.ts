// DeviceQueue: one queue of a multi-queue NIC (range base = device << 16 | queue). Binding it
// (MAP) gives the principal the queue's rings; its DMA goes through a DmaDomain and its
// completions to an MsiVector, both named by capability too.

import { CAP, RIGHT } from '../abi.js';
import { isU32, type ObjectType } from './object.js';

export const DEVICE_QUEUE_TYPE: ObjectType = {
  type: CAP.DEVICE_QUEUE,
  validRights: RIGHT.READ | RIGHT.WRITE | RIGHT.MAP | RIGHT.DMA | RIGHT.GRANT,
  memory: false,
  rootRangeOk: (base, size) => isU32(base) && size === 1,
};

export function deviceQueueId(device: number, queue: number): number {
  return ((device & 0xffff) << 16 | (queue & 0xffff)) >>> 0;
}
