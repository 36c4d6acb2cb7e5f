/* The app's side of the mono placement, in ring 3 on user pages: its entry, the system-call
   instruction, and the little of plat.h its libc needs (the console by line, time, exit). The
   app and this directory link with their own copy of libos/libc (kernel/guest-build.ts), so
   nothing here can reach the kernel's code or data but by `int 0x80`. */

#include "libc.h"
#include "plat.h"
#include "usys.h"

int main(void);

#define LINE_BYTES	256	/* plat_putc's buffer: a line, or this much of one */

static char line[LINE_BYTES];
static uint32_t lineLen;

int32_t mono_sys(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5)
{
	int32_t r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5) : "memory");
	return r;
}

/* Where the mono kernel starts the app: in ring 3, on the stack link.ld gives it. */
void mono_ustart(void)
{
	plat_exit(main());
}

static void lineFlush(void)
{
	if (lineLen)
		mono_sys(MONO_SYS_WRITE, (uint32_t)line, lineLen, 0, 0, 0);
	lineLen = 0;
}

/* One system call per line: a crossing per character would swamp what is measured. */
void plat_putc(char c)
{
	line[lineLen++] = c;
	if (c == '\n' || lineLen == LINE_BYTES)
		lineFlush();
}

void plat_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

__attribute__((noreturn)) void plat_exit(int status)
{
	lineFlush();
	for (;;)
		mono_sys(MONO_SYS_EXIT, (uint32_t)status, 0, 0, 0, 0);
}
