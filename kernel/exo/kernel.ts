// The exokernel (DESIGN section 3): TypeScript in ring 0. Every vector of the IDT points at a
// stub `0F 3F v; iret` in the kernel's page, so each entry and exit is an architectural
// transition on its core: counted as a privilege crossing and charged from the profile, with
// the kernel's own work charged per operation on top.
//
// How a kernel entry works: the native gate runs `entry(core, vector)`. The interrupted
// context (a principal in ring 3, or the idle loop in ring 0) is saved from the registers and
// the frame the CPU pushed; the handler runs; then `leave` decides what the core runs next and
// writes a fresh iret frame at the top of the core's kernel stack, which the stub's `iret`
// takes. A kernel operation that must wait for the machine (a queue drain, an IOMMU
// invalidation) leaves the core halted in the kernel with interrupts off; the machine event
// that ends the wait continues the operation and then leaves.

import { EventEmitter } from 'node:events';
import type TypedEventEmitter from 'typed-emitter';
import {
  CR0_PE, CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, EAX, ECX, EDX, ESP, IF, CS, SS, DS, ES,
  MSR_EXO_ESP0, MSR_EXO_SS0, type Cpu,
} from '../../machine/cpu/cpu.js';
import type { ElfImage } from '../../machine/elf.js';
import type { Machine } from '../../machine/machine.js';
import { SYSCTL_POWEROFF } from '../../machine/sysctl.js';
import type { Profile } from '../../machine/profile.js';
import { BOOT_MAGIC, CAP, ERR, IRQ_MODE, RIGHT, UPCALL } from '../abi.js';
import { ExoCalls, type RevokeRequest } from './calls.js';
import { KernelDevices } from './kdev.js';
import { KernelBlock } from './kblock.js';
import {
  BOOT_INFO_VA, IDLE, IDT_BASE, MSI_VECTOR_FIRST, KERNEL_CS, KERNEL_END, KERNEL_SS, STUB_SIZE, STUBS, USER_CS, USER_DS,
  USER_MIN, USER_STACK_SIZE, USER_STACK_TOP, VEC, hasErrorCode, kstackTop,
} from './layout.js';
import { FramePool, PageTable, PTE_RW, PTE_US } from './paging.js';
import { Context, Principal, type PendingUpcall, type Placement } from './principal.js';
import { partitionBind, partitionCreate, partitionInfo, partitionStart } from './partition.js';
import { CoreStats, IRQ_MODES, UPCALL_KINDS } from './stats.js';
import { CodeMap, CycleMeter, codeClassOf, cyclesFold } from './cycles.js';
import type { CodeRange } from '../guest-map.js';

export const KERNEL_EVENT_ID = 0x20000;

/** What a principal is made of at boot (from a scenario). */
export interface PrincipalSpec {
  name: string;
  image: ElfImage;
  /** The image's file, for messages. */
  file: string;
  placement?: Placement;
  cores: number[];
  /** Bytes of memory quota (image, stack and whatever it retypes later). */
  memory: number;
  nicQueues?: number[];
  /** EXO_IRQ_* the principal is told to use (boot info). */
  irqMode?: number;
  /** The scenario's args.value (boot info `arg`). */
  arg?: number;
  /** BlockRange capabilities to give it (sectors; rights EXO_R_READ|WRITE). Default: the whole disk, read-only. */
  blockRanges?: { base: number; size: number; rights: number }[];
  /** Its image's code ranges, app or LibOS (the image's manifest); none: all app. */
  code?: CodeRange[];
}

export type KernelEvents = {
  upcall: (core: number, principal: string, kind: string, at: number) => void;
  crossing: (core: number, principal: string, vector: number, at: number) => void;
  killed: (principal: string, reason: string) => void;
  exited: (principal: string, status: number) => void;
  revocation: (timeline: RevocationTimeline) => void;
  /** A visible revocation ended: given back in time, or repossessed at the deadline. */
  reclaim: (principal: string, outcome: 'returned' | 'repossessed', slot: number, at: number) => void;
  console: (principal: string, text: string) => void;
};

/** The phases of one DMA revocation, in cycles (DESIGN section 3). */
export interface RevocationTimeline {
  principal: string;
  core: number;
  iova: number;
  pages: number;
  /** Descriptors in flight on the fenced queues when the fence was raised. */
  inFlight: number;
  safe: boolean;
  /** NIC queues fenced (none when unsafe). */
  queues: number[];
  start: number;
  drained: number;
  unmapped: number;
  invalidated: number;
  done: number;
}

export const IRQ_MODE_DIRECT = 0, IRQ_MODE_IPI = 1, IRQ_MODE_WORKQUEUE = 2;

/** An MSI vector routed to a principal (made by IRQ_BIND, recorded under the MsiVector capability). */
export interface IrqBinding { principal: Principal; core: number; mode: number; vector: number }

/** A kernel operation that returns this waits for the machine and finishes from an event. */
export const WAIT = Symbol('wait');

/** A core's kernel-side state. */
export class KCore {
  current: Context | null = null;
  waitSince = 0;
  readonly runQueue: Context[] = [];
  /** What the core waits on in the kernel, or null. */
  waiting: string | null = null;
  /** The partition this core is handed to, or null (the kernel schedules it). */
  partition: Principal | null = null;
  readonly stats = new CoreStats();
  /** Its cycle counts at the last fold (kernel/exo/cycles.ts). */
  readonly meter = new CycleMeter();
  constructor(readonly id: number) {}
}

