// The machine: 1 to 64 cores sharing physical memory, each with its own local APIC, on one
// discrete-event clock in cycles. Cores run in quanta, in a fixed order; device events fire at
// their exact cycle between quanta; one seeded PRNG. Same image, config and seed: same run,
// bit for bit. Application processors wait for a start IPI (INIT/SIPI-like, DESIGN section 2).

import { EventEmitter } from 'node:events';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type TypedEventEmitter from 'typed-emitter';
import { PhysicalMemory, PAGE_SIZE } from './memory.js';
import { Cpu, type TlbEntryView, LOCAL_MMIO_BASE, EAX, EBX, ECX, EDX, ESP, CR0_PE, CR0_ET, type CpuSaved } from './cpu/cpu.js';
import { DEFAULT_CPU_COSTS, type CpuCosts } from './cpu/costs.js';
import { EventQueue, type EventOwner, type PendingEvent } from './events.js';
import { Lapic } from './lapic.js';
import { Uart16550 } from './uart.js';
import { SysCtl } from './sysctl.js';
import { Prng } from './prng.js';
import { InputError } from './errors.js';
import type { ElfImage } from './elf.js';
import { loadProfile, type Profile } from './profile.js';
import { PciBus, ECAM_BASE, ECAM_SIZE } from './pci.js';
import { Iommu, IOMMU_BASE, IOMMU_SIZE, type IommuState } from './iommu.js';
import { BlockDevice, type BlockState } from './block.js';
import { DiskImage } from './disk-image.js';
import { Nic, type NicState } from './nic.js';
import { parseWire } from './wire.js';
import type { DeviceHost, DmaPort } from './device.js';

/** Physical memory map of the devices (RAM starts at 0). */
export const MMIO = {
  uart: 0xfe000000,
  sysctl: 0xfe001000,
  ecam: ECAM_BASE,
  iommu: IOMMU_BASE,
  lapic: LOCAL_MMIO_BASE,
} as const;

/** Register values a booted image finds on the bootstrap core. */
export const BOOT_MAGIC = 0x4c4f5845; // 'EXOL'

export interface MachineConfig {
  cores: number;
  ramBytes: number;
  seed: number;
  clockHz: number;
  /** Cycles each core runs per round before the next core runs. */
  quantum: number;
  tlbEntries: number;
  cpuCosts: CpuCosts;
  /** Cycles from an ICR write to the IPI's arrival in the target's IRR. */
  ipiLatency: number;
  /** Cycles from a device's MSI write to the vector's arrival in the target's IRR. */
  msiLatency: number;
  /** Device costs from the profile. */
  io: Pick<Profile, 'iommu' | 'nic' | 'block' | 'copyPerByte'>;
  /** Optional devices on the PCI bus. */
  disk?: DiskConfig;
  nic?: NicConfig;
}

/** The multi-queue NIC and its wire: `pcap:FILE[@RATE]`, `gen:...`, `loop`, plus `+record:FILE[,rx]`. */
export interface NicConfig {
  queues: number;
  wire: string;
}

/** The block device: over an image file (never modified: writes go to an overlay) or blank. */
export interface DiskConfig {
  image?: string;
  /** Size of a blank disk in bytes (when there is no image). */
  bytes?: number;
  queues?: number;
}

/** The configuration a Machine gets for what it is not told: the default profile, 1 core, 64 MiB. */
export function defaultMachineConfig(): MachineConfig {
  return machineConfig(loadProfile('default'), { cores: 1, ramBytes: 64 << 20, seed: 1 });
}

/** A machine configuration from a cost profile: every time-like quantity comes from it. */
export function machineConfig(p: Profile, o: { cores: number; ramBytes: number; seed: number }): MachineConfig {
  return {
    cores: o.cores, ramBytes: o.ramBytes, seed: o.seed,
    clockHz: p.clockHz, quantum: p.quantum, tlbEntries: p.mmu.tlbEntries,
    cpuCosts: p.cpu, ipiLatency: p.interrupts.ipiLatency, msiLatency: p.interrupts.msiLatency,
    io: { iommu: p.iommu, nic: p.nic, block: p.block, copyPerByte: p.copyPerByte },
  };
}

