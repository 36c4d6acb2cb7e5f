/* Code that changes under the CPU: immediates rewritten in place (also within the running
   block, and through a second virtual mapping), and a code page remapped to other physical
   bytes. The decoded-instruction cache must always execute what memory now holds. */

#include "rt/r0.h"

#define CODE_V	0x40000000u	/* a virtual code page, remapped between two frames */
#define ALIAS_V	0x40400000u	/* a data alias of the page holding smc_get */

/* uint32_t smc_get(void): returns the immediate at smc_get + 1 */
__asm__(".text\n"
	".p2align 4\n"
	".globl smc_get\n"
	"smc_get: movl $0x11111111, %eax\n"
	"	ret\n"
	/* uint32_t smc_inblock(uint32_t v): stores v into the next instruction, then runs it */
	".globl smc_inblock\n"
	"smc_inblock: movl 4(%esp), %eax\n"
	"	movl %eax, smc_inblock_mov + 1\n"
	"smc_inblock_mov: movl $0x11111111, %eax\n"
	"	ret\n"
	/* a position-independent template: mov $imm, %eax; ret (6 bytes) */
	".globl code_template, code_template_end\n"
	"code_template: movl $0, %eax\n"
	"	ret\n"
	"code_template_end:\n");

uint32_t smc_get(void);
uint32_t smc_inblock(uint32_t v);
extern char code_template[], code_template_end[];

static uint8_t frames[3][PAGE] __attribute__((aligned(4096)));
static uint32_t *pd;

static void patch32(volatile uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* "smc-" phase suffix, into buf */
static char *join(char *buf, const char *phase, const char *suffix)
{
	const char *parts[3] = { "smc-", phase, suffix };
	int n = 0;

	for (int k = 0; k < 3; k++)
		for (const char *s = parts[k]; *s; s++)
			buf[n++] = *s;
	buf[n] = 0;
	return buf;
}

/* hot loop: the block is decoded and cached before the write */
static uint32_t callMany(uint32_t (*fn)(void), int n)
{
	uint32_t v = 0;

	for (int k = 0; k < n; k++)
		v = fn();
	return v;
}

static void immediates(const char *phase)
{
	uint32_t a, b, c;
	char name[48];

#define NAME(suffix) join(name, phase, suffix)
	patch32((volatile uint8_t *)smc_get + 1, 0x11111111);
	a = callMany(smc_get, 100);
	*(volatile uint32_t *)((uint8_t *)smc_get + 1) = 0x22222222;	/* one unaligned dword */
	b = callMany(smc_get, 100);
	((volatile uint8_t *)smc_get)[4] = 0x33;			/* one byte */
	c = smc_get();
	r0_check(a == 0x11111111 && b == 0x22222222 && c == 0x33222222, NAME("-immediate"),
		 "%x, then %x, then %x", a, b, c);

	a = smc_inblock(0x44444444);
	b = smc_inblock(0x55555555);
	for (int k = 0; k < 50; k++)
		c = smc_inblock(0x66660000 + k);
	r0_check(a == 0x44444444 && b == 0x55555555 && c == 0x66660000 + 49, NAME("-same-block"),
		 "%x, %x, %x", a, b, c);
}

static uint32_t callAt(uint32_t va)
{
	return ((uint32_t (*)(void))va)();
}

static void fill(uint8_t *page, uint32_t imm)
{
	uint32_t len = code_template_end - code_template;

	for (uint32_t k = 0; k < len; k++)
		page[k] = (uint8_t)code_template[k];
	patch32(page + 1, imm);
}

static void remap(void)
{
	fill(frames[0], 0xaaaa0001);
	fill(frames[1], 0xbbbb0002);
	volatile uint32_t *pte = r0_pte(pd, CODE_V);
	*pte = (uint32_t)frames[0] | PTE_P | PTE_W;
	r0_invlpg(CODE_V);
	uint32_t a = 0;
	for (int k = 0; k < 20; k++)
		a = callAt(CODE_V);
	*pte = (uint32_t)frames[1] | PTE_P | PTE_W;
	uint32_t b = callAt(CODE_V);	/* the old translation is still in the TLB */
	r0_invlpg(CODE_V);
	uint32_t c = callAt(CODE_V);
	r0_check(a == 0xaaaa0001 && b == 0xaaaa0001 && c == 0xbbbb0002, "remap-code-page",
		 "frame 0 %x, PTE changed %x, after invlpg %x", a, b, c);

	/* back to frame 0, whose bytes changed while it was not mapped there */
	patch32(frames[0] + 1, 0xcccc0003);
	*pte = (uint32_t)frames[0] | PTE_P | PTE_W;
	r0_invlpg(CODE_V);
	c = callAt(CODE_V);
	r0_check(c == 0xcccc0003, "remap-back-modified", "got %x", c);

	/* two virtual pages on one frame: write through one, execute through the other */
	r0_map(pd, CODE_V + PAGE, (uint32_t)frames[0], PTE_P | PTE_W);
	a = callAt(CODE_V + PAGE);
	patch32((volatile uint8_t *)(CODE_V + 1), 0xdddd0004);
	b = callAt(CODE_V + PAGE);
	patch32((volatile uint8_t *)(CODE_V + PAGE + 1), 0xeeee0005);
	c = callAt(CODE_V);
	r0_check(a == 0xcccc0003 && b == 0xdddd0004 && c == 0xeeee0005, "shared-frame-two-pages",
		 "%x, %x, %x", a, b, c);
}

static void alias(void)
{
	uint32_t page = (uint32_t)smc_get & ~0xfffu, off = (uint32_t)smc_get & 0xfff;

	r0_map(pd, ALIAS_V, page, PTE_P | PTE_W);
	uint32_t a = callMany(smc_get, 100);
	*(volatile uint32_t *)(ALIAS_V + off + 1) = 0x77777777;
	uint32_t b = smc_get();
	r0_check(b == 0x77777777 && a != b, "smc-through-alias", "before %x after %x", a, b);
}

int main(void)
{
	immediates("paging-off");
	pd = r0_page_alloc();
	r0_identity(pd, 16u << 20, PTE_P | PTE_W);
	r0_paging_on(pd, 0);
	immediates("paging-on");
	remap();
	alias();
	return r0_finish();
}
