/* plat.h for the mono placement: the LibOS (libos/net, libos/libc) as a small monolithic
   kernel in ring 0, and the app above it in ring 3, in one image (DESIGN section 4).

   The image. One ELF from link.ld: kernel sections on supervisor pages, the app's on user
   pages. kernel/guest-build.ts compiles the app (apps/X), its own copy of libos/libc and
   user/ (the system-call stubs behind net.h and the console) apart, links them into one
   relocatable object and renames its sections .user.* and its symbols __user_*, so the two
   copies of libc never meet and the app cannot call into the kernel except by a trap: an
   undefined reference on the app's side fails the link instead of resolving to the kernel.

   The boundary (mono.h, ksys.c). The app reaches the LibOS only by `int 0x80`; the kernel
   copies each argument and buffer across and checks every pointer against the app's pages. An
   echo request costs two system calls, one receive and one send: four privilege crossings
   (the CPU counts them; the exokernel reports them per request).

   The machine. A partition of the exokernel (kernel/exo/partition.ts): whole cores, its memory
   at the image's own addresses for the CPU and the IOMMU alike, its NIC queue's page mapped
   and its MSI-X entry routed to this core. The mono kernel then builds its own page directory
   (struct exo_part_info gives the physical address of its memory and of the queue's page): the
   kernel and the DMA memory supervisor-only, the app's pages user, the UART, the local APIC
   and the queue's page uncached. Its own IDT, with the one user-callable gate 0x80, and the
   ring-0 stack for traps from ring 3 in MSR_EXO_ESP0 (the machine's stand-in for TSS.esp0).

   On the bare machine (exolab boot: paging off, EAX = 'EXOL', ECX = RAM bytes) it owns the
   machine instead, and its memory is the RAM from the image up, mapped one to one, so that its
   pointers are physical and I/O addresses as the board's drivers (../pc/) want: the disk
   (pc/block.c, through the IOMMU) serves the LibOS's file system. No NIC queue there: the
   network is a partition's (plat_nic_open fails). The device window above PC_DEVICES is
   mapped in 4 MiB supervisor pages for the drivers' BARs. */

#include "libc.h"
#include "plat.h"
#include "exo.h"
#include "mono.h"
#include "../pc/pc.h"

#define VEC_NIC		0x40	/* + queue: where the exokernel routes a partition's queue */
#define VEC_SPURIOUS	0xff
#define MSR_EXO_ESP0	0x40000100u	/* machine/cpu/arch.ts */
#define MSR_EXO_SS0	0x40000101u
#define PAGE		4096u
#define PTE_P		0x001u
#define PTE_RW		0x002u
#define PTE_US		0x004u
#define PTE_PCD		0x010u
#define PTE_PS		0x080u	/* a 4 MiB page (CR4.PSE) */
#define CR0_PG		0x80000000u
#define CR4_PSE		0x10u
#define PT_POOL		8	/* page tables: the image spans a few 4 MiB regions, the devices two */
#define KSTACK_BYTES	32768	/* crt0.S */

/* The frame crt0.S's stubs build: pusha, vector, error code, the CPU's; ESP and SS from ring 3. */
struct mono_frame {
	uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
	uint32_t user_esp, user_ss;
};

int32_t mono_syscall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5);	/* ksys.c */
void mono_trap(struct mono_frame *f);
int mono_main(void);
__attribute__((noreturn)) void mono_enter_user(uint32_t eip, uint32_t esp);	/* crt0.S */
void __user_mono_ustart(void);	/* user/usys.c's mono_ustart, renamed by the build */

uint32_t mono_boot_magic, mono_ram_bytes, mono_part_info;
extern char mono_kstack[];
extern char __mono_user_start[], __mono_user_data[], __mono_user_bss[], __mono_user_bss_end[], __mono_user_stack_top[], __mono_user_end[];
extern char __mono_kernel_start[], __dma_start[], __dma_end[], _end[];
static const struct exo_part_info *part;
static struct exo_part_info bareInfo;	/* on the bare machine: its memory, no queue */
static int bare;
static uint32_t dmaNext, nicVector = VEC_NIC;

int pc_bare(void)
{
	return bare;
}

/* ---- exit (the console and the interrupt wait: ../pc/cpu.c) ---- */

__attribute__((noreturn)) void plat_exit(int status)
{
	__asm__ volatile("cli");
	if (part && !bare) {
		printf("mono: exit %d\n", status);
		for (;;)	/* the exokernel's exit gate: it takes this core back */
			__asm__ volatile(".byte 0x0f, 0x3f, %c1" : : "a"(status), "i"(EXO_GATE_EXIT) : "memory");
	}
	if (part) {
		pc_iommu_faults_take();
		printf("mono: exit %d; iommu fault messages %u\n", status, pc_iommu_fault_msis);
	}
	for (;;)
		mmio_write(PC_SYSCTL, (uint32_t)status);
}

