/* Unikernel entry and interrupt stubs. Two ways in, both flat 32-bit ring 0 with IF = 0:
   exolab's bare boot (README, "Boot a bare ring-0 image": paging off, EAX = 'EXOL', EBX =
   cores, ECX = RAM bytes) or a partition of the exokernel (paging on under the kernel's page
   directory, EAX = EXO_PART_MAGIC, ECX = the end of its memory, EDX = struct exo_part_info).
   Only one core runs: the image is one core's partition. */

#include "isr-table.h"

#define STACK_BYTES	32768

	RING0_START uni_stack, STACK_BYTES, uni_boot_magic, uni_ram_bytes, uni_part_info, uni_main

/* Every vector's entry stub, and the common path to uni_trap (libos/include/isr-table.h). */
	ISR_TABLE uni_isr_table, uni_trap

	.bss
	.p2align 4
uni_stack:	.space	STACK_BYTES
	.section .note.GNU-stack, "", @progbits
