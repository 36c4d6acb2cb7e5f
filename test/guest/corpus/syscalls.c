/* The Linux i386 system call interface as `exolab exec` must mirror it: write's return value
   for a short or empty buffer, a bad descriptor (-EBADF), an unmapped buffer (-EFAULT), an
   unknown number (-ENOSYS), stderr, and registers other than eax preserved across int $0x80. */

#include "rt.h"

static int32_t sys3(int32_t nr, int32_t a, int32_t b, int32_t c)
{
	int32_t ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

int main(void)
{
	static const char msg[] = "hello from write\n";
	uint32_t ebx, ecx, edx, esi, edi;
	int32_t r;

	r = sys3(4, 1, (int32_t)(uintptr_t)msg, sizeof msg - 1);
	rt_check32("write returns the length", (uint32_t)r, sizeof msg - 1);
	rt_check32("write of 0 bytes", (uint32_t)sys3(4, 1, (int32_t)(uintptr_t)msg, 0), 0);
	rt_check32("write to stderr", (uint32_t)sys3(4, 2, (int32_t)(uintptr_t)"to stderr\n", 10), 10);
	rt_check32("write to fd 7: -EBADF", (uint32_t)sys3(4, 7, (int32_t)(uintptr_t)msg, 4), (uint32_t)-9);
	rt_check32("write to fd -1: -EBADF", (uint32_t)sys3(4, -1, (int32_t)(uintptr_t)msg, 4), (uint32_t)-9);
	rt_check32("write from address 16: -EFAULT", (uint32_t)sys3(4, 1, 16, 4), (uint32_t)-14);
	rt_check32("syscall 1000: -ENOSYS", (uint32_t)sys3(1000, 0, 0, 0), (uint32_t)-38);

	__asm__ volatile("movl $0x11111111, %%esi\n\t"
			 "movl $0x22222222, %%edi\n\t"
			 "int $0x80"
			 : "=b"(ebx), "=c"(ecx), "=d"(edx), "=S"(esi), "=D"(edi), "=a"(r)
			 : "0"(1), "1"(msg), "2"(0), "5"(4)
			 : "memory");
	rt_check("int $0x80 preserves ebx ecx edx esi edi",
		 ebx == 1 && ecx == (uint32_t)(uintptr_t)msg && edx == 0 && esi == 0x11111111 && edi == 0x22222222);
	return rt_done();
}
