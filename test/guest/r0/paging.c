/* Paging on the bare machine: #PF error codes and CR2 (not present, write to read-only with
   CR0.WP on and off, ring-3 access to supervisor pages), A/D bits set by the walker, a stale
   TLB entry until invlpg, CR3 reloads keeping global pages, 4 MiB pages (SDM vol. 3A ch. 4). */

#include "rt/r0.h"

#define POISON	0xdeadbeefu
#define FAULTED	0xfa17fa17u	/* r0_user_call's result when the user took a #PF */
#define V(n)	(0x40000000u + (n) * PAGE)	/* test pages, one 4 MiB region */
#define UNMAPPED	0x50000000u		/* no page table at all */
#define SUPER_DIR	0x40400000u		/* PDE without U, PTE with U */
#define BIG	0x80000000u			/* a 4 MiB page onto physical 8 MiB */
#define BIG_PA	0x00800000u
#define IDENTITY	(16u << 20)

enum { PF_FAIL, PF_SKIP, PF_FIX };

static struct {
	volatile uint32_t n, err, cr2, eip, cs, esp3, ss3;
	volatile int mode;
	volatile uint32_t fixPa;
} pf;

static uint32_t *pd;
static uint32_t frames[12][1024] __attribute__((aligned(4096)));
static uint32_t ustack[1024] __attribute__((aligned(4096)));

static void onPageFault(struct r0_frame *f)
{
	pf.n++;
	pf.err = f->error;
	pf.cr2 = r0_cr2();
	pf.eip = f->eip;
	pf.cs = f->cs;
	if ((f->cs & 3) == 3) {
		pf.esp3 = f->esp3;
		pf.ss3 = f->ss3;
		r0_user_abort(FAULTED);
	}
	switch (pf.mode) {
	case PF_SKIP:	/* step over the probe's 2-byte access; it "returns" POISON */
		f->eip += R0_PROBE_LEN;
		f->eax = POISON;
		return;
	case PF_FIX:	/* map the page and let the access run again */
		r0_map(pd, pf.cr2 & ~0xfffu, pf.fixPa, PTE_P | PTE_W);
		return;
	default:
		r0_printf("FAIL unexpected #PF error %x cr2 %x eip %x\n", f->error, pf.cr2, f->eip);
		r0_poweroff(0x8e);
	}
}

static void expect(int mode)
{
	pf.n = pf.err = pf.cr2 = pf.eip = pf.cs = pf.esp3 = pf.ss3 = 0;
	pf.mode = mode;
}

static int probeEip(void)
{
	return pf.eip >= (uint32_t)r0_probe_read && pf.eip < (uint32_t)r0_probe_read + 24;
}

/* one faulting probe: the #PF must come once, with `err` and CR2 = va */
static void faultCheck(const char *name, uint32_t va, int write, uint32_t err)
{
	uint32_t got;

	expect(PF_SKIP);
	got = write ? (r0_probe_write(va, 0x1234), POISON) : r0_probe_read(va);
	r0_check(pf.n == 1 && pf.err == err && pf.cr2 == va && got == POISON && probeEip(), name,
		 "faults %u error %x (want %x) cr2 %x (want %x) eip %x", pf.n, pf.err, err, pf.cr2, va, pf.eip);
	expect(PF_FAIL);
}

static uint32_t user(void (*fn)(void), uint32_t a, uint32_t b)
{
	return r0_user_call((uint32_t)fn, (uint32_t)(ustack + 1024), a, b);
}

static void userFaultCheck(const char *name, void (*fn)(void), uint32_t va, uint32_t err)
{
	uint32_t r;

	expect(PF_FAIL);
	r = user(fn, va, 0x5a5a5a5a);
	r0_check(r == FAULTED && pf.n == 1 && pf.err == err && pf.cr2 == va && pf.cs == R0_UCODE, name,
		 "result %x faults %u error %x (want %x) cr2 %x (want %x) cs %x", r, pf.n, pf.err, err, pf.cr2, va, pf.cs);
}