/* ---- the IDT (SDM vol. 3A 6.11: 8-byte interrupt gates) ---- */

extern const uint32_t mono_isr_table[256];
static uint32_t idt[256][2] __attribute__((aligned(8)));

/* Interrupt gates (IF off on entry) to the ring-0 code; only the system-call gate has DPL 3,
   so any other `int n` from the app is a #GP. */
static void idtInit(void)
{
	for (int v = 0; v < 256; v++) {
		uint32_t t = mono_isr_table[v], dpl = v == MONO_SYSCALL_VECTOR ? 3u : 0u;
		idt[v][0] = (uint32_t)MONO_KERNEL_CS << 16 | (t & 0xffff);
		idt[v][1] = (t & 0xffff0000u) | 0x8e00u | dpl << 13;
	}
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) d = { sizeof idt - 1, (uint32_t)idt };
	__asm__ volatile("lidt %0" : : "m"(d) : "memory");
}

void mono_trap(struct mono_frame *f)
{
	uint32_t v = f->vector, fromUser = (f->cs & 3) == 3;

	if (v == MONO_SYSCALL_VECTOR && fromUser) {
		f->eax = (uint32_t)mono_syscall(f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi);
		return;
	}
	if (v == nicVector) {
		pc_irqs++;
	} else if (v == VEC_IOMMU && bare) {
		pc_iommu_fault_msis++;
	} else if (v == VEC_SPURIOUS) {
		return;	/* no EOI for the spurious vector (SDM 11.9) */
	} else if (v != VEC_TIMER) {
		/* an exception: the app's bug ends the app (and with it this partition), a kernel's too */
		uint32_t cr2;
		__asm__ volatile("mov %%cr2,%0" : "=r"(cr2));
		printf("mono: %s: unexpected %s vector %u error %x at eip %x cr2 %x\n", fromUser ? "the app" : "the kernel",
		       v < 20 ? pc_exc_names[v] : "interrupt", v, f->error, f->eip, cr2);
		plat_exit(0x80 | (v & 0x7f));
	}
	lapic_write(LAPIC_EOI, 0);
}

/* ---- its own page directory ---- */

static uint32_t pd[1024] __attribute__((aligned(PAGE)));
static uint32_t ptPool[PT_POOL][1024] __attribute__((aligned(PAGE)));
static uint32_t ptUsed;

/* The physical address of one of its own virtual addresses (its memory is contiguous). */
static uint32_t physOf(const void *va)
{
	return part->mem_pa + ((uint32_t)va - part->mem_va);
}

static int mapPage(uint32_t va, uint32_t pa, uint32_t flags)
{
	uint32_t *pde = &pd[va >> 22];

	if (!(*pde & PTE_P)) {
		if (ptUsed == PT_POOL)
			return -1;
		uint32_t *pt = ptPool[ptUsed++];
		memset(pt, 0, PAGE);
		*pde = physOf(pt) | PTE_P | PTE_RW | PTE_US;	/* the leaves decide */
	}
	uint32_t *pt = (uint32_t *)(part->mem_va + ((*pde & ~0xfffu) - part->mem_pa));
	pt[(va >> 12) & 1023] = (pa & ~0xfffu) | flags | PTE_P;
	return 0;
}

/* The bare machine's devices: the power-off register and the IOMMU beside the UART and the
   local APIC, the rest of the device window (ECAM, BARs) in 4 MiB pages; then paging on. */
static int pagingInitBare(void)
{
	uint32_t cr, pse = CR4_PSE, pg = CR0_PG;

	if (mapPage(PC_SYSCTL, PC_SYSCTL, PTE_RW | PTE_PCD) != 0 || mapPage(PC_IOMMU, PC_IOMMU, PTE_RW | PTE_PCD) != 0)
		return -1;
	for (uint32_t k = PC_DEVICES >> 22; k < 1024; k++)
		if (!(pd[k] & PTE_P))
			pd[k] = k << 22 | PTE_PS | PTE_RW | PTE_PCD | PTE_P;
	__asm__ volatile("mov %0, %%cr3" : : "r"(physOf(pd)) : "memory");
	__asm__ volatile("mov %%cr4, %0; or %1, %0; mov %0, %%cr4" : "=&r"(cr) : "r"(pse) : "memory");
	__asm__ volatile("mov %%cr0, %0; or %1, %0; mov %0, %%cr0" : "=&r"(cr) : "r"(pg) : "memory");
	return 0;
}

