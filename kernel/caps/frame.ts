// Frame: memory a principal can map into its page directory (MAP) or give to a device (DMA).
// Made by retyping an Untyped, or at boot for a device's registers. Mapped whole, page by page.

import { CAP, EXO_PAGE_SIZE, RIGHT, RIGHTS_ALL } from '../abi.js';
import type { ObjectType } from './object.js';
import { pageRangeOk } from './untyped.js';

export const FRAME_TYPE: ObjectType = {
  type: CAP.FRAME,
  validRights: RIGHTS_ALL,
  memory: true,
  rootRangeOk: pageRangeOk,
};

/** Permissions a CPU mapping may ask for. */
export const MAP_PERMS = RIGHT.READ | RIGHT.WRITE | RIGHT.EXECUTE;

/** Whether `perms` is a non-empty subset of `allowed`. */
export function permsOk(perms: number, allowed: number): boolean {
  return Number.isInteger(perms) && perms > 0 && (perms & ~allowed) === 0;
}

/** Whether `size` bytes can sit at the page-aligned address `va` of a 32-bit space. */
export function vaRangeOk(va: number, size: number): boolean {
  return Number.isInteger(va) && va >= 0 && va % EXO_PAGE_SIZE === 0 && va + size <= 2 ** 32;
}

/** The page numbers [va, va + size) covers. */
export function framePages(va: number, size: number): number[] {
  const first = va / EXO_PAGE_SIZE, n = size / EXO_PAGE_SIZE;
  return Array.from({ length: n }, (_, i) => first + i);
}
