/* Entry point of the guest test programs: Linux i386 process start without a libc.
   Calls int main(void) and passes its return value to exit_group (int $0x80, eax = 252). */

	.text
	.globl	_start
	.type	_start, @function
_start:
	xorl	%ebp, %ebp		/* outermost frame, for debuggers */
	andl	$-16, %esp		/* the i386 SysV ABI wants 16-byte alignment at a call */
	call	main
	movl	%eax, %ebx
	movl	$252, %eax		/* exit_group */
	int	$0x80
	movl	$1, %eax		/* exit, should exit_group be missing */
	int	$0x80
	hlt				/* not reached; faults if it is */
	.size	_start, . - _start

	.section .note.GNU-stack, "", @progbits