/** An upcall frame: 16 words the kernel writes on the principal's exception stack. */
export const UPCALL_FRAME_WORDS = 16;
/** Upcall frames beyond this depth below the exception stack's top mean a runaway: killed. */
export const EXCEPTION_STACK_LIMIT = 16 * 1024;

export class Exokernel {
  readonly principals: Principal[] = [];
  readonly dev: KernelDevices;
  readonly calls: ExoCalls;
  /** The kernel's queue on the block device, when the machine has one. */
  readonly block: KernelBlock | null;
  /** Cycles per byte the kernel copies for a guest. */
  readonly copyPerByte: number;
  /** Cycles to tear down the I/O mappings of one revocation (profile iommu.unmap). */
  readonly unmapCost: number;
  /** Kernel roots by kind, in the kernel's own capability space. */
  private roots = { uart: -1, slices: [] as number[], queues: new Map<number, number>(), vectors: new Map<number, number>() };
  private drainedListeners: ((q: number, at: number) => boolean)[] = [];
  private readonly nicMac: number[] | null;
  /** Visible revocations that ended, for reports. */
  readonly reclaims: { principal: string; slot: number; outcome: string; asked: number; at: number }[] = [];
  iommuFaultIrqs = 0;
  readonly kcores: KCore[];
  readonly pool: FramePool;
  readonly emitter = new EventEmitter() as TypedEventEmitter.default<KernelEvents>;
  readonly eventId = KERNEL_EVENT_ID;
  readonly revocations: RevocationTimeline[] = [];
  /** Physical memory not yet given to a principal. */
  private nextPhys = KERNEL_END;
  readonly costs: Profile['kernel'] & { eoi: number; ipi: number };

  constructor(readonly machine: Machine, profile: Profile) {
    this.costs = { ...profile.kernel, eoi: profile.interrupts.eoi, ipi: profile.interrupts.ipiLatency };
    this.copyPerByte = profile.copyPerByte.num / profile.copyPerByte.den;
    this.unmapCost = profile.iommu.unmap;
    this.nicMac = machine.nic === null ? null : macOf(machine.nic.mmioRead(0x020, 4), machine.nic.mmioRead(0x024, 4));
    this.pool = new FramePool(machine.mem);
    this.kcores = machine.cores.map((_, k) => new KCore(k));
    for (const cpu of machine.cores) {
      cpu.codeClass = (c, va) => codeClassOf(this, c, va);
      cyclesFold(cpu, this.kcores[cpu.id]!);   // what ran before the kernel is no one's
    }
    this.dev = new KernelDevices(machine, this.pool);
    this.calls = new ExoCalls(this, this.dev);
    this.buildIdt();
    for (const cpu of machine.cores) this.initCore(cpu);
    this.dev.init(this.irqCore);
    this.block = machine.disk === null ? null : new KernelBlock(machine, this.dev, this.pool);
    if (machine.nic !== null) {
      machine.nic.onDrained = (q, at) => {
        this.drainedListeners = this.drainedListeners.filter((f) => !f(q, at));
      };
    }
    this.makeRoots();
  }

  /** The kernel's roots: the UART, a CoreSlice per core, the NIC's queues and MSI vectors. */
  private makeRoots(): void {
    this.roots.uart = this.calls.root({ type: CAP.UART, base: 0 });
    this.roots.slices = this.machine.cores.map((c) => this.calls.root({ type: CAP.CORE_SLICE, base: c.id }));
    const nq = this.machine.nic === null ? 0 : this.machine.nic.mmioRead(0x008, 4);
    for (let q = 0; q < nq; q++) {
      this.roots.queues.set(q, this.calls.root({ type: CAP.DEVICE_QUEUE, base: q }));
      this.roots.vectors.set(q, this.calls.root({ type: CAP.MSI_VECTOR, base: MSI_VECTOR_FIRST + q }));
    }
  }

  // ---- boot ------------------------------------------------------------------------------

  private buildIdt(): void {
    const mem = this.machine.mem;
    for (let v = 0; v < 256; v++) {
      const stub = STUBS + v * STUB_SIZE;
      mem.writeBytes(stub, Uint8Array.of(0x0f, 0x3f, v, 0xcf)); // native v; iret
      const dpl = v === VEC.EXO_CALL ? 3 : 0;
      mem.write32(IDT_BASE + v * 8, (KERNEL_CS << 16) | (stub & 0xffff));
      mem.write32(IDT_BASE + v * 8 + 4, ((stub & 0xffff0000) | 0x8000 | (dpl << 13) | (0x0e << 8)) >>> 0);
    }
    mem.writeBytes(IDLE, Uint8Array.of(0xfb, 0xf4, 0xeb, 0xfd)); // sti; hlt; jmp hlt
  }

  private initCore(cpu: Cpu): void {
    for (let v = 0; v < 256; v++) cpu.gates[v] = (c) => this.entry(c, v);
    cpu.flags &= ~IF;
    cpu.idtBase = IDT_BASE;
    cpu.idtLimit = 256 * 8 - 1;
    cpu.msrs.set(MSR_EXO_ESP0, [kstackTop(cpu.id), 0]);
    cpu.msrs.set(MSR_EXO_SS0, [KERNEL_SS, 0]);
    const boot = new PageTable(this.machine.mem, this.pool, true);
    cpu.writeCr4(CR4_PSE | CR4_PGE);
    cpu.writeCr3(boot.pd);
    cpu.writeCr0(CR0_PE | CR0_PG | CR0_WP);
    cpu.sreg[CS] = KERNEL_CS;
    cpu.sreg[SS] = cpu.sreg[DS] = cpu.sreg[ES] = KERNEL_SS;
    cpu.setCpl(0);
  }

