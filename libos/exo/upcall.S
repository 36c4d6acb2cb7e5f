/* Resuming from an upcall, Aegis style: the LibOS restores the interrupted context itself in
   ring 3, no exo-call. The kernel needs no entry trampoline from us: it calls the handler as
   void h(struct exo_upcall_frame *f) with [esp] = 0 (no return) and [esp+4] = f.

   exo_resume(f) copies what it needs onto the interrupted stack, just below f->esp (the i386
   ABI has no red zone, so nothing lives there), switches to that stack and pops it. Once ESP
   leaves the exception stack the kernel may deliver the next upcall, which writes a fresh
   frame over f; so nothing is read from f after the switch. */

/* struct exo_upcall_frame offsets (exo.h; libexo.c asserts them) */
#define F_EIP		12
#define F_EFLAGS	16
#define F_ESP		20
#define F_EAX		24
#define F_ECX		28
#define F_EDX		32
#define F_EBX		36
#define F_EBP		40
#define F_ESI		44
#define F_EDI		48

/* what is written below f->esp, lowest address first: the pop order */
#define R_EDI		0
#define R_ESI		4
#define R_EBP		8
#define R_EBX		12
#define R_EDX		16
#define R_ECX		20
#define R_EAX		24
#define R_EFLAGS	28
#define R_EIP		32
#define R_BYTES		36

	.text
	.globl	exo_resume
	.type	exo_resume, @function
exo_resume:
	movl	4(%esp), %eax			/* f */
	movl	F_ESP(%eax), %edx
	subl	$R_BYTES, %edx			/* where the interrupted stack gets the saved words */
	movl	F_EDI(%eax), %ecx
	movl	%ecx, R_EDI(%edx)
	movl	F_ESI(%eax), %ecx
	movl	%ecx, R_ESI(%edx)
	movl	F_EBP(%eax), %ecx
	movl	%ecx, R_EBP(%edx)
	movl	F_EBX(%eax), %ecx
	movl	%ecx, R_EBX(%edx)
	movl	F_EDX(%eax), %ecx
	movl	%ecx, R_EDX(%edx)
	movl	F_ECX(%eax), %ecx
	movl	%ecx, R_ECX(%edx)
	movl	F_EAX(%eax), %ecx
	movl	%ecx, R_EAX(%edx)
	movl	F_EFLAGS(%eax), %ecx
	movl	%ecx, R_EFLAGS(%edx)
	movl	F_EIP(%eax), %ecx
	movl	%ecx, R_EIP(%edx)
	movl	%edx, %esp			/* off the exception stack: f is dead from here */
	popl	%edi
	popl	%esi
	popl	%ebp
	popl	%ebx
	popl	%edx
	popl	%ecx
	popl	%eax
	popfl					/* ring 3: IF and IOPL stay as they are */
	ret					/* to f->eip, ESP = f->esp */
	.size	exo_resume, . - exo_resume

	.section .note.GNU-stack, "", @progbits
