// Uart: the console (range base = its index). WRITE lets CONSOLE_WRITE print, READ read input.

import { CAP, RIGHT } from '../abi.js';
import type { ObjectType } from './object.js';

export const UART_TYPE: ObjectType = {
  type: CAP.UART,
  validRights: RIGHT.READ | RIGHT.WRITE | RIGHT.GRANT,
  memory: false,
  rootRangeOk: (base, size) => Number.isInteger(base) && base >= 0 && base < 4 && size === 1,
};