export type MachineEvents = {
  exception: (core: number, vector: number, error: number, eip: number) => void;
  interrupt: (core: number, vector: number) => void;
  ipi: (from: number, to: number, vector: number, mode: number, at: number) => void;
  /** An ICR write asked for what is not modelled (logical destination, NMI, SMI, ExtINT): ignored. */
  ipiIgnored: (from: number, lo: number, hi: number) => void;
  uart: (byte: number) => void;
  poweroff: (status: number) => void;
  shutdown: (core: number, reason: string) => void;
};

/**
 * What to do about a segment past the end of RAM: more --ram, or for an image linked above
 * 1 MiB the address README.md gives, 1 MiB (low, and clear of the pages below 1 MiB where a
 * STARTUP IPI can start a core).
 */
export function imageFitHint(paddr: number, memsz: number, ramBytes: number): string {
  const mib = 1 << 20, need = Math.ceil((paddr + memsz) / mib), most = 3 * 1024;
  const more = need <= most ? `give --ram ${need}MiB or more` : `RAM ends at ${most} MiB`;
  const lower = paddr > mib ? `${need <= most ? ', or' : ':'} link the image at 1 MiB (gcc -Wl,-Ttext-segment=0x100000)` : '';
  return `segment at physical 0x${paddr.toString(16)} (${memsz} bytes) ends past the ${ramBytes / mib} MiB of RAM; ${more}${lower}`;
}

export type StopReason = 'time' | 'poweroff' | 'shutdown' | 'instructions' | 'event' | 'stopped';

export interface RunOptions {
  /** Stop after the cores together retire this many instructions (checked between rounds). */
  maxInstructions?: number;
  /** Stop at the end of the round in which one of these events was emitted. */
  breakOn?: readonly (keyof MachineEvents)[];
}

export interface CoreInspect {
  id: number;
  state: string;
  cpl: number;
  eip: number;
  regs: Record<'eax' | 'ecx' | 'edx' | 'ebx' | 'esp' | 'ebp' | 'esi' | 'edi', number>;
  eflags: number;
  cr: { cr0: number; cr2: number; cr3: number; cr4: number };
  instructions: number;
  cycles: number;
  counters: Record<string, number>;
  tlb: { capacity: number; entries: TlbEntryView[] };
  lapic: ReturnType<Lapic['inspect']>;
}

// ICR fields (SDM 10.6.1)
const ICR_MODE_FIXED = 0, ICR_MODE_LOWEST = 1, ICR_MODE_INIT = 5, ICR_MODE_STARTUP = 6;
const KIND_IPI = 1;
const KIND_MSI = 2;
const MACHINE_EVENT_ID = 0;
const SNAPSHOT_MAGIC = 'EXOSNAP1';
const SNAPSHOT_VERSION = 2; // 2: IOMMU, PCI functions and the disk

export class Machine implements EventOwner {
  readonly eventId = MACHINE_EVENT_ID;
  readonly config: MachineConfig;
  readonly mem: PhysicalMemory;
  readonly cores: Cpu[] = [];
  readonly lapics: Lapic[] = [];
  readonly uart: Uart16550;
  readonly sysctl = new SysCtl();
  readonly pci: PciBus;
  readonly iommu: Iommu;
  readonly disk: BlockDevice | null = null;
  readonly nic: Nic | null = null;
  /** The DMA path devices use: through the IOMMU (which passes through while translation is off). */
  dma: DmaPort;
  /**
   * Sees every well-formed MSI when the device writes it (for interrupt latency); returning
   * false drops it (fault injection). Set by the kernel.
   */
  onMsi: ((dest: number, vector: number, at: number) => boolean) | null = null;
  /**
   * Told when a core shuts down (triple fault); returning true means the core was taken care
   * of (a kernel reclaiming a partition's core) and the machine runs on. Unset: the machine stops.
   */
  onShutdown: ((core: number, reason: string) => boolean) | null = null;
  /** MSI writes to addresses outside the local APIC window (counted, not delivered). */
  msiErrors = 0;
  private stopRequested = false;
  /** The core whose quantum is running, so that device registers see its clock. */
  private running: Cpu | null = null;
  readonly events = new EventQueue();
  readonly rng: Prng;
  readonly emitter = new EventEmitter() as TypedEventEmitter.default<MachineEvents>;
  /** Global time: every core has run at least up to here. */
  now = 0;
  /** Bytes the guests wrote to the UART. */
  readonly console: number[] = [];
  /** Per-core IPI counters (sent, received) and bad ICR writes. */
  readonly ipiSent: Float64Array;
  readonly ipiReceived: Float64Array;
  ipiErrors = 0;