  /** Make a principal from its image: memory, page directory, boot capabilities, contexts. */
  addPrincipal(spec: PrincipalSpec): Principal {
    const memSize = Math.ceil(spec.memory / 4096) * 4096;
    if (this.nextPhys + memSize > this.machine.config.ramBytes) {
      throw new RangeError(`${spec.name}: ${memSize >> 20} MiB of memory does not fit in the machine's RAM`);
    }
    for (const core of spec.cores) {
      const kc = this.kcores[core]!;
      if (kc.partition !== null) throw new RangeError(`core ${core} is ${kc.partition.name}'s partition: a partition has its cores to itself`);
      if (spec.placement !== undefined && spec.placement !== 'exo' && kc.runQueue.length > 0) {
        throw new RangeError(`core ${core} already runs ${kc.runQueue[0]!.principal.name}: a partition needs whole cores`);
      }
    }
    if (spec.placement === 'unikernel' || spec.placement === 'mono') return this.addPartition(spec, memSize);
    const pt = new PageTable(this.machine.mem, this.pool, true);
    const p = new Principal(this.principals.length, spec.name, spec.placement ?? 'exo', pt, spec.cores, this.nextPhys, memSize);
    if (spec.code !== undefined) p.code = new CodeMap(spec.code);
    this.nextPhys += memSize;
    this.principals.push(p);
    this.loadImage(p, spec);
    this.calls.caps.createSpace(p.id);
    const boot = this.bootCaps(p, spec);
    spec.cores.forEach((core, k) => {
      const ctx = new Context(p, core);
      ctx.eip = spec.image.entry;
      ctx.esp = USER_STACK_TOP - k * USER_STACK_SIZE - 16;
      ctx.regs[EAX] = p.id;
      ctx.regs[ECX] = BOOT_INFO_VA;
      ctx.regs[EDX] = core;
      ctx.sliceSlot = boot.slices.get(core) ?? -1;
      p.contexts.set(core, ctx);
      this.kcores[core]!.runQueue.push(ctx);
    });
    this.writeBootInfo(p, spec, boot.list);
    return p;
  }

  /** A ring-0 image on whole cores (kernel/exo/partition.ts). */
  private addPartition(spec: PrincipalSpec, memSize: number): Principal {
    const p = partitionCreate(this, spec, this.principals.length, this.nextPhys, memSize);
    if (spec.code !== undefined) p.code = new CodeMap(spec.code);
    this.nextPhys += memSize;
    this.principals.push(p);
    this.calls.caps.createSpace(p.id);
    const { list } = this.bootCaps(p, spec);
    const slotOf = (t: number) => list.find((c) => c[1] === t)?.[0] ?? -1;
    partitionBind(this, p, spec, {
      queue: slotOf(CAP.DEVICE_QUEUE), vector: slotOf(CAP.MSI_VECTOR), domain: slotOf(CAP.DMA_DOMAIN), untyped: slotOf(CAP.UNTYPED),
    });
    partitionInfo(this, p, spec.arg ?? 0, this.nicMac ?? [0, 0, 0, 0, 0, 0]);
    for (const core of spec.cores) this.kcores[core]!.partition = p;
    return p;
  }

  /** A partition ends (its exit gate): its cores come back once the current instruction is done. */
  partitionExit(p: Principal, status: number): void {
    for (const core of p.cores) {
      const cpu = this.machine.cores[core]!;
      cpu.flags &= ~IF;
      cpu.state = 'halted';
    }
    this.at(this.machine.time(), () => this.exit(p, status));
  }

  /** Take a partition's cores back: the kernel's CR3, IDT and gates, its timer, the idle loop. */
  private reclaimCores(p: Principal): void {
    for (const core of p.cores) {
      const kc = this.kcores[core]!;
      if (kc.partition !== p) continue;
      const cpu = this.machine.cores[core]!;
      cyclesFold(cpu, kc);
      kc.partition = null;
      this.initCore(cpu);
      this.startCore(cpu);
    }
  }

