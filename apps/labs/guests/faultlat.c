/* The fault-overhead lab's guest: page faults at a set rate, each timed from the faulting
   instruction to the first instruction of the LibOS's page-fault handler (the kernel's part of
   the round trip: exception entry, the kernel's dispatch, the upcall frame, the return into
   ring 3). The handler fixes nothing: it moves the saved EIP past the faulting store, so the
   LibOS resumes itself with no exo-call, as an Aegis LibOS does. boot info arg = cycles
   between two faults (0: back to back); prints the sums the lab reads. */
#include "exok.h"

#define FAULTS	2000
#define HANDLER_STACK	0x4000

static volatile uint32_t entered;	/* TSC at the handler's first instruction */
extern char faultAt[], faultDone[];	/* the faulting store and the instruction after it */

static inline uint32_t tsc(void)
{
	uint32_t lo;
	__asm__ volatile("rdtsc" : "=a"(lo) : : "edx");
	return lo;
}

void onFault(struct exo_upcall_frame *f);
/* The handler's entry: read the TSC first, then C. Resumes by the frame (exo_resume-like). */
__asm__(".globl faultEntry\n"
	"faultEntry:\n"
	"	rdtsc\n"
	"	movl %eax, entered\n"
	"	jmp onFault\n");
void faultEntry(void);

void onFault(struct exo_upcall_frame *f)
{
	f->eip = (uint32_t)faultDone;
	/* resume: the interrupted context's registers, stack and flags, then its EIP */
	__asm__ volatile(
		"movl %0, %%ebx\n"
		"movl 20(%%ebx), %%esp\n"		/* esp */
		"pushl 12(%%ebx)\n"			/* eip */
		"pushl 16(%%ebx)\n"			/* eflags */
		"movl 24(%%ebx), %%eax\n"
		"movl 28(%%ebx), %%ecx\n"
		"movl 32(%%ebx), %%edx\n"
		"movl 40(%%ebx), %%ebp\n"
		"movl 44(%%ebx), %%esi\n"
		"movl 48(%%ebx), %%edi\n"
		"movl 36(%%ebx), %%ebx\n"
		"popfl\n"
		"ret\n" : : "r"(f) : "memory");
	__builtin_unreachable();
}

static uint8_t stack[HANDLER_STACK] __attribute__((aligned(16)));

void _start(void)
{
	const struct exo_boot_info *bi = bootInfo();
	uint32_t period = bi->arg;
	if (exo(EXO_UPCALL_ENTRY, EXO_UPCALL_PAGE_FAULT, (uint32_t)faultEntry, (uint32_t)(stack + HANDLER_STACK), 0) != 0)
		leave(1);
	uint32_t sumIn = 0, next = tsc(), t0, start = tsc();
	for (int k = 0; k < FAULTS; k++) {
		while ((int32_t)(tsc() - next) < 0)
			;
		next += period;
		t0 = tsc();
		__asm__ volatile(
			".globl faultAt, faultDone\n"
			"faultAt: movl $1, 0x40000000\n"	/* never mapped */
			"faultDone:\n" : : : "memory");
		sumIn += entered - t0;
	}
	uint32_t elapsed = tsc() - start;
	say("faults ", FAULTS);
	say("kernel cycles in ", (int32_t)sumIn);
	say("elapsed cycles ", (int32_t)elapsed);
	leave(0);
}
