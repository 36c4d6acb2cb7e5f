/* EFLAGS as a whole: pushf/popf round trips of the status flags and DF, clc/stc/cmc/cld/std,
   the always-one bit 1, and popf at CPL 3, which silently keeps IF and IOPL as they were. */

#include "rt.h"

#define FL_ALWAYS1 0x002u
#define FL_IF 0x200u
#define FL_DF 0x400u
#define FL_IOPL 0x3000u
/* the bits compared: status, bit 1, IF, DF, IOPL (TF, NT, RF, VM, AC, ID stay clear) */
#define FL_SEEN (FL_STATUS | FL_ALWAYS1 | FL_IF | FL_DF | FL_IOPL)

static uint32_t roundTrip(uint32_t in)
{
	uint32_t out;

	__asm__ volatile("pushfl\n\t"		/* keep the caller's flags */
			 "pushl %1\n\t"
			 "popfl\n\t"
			 "pushfl\n\t"
			 "popl %0\n\t"
			 "popfl"
			 : "=r"(out) : "r"(in) : "cc", "memory");
	return out;
}

static uint32_t flagsNow(void)
{
	uint32_t f;

	__asm__ volatile("pushfl\n\tpopl %0" : "=r"(f));
	return f;
}

int main(void)
{
	uint32_t base = flagsNow() & ~FL_STATUS, f;	/* the status flags depend on the code before */

	rt_printf("initial: bit 1 %u, IF %u, DF %u, IOPL %u\n", (base & FL_ALWAYS1) != 0,
		  (base & FL_IF) != 0, (base & FL_DF) != 0, (base & FL_IOPL) >> 12);
	uint32_t bad = 0;

	for (uint32_t bits = 0; bits < 64; bits++) {
		/* spread six bits over CF PF AF ZF SF OF */
		uint32_t want = (bits & 1 ? FL_CF : 0) | (bits & 2 ? FL_PF : 0) | (bits & 4 ? FL_AF : 0) |
				(bits & 8 ? FL_ZF : 0) | (bits & 16 ? FL_SF : 0) | (bits & 32 ? FL_OF : 0);
		f = roundTrip((base & ~FL_STATUS) | want);
		if ((f & FL_STATUS) != want) {
			rt_printf("popf status %03x came back %03x\n", want, f & FL_STATUS);
			bad++;
		}
	}
	rt_check("popf/pushf keep every status flag", bad == 0);
	f = roundTrip(base | FL_DF);
	rt_check32("popf sets DF", f & FL_SEEN, (base | FL_DF) & FL_SEEN);
	f = roundTrip(base ^ FL_IF);
	rt_check32("popf cannot change IF at CPL 3", f & FL_SEEN, base & FL_SEEN);
	f = roundTrip(base | FL_IOPL);
	rt_check32("popf cannot change IOPL at CPL 3", f & FL_SEEN, base & FL_SEEN);
	f = roundTrip(0);
	rt_check32("bit 1 reads as one", f & FL_ALWAYS1, FL_ALWAYS1);

	__asm__ volatile("stc\n\tcmc\n\tpushfl\n\tpopl %0" : "=r"(f) : : "cc");
	rt_check32("stc; cmc", f & FL_CF, 0);
	__asm__ volatile("clc\n\tcmc\n\tpushfl\n\tpopl %0" : "=r"(f) : : "cc");
	rt_check32("clc; cmc", f & FL_CF, FL_CF);
	__asm__ volatile("std\n\tpushfl\n\tpopl %0\n\tcld" : "=r"(f) : : "cc");
	rt_check32("std", f & FL_DF, FL_DF);
	rt_check32("cld", flagsNow() & FL_DF, 0);
	return rt_done();
}