  /**
   * A principal's boot capabilities, children of the kernel's roots: the UART, a CoreSlice per
   * core, a DeviceQueue and an MsiVector per NIC queue, a DmaDomain of its own and an Untyped
   * over the free part of its quota.
   */
  private bootCaps(p: Principal, spec: PrincipalSpec): { list: number[][]; slices: Map<number, number> } {
    const list: number[][] = [];
    const caps = this.calls.caps;
    const add = (slot: number) => {
      const i = caps.inspect(p.id, slot).info!;
      list.push([slot, (i.word >>> 8) & 0x1f, i.base, i.size, i.word & 0x3f]);
      return slot;
    };
    add(this.calls.give(p, this.roots.uart, RIGHT.WRITE | RIGHT.GRANT));
    const slices = new Map<number, number>();
    for (const core of spec.cores) slices.set(core, add(this.calls.give(p, this.roots.slices[core]!, RIGHT.READ | RIGHT.GRANT)));
    for (const q of spec.nicQueues ?? []) {
      const qr = this.roots.queues.get(q), vr = this.roots.vectors.get(q);
      if (qr === undefined || vr === undefined) throw new RangeError(`${spec.name}: the NIC has no queue ${q}`);
      add(this.calls.give(p, qr, RIGHT.READ | RIGHT.WRITE | RIGHT.MAP | RIGHT.DMA | RIGHT.GRANT));
      add(this.calls.give(p, vr, RIGHT.READ | RIGHT.MAP | RIGHT.GRANT));
    }
    if (this.block !== null) {
      for (const r of spec.blockRanges ?? [{ base: 0, size: this.block.sectors, rights: RIGHT.READ }]) {
        if (r.base + r.size > this.block.sectors) throw new RangeError(`${spec.name}: block range ${r.base}+${r.size} is past the disk's ${this.block.sectors} sectors`);
        const root = this.calls.blockRoot(r.base, r.size);
        add(this.calls.give(p, root, (r.rights & (RIGHT.READ | RIGHT.WRITE)) | RIGHT.GRANT));
      }
    }
    const dom = this.calls.root({ type: CAP.DMA_DOMAIN, base: p.id + 1 });
    add(this.calls.give(p, dom, RIGHT.MAP | RIGHT.DMA | RIGHT.GRANT));
    const free = p.partition ? p.memSize : p.memSize - p.imageEnd;
    if (free > 0) {
      const ut = this.calls.root({ type: CAP.UNTYPED, base: p.partition ? p.memBase : p.memBase + p.imageEnd, size: free });
      add(this.calls.give(p, ut, 0x3f));
    }
    return { list, slices };
  }

  private writeBootInfo(p: Principal, spec: PrincipalSpec, caps: number[][]): void {
    const mac = this.nicMac ?? [0, 0, 0, 0, 0, 0];
    const words = [
      BOOT_MAGIC, p.id, this.machine.cores.length, caps.length, p.memSize, p.freeVa,
      (mac[0]! | (mac[1]! << 8) | (mac[2]! << 16) | (mac[3]! << 24)) >>> 0, mac[4]! | (mac[5]! << 8),
      spec.irqMode ?? IRQ_MODE.DIRECT, (spec.arg ?? 0) >>> 0,
      ...caps.flat(),
    ];
    if (words.length * 4 > 4096) throw new RangeError(`${spec.name}: too many boot capabilities`);
    for (let k = 0; k < words.length; k++) this.machine.mem.write32(p.bootInfo + 4 * k, words[k]! >>> 0);
  }

  /** Segments placed contiguously at the start of the quota, then the stack and the boot page. */
  private loadImage(p: Principal, spec: PrincipalSpec): void {
    const mem = this.machine.mem;
    const segs = spec.image.segments.filter((s) => s.memsz > 0);
    const lo = Math.min(...segs.map((s) => s.vaddr)) & ~0xfff;
    const hi = Math.max(...segs.map((s) => s.vaddr + s.memsz));
    if (lo < USER_MIN || hi > USER_STACK_TOP - USER_STACK_SIZE) {
      throw new RangeError(`${spec.file}: segments at 0x${lo.toString(16)}..0x${hi.toString(16)} are outside the principal's area 0x${USER_MIN.toString(16)}..0x${(USER_STACK_TOP - USER_STACK_SIZE).toString(16)}`);
    }
    const imageBytes = Math.ceil((hi - lo) / 4096) * 4096;
    const stackBytes = USER_STACK_SIZE * spec.cores.length;
    if (imageBytes + stackBytes + 4096 > p.memSize) throw new RangeError(`${spec.name}: the image and its stacks need more than its ${p.memSize >> 20} MiB`);
    p.freeVa = lo + imageBytes;
    mem.writeBytes(p.memBase, new Uint8Array(imageBytes));
    for (const s of segs) mem.writeBytes(p.memBase + (s.vaddr - lo), s.data);
    const writable = new Set<number>();
    for (const s of segs) if ((s.flags & 2) !== 0) for (let va = s.vaddr & ~0xfff; va < s.vaddr + s.memsz; va += 4096) writable.add(va);
    for (let off = 0; off < imageBytes; off += 4096) {
      p.pt.map(lo + off, p.memBase + off, PTE_US | (writable.has(lo + off) ? PTE_RW : 0));
    }
    const stackPhys = p.memBase + imageBytes;
    mem.writeBytes(stackPhys, new Uint8Array(stackBytes));
    for (let off = 0; off < stackBytes; off += 4096) {
      p.pt.map(USER_STACK_TOP - stackBytes + off, stackPhys + off, PTE_US | PTE_RW);
    }
    p.imageEnd = imageBytes + stackBytes;
    const info = stackPhys + stackBytes;
    mem.writeBytes(info, new Uint8Array(4096));
    p.pt.map(BOOT_INFO_VA, info, PTE_US);
    p.bootInfo = info;
    p.imageEnd += 4096;
  }

  // ---- entry and exit ------------------------------------------------------------------------