  constructor(config: Partial<MachineConfig> = {}) {
    const c = { ...defaultMachineConfig(), ...config };
    if (!Number.isInteger(c.cores) || c.cores < 1 || c.cores > 64) throw new InputError(`cores: expected 1 to 64, got ${c.cores}`);
    if (c.ramBytes % PAGE_SIZE !== 0 || c.ramBytes < (1 << 20) || c.ramBytes > 0xc0000000) {
      throw new InputError(`ram: expected a multiple of 4 KiB between 1 MiB and 3 GiB, got ${c.ramBytes} bytes`);
    }
    if (!(c.quantum >= 1)) throw new InputError(`quantum: expected at least 1 cycle, got ${c.quantum}`);
    this.config = c;
    this.mem = new PhysicalMemory(c.ramBytes);
    this.rng = new Prng(c.seed);
    this.events.register(this);
    this.ipiSent = new Float64Array(c.cores);
    this.ipiReceived = new Float64Array(c.cores);
    this.uart = new Uart16550({ onTransmit: (b) => { this.console.push(b); this.emitter.emit('uart', b); } });
    this.mem.bus.map(MMIO.uart, PAGE_SIZE, this.uart);
    this.mem.bus.map(MMIO.sysctl, PAGE_SIZE, this.sysctl);
    this.pci = new PciBus(this.mem.bus);
    this.mem.bus.map(MMIO.ecam, ECAM_SIZE, this.pci);
    this.iommu = new Iommu(this.deviceHost(), this.mem, c.io.iommu, (rid) => (this.pci.functions[rid] ?? this.pci.functions[rid & ~7])?.busMaster === true);
    this.mem.bus.map(MMIO.iommu, IOMMU_SIZE, this.iommu);
    this.dma = this.iommu.dma;
    if (c.disk !== undefined) {
      const backend = c.disk.image !== undefined ? DiskImage.openFile(c.disk.image) : DiskImage.blank(c.disk.bytes ?? (16 << 20));
      this.disk = new BlockDevice(this.deviceHost(), this.pci, c.io.block, backend, { queues: c.disk.queues });
    }
    if (c.nic !== undefined) {
      const wire = parseWire(c.nic.wire, { clockHz: c.clockHz, rng: this.rng });
      this.nic = new Nic(this.deviceHost(), this.pci, c.io.nic, { queues: c.nic.queues, wire });
    }
    this.sysctl.onPowerOff = (status) => {
      for (const core of this.cores) core.yieldRequested = true;
      this.emitter.emit('poweroff', status);
    };
    for (let id = 0; id < c.cores; id++) {
      const cpu = new Cpu(this.mem, { id, costs: c.cpuCosts, tlbEntries: c.tlbEntries });
      const lapic = new Lapic(id, {
        now: () => cpu.cycles,
        events: this.events,
        sendIpi: (from, lo, hi) => this.sendIpi(from, lo, hi),
      }, 1 + id); // registers itself with the event queue
      cpu.intr = lapic;
      cpu.localMmio = lapic;
      cpu.onDeliver = (vector, error, soft) => {
        if (vector < 32 && !soft) this.emitter.emit('exception', id, vector, error, cpu.curEip >>> 0);
        else this.emitter.emit('interrupt', id, vector);
      };
      cpu.state = id === 0 ? 'running' : 'waiting';
      cpu.cr0 = CR0_PE | CR0_ET;
      this.cores.push(cpu);
      this.lapics.push(lapic);
    }
  }

