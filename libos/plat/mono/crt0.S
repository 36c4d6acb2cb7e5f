/* The mono kernel's entry, its interrupt stubs and its way down to ring 3. Flat 32-bit ring 0,
   IF = 0, one core, either way in: as a partition of the exokernel (paging on under the
   kernel's page directory, EAX = EXO_PART_MAGIC, EDX = struct exo_part_info) or exolab's bare
   boot (paging off, EAX = 'EXOL', ECX = RAM bytes). Vector 0x80
   from ring 3 is a system call; its frame (pusha over the CPU's, user ESP and SS on top)
   carries the arguments in and the result out, in the saved EAX. */

#include "isr-table.h"

#include "mono.h"

#define STACK_BYTES	32768

	RING0_START mono_kstack, STACK_BYTES, mono_boot_magic, mono_ram_bytes, mono_part_info, mono_main

/* mono_enter_user(eip, esp): into ring 3 at eip on the app's stack, interrupts on. The kernel
   stack is ESP0's from here on: every trap from ring 3 starts at its top. */
	.globl	mono_enter_user
mono_enter_user:
	movl	4(%esp), %eax
	movl	8(%esp), %ecx
	movl	$MONO_USER_DS, %edx
	movw	%dx, %ds
	movw	%dx, %es
	pushl	$MONO_USER_DS		/* SS */
	pushl	%ecx			/* ESP */
	pushl	$0x202			/* EFLAGS: IF */
	pushl	$MONO_USER_CS
	pushl	%eax			/* EIP */
	xorl	%eax, %eax
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%esi, %esi
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	iret

/* Every vector's entry stub, and the common path to mono_trap (libos/include/isr-table.h). */
	ISR_TABLE mono_isr_table, mono_trap

	.bss
	.p2align 12
	.globl	mono_kstack
mono_kstack:	.space	STACK_BYTES
	.section .note.GNU-stack, "", @progbits