  /** The native gate of vector `v` on core `c`: the one way into the kernel. */
  private entry(cpu: Cpu, v: number): void {
    const kc = this.kcores[cpu.id]!;
    let sp = cpu.reg[ESP] >>> 0;
    let error = -1;
    if (v < 32 && hasErrorCode(v)) { error = cpu.rd32(sp); sp += 4; }
    const eip = cpu.rd32(sp), cs = cpu.rd32(sp + 4), eflags = cpu.rd32(sp + 8);
    const fromUser = (cs & 3) === 3;
    const ctx = kc.current;
    if (fromUser && ctx !== null) {
      ctx.regs.set(cpu.reg);
      ctx.eip = eip;
      ctx.eflags = eflags;
      ctx.esp = cpu.rd32(sp + 12);
      kc.stats.entries++;
      ctx.principal.stats.entries++;
      this.emitter.emit('crossing', cpu.id, ctx.principal.name, v, cpu.cycles);
    }
    this.charge(cpu, ctx, this.costs.exoCall);

    if (v === VEC.EXO_CALL && fromUser && ctx !== null) {
      kc.stats.exoCalls++;
      ctx.principal.stats.exoCalls++;
      const result = this.calls.dispatch(cpu, ctx);
      if (result === WAIT) return; // the core waits in the kernel; a machine event resumes it
      ctx.regs[EAX] = result;
    } else if (v < 32) {
      this.exception(cpu, kc, v, error, eip, fromUser);
    } else {
      this.interrupt(cpu, kc, v);
    }
    this.leave(cpu);
  }

  /** Decide what runs next on this core and write the iret frame for it. */
  leave(cpu: Cpu): void {
    const kc = this.kcores[cpu.id]!;
    let ctx = kc.current;
    if (ctx !== null && (!ctx.principal.alive || ctx.sleeping)) ctx = null;
    if (ctx === null) ctx = this.pickNext(kc, null);
    if (ctx !== kc.current) this.switchTo(cpu, kc, ctx);
    const top = kstackTop(cpu.id);
    if (ctx === null) {
      // Idle: return into the kernel's idle loop with interrupts on.
      cpu.wr32(top - 12, IDLE);
      cpu.wr32(top - 8, KERNEL_CS);
      cpu.wr32(top - 4, 0x202);
      cpu.reg[ESP] = top - 12;
      return;
    }
    this.deliverPending(cpu, ctx);
    if (!ctx.principal.alive) { this.leave(cpu); return; }
    cpu.reg.set(ctx.regs);
    cpu.wr32(top - 20, ctx.eip);
    cpu.wr32(top - 16, USER_CS);
    cpu.wr32(top - 12, (ctx.eflags | IF) & ~0x3000); // user code runs with interrupts on, IOPL 0
    cpu.wr32(top - 8, ctx.esp);
    cpu.wr32(top - 4, USER_DS);
    cpu.reg[ESP] = top - 20;
    kc.stats.exits++;
    ctx.principal.stats.exits++;
  }

  private switchTo(cpu: Cpu, kc: KCore, next: Context | null): void {
    cyclesFold(cpu, kc);
    kc.current = next;
    if (next === null) return;
    kc.stats.contextSwitches++;
    this.charge(cpu, next, this.costs.contextSwitch);
    if (cpu.cr3 !== next.principal.pt.pd) cpu.writeCr3(next.principal.pt.pd);
  }

  /** Round robin among the live contexts of this core, starting after `after`. */
  private pickNext(kc: KCore, after: Context | null): Context | null {
    const q = kc.runQueue;
    const start = after === null ? 0 : q.indexOf(after) + 1;
    for (let k = 0; k < q.length; k++) {
      const c = q[(start + k) % q.length]!;
      if (c.principal.alive && !c.sleeping && this.holdsSlice(c)) return c;
    }
    return null;
  }

  charge(cpu: Cpu, ctx: Context | null, cycles: number): void {
    cpu.cycles += cycles;
    this.kcores[cpu.id]!.stats.kernelCycles += cycles;
    if (ctx !== null) ctx.principal.stats.kernelCycles += cycles;
  }

  // ---- exceptions and upcalls ------------------------------------------------------------

  private exception(cpu: Cpu, kc: KCore, v: number, error: number, eip: number, fromUser: boolean): void {
    const ctx = kc.current;
    if (!fromUser || ctx === null) {
      // A fault in the kernel's own page: nothing a guest does may get here; stop the core.
      cpu.shutdown(`kernel fault: vector ${v} at 0x${(eip >>> 0).toString(16)}`);
      return;
    }
    const p = ctx.principal;
    if (v === 14) {
      p.stats.pageFaults++;
      this.queueUpcall(ctx, { kind: UPCALL.PAGE_FAULT, arg0: cpu.cr2, arg1: error, raisedAt: cpu.cycles, mode: -1 });
      if (!p.upcalls.has(UPCALL.PAGE_FAULT)) this.kill(p, `page fault at 0x${(cpu.cr2 >>> 0).toString(16)} (error ${error}) at eip 0x${(eip >>> 0).toString(16)} with no page-fault handler`);
      return;
    }
    this.kill(p, `exception ${v} (error ${error}) at eip 0x${(eip >>> 0).toString(16)}`);
  }

  queueUpcall(ctx: Context, u: PendingUpcall): void {
    ctx.sleeping = false;
    // Page faults go first: the faulting instruction cannot go on without its page.
    if (u.kind === UPCALL.PAGE_FAULT) { ctx.pending.unshift(u); return; }
    // An interrupt of a vector already pending is the same news, as a LAPIC's IRR bit holds
    // one: it merges into that upcall (whose time, the earlier, stays the latency's start).
    if (u.kind === UPCALL.INTERRUPT && ctx.pending.some((x) => x.kind === UPCALL.INTERRUPT && x.arg0 === u.arg0)) {
      this.kcores[ctx.core]!.stats.mergedInterrupts++;
      return;
    }
    ctx.pending.push(u);
  }

  /** True while the context runs on its exception stack (inside an upcall handler). */
  private inHandler(ctx: Context): boolean {
    for (const e of ctx.principal.upcalls.values()) {
      const d = (e.stackTop - (ctx.esp >>> 0)) >>> 0;
      if (d < EXCEPTION_STACK_LIMIT) return true;
    }
    return false;
  }