  /** Place a ring-0 image's segments at their physical addresses (p_paddr), as a boot loader does. */
  loadImage(image: ElfImage, file: string): void {
    for (const seg of image.segments) {
      const end = seg.paddr + seg.memsz;
      if (end > this.config.ramBytes) {
        throw new InputError(`${file}: ${imageFitHint(seg.paddr, seg.memsz, this.config.ramBytes)}`);
      }
      this.mem.writeBytes(seg.paddr, seg.data);
      this.mem.writeBytes(seg.paddr + seg.data.length, new Uint8Array(seg.memsz - seg.data.length));
    }
  }

  /**
   * Start the bootstrap core at `entry` in ring 0, flat 32-bit, paging off, interrupts off:
   * EAX = 'EXOL', EBX = number of cores, ECX = RAM bytes, EDX = 0 (its APIC ID), ESP = top of RAM.
   */
  boot(entry: number): void {
    const bsp = this.cores[0];
    bsp.eip = entry;
    bsp.reg[EAX] = BOOT_MAGIC;
    bsp.reg[EBX] = this.config.cores;
    bsp.reg[ECX] = this.config.ramBytes;
    bsp.reg[EDX] = 0;
    bsp.reg[ESP] = this.config.ramBytes;
    bsp.state = 'running';
  }

  /**
   * Run until global time reaches `until` (absolute cycles), the guest powers off, every core
   * has shut down, or the cores together retire `maxInstructions`.
   */
  run(until: number, opts: RunOptions = {}): StopReason {
    const q = this.config.quantum;
    const maxInstructions = opts.maxInstructions ?? Number.POSITIVE_INFINITY;
    const startInsns = this.instructions();
    let hit = false;
    const onHit = () => { hit = true; for (const c of this.cores) c.yieldRequested = true; };
    for (const e of opts.breakOn ?? []) this.emitter.on(e, onHit);
    try {
      return this.runRounds(until, q, maxInstructions, startInsns, () => hit);
    } finally {
      for (const e of opts.breakOn ?? []) this.emitter.off(e, onHit);
    }
  }

  /**
   * Rounds are aligned to a global grid of `q` cycles, cut short only by device events, so
   * their boundaries never depend on where a caller asked to stop: running to t1 and then to
   * t2 is the same run as running to t2, bit for bit. A run may overshoot `until` to the end of
   * its round (never by more than q). A triple fault on any core stops the machine, as the
   * shutdown cycle resets an x86 platform.
   */
  private runRounds(until: number, q: number, maxInstructions: number, startInsns: number, hit: () => boolean): StopReason {
    this.stopRequested = false;
    while (this.now < until) {
      if (hit()) return 'event';
      if (this.stopRequested) return this.stopAtLatest('stopped');
      if (this.sysctl.exitStatus !== null) return this.poweredOff();
      if (this.instructions() - startInsns >= maxInstructions) return 'instructions';
      if (this.cores.some((c) => c.state === 'shutdown')) return 'shutdown';
      const next = this.events.next();
      let end = Math.min((Math.floor(this.now / q) + 1) * q, next);
      if (!this.anyCoreCanRun()) end = Math.min(until, next); // everyone idle: skip ahead
      if (end > this.now) {
        for (const core of this.cores) {
          if (core.state === 'running' || core.state === 'halted') {
            this.running = core;
            const st = core.run(end);
            this.running = null;
            if (st === 'shutdown') {
              this.emitter.emit('shutdown', core.id, core.shutdownReason);
              if (this.onShutdown === null || !this.onShutdown(core.id, core.shutdownReason)) return this.stopAtLatest('shutdown');
            }
          }
          if (core.cycles < end && core.state !== 'running') core.idleUntil(end); // idle time passes
          if (this.sysctl.exitStatus !== null) return this.poweredOff();
          if (this.stopRequested) return this.stopAtLatest('stopped');
        }
      }
      this.events.runUntil(end);
      this.now = end;
    }
    return this.sysctl.exitStatus !== null ? 'poweroff' : 'time';
  }

  /** Close what the devices hold open: recorded captures are complete after this. */
  close(): void {
    this.nic?.wire.close();
    this.disk?.backend.close();
  }

  /** Ask run() to return ('stopped') as soon as the running core reaches a block boundary. */
  requestStop(): void {
    this.stopRequested = true;
    for (const c of this.cores) c.yieldRequested = true;
  }

