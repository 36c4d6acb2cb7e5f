/* Bad machine state on purpose: each variant (built with -DVARIANT=n) breaks paging or the IDT
   and then faults. The only right ending is a triple-fault shutdown of the core; the emulator
   must never raise a host exception. Surviving is a failure (status 1). */

#include "rt/r0.h"

#ifndef VARIANT
#error "build with -DVARIANT=n (see variants[] in test/machine/machine.test.ts)"
#endif

static uint8_t junk[PAGE] __attribute__((aligned(4096)));

static void fillJunk(uint8_t b)
{
	for (uint32_t k = 0; k < PAGE; k++)
		junk[k] = b;
}

static void pagingWith(uint32_t cr3, uint32_t cr4)
{
	r0_set_cr4(cr4);
	r0_set_cr3(cr3);
	r0_set_cr0(r0_cr0() | CR0_PG);
}

int main(void)
{
	uint32_t *pd;

	r0_printf("garbage variant %u: expecting a triple fault\n", VARIANT);
	switch (VARIANT) {
	case 1:	/* CR3 outside RAM, then the next fetch walks it */
		pagingWith(0xfffff000u, 0);
		break;
	case 2:	/* a page directory of 0xff bytes: every PDE present, tables outside RAM */
		fillJunk(0xff);
		pagingWith((uint32_t)junk, 0);
		break;
	case 3:	/* the same with CR4.PSE: every PDE a 4 MiB page at 0xffc00000 */
		fillJunk(0xff);
		pagingWith((uint32_t)junk, CR4_PSE);
		break;
	case 4:	/* an IDT limit of 0, then #UD */
		r0_lidt((uint32_t)junk, 0);
		__asm__ volatile("ud2");
		break;
	case 5:	/* an IDT of 0xff bytes (no valid gate type), then int3 */
		fillJunk(0xff);
		r0_lidt((uint32_t)junk, PAGE - 1);
		__asm__ volatile("int3");
		break;
	case 6:	/* an IDT of zeros (no gate present), then #UD */
		fillJunk(0);
		r0_lidt((uint32_t)junk, PAGE - 1);
		__asm__ volatile("ud2");
		break;
	case 7:	/* an IDT outside RAM */
		r0_lidt(0xf0000000u, 0x7ff);
		__asm__ volatile("ud2");
		break;
	case 8:	/* paging on, the stack unmapped: no frame can be pushed */
		pd = r0_page_alloc();
		r0_identity(pd, 16u << 20, PTE_P | PTE_W);
		r0_paging_on(pd, 0);
		__asm__ volatile("movl $0x50000000, %esp; ud2");
		break;
	case 9:	/* paging on, the IDT's page unmapped */
		pd = r0_page_alloc();
		r0_identity(pd, 16u << 20, PTE_P | PTE_W);
		r0_map(pd, 0x50000000u, 0, 0);
		r0_paging_on(pd, 0);
		r0_lidt(0x50000000u, 0x7ff);
		__asm__ volatile("ud2");
		break;
	case 10:	/* execute from the MMIO hole with an IDT limit of 0 */
		r0_lidt(0, 0);
		__asm__ volatile("jmp *%0" : : "r"(R0_UART));
		break;
	case 11:	/* execute beyond RAM with an IDT limit of 0 */
		r0_lidt(0, 0);
		__asm__ volatile("jmp *%0" : : "r"(0xc0000000u));
		break;
	case 12:	/* CR3 garbage with low bits set, PSE and PGE, then a data access far away */
		fillJunk(0xa5);
		pagingWith((uint32_t)junk | 0xfff, CR4_PSE | CR4_PGE);
		break;
	}
	r0_printf("FAIL garbage variant %u survived\n", VARIANT);
	return 1;
}