/* The image's pages by what they hold, the info page, the devices; then CR3. */
static int pagingInit(void)
{
	uint32_t us = (uint32_t)__mono_user_start, ud = (uint32_t)__mono_user_data, ue = (uint32_t)__mono_user_end;
	uint32_t info = part->mem_va + part->mem_size - PAGE;

	memset(pd, 0, sizeof pd);
	for (uint32_t va = part->mem_va; va < (uint32_t)_end; va += PAGE) {
		uint32_t flags = va < us || va >= ue ? PTE_RW : va < ud ? PTE_US : PTE_US | PTE_RW;
		if (mapPage(va, physOf((void *)va), flags) != 0)
			return -1;
	}
	if ((!bare && mapPage(info, physOf((void *)info), 0) != 0) || mapPage(PC_UART, PC_UART, PTE_RW | PTE_PCD) != 0 ||
	    mapPage(PC_LAPIC, PC_LAPIC, PTE_RW | PTE_PCD) != 0)
		return -1;
	if (part->queue != EXO_SLOT_NONE && mapPage(part->queue_va, part->queue_pa, PTE_RW | PTE_PCD) != 0)
		return -1;
	if (bare)
		return pagingInitBare();
	__asm__ volatile("mov %0, %%cr3" : : "r"(physOf(pd)) : "memory");
	return 0;
}

static void wrmsr(uint32_t msr, uint32_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"(v), "d"(0) : "memory");
}

int mono_main(void)
{
	if (mono_boot_magic == EXO_PART_MAGIC) {
		part = (const struct exo_part_info *)mono_part_info;
	} else {
		uint32_t base = (uint32_t)__mono_kernel_start;
		bare = 1;
		bareInfo = (struct exo_part_info){ .queue = EXO_SLOT_NONE, .mem_va = base, .mem_pa = base,
						   .mem_size = mono_ram_bytes > base ? mono_ram_bytes - base : 0 };
		part = &bareInfo;
	}
	idtInit();
	lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
	lapic_write(LAPIC_LVT_TIMER, 0x10000u | VEC_TIMER);	/* masked until a wait */
	dmaNext = (uint32_t)__dma_start;
	if ((uint32_t)__dma_end > part->mem_va + part->mem_size - PAGE) {
		printf("mono: its memory is %u bytes; this image needs %u\n", part->mem_size, (uint32_t)__dma_end - part->mem_va + PAGE);
		return 0x7c;
	}
	if (pagingInit() != 0) {
		printf("mono: out of page tables\n");
		return 0x7d;
	}
	if (part->queue != EXO_SLOT_NONE)
		nicVector = part->vector;
	wrmsr(MSR_EXO_ESP0, (uint32_t)mono_kstack + KSTACK_BYTES);
	wrmsr(MSR_EXO_SS0, MONO_KERNEL_SS);
	memset(__mono_user_bss, 0, (uint32_t)(__mono_user_bss_end - __mono_user_bss));
	mono_enter_user((uint32_t)__user_mono_ustart, (uint32_t)__mono_user_stack_top);
}

/* ---- DMA memory: from __dma_start up, supervisor pages the IOMMU domain holds too ---- */

int plat_dma_alloc(uint32_t bytes, uint32_t align, uint32_t flags, struct plat_dma *out)
{
	if (align == 0 || (align & (align - 1)) || align > PAGE)
		return -1;
	uint32_t at = (dmaNext + align - 1) & ~(align - 1);
	if (bytes > (uint32_t)__dma_end - at)
		return -1;
	dmaNext = at + bytes;
	if (flags & PLAT_DMA_ZERO)
		memset((void *)at, 0, bytes);
	out->va = (void *)at;
	out->iova = at;
	out->bytes = bytes;
	return 0;
}

/* ---- the NIC: the queue the exokernel gave the partition ---- */

int plat_nic_open(struct plat_nic *n)
{
	if (part->queue == EXO_SLOT_NONE)
		return -1;
	for (int k = 0; k < 4; k++)
		n->mac[k] = (uint8_t)(part->mac_lo >> 8 * k);
	n->mac[4] = (uint8_t)part->mac_hi;
	n->mac[5] = (uint8_t)(part->mac_hi >> 8);
	n->queue = part->queue;
	n->qregs = (volatile uint32_t *)part->queue_va;
	return 0;
}

int plat_nic_irq_enable(struct plat_nic *n)
{
	return 0;	/* the exokernel routed the queue's MSI-X entry (part->vector) to this core */
}

int plat_nic_counters(struct plat_nic *n, struct plat_nic_counters *c)
{
	return -1;	/* the NIC's global registers are the exokernel's */
}
