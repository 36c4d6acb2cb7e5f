/* What the ring-0 placements (uni, mono) do alike on a core: the console byte, the spin hint,
   the exception names for their trap reports, and the interrupt count with its timed wait
   (plat.h). Each platform's trap handler counts its NIC's interrupts into pc_irqs. */

#include "plat.h"
#include "pc.h"

volatile uint32_t pc_irqs;

const char *const pc_exc_names[20] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS", "#NP", "#SS", "#GP", "#PF",
	"#15", "#MF", "#AC", "#MC", "#XM",
};

void plat_putc(char c)
{
	*(volatile uint8_t *)PC_UART = (uint8_t)c;
}

void plat_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

uint32_t plat_irq_count(void)
{
	return pc_irqs;
}

uint32_t plat_irq_wait(uint32_t seen, uint64_t cycles)
{
	__asm__ volatile("cli" ::: "memory");
	if (pc_irqs == seen && cycles) {
		/* one-shot LAPIC timer as the timeout; sti;hlt: the sti shadow covers the hlt, so an
		   interrupt already pending wakes it rather than slipping by */
		lapic_write(LAPIC_TIMER_DCR, DCR_DIV1);
		lapic_write(LAPIC_LVT_TIMER, VEC_TIMER);
		lapic_write(LAPIC_TIMER_ICR, cycles > 0xffffffffu ? 0xffffffffu : (uint32_t)cycles);
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		lapic_write(LAPIC_TIMER_ICR, 0);
	}
	__asm__ volatile("sti" ::: "memory");
	return pc_irqs;
}
