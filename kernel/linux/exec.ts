// `exolab exec`: run a static i386 ELF in ring 3 on one core under a tiny Linux personality
// (exit, write, exit_group), as qemu-i386 does. Everything is architectural: the program
// traps with `int 0x80` through the IDT into a ring-0 stub whose native gate runs the system
// call here, then `iret`s back; exceptions reach a stub that reports them as the signal
// Linux would send.

import { PhysicalMemory, PAGE_SIZE } from '../../machine/memory.js';
import {
  Cpu, EAX, EBX, ECX, EDX, ESP, CS, SS, DS, ES, IF, CR0_PE, CR0_PG, CR0_WP,
  PTE_P, PTE_RW, PTE_US, MSR_EXO_ESP0, MSR_EXO_SS0, EXCEPTION_MNEMONICS, EXCEPTION_NAMES,
} from '../../machine/cpu/cpu.js';
import { type ElfImage, PF_W } from '../../machine/elf.js';
import { InputError } from '../../machine/errors.js';

export interface ExecOptions {
  /** The image's file name, for error messages. */
  file?: string;
  maxInstructions?: number;
  /** Guest output; return a negative Linux errno to fail the write (-32 EPIPE kills with SIGPIPE). */
  onStdout?(bytes: Uint8Array): number | void;
  onStderr?(bytes: Uint8Array): number | void;
}

export type Signal = 'SIGFPE' | 'SIGSEGV' | 'SIGILL' | 'SIGTRAP' | 'SIGPIPE';

export interface ExecResult {
  status: 'exit' | 'fault' | 'limit';
  /** The guest's exit code; for a fault 128 + signal number, as a shell reports it. */
  exitCode: number;
  signal?: Signal;
  fault?: { vector: number; name: string; eip: number; errorCode: number; cr2: number };
  instructions: number;
  cycles: number;
}

// Physical layout of the monitor (identity-mapped, supervisor-only).
const PD = 0x1000;
const IDT = 0x2000;
const STUBS = 0x3000;
const KSTACK_TOP = 0x8000;
const FIRST_FREE = 0x10000;
// Virtual layout of the process.
const STACK_TOP = 0xc0000000;
const STACK_SIZE = 8 << 20;
// Linux i386 selectors (user code and data have RPL 3).
const KERNEL_CS = 0x08, KERNEL_SS = 0x10, USER_CS = 0x23, USER_DS = 0x2b;

const GATE_SYSCALL = 0x80;
const GATE_FAULT = 0x81;

const SIGNALS: Record<Signal, number> = { SIGILL: 4, SIGTRAP: 5, SIGFPE: 8, SIGSEGV: 11, SIGPIPE: 13 };
const ENOSYS = 38, EFAULT = 14, EBADF = 9, EPIPE = 32;

function signalFor(vector: number): Signal {
  if (vector === 0) return 'SIGFPE';
  if (vector === 6) return 'SIGILL';
  if (vector === 3 || vector === 1) return 'SIGTRAP';
  return 'SIGSEGV';
}

/** Bump allocator of zeroed physical frames above the monitor. */
class Frames {
  private next = FIRST_FREE;
  constructor(private readonly limit: number) {}
  alloc(): number {
    if (this.next + PAGE_SIZE > this.limit) throw new RangeError('out of guest RAM while loading');
    const f = this.next;
    this.next += PAGE_SIZE;
    return f;
  }
}

function mapPage(mem: PhysicalMemory, frames: Frames, va: number, pa: number, flags: number): void {
  const pdeAddr = PD + ((va >>> 22) << 2);
  let pde = mem.read32(pdeAddr);
  if ((pde & PTE_P) === 0) {
    pde = frames.alloc() | PTE_P | PTE_RW | PTE_US; // leaf PTEs decide the real permissions
    mem.write32(pdeAddr, pde);
  }
  mem.write32((pde & -4096) + (((va >>> 12) & 0x3ff) << 2), (pa & -4096) | flags | PTE_P);
}