  /**
   * Deliver what is pending for the context about to run: a page fault always (it may nest);
   * interrupts, revocation requests and timer notices only outside a handler, so a handler is
   * never re-entered by them (Aegis masks them the same way until the LibOS resumes itself).
   */
  private deliverPending(cpu: Cpu, ctx: Context): void {
    while (ctx.pending.length > 0 && ctx.principal.alive) {
      const u = ctx.pending[0]!;
      if (u.kind !== UPCALL.PAGE_FAULT && this.inHandler(ctx)) return;
      ctx.pending.shift();
      const entry = ctx.principal.upcalls.get(u.kind);
      if (entry === undefined) continue; // nobody listens: dropped (counted by the caller's stats)
      this.writeUpcall(cpu, ctx, u, entry.handler, entry.stackTop);
      if (u.kind !== UPCALL.PAGE_FAULT) return; // one asynchronous upcall per exit
    }
  }

  /** Write the upcall frame on the exception stack and point the context at the handler. */
  private writeUpcall(cpu: Cpu, ctx: Context, u: PendingUpcall, handler: number, stackTop: number): void {
    const p = ctx.principal;
    const nested = ((stackTop - (ctx.esp >>> 0)) >>> 0) < EXCEPTION_STACK_LIMIT;
    let sp = nested ? (ctx.esp >>> 0) - 64 : stackTop >>> 0; // skip what the handler may have below its ESP
    sp = (sp - UPCALL_FRAME_WORDS * 4) & ~15;
    if (((stackTop - sp) >>> 0) > EXCEPTION_STACK_LIMIT) { this.kill(p, 'upcalls nested beyond the exception stack'); return; }
    const r = ctx.regs;
    const frame = [u.kind, u.arg0 >>> 0, u.arg1 >>> 0, ctx.eip, ctx.eflags, ctx.esp, r[0]!, r[1]!, r[2]!, r[3]!, r[5]!, r[6]!, r[7]!,
      (u.info ?? 0) >>> 0, cpu.id, ctx.pending.length];
    const args = [0, sp]; // return address (a handler must not return) and the frame pointer
    if (!this.copyOut(p, sp, frame) || !this.copyOut(p, sp - 8, args)) {
      this.kill(p, `exception stack at 0x${(sp >>> 0).toString(16)} is not writable user memory`);
      return;
    }
    ctx.eip = handler;
    ctx.esp = sp - 8;
    ctx.eflags &= ~0x400; // DF clear on entry, as the C ABI wants; the frame keeps the interrupted one
    const kc = this.kcores[cpu.id]!;
    kc.stats.upcalls[u.kind]++;
    p.stats.upcalls[u.kind]++;
    this.charge(cpu, ctx, this.costs.upcallDispatch);
    if (u.mode >= 0) kc.stats.irqLatency[IRQ_MODES[u.mode]!].add(cpu.cycles - u.raisedAt);
    this.emitter.emit('upcall', cpu.id, p.name, UPCALL_KINDS[u.kind] ?? String(u.kind), cpu.cycles);
  }

  // ---- guest memory through a principal's page table ------------------------------------------

  /** Physical address of a user-accessible byte, or -1 (not mapped, or not writable when asked). */
  userPhys(p: Principal, va: number, write: boolean): number {
    if ((va >>> 0) < KERNEL_END) return -1;
    const pte = p.pt.pte(va);
    if ((pte & 1) === 0 || (pte & PTE_US) === 0 || (write && (pte & PTE_RW) === 0)) return -1;
    return ((pte & ~0xfff) | (va & 0xfff)) >>> 0;
  }

  copyOut(p: Principal, va: number, words: number[]): boolean {
    for (let k = 0; k < words.length; k++) if (this.userPhys(p, va + 4 * k, true) < 0 || this.userPhys(p, va + 4 * k + 3, true) < 0) return false;
    for (let k = 0; k < words.length; k++) {
      for (let b = 0; b < 4; b++) this.machine.mem.write8(this.userPhys(p, va + 4 * k + b, true), (words[k]! >>> (8 * b)) & 0xff);
    }
    return true;
  }

  copyIn(p: Principal, va: number, len: number): Uint8Array | null {
    if (len < 0 || len > (1 << 20)) return null;
    const out = new Uint8Array(len);
    for (let k = 0; k < len; k++) {
      const pa = this.userPhys(p, va + k, false);
      if (pa < 0) return null;
      out[k] = this.machine.mem.read8(pa);
    }
    return out;
  }

  // ---- ending principals -----------------------------------------------------------------------

  kill(p: Principal, reason: string): void {
    if (!p.alive) return;
    p.state = 'killed';
    p.killReason = reason;
    this.retire(p);
    this.emitter.emit('killed', p.name, reason);
  }

  exit(p: Principal, status: number): void {
    if (!p.alive) return;
    p.state = 'exited';
    p.exitStatus = status;
    this.retire(p);
    this.emitter.emit('exited', p.name, status);
  }

  /** Take everything back: its capabilities (and with them every binding), its contexts. */
  private retire(p: Principal): void {
    this.calls.retire(p);
    if (p.partition) this.reclaimCores(p);
    // The last principal gone: nothing can run any more, so the machine powers off.
    if (this.principals.every((q) => !q.alive)) this.machine.sysctl.mmioWrite(SYSCTL_POWEROFF, 4, 0);
    for (const ctx of p.contexts.values()) {
      ctx.pending.length = 0;
      const kc = this.kcores[ctx.core]!;
      if (kc.current === ctx && kc.waiting === null) this.kick(ctx.core);
    }
  }

