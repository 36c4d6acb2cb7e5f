/* Ring-0 entry, interrupt stubs, the AP trampoline, the fault probes and the ring-3 round trip.
   Boot protocol (exolab DESIGN section 2): flat 32-bit, paging off, IF = 0; EAX = 'EXOL',
   EBX = number of cores, ECX = RAM bytes, ESP = top of RAM. */

#define STACK_SIZE	16384
#define AP_STACK_SIZE	8192
#define MAX_CORES	64
#define MSR_EXO_ESP0	0x40000100

	.text
	.globl	_start
_start:
	cli
	cld
	movl	%eax, r0_magic
	movl	%ebx, r0_cores
	movl	%ecx, r0_ram
	movl	$r0_stack + STACK_SIZE, %esp
	/* zero .bss (the loader does too; a warm restart would not) */
	movl	$__bss_start, %edi
	movl	$_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb
	call	r0_boot
	pushl	%eax
	call	r0_poweroff
1:	hlt
	jmp	1b

/* ---- interrupt stubs: vector and error code (0 where the CPU pushes none) ---- */

	.globl	r0_isr_common
r0_isr_common:
	pusha
	cld
	pushl	%esp			/* struct r0_frame * */
	call	r0_dispatch
	addl	$4, %esp
	popa
	addl	$8, %esp		/* vector, error code */
	iret

	.section .data
	.p2align 2
	.globl	r0_isr_table
r0_isr_table:
	.text

	.set	vec, 0
	.rept	256
1:
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17)
	.else
	pushl	$0
	.endif
	pushl	$vec
	jmp	r0_isr_common
	.pushsection .data
	.long	1b
	.popsection
	.set	vec, vec + 1
	.endr

/* ---- application-processor start: copied below 1 MiB, entered with EDX = core ---- */

	.globl	r0_tramp_start, r0_tramp_end
r0_tramp_start:
	movl	$r0_ap_entry, %eax	/* absolute: the copy may run anywhere */
	jmp	*%eax
r0_tramp_end:

r0_ap_entry:
	cld
	movl	%edx, %eax
	incl	%eax
	shll	$13, %eax		/* AP_STACK_SIZE per core */
	leal	r0_ap_stacks(%eax), %esp
	pushl	%edx
	call	r0_ap_main
1:	cli
	hlt
	jmp	1b

/* ---- probes with a fixed 2-byte faulting instruction ---- */

	.globl	r0_probe_read, r0_probe_write
r0_probe_read:
	movl	4(%esp), %ecx
	movl	(%ecx), %eax		/* 8b 01 */
	ret
r0_probe_write:
	movl	4(%esp), %ecx
	movl	8(%esp), %edx
	movl	%edx, (%ecx)		/* 89 11 */
	ret

/* ---- ring 3: uint32_t r0_user_call(eip, esp, a, b) ---- */

	.globl	r0_user_call, r0_user_abort
r0_user_call:
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	pushl	%ebp
	movl	%esp, r0_user_saved_esp
	movl	$MSR_EXO_ESP0, %ecx	/* the ring-0 stack for the way back (TSS.esp0) */
	movl	$r0_user_kstack + STACK_SIZE, %eax
	xorl	%edx, %edx
	wrmsr
	movl	20(%esp), %eax		/* eip */
	movl	24(%esp), %edx		/* user esp */
	movl	28(%esp), %ebx
	movl	32(%esp), %ecx
	pushl	$0x23			/* SS: ring-3 data */
	pushl	%edx
	pushl	$0x2			/* EFLAGS: IF off */
	pushl	$0x1b			/* CS: ring-3 code, RPL 3 */
	pushl	%eax
	iret

/* void r0_user_abort(uint32_t v): back on r0_user_call's stack, returning v */
r0_user_abort:
	movl	4(%esp), %eax
	movl	r0_user_saved_esp, %esp
	popl	%ebp
	popl	%edi
	popl	%esi
	popl	%ebx
	ret

/* ---- user code: its own page, mapped with U ---- */

	.section .user, "ax"
	.p2align 12
	.globl	r0_user_start, r0_user_end, r0_user_load, r0_user_store
r0_user_start:
r0_user_load:
	movl	(%ebx), %eax
	int	$0x80
1:	jmp	1b
r0_user_store:
	movl	%ecx, (%ebx)
	xorl	%eax, %eax
	int	$0x80
1:	jmp	1b
	.p2align 12
r0_user_end:

	.section .data
	.p2align 2
	.globl	r0_magic, r0_cores, r0_ram
r0_magic:	.long 0
r0_cores:	.long 1
r0_ram:		.long 0
r0_user_saved_esp: .long 0

	.section .bss
	.p2align 12
r0_stack:	.space STACK_SIZE
r0_user_kstack:	.space STACK_SIZE
r0_ap_stacks:	.space AP_STACK_SIZE * (MAX_CORES + 1)
	.section .note.GNU-stack, "", @progbits
