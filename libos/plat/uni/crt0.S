/* Unikernel entry and interrupt stubs. Two ways in, both flat 32-bit ring 0 with IF = 0:
   exolab's bare boot (README, "Boot a bare ring-0 image": paging off, EAX = 'EXOL', EBX =
   cores, ECX = RAM bytes) or a partition of the exokernel (paging on under the kernel's page
   directory, EAX = EXO_PART_MAGIC, ECX = the end of its memory, EDX = struct exo_part_info).
   Only one core runs: the image is one core's partition. */

#define STACK_BYTES	32768

	.text
	.globl	_start
_start:
	cli
	cld
	movl	$uni_stack + STACK_BYTES, %esp
	movl	%eax, %ebp		/* the boot registers outlive the zeroing (the stack is in .bss) */
	movl	%ecx, %esi
	/* .bss to zero: the loader does so, a restart in place would not */
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb
	movl	%ebp, uni_boot_magic
	movl	%esi, uni_ram_bytes
	movl	%edx, uni_part_info	/* rep stosb leaves EDX alone */
	xorl	%ebp, %ebp
	call	uni_main
	pushl	%eax
	call	plat_exit
1:	hlt
	jmp	1b

/* Every vector: push a 0 where the CPU pushes no error code (SDM vol. 3A 6.13), then the
   vector; uni_trap gets the frame. */
uni_isr_common:
	pusha
	cld
	pushl	%esp
	call	uni_trap
	addl	$4, %esp
	popa
	addl	$8, %esp
	iret

	.section .rodata
	.p2align 2
	.globl	uni_isr_table
uni_isr_table:
	.text
	.set	vec, 0
	.rept	256
1:
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17)
	.else
	pushl	$0
	.endif
	pushl	$vec
	jmp	uni_isr_common
	.pushsection .rodata
	.long	1b
	.popsection
	.set	vec, vec + 1
	.endr

	.bss
	.p2align 4
uni_stack:	.space	STACK_BYTES
	.section .note.GNU-stack, "", @progbits