  // ---- interrupts ---------------------------------------------------------------------------

  /** MSI vector -> who gets it and how (secure bindings made by IRQ_BIND). */
  readonly irqs = new Map<number, IrqBinding>();
  /** Per MSI vector, when the device wrote the messages not yet taken (for latency). */
  private readonly msiTimes = new Map<number, number[]>();
  /** The core that takes `ipi` and `workqueue` mode interrupts and forwards them. */
  irqCore = 0;

  private interrupt(cpu: Cpu, kc: KCore, v: number): void {
    kc.stats.interrupts++;
    for (const c of kc.runQueue) c.sleeping = false; // any interrupt wakes the core's sleepers
    this.machine.lapics[cpu.id]!.mmioWrite(0xb0, 4, 0); // EOI
    this.charge(cpu, kc.current, this.costs.eoi);
    if (v === VEC.TIMER) { this.tick(cpu, kc); return; }
    if (v === VEC.IOMMU_FAULT) { this.iommuFaultIrqs++; return; } // recorded by the IOMMU; reports read its log
    if (v === VEC.FORWARD || v === VEC.KICK) return; // what was forwarded is already pending
    const b = this.irqs.get(v);
    const times = this.msiTimes.get(v);
    const raisedAt = times !== undefined && times.length > 0 ? times[0]! : cpu.cycles;
    if (times !== undefined) times.length = 0; // the LAPIC merges messages that arrive together
    if (b === undefined || !b.principal.alive) { this.spurious++; return; }
    const ctx = b.principal.contexts.get(b.core);
    if (ctx === undefined) { this.spurious++; return; }
    b.principal.stats.interrupts++;
    this.queueUpcall(ctx, { kind: UPCALL.INTERRUPT, arg0: v, arg1: b.mode, raisedAt, mode: b.mode });
    if (b.mode === IRQ_MODE_IPI && b.core !== cpu.id) {
      kc.stats.forwardedIpis++;
      this.sendIpi(cpu, b.core, VEC.FORWARD);
    }
    // workqueue: it waits for the owner core's next kernel entry (an exo-call or the tick)
  }

  spurious = 0;

  sendIpi(cpu: Cpu, to: number, vector: number): void {
    const lapic = this.machine.lapics[cpu.id]!;
    lapic.mmioWrite(0x310, 4, to << 24);
    lapic.mmioWrite(0x300, 4, vector);
  }

  /** The per-core round robin: the slice of the current context ends. */
  private tick(cpu: Cpu, kc: KCore): void {
    kc.stats.timerTicks++;
    const cur = kc.current;
    const next = this.pickNext(kc, cur);
    if (cur === null || next === null || next === cur) return;
    if (cur.principal.upcalls.has(UPCALL.TIMER)) {
      this.queueUpcall(cur, { kind: UPCALL.TIMER, arg0: cpu.cycles >>> 0, arg1: 0, raisedAt: cpu.cycles, mode: -1 });
    }
    this.switchTo(cpu, kc, next);
  }

  /** Called by the machine for every MSI a device writes: remember when, for latency. */
  private onMsi(_dest: number, vector: number, at: number): boolean {
    if (this.dropMsis > 0) { this.dropMsis--; return false; }
    let t = this.msiTimes.get(vector);
    if (t === undefined) this.msiTimes.set(vector, t = []);
    if (t.length < 64) t.push(at);
    return true;
  }

  /** Fault injection: drop the next n MSIs. */
  dropMsis = 0;

  /** Start every core: the timer for the round robin, then into the first context or idle. */
  start(): void {
    this.machine.onMsi = (d, v, at) => this.onMsi(d, v, at);
    this.machine.events.register(this);
    this.machine.onShutdown = (core, reason) => {
      const p = this.kcores[core]!.partition;
      if (p === null) return false;
      this.kill(p, `triple fault on core ${core}: ${reason}`);
      return true;
    };
    for (const cpu of this.machine.cores) {
      const p = this.kcores[cpu.id]!.partition;
      if (p !== null) {
        partitionStart(this, p, cpu, cpu.id === p.cores[0]);
        cyclesFold(cpu, this.kcores[cpu.id]!, null);   // the kernel's boot and hand-over: no one's
      } else {
        this.startCore(cpu);
      }
    }
  }

  /** A core the kernel schedules: its round-robin timer, then the first context or idle. */
  private startCore(cpu: Cpu): void {
    const lapic = this.machine.lapics[cpu.id]!;
    lapic.mmioWrite(0xf0, 4, 0x100 | VEC.SPURIOUS);      // SVR: enable
    lapic.mmioWrite(0x3e0, 4, 0xb);                      // divide by 1
    lapic.mmioWrite(0x320, 4, 0x20000 | VEC.TIMER);      // periodic
    lapic.mmioWrite(0x380, 4, this.costs.timeSlice);
    this.leave(cpu);
    cpu.eip = STUBS + VEC.KICK * STUB_SIZE + 3;          // the stub's iret takes the frame leave() wrote
    cpu.state = 'running';
  }

  /** Machine events the kernel scheduled for itself (continuations of waiting operations). */
  onEvent(kind: number, arg: number, at: number): void {
    this.continuations.get(arg)?.(at);
    this.continuations.delete(arg);
  }