  /** The guest powered off mid-round: the machine's time is that of the latest core. */
  private poweredOff(): StopReason {
    return this.stopAtLatest('poweroff');
  }

  private stopAtLatest(reason: StopReason): StopReason {
    for (const c of this.cores) if (c.cycles > this.now) this.now = c.cycles;
    return reason;
  }

  /** Execute one instruction on `core` (delivering a pending interrupt first, as the core would). */
  step(core: number): void {
    const cpu = this.cores[core];
    if (cpu.state !== 'running' && cpu.state !== 'halted') return;
    cpu.step();
  }

  instructions(): number {
    let n = 0;
    for (const c of this.cores) n += c.instructions;
    return n;
  }

  /** Simulated seconds at the global time. */
  seconds(): number { return this.now / this.config.clockHz; }

  private anyCoreCanRun(): boolean {
    for (let k = 0; k < this.cores.length; k++) {
      const c = this.cores[k];
      if (c.state === 'running') return true;
      if (c.state === 'halted' && (c.flags & 0x200) !== 0 && this.lapics[k].pendingVector() >= 0) return true;
    }
    return false;
  }

  /** An ICR write on `from`'s local APIC: schedule delivery to each destination. */
  sendIpi(from: number, lo: number, hi: number): void {
    const vector = lo & 0xff, mode = (lo >>> 8) & 7, logical = (lo >>> 11) & 1;
    const deassert = mode === ICR_MODE_INIT && ((lo >>> 14) & 1) === 0 && ((lo >>> 15) & 1) === 1;
    const shorthand = (lo >>> 18) & 3, dest = hi >>> 24;
    if (deassert) return; // INIT level de-assert: no effect (as on Pentium 4 and later)
    if (logical || (mode !== ICR_MODE_FIXED && mode !== ICR_MODE_LOWEST && mode !== ICR_MODE_INIT && mode !== ICR_MODE_STARTUP)) {
      this.ipiErrors++; // logical destinations, NMI, SMI: not modelled
      this.emitter.emit('ipiIgnored', from, lo >>> 0, hi >>> 0);
      return;
    }
    const at = this.cores[from].cycles + this.config.ipiLatency;
    const n = this.cores.length;
    for (let t = 0; t < n; t++) {
      const hit = shorthand === 0 ? dest === t || dest === 0xff
        : shorthand === 1 ? t === from
          : shorthand === 2 ? true
            : t !== from;
      if (!hit) continue;
      this.ipiSent[from]++;
      this.events.schedule(at, this, KIND_IPI, (t << 16) | (mode << 8) | vector);
      this.emitter.emit('ipi', from, t, vector, mode, at);
    }
  }

  /** Simulated time as a device sees it: the running core's clock, else the event's time. */
  time(): number {
    if (this.running !== null) return this.running.cycles;
    return this.events.firing >= 0 ? this.events.firing : this.now;
  }

  /** What a device model gets from the machine. */
  deviceHost(): DeviceHost {
    const m = this;
    return {
      now: () => m.time(),
      events: m.events,
      rng: m.rng,
      msi: (address, data) => m.msi(address, data),
      get dma() { return m.dma; }, // late-bound: the IOMMU may be installed after the device
    };
  }

  /** A device's MSI: destination APIC ID in address bits 19:12, vector in data bits 7:0. */
  msi(address: number, data: number): void {
    address >>>= 0;
    const dest = (address >>> 12) & 0xff, vector = data & 0xff;
    if (((address & 0xfff00000) >>> 0) !== 0xfee00000 || dest >= this.cores.length) { this.msiErrors++; return; }
    if (this.onMsi !== null && !this.onMsi(dest, vector, this.time())) return;
    this.events.schedule(this.time() + this.config.msiLatency, this, KIND_MSI, (dest << 16) | vector);
  }