static void basics(void)
{
	r0_check((r0_cr0() & (CR0_PG | CR0_WP)) == (CR0_PG | CR0_WP) && r0_cr3() == (uint32_t)pd, "paging-on",
		 "cr0 %x cr3 %x", r0_cr0(), r0_cr3());
	r0_map(pd, V(0), (uint32_t)frames[0], PTE_P | PTE_W);
	r0_probe_write(V(0) + 8, 0x12345678);
	r0_check(frames[0][2] == 0x12345678 && r0_probe_read(V(0) + 8) == 0x12345678, "alias",
		 "physical word %x", frames[0][2]);
}

static void notPresent(void)
{
	faultCheck("pf-not-present-read", UNMAPPED, 0, 0);
	faultCheck("pf-not-present-write", UNMAPPED + 0x1004, 1, PF_W);
	r0_map(pd, V(5), 0, 0);	/* the table exists, the PTE is 0 */
	faultCheck("pf-pte-not-present", V(5) + 0x10, 0, 0);

	frames[1][0] = 0xfeedf00d;
	expect(PF_FIX);
	pf.fixPa = (uint32_t)frames[1];
	uint32_t v = r0_probe_read(V(6));
	r0_check(v == 0xfeedf00d && pf.n == 1 && pf.cr2 == V(6), "pf-fix-and-retry",
		 "read %x after %u faults (cr2 %x)", v, pf.n, pf.cr2);
	expect(PF_FAIL);
}

static void readOnly(void)
{
	frames[2][0] = 0x600d;
	r0_map(pd, V(7), (uint32_t)frames[2], PTE_P);
	r0_check(r0_probe_read(V(7)) == 0x600d, "ro-read", "read %x", r0_probe_read(V(7)));
	faultCheck("pf-ring0-write-ro-wp1", V(7), 1, PF_P | PF_W);
	r0_check(frames[2][0] == 0x600d, "ro-unchanged", "word %x", frames[2][0]);

	r0_set_cr0(r0_cr0() & ~CR0_WP);
	expect(PF_SKIP);
	r0_probe_write(V(7), 0x77);
	r0_check(pf.n == 0 && frames[2][0] == 0x77, "ring0-write-ro-wp0", "faults %u word %x", pf.n, frames[2][0]);
	r0_set_cr0(r0_cr0() | CR0_WP);
	faultCheck("pf-ring0-write-ro-wp1-again", V(7), 1, PF_P | PF_W);
}

static void ring3(void)
{
	/* the user code and stack pages */
	for (uint32_t a = (uint32_t)r0_user_start; a < (uint32_t)r0_user_end; a += PAGE)
		r0_map(pd, a, a, PTE_P | PTE_U);
	r0_map(pd, (uint32_t)ustack, (uint32_t)ustack, PTE_P | PTE_W | PTE_U);

	frames[3][0] = 0xabcd;
	r0_map(pd, V(8), (uint32_t)frames[3], PTE_P | PTE_U);
	expect(PF_FAIL);
	uint32_t r = user(r0_user_load, V(8), 0);
	uint16_t cs;
	__asm__ volatile("mov %%cs,%0" : "=r"(cs));
	r0_check(r == 0xabcd && (cs & 3) == 0, "user-read-user-page", "result %x cs %x", r, cs);

	r0_map(pd, V(9), (uint32_t)frames[4], PTE_P | PTE_W | PTE_U);
	r = user(r0_user_store, V(9), 0x55);
	r0_check(r == 0 && frames[4][0] == 0x55, "user-write-user-page", "result %x word %x", r, frames[4][0]);

	userFaultCheck("pf-user-read-supervisor", r0_user_load, V(0), PF_P | PF_U);
	r0_check(pf.esp3 == (uint32_t)(ustack + 1024) && pf.ss3 == R0_UDATA, "pf-user-frame",
		 "esp %x ss %x", pf.esp3, pf.ss3);
	userFaultCheck("pf-user-write-supervisor", r0_user_store, V(0) + 4, PF_P | PF_W | PF_U);
	userFaultCheck("pf-user-write-read-only", r0_user_store, V(8), PF_P | PF_W | PF_U);
	r0_check(frames[3][0] == 0xabcd, "user-ro-unchanged", "word %x", frames[3][0]);
	userFaultCheck("pf-user-not-present", r0_user_load, UNMAPPED, PF_U);

	/* U must be set at both levels: a supervisor PDE over a user PTE is a supervisor page */
	uint32_t *pt = r0_page_alloc();
	*r0_pde(pd, SUPER_DIR) = (uint32_t)pt | PTE_P | PTE_W;
	pt[0] = (uint32_t)frames[3] | PTE_P | PTE_W | PTE_U;
	userFaultCheck("pf-user-supervisor-pde", r0_user_load, SUPER_DIR, PF_P | PF_U);

	/* and ring 0 may still write a user page it can see */
	r0_probe_write(V(9), 0x66);
	r0_check(frames[4][0] == 0x66, "ring0-write-user-page", "word %x", frames[4][0]);
}