  private readonly continuations = new Map<number, (at: number) => void>();
  private nextEvent = 1;

  // ---- waiting in the kernel ------------------------------------------------------------

  /** The calling core stays in the kernel, halted with interrupts off, until resume(). */
  waitOn(cpu: Cpu, what: string): void {
    const kc = this.kcores[cpu.id]!;
    kc.waiting = what;
    kc.waitSince = cpu.cycles;
    cpu.state = 'halted';
  }

  /** A waiting operation is done: `value` to the caller's EAX, and the core goes on. */
  resume(cpu: Cpu, ctx: Context, value: number): void {
    const kc = this.kcores[cpu.id]!;
    if (kc.waiting !== null) kc.stats.waitCycles += Math.max(0, this.machine.time() - kc.waitSince);
    kc.waiting = null;
    ctx.regs[EAX] = value;
    if (cpu.cycles < this.machine.time()) cpu.cycles = this.machine.time();
    cpu.state = 'running';
    this.leave(cpu);
  }

  /** Be told when a NIC queue reports DRAINED; the listener returns true once it is done. */
  onDrained(f: (q: number, at: number) => boolean): void {
    this.drainedListeners.push(f);
  }

  /** A DMA revocation starts on `cpu`: its timeline, filled in as it goes. */
  revocationStart(cpu: Cpu, ctx: Context, iova: number, pages: number, inFlight: number, safe: boolean): RevocationTimeline {
    const t = cpu.cycles;
    return { principal: ctx.principal.name, core: cpu.id, iova, pages, inFlight, safe, queues: [], start: t, drained: t, unmapped: t, invalidated: t, done: t };
  }

  revocationDone(t: RevocationTimeline, at: number): void {
    t.done = at;
    this.revocations.push(t);
    if (this.revocations.length > 1000) this.revocations.shift();
    this.emitter.emit('revocation', t);
  }

  returned(req: RevokeRequest, at: number): void {
    this.reclaims.push({ principal: req.principal.name, slot: req.slot, outcome: 'returned', asked: req.asked, at });
    this.emitter.emit('reclaim', req.principal.name, 'returned', req.slot, at);
  }

  repossessed(req: RevokeRequest, at: number): void {
    this.reclaims.push({ principal: req.principal.name, slot: req.slot, outcome: 'repossessed', asked: req.asked, at });
    this.emitter.emit('reclaim', req.principal.name, 'repossessed', req.slot, at);
  }

  // ---- scheduling and console -------------------------------------------------------------

  /** A context runs on its core only while its principal holds the CoreSlice for it. */
  private holdsSlice(ctx: Context): boolean {
    const c = this.calls.caps.lookup(ctx.principal.id, ctx.sliceSlot, CAP.CORE_SLICE, 0);
    return typeof c !== 'number' && c.object.base === ctx.core;
  }

  /** YIELD: the next runnable context of this core, if there is another. */
  yieldCore(cpu: Cpu, ctx: Context): number {
    const kc = this.kcores[cpu.id]!;
    const next = this.pickNext(kc, ctx);
    if (next !== null && next !== ctx) { this.switchTo(cpu, kc, next); return 0; }
    // Nobody else wants the core: it halts until its next interrupt (the tick at the latest),
    // rather than the LibOS spinning through the kernel.
    ctx.sleeping = true;
    kc.stats.sleeps++;
    return 0;
  }

  /** DONATE: run `target`'s context on this core next. */
  donate(cpu: Cpu, ctx: Context, target: number): number {
    const p = this.principals[target];
    if (p === undefined || !p.alive) return ERR.NO_PRINCIPAL;
    const next = p.contexts.get(cpu.id);
    if (next === undefined || !this.holdsSlice(next)) return ERR.PERM;
    ctx.regs[EAX] = 0;
    if (next !== ctx) this.switchTo(cpu, this.kcores[cpu.id]!, next);
    return 0;
  }

  /**
   * Make a core look at its run queue soon: an IPI from another core the kernel schedules (a
   * partition's cores are its own: the kernel sends nothing from them). With no such core, the
   * core finds its run queue at its next kernel entry (its timer at the latest).
   */
  kick(core: number): void {
    const from = this.machine.cores.find((c) => c.id !== core && this.kcores[c.id]!.partition === null);
    if (from !== undefined) this.sendIpi(from, core, VEC.KICK);
  }

  /** Page-table entries of `p` changed: drop them from the TLB of every core using its directory. */
  shootdown(p: Principal, va: number, size: number): void {
    for (const cpu of this.machine.cores) {
      if (cpu.cr3 !== p.pt.pd) continue;
      for (let off = 0; off < size; off += 4096) cpu.tlbInvalidate(va + off);
    }
  }

  /** CONSOLE_WRITE: bytes to the UART, through its transmit register. */
  console(p: Principal, bytes: Uint8Array): void {
    for (const b of bytes) { this.machine.uart.mmioWrite(0, 1, b); p.console.push(b); }
    if (p.console.length > 65536) p.console.splice(0, p.console.length - 65536);
    this.emitter.emit('console', p.name, String.fromCharCode(...bytes));
  }

  /** Run `fn` at cycle `at` (a continuation of a waiting kernel operation). */
  at(at: number, fn: (at: number) => void): void {
    const id = this.nextEvent++;
    this.continuations.set(id, fn);
    this.machine.events.schedule(at, this, 0, id);
  }
}

function macOf(lo: number, hi: number): number[] {
  return [lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff];
}
