// The system-control device: how a bare-metal guest powers the machine off with a status,
// like QEMU's isa-debug-exit. One 32-bit register at offset 0; a write requests power-off
// with the written value as the exit status. Reads return 0.

import type { MmioDevice } from './bus.js';

export const SYSCTL_POWEROFF = 0x0;

export class SysCtl implements MmioDevice {
  readonly name = 'sysctl';
  /** The status of the requested power-off, or null while the machine may run. */
  exitStatus: number | null = null;
  onPowerOff: (status: number) => void = () => {};
  badAccesses = 0;

  mmioRead(): number { return 0; }

  mmioWrite(offset: number, size: number, value: number): void {
    if (offset !== SYSCTL_POWEROFF || size !== 4) { this.badAccesses++; return; }
    this.exitStatus = value | 0;
    this.onPowerOff(this.exitStatus);
  }

  saveState(): { version: number; exitStatus: number | null } { return { version: 1, exitStatus: this.exitStatus }; }
  loadState(s: { version: number; exitStatus: number | null }): void { this.exitStatus = s.exitStatus; }
}