  onEvent(kind: number, arg: number, at: number): void {
    if (kind === KIND_MSI) {
      const t = arg >>> 16, vector = arg & 0xff;
      this.lapics[t].accept(vector);
      return;
    }
    if (kind !== KIND_IPI) return;
    const t = arg >>> 16, mode = (arg >>> 8) & 7, vector = arg & 0xff;
    const core = this.cores[t];
    this.ipiReceived[t]++;
    if (mode === ICR_MODE_INIT) {
      if (t !== 0) core.state = 'waiting';
    } else if (mode === ICR_MODE_STARTUP) {
      if (core.state === 'waiting') this.startAp(core, vector << 12, at);
    } else {
      this.lapics[t].accept(vector);
    }
  }

  /** Start an application processor at a page-aligned physical address: ring 0, paging off. */
  private startAp(core: Cpu, eip: number, at: number): void {
    core.reg.fill(0);
    core.setFlags(0, 0xffffffff);
    core.setCpl(0);
    core.cr0 = CR0_PE | CR0_ET;
    core.cr3 = 0;
    core.cr4 = 0;
    core.tlbFlush(false);
    core.idtBase = 0;
    core.idtLimit = 0x3ff;
    core.eip = eip;
    core.reg[EDX] = core.id;
    if (core.cycles < at) core.cycles = at;
    core.state = 'running';
  }

  /** Registers, control registers, counters, TLB and local APIC of one core. */
  inspectCore(k: number): CoreInspect {
    const c = this.cores[k], r = c.reg;
    return {
      id: k, state: c.state, cpl: c.cpl, eip: c.eip >>> 0,
      regs: { eax: r[0] >>> 0, ecx: r[1] >>> 0, edx: r[2] >>> 0, ebx: r[3] >>> 0, esp: r[4] >>> 0, ebp: r[5] >>> 0, esi: r[6] >>> 0, edi: r[7] >>> 0 },
      eflags: c.getFlags() >>> 0,
      cr: { cr0: c.cr0 >>> 0, cr2: c.cr2 >>> 0, cr3: c.cr3 >>> 0, cr4: c.cr4 >>> 0 },
      instructions: c.instructions, cycles: c.cycles, counters: c.counterValues(),
      tlb: { capacity: c.tlbSlots.length, entries: c.tlbEntries() },
      lapic: this.lapics[k].inspect(),
    };
  }

  /** UART output so far, as text. */
  consoleText(): string {
    return Buffer.from(this.console).toString('latin1');
  }

  // ---- State hash and snapshots ---------------------------------------------------------------

  /** A digest of the whole machine state: RAM, every core, every device, pending events. */
  stateHash(): string {
    let h1 = 0x811c9dc5 | 0, h2 = 0x01000193 | 0;
    const w = this.mem.ram32;
    for (let k = 0; k < w.length; k++) {
      const v = w[k];
      h1 = Math.imul(h1 ^ v, 0x01000193);
      h2 = Math.imul(h2 ^ (v + k), 0x5bd1e995) ^ (h2 >>> 15);
    }
    const meta = JSON.stringify(this.saveHeader());
    for (let k = 0; k < meta.length; k++) {
      h1 = Math.imul(h1 ^ meta.charCodeAt(k), 0x01000193);
      h2 = Math.imul(h2 ^ meta.charCodeAt(k), 0x5bd1e995) ^ (h2 >>> 15);
    }
    return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
  }

  private saveHeader(): SnapshotHeader {
    return {
      version: SNAPSHOT_VERSION,
      config: this.config,
      now: this.now,
      cores: this.cores.map((c) => c.saveState()),
      lapics: this.lapics.map((l) => l.saveState()),
      uart: this.uart.saveState(),
      sysctl: this.sysctl.saveState(),
      events: this.events.saveState(),
      rng: this.rng.saveState(),
      console: this.consoleText(),
      pci: this.pci.functions.map((f) => f?.saveState() ?? null),
      iommu: this.iommu.saveState(),
      disk: this.disk?.saveState() ?? null,
      nic: this.nic?.saveState() ?? null,
      msiErrors: this.msiErrors,
      ipi: { sent: Array.from(this.ipiSent), received: Array.from(this.ipiReceived), errors: this.ipiErrors },
    };
  }