static void accessedDirty(void)
{
	volatile uint32_t *pte = r0_pte(pd, V(10));
	volatile uint32_t *pde = r0_pde(pd, V(10));

	*pde &= ~PTE_A;
	*pte = (uint32_t)frames[5] | PTE_P | PTE_W;
	r0_invlpg(V(10));
	r0_probe_read(V(10));
	r0_check((*pte & (PTE_A | PTE_D)) == PTE_A && (*pde & PTE_A), "accessed-on-read", "pte %x pde %x", *pte, *pde);
	r0_probe_write(V(10), 1);
	r0_check((*pte & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "dirty-on-write-after-read", "pte %x", *pte);
	*pte &= ~(PTE_A | PTE_D);
	r0_invlpg(V(10));
	r0_probe_write(V(10), 2);
	r0_check((*pte & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "accessed-dirty-on-write", "pte %x", *pte);
	/* a faulting write must not set D (nor may a read of a read-only page) */
	volatile uint32_t *ro = r0_pte(pd, V(11));
	*ro = (uint32_t)frames[5] | PTE_P;
	faultCheck("pf-write-ro-for-ad", V(11), 1, PF_P | PF_W);
	r0_check(!(*ro & PTE_D), "no-dirty-on-faulting-write", "pte %x", *ro);
}

static void staleTlb(void)
{
	frames[6][0] = 111;
	frames[7][0] = 222;
	volatile uint32_t *pte = r0_pte(pd, V(12));
	*pte = (uint32_t)frames[6] | PTE_P | PTE_W;
	r0_invlpg(V(12));
	uint32_t a = r0_probe_read(V(12));
	*pte = (uint32_t)frames[7] | PTE_P | PTE_W;
	uint32_t b = r0_probe_read(V(12));
	r0_invlpg(V(12));
	uint32_t c = r0_probe_read(V(12));
	r0_check(a == 111 && b == 111 && c == 222, "stale-tlb-until-invlpg", "before %u, PTE changed %u, after invlpg %u", a, b, c);

	/* a not-present entry is never cached: mapping it needs no invlpg */
	*pte = 0;
	r0_invlpg(V(12));
	faultCheck("pf-after-unmap-invlpg", V(12), 0, 0);
	*pte = (uint32_t)frames[6] | PTE_P | PTE_W;
	r0_check(r0_probe_read(V(12)) == 111, "map-after-fault-no-invlpg", "read %u", r0_probe_read(V(12)));
}

static void globalPages(void)
{
	frames[8][0] = 0x6161;
	frames[9][0] = 0x7171;
	frames[10][0] = 0x8181;
	r0_set_cr4(r0_cr4() | CR4_PGE);
	volatile uint32_t *g = r0_pte(pd, V(13)), *n = r0_pte(pd, V(14));
	*g = (uint32_t)frames[8] | PTE_P | PTE_W | PTE_G;
	*n = (uint32_t)frames[9] | PTE_P | PTE_W;
	r0_invlpg(V(13));
	r0_invlpg(V(14));
	uint32_t g0 = r0_probe_read(V(13)), n0 = r0_probe_read(V(14));
	*g = (uint32_t)frames[10] | PTE_P | PTE_W | PTE_G;
	*n = (uint32_t)frames[10] | PTE_P | PTE_W;
	r0_set_cr3(r0_cr3());
	uint32_t g1 = r0_probe_read(V(13)), n1 = r0_probe_read(V(14));
	r0_check(g0 == 0x6161 && n0 == 0x7171 && g1 == 0x6161 && n1 == 0x8181, "cr3-reload-keeps-global",
		 "global %x -> %x, non-global %x -> %x", g0, g1, n0, n1);
	r0_invlpg(V(13));
	uint32_t g2 = r0_probe_read(V(13));
	r0_check(g2 == 0x8181, "invlpg-drops-global", "global reads %x", g2);

	/* clearing CR4.PGE flushes global entries too */
	*g = (uint32_t)frames[8] | PTE_P | PTE_W | PTE_G;
	r0_set_cr3(r0_cr3());
	uint32_t g3 = r0_probe_read(V(13));
	r0_set_cr4(r0_cr4() & ~CR4_PGE);
	uint32_t g4 = r0_probe_read(V(13));
	r0_check(g3 == 0x8181 && g4 == 0x6161, "pge-toggle-flushes-global", "after cr3 %x, after PGE off %x", g3, g4);
}

static void bigPages(void)
{
	r0_set_cr4(r0_cr4() | CR4_PSE);
	r0_map_big(pd, BIG, BIG_PA, PTE_P | PTE_W);
	volatile uint32_t *pde = r0_pde(pd, BIG);
	volatile uint32_t *phys = (volatile uint32_t *)(BIG_PA + 0x123454);
	*phys = 0;
	uint32_t r = r0_probe_read(BIG + 0x123454);
	r0_check(r == 0 && (*pde & (PTE_A | PTE_D)) == PTE_A, "big-page-accessed", "pde %x", *pde);
	r0_probe_write(BIG + 0x123454, 0x4d4d);
	r0_probe_write(BIG + 0x3ffffc, 0x5e5e);
	r0_check(*phys == 0x4d4d && *(volatile uint32_t *)(BIG_PA + 0x3ffffc) == 0x5e5e && (*pde & PTE_D),
		 "big-page-write", "physical %x, last word %x, pde %x", *phys, *(volatile uint32_t *)(BIG_PA + 0x3ffffc), *pde);
	faultCheck("pf-past-big-page", BIG + BIGPAGE, 0, 0);

	r0_map_big(pd, BIG + BIGPAGE, BIG_PA, PTE_P | PTE_U);	/* user, read-only */
	userFaultCheck("pf-user-write-ro-big-page", r0_user_store, BIG + BIGPAGE + 0x123454, PF_P | PF_W | PF_U);
	r = user(r0_user_load, BIG + BIGPAGE + 0x123454, 0);
	r0_check(r == 0x4d4d, "user-read-big-page", "result %x", r);
}

int main(void)
{
	uint32_t ram = r0_ram < IDENTITY ? r0_ram : IDENTITY;

	r0_set_handler(14, onPageFault);
	expect(PF_FAIL);
	pd = r0_page_alloc();
	r0_identity(pd, ram, PTE_P | PTE_W);
	r0_paging_on(pd, 0);
	basics();
	notPresent();
	readOnly();
	ring3();
	accessedDirty();
	staleTlb();
	globalPages();
	bigPages();
	return r0_finish();
}