/** Build the IDT and its stubs: every vector reports a fault, 0x80 is the system call. */
function buildIdt(mem: PhysicalMemory): void {
  const HAS_ERROR = new Set([8, 10, 11, 12, 13, 14, 17]);
  for (let v = 0; v < 256; v++) {
    const stub = STUBS + v * 8;
    let code: number[];
    if (v === GATE_SYSCALL) code = [0x0f, 0x3f, GATE_SYSCALL, 0xcf]; // native 0x80; iret
    else code = [...(HAS_ERROR.has(v) ? [] : [0x6a, 0x00]), 0x6a, v, 0x0f, 0x3f, GATE_FAULT, 0xf4];
    mem.writeBytes(stub, Uint8Array.from(code));
    const dpl = v === GATE_SYSCALL || v === 3 ? 3 : 0;
    const lo = (KERNEL_CS << 16) | (stub & 0xffff);
    const hi = (stub & 0xffff0000) | 0x8000 | (dpl << 13) | (0x0e << 8); // present 32-bit interrupt gate
    mem.write32(IDT + v * 8, lo);
    mem.write32(IDT + v * 8 + 4, hi);
  }
}

/** Lay out argc, argv, envp and auxv on the new stack as the Linux loader does. */
function buildStack(cpu: Cpu, mem: PhysicalMemory): number {
  const name = new TextEncoder().encode('a.out\0');
  let sp = STACK_TOP - 16;
  sp -= name.length;
  const argv0 = sp;
  sp &= ~15;
  const words = [1, argv0, 0, 0, /* AT_PAGESZ */ 6, PAGE_SIZE, /* AT_NULL */ 0, 0];
  sp -= words.length * 4;
  const write = (va: number, b: number) => mem.write8(cpu.probe(va), b);
  name.forEach((b, k) => write(argv0 + k, b));
  words.forEach((w, k) => { for (let j = 0; j < 4; j++) write(sp + 4 * k + j, w >>> (8 * j)); });
  return sp;
}

/** Copy `len` bytes of user memory, or null if any byte is unmapped (EFAULT). */
function copyFromUser(cpu: Cpu, va: number, len: number): Uint8Array | null {
  // Check every page first: the length is the guest's and may be absurd.
  const pages = Math.ceil(((va & 4095) + len) / 4096);
  for (let k = 0; k < pages; k++) if (cpu.probe(((va & -4096) + k * 4096) | 0) < 0) return null;
  const out = new Uint8Array(len);
  for (let k = 0; k < len; k++) {
    const b = cpu.peek8((va + k) | 0);
    if (b < 0) return null;
    out[k] = b;
  }
  return out;
}

/** The most memory a program's segments may ask for. */
const MAX_LOAD = 1 << 30;

/**
 * Check the image fits the process layout: segments between 64 KiB (below is the monitor,
 * and Linux refuses it too: vm.mmap_min_addr) and the stack, and at most 1 GiB in all.
 */
function execCheckLayout(image: ElfImage, file: string): number {
  let bytes = 0;
  for (const seg of image.segments) {
    const end = seg.vaddr + seg.memsz;
    if (seg.memsz > 0 && (seg.vaddr < FIRST_FREE || end > STACK_TOP - STACK_SIZE)) {
      throw new InputError(`${file}: segment at 0x${seg.vaddr.toString(16)}..0x${end.toString(16)} is outside the program area 0x${FIRST_FREE.toString(16)}..0x${(STACK_TOP - STACK_SIZE).toString(16)}`);
    }
    bytes += seg.memsz + 2 * PAGE_SIZE;
  }
  if (bytes > MAX_LOAD) throw new InputError(`${file}: segments need ${Math.ceil(bytes / 2 ** 20)} MiB, more than the ${MAX_LOAD >> 20} MiB exec provides`);
  return bytes;
}

