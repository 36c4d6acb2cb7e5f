// The object types, by capability type number.

import { CAP, type CapType } from '../abi.js';
import { BLOCK_RANGE_TYPE } from './block-range.js';
import { CORE_SLICE_TYPE } from './core-slice.js';
import { DEVICE_QUEUE_TYPE } from './device-queue.js';
import { DMA_DOMAIN_TYPE } from './dma-domain.js';
import { FRAME_TYPE } from './frame.js';
import { MSI_VECTOR_TYPE } from './msi-vector.js';
import type { ObjectType } from './object.js';
import { UART_TYPE } from './uart.js';
import { UNTYPED_TYPE } from './untyped.js';

const TYPES: ReadonlyMap<number, ObjectType> = new Map(
  [UNTYPED_TYPE, FRAME_TYPE, CORE_SLICE_TYPE, DEVICE_QUEUE_TYPE, MSI_VECTOR_TYPE, DMA_DOMAIN_TYPE, UART_TYPE, BLOCK_RANGE_TYPE]
    .map((t) => [t.type, t]),
);

/** The object type of a capability type number, or undefined (CAP.NULL, garbage). */
export function objectType(t: number): ObjectType | undefined {
  return TYPES.get(t);
}

export function isObjectType(t: number): t is Exclude<CapType, typeof CAP.NULL> {
  return TYPES.has(t);
}
