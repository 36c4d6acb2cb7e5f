/* The entry and the interrupt stubs of a ring-0 LibOS (the uni and mono platforms), as
   assembler macros.

   RING0_START stack, bytes, magic, ram, part, main: `_start`, with IF off, on `stack`'s
   `bytes`; .bss zeroed (the loader does so, a restart in place would not) with the boot
   registers kept through it: EAX into `magic`, ECX into `ram`, EDX into `part`; then
   `main()`, whose result goes to plat_exit.

   ISR_TABLE table, trap: 256 stubs, each pushing a 0 where the CPU pushes no error code
   (SDM vol. 3A 6.13) and then its vector, and a common path that saves the registers and calls
   `void trap(frame *)` (which may rewrite the saved registers: a system call's EAX), then
   returns by iret. `table` is a read-only array of the 256 stub addresses, for the IDT. */

#ifndef ISR_TABLE_H
#define ISR_TABLE_H
#ifdef __ASSEMBLER__

.macro RING0_START stack, bytes, magic, ram, part, main
	.text
	.globl	_start
_start:
	cli
	cld
	movl	$\stack + \bytes, %esp
	movl	%eax, %ebp		/* the boot registers outlive the zeroing (the stack is in .bss) */
	movl	%ecx, %esi
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb
	movl	%ebp, \magic
	movl	%esi, \ram
	movl	%edx, \part		/* rep stosb leaves EDX alone */
	xorl	%ebp, %ebp
	call	\main
	pushl	%eax
	call	plat_exit
1:	hlt
	jmp	1b
.endm

.macro ISR_TABLE table, trap
	.text
\table\()_common:
	pusha
	cld
	pushl	%esp
	call	\trap
	addl	$4, %esp
	popa
	addl	$8, %esp
	iret

	.section .rodata
	.p2align 2
	.globl	\table
\table:
	.text
	.set	vec, 0
	.rept	256
1:
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17)
	.else
	pushl	$0
	.endif
	pushl	$vec
	jmp	\table\()_common
	.pushsection .rodata
	.long	1b
	.popsection
	.set	vec, vec + 1
	.endr
.endm

#endif
#endif