  /** The whole machine as bytes: magic, header length, JSON header, deflated RAM. */
  snapshot(): Buffer {
    const header = Buffer.from(JSON.stringify(this.saveHeader()), 'utf8');
    const ram = deflateRawSync(this.mem.ram8, { level: 1 });
    const lead = Buffer.alloc(16);
    lead.write(SNAPSHOT_MAGIC, 0, 'latin1');
    lead.writeUInt32LE(header.length, 8);
    lead.writeUInt32LE(ram.length, 12);
    return Buffer.concat([lead, header, ram]);
  }

  /** Rebuild a machine from snapshot(). Bad input is an InputError naming `file`. */
  static fromSnapshot(bytes: Uint8Array, file: string): Machine {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buf.length < 16 || buf.toString('latin1', 0, 8) !== SNAPSHOT_MAGIC) {
      throw new InputError(`${file}: not an exolab snapshot (expected magic ${SNAPSHOT_MAGIC} at offset 0)`);
    }
    const hlen = buf.readUInt32LE(8), rlen = buf.readUInt32LE(12);
    if (16 + hlen + rlen !== buf.length) throw new InputError(`${file}: truncated or padded snapshot (expected ${16 + hlen + rlen} bytes, found ${buf.length})`);
    let h: SnapshotHeader;
    try {
      h = JSON.parse(buf.toString('utf8', 16, 16 + hlen)) as SnapshotHeader;
    } catch {
      throw new InputError(`${file}: snapshot header at offset 16 is not valid JSON`);
    }
    if (h === null || typeof h !== 'object' || h.version !== SNAPSHOT_VERSION) {
      throw new InputError(`${file}: snapshot format ${(h as SnapshotHeader | null)?.version ?? 'unknown'}, this exolab reads format ${SNAPSHOT_VERSION}`);
    }
    try {
      return Machine.restoreFrom(h, buf.subarray(16 + hlen), file);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${file}: ${e.message}`);
      throw new InputError(`${file}: the snapshot's header does not describe a machine this exolab can build (${(e as Error).message})`);
    }
  }

  private static restoreFrom(h: SnapshotHeader, deflated: Buffer, file: string): Machine {
    const m = new Machine(h.config);
    let ram: Buffer;
    try {
      ram = inflateRawSync(deflated);
    } catch {
      throw new InputError(`RAM image after the header does not inflate`);
    }
    if (ram.length !== m.mem.size) throw new InputError(`RAM image is ${ram.length} bytes, expected ${m.mem.size}`);
    if (h.cores.length !== m.cores.length || h.lapics.length !== m.lapics.length) throw new InputError(`${h.cores.length} core states for a ${m.cores.length}-core machine`);
    m.mem.ram8.set(ram);
    m.now = h.now;
    h.cores.forEach((s, k) => m.cores[k].loadState(s));
    m.events.loadState(h.events);
    h.lapics.forEach((s, k) => m.lapics[k].loadState(s, true));
    m.iommu.loadState(h.iommu, true);
    if (h.disk !== null) m.disk?.loadState(h.disk, true);
    if (h.nic !== null) m.nic?.loadState(h.nic);
    m.uart.loadState(h.uart as Parameters<Uart16550['loadState']>[0]);
    m.sysctl.loadState(h.sysctl);
    m.rng.loadState(h.rng);
    m.console.push(...Buffer.from(h.console, 'latin1'));
    m.ipiSent.set(h.ipi.sent);
    m.ipiReceived.set(h.ipi.received);
    m.ipiErrors = h.ipi.errors;
    m.msiErrors = h.msiErrors;
    h.pci.forEach((p, k) => { if (p !== null) m.pci.functions[k]?.loadState(p); });
    return m;
  }
}

interface SnapshotHeader {
  version: number;
  config: MachineConfig;
  now: number;
  cores: CpuSaved[];
  lapics: ReturnType<Lapic['saveState']>[];
  uart: unknown;
  sysctl: ReturnType<SysCtl['saveState']>;
  events: { seq: number; fired: number; events: PendingEvent[] };
  rng: number[];
  console: string;
  pci: ({ version: number; cfg: number[] } | null)[];
  iommu: IommuState;
  disk: BlockState | null;
  nic: NicState | null;
  msiErrors: number;
  ipi: { sent: number[]; received: number[]; errors: number };
}
