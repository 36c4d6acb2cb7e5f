// What a device model gets from the machine: time, the event queue, the cost profile's
// figures, the PRNG, MSI delivery and the one DMA port. Devices reach memory only through
// `dma`, which goes through the IOMMU; they reach cores only through `msi`.

import type { EventQueue } from './events.js';
import type { Prng } from './prng.js';

/** Why a DMA did not happen. 0 is success. */
export const DMA_OK = 0;
export const DMA_NOT_MAPPED = 1;       // no I/O page-table entry for the IOVA
export const DMA_NO_PERMISSION = 2;    // mapped, but not for this direction (R/W bits)
export const DMA_NO_CONTEXT = 3;       // the requester has no present context entry
export const DMA_OUTSIDE_RAM = 4;      // translated to an address with no RAM behind it
export const DMA_NOT_MASTER = 5;       // the function's bus-master enable is off
export const DMA_FAULT_NAMES = ['ok', 'not mapped', 'no permission', 'no context', 'outside RAM', 'bus master off'] as const;
export type DmaStatus = number;

/** The machine's DMA path: every device access to memory goes through here. */
export interface DmaPort {
  /** Copy guest memory at `iova` into `dst` for requester `rid`. Nothing is copied on a fault. */
  read(rid: number, iova: number, dst: Uint8Array): DmaStatus;
  /** Copy `src` to guest memory at `iova`. Nothing is written on a fault. */
  write(rid: number, iova: number, src: Uint8Array): DmaStatus;
}

export interface DeviceHost {
  /** Simulated time in cycles: the accessing core's clock during MMIO, the event's time in events. */
  now(): number;
  readonly events: EventQueue;
  readonly rng: Prng;
  /** Send a message-signalled interrupt: a write of `data` to `address` (0xFEExxxxx). */
  msi(address: number, data: number): void;
  readonly dma: DmaPort;
}
