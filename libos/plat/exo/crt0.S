/* Entry of the exo placement (DESIGN section 3): the kernel starts every core listed for the
   principal here at once, in ring 3, each on its own 64 KiB stack: EAX = principal id,
   ECX = EXO_BOOT_INFO_VA, EDX = the core; .bss is already zero.

   Several cores: one of them runs the program, the others only give their slices away. The
   one is the lowest core named by a CoreSlice in the boot capabilities; with none listed, the
   first core to claim it (lock bts). The others loop on EXO_YIELD touching no memory but the
   read-only boot page (and the claim word): no stack, no .data. */

/* exo.h offsets and numbers (plat.c asserts them) */
#define BI_NCAPS	12	/* struct exo_boot_info: ncaps */
#define BI_BYTES	40	/* sizeof(struct exo_boot_info): the caps follow */
#define BC_TYPE		4	/* struct exo_boot_cap: type */
#define BC_BASE		8	/* base: the core, for a CoreSlice */
#define BC_BYTES	20
#define CAP_CORE_SLICE	3
#define SYS_YIELD	0x138

	.text
	.globl	_start
_start:
	cld
	movl	%eax, %ebp			/* the principal, kept through the walk */
	/* EBX = the lowest CoreSlice core in the boot caps (-1: none) */
	movl	BI_NCAPS(%ecx), %esi
	leal	BI_BYTES(%ecx), %edi
	movl	$-1, %ebx
1:	testl	%esi, %esi
	jz	3f
	cmpl	$CAP_CORE_SLICE, BC_TYPE(%edi)
	jne	2f
	cmpl	%ebx, BC_BASE(%edi)
	jae	2f
	movl	BC_BASE(%edi), %ebx
2:	addl	$BC_BYTES, %edi
	decl	%esi
	jmp	1b
3:	cmpl	$-1, %ebx
	je	4f
	cmpl	%ebx, %edx
	jne	secondary
	jmp	primary
4:	lock btsl $0, crt0_claimed		/* no CoreSlice listed: first come runs */
	jc	secondary
primary:
	pushl	%edx				/* exo_start(principal, boot info, core) */
	pushl	%ecx
	pushl	%ebp
	xorl	%ebp, %ebp			/* the outermost frame */
	call	exo_start			/* does not return */
	ud2

secondary:
	movl	$SYS_YIELD, %eax
	int	$0x80
	jmp	secondary

	.bss
	.p2align 2
crt0_claimed:	.long	0

	.section .note.GNU-stack, "", @progbits