export function execElf(image: ElfImage, opts: ExecOptions = {}): ExecResult {
  const loadBytes = execCheckLayout(image, opts.file ?? 'program');
  const ramSize = Math.max(32 << 20, Math.ceil((loadBytes + STACK_SIZE + (8 << 20)) / (1 << 20)) << 20);
  const mem = new PhysicalMemory(ramSize);
  const cpu = new Cpu(mem);
  const frames = new Frames(ramSize);

  // The monitor's own pages: identity-mapped, supervisor only.
  for (let pa = PD; pa < FIRST_FREE; pa += PAGE_SIZE) mapPage(mem, frames, pa, pa, PTE_RW);
  buildIdt(mem);

  // The program's segments: one frame per virtual page, permissions the union of the segments'.
  const pages = new Map<number, { frame: number; writable: boolean }>();
  for (const seg of image.segments) {
    if (seg.memsz === 0) continue;
    const first = seg.vaddr >>> 12, last = (seg.vaddr + seg.memsz - 1) >>> 12;
    for (let vpn = first; vpn <= last; vpn++) {
      const p = pages.get(vpn) ?? { frame: frames.alloc(), writable: false };
      p.writable ||= (seg.flags & PF_W) !== 0;
      pages.set(vpn, p);
    }
    for (let k = 0; k < seg.data.length; k++) {
      const va = seg.vaddr + k;
      mem.write8(pages.get(va >>> 12)!.frame + (va & 4095), seg.data[k]);
    }
  }
  for (const [vpn, p] of pages) mapPage(mem, frames, vpn << 12, p.frame, PTE_US | (p.writable ? PTE_RW : 0));
  for (let va = STACK_TOP - STACK_SIZE; va < STACK_TOP; va += PAGE_SIZE) {
    mapPage(mem, frames, va, frames.alloc(), PTE_US | PTE_RW);
  }

  let result: Omit<ExecResult, 'instructions' | 'cycles'> | null = null;
  cpu.gates[GATE_SYSCALL] = (c) => {
    const r = c.reg;
    const nr = r[EAX];
    if (nr === 1 || nr === 252) { // exit, exit_group
      result = { status: 'exit', exitCode: r[EBX] & 0xff };
      c.shutdown('exit');
    } else if (nr === 4) { // write
      const fd = r[EBX], len = r[EDX];
      if (fd !== 1 && fd !== 2) { r[EAX] = -EBADF; return; }
      if (len < 0) { r[EAX] = -EFAULT; return; }
      const bytes = copyFromUser(c, r[ECX], len);
      if (bytes === null) { r[EAX] = -EFAULT; return; }
      const err = (fd === 1 ? opts.onStdout : opts.onStderr)?.(bytes) ?? 0;
      if (err === -EPIPE) { // nobody reads: Linux sends SIGPIPE, whose default action kills
        result = { status: 'fault', exitCode: 128 + SIGNALS.SIGPIPE, signal: 'SIGPIPE' };
        c.shutdown('SIGPIPE');
        return;
      }
      r[EAX] = err < 0 ? err : len;
    } else {
      r[EAX] = -ENOSYS;
    }
  };
  cpu.gates[GATE_FAULT] = (c) => {
    const sp = c.reg[ESP];
    const vector = c.rd32(sp), errorCode = c.rd32(sp + 4), eip = c.rd32(sp + 8);
    const signal = signalFor(vector);
    result = {
      status: 'fault', exitCode: 128 + SIGNALS[signal], signal,
      fault: {
        vector, eip: eip >>> 0, errorCode, cr2: c.cr2 >>> 0,
        name: `${EXCEPTION_MNEMONICS[vector] ?? `vector ${vector}`} (${EXCEPTION_NAMES[vector] ?? 'exception'})`,
      },
    };
    c.shutdown('fault');
  };

  // Enter the program in ring 3 with paging on, as after execve().
  cpu.idtBase = IDT;
  cpu.idtLimit = 256 * 8 - 1;
  cpu.msrs.set(MSR_EXO_ESP0, [KSTACK_TOP, 0]);
  cpu.msrs.set(MSR_EXO_SS0, [KERNEL_SS, 0]);
  cpu.cr3 = PD;
  cpu.writeCr0(CR0_PE | CR0_PG | CR0_WP);
  cpu.reg[ESP] = buildStack(cpu, mem);
  cpu.sreg[CS] = USER_CS;
  cpu.sreg[SS] = cpu.sreg[DS] = cpu.sreg[ES] = USER_DS;
  cpu.setCpl(3);
  cpu.setFlags(IF, IF);
  cpu.eip = image.entry;

  const limit = opts.maxInstructions ?? Number.MAX_SAFE_INTEGER;
  const state = cpu.run(Number.POSITIVE_INFINITY, limit);
  const counts = { instructions: cpu.instructions, cycles: cpu.cycles };
  if (result !== null) return { ...(result as Omit<ExecResult, 'instructions' | 'cycles'>), ...counts };
  if (state === 'shutdown') {
    // A triple fault: the monitor could not even report the exception.
    return {
      status: 'fault', exitCode: 128 + SIGNALS.SIGSEGV, signal: 'SIGSEGV',
      fault: { vector: cpu.excVector, name: cpu.shutdownReason, eip: cpu.curEip >>> 0, errorCode: cpu.excError, cr2: cpu.cr2 >>> 0 },
      ...counts,
    };
  }
  return { status: 'limit', exitCode: 124, ...counts };
}
