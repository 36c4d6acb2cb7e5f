/* Every exo-call of exo.h from ring 3, with its error paths: bad, empty and occupied slots,
   wrong types, missing rights, retype edges, overlaps and ranges, kernel addresses, double
   bindings; CAP_INSPECT field by field, CAP_REVOKE's count and the bindings it removes; a
   frame written and read back, then unmapped and touched: page fault -> upcall -> map ->
   exo_resume, with every register and the flags checked after the retried access.
   The scenario gives it the usual exo boot capabilities (UART, Untyped, DMA domain, one NIC
   queue and its MSI vector). */

#include "exotest.h"

#define PAGE	EXO_PAGE_SIZE
#define BAD	100000u		/* a slot no capability space has */
#define RW	(EXO_R_READ | EXO_R_WRITE)

static const struct exo_boot_info *bi;
static const struct exo_boot_cap *uart, *ut, *dom, *queue, *vec;
static uint32_t frameA;		/* one page carved by hand at the top of the Untyped */
static uint32_t vaA;		/* where frameA is mapped */
static uint32_t spare;		/* a slot kept empty */

/* Pages carved by hand come from the top of the Untyped, clear of exo_frame_alloc's. */
static uint32_t topOff(int k)
{
	return ut->size - (uint32_t)(k + 1) * PAGE;
}

static uint32_t slot(void)
{
	uint32_t s = exo_slot_alloc();

	if (s == EXO_SLOT_NONE) {
		printf("FAIL slot-alloc: the capability space is full\n");
		plat_exit(100);
	}
	return s;
}

static int typeOf(uint32_t s)
{
	int w = exo_cap_inspect(s, 0);
	return w < 0 ? w : (int)EXO_CAPW_GET((uint32_t)w, TYPE);
}

/* ---- the page-fault upcall: a fresh frame at the faulting page, then resume ---- */

static volatile uint32_t pfCount, pfAddr, pfError, pfKind, pfCore;

static void onPageFault(struct exo_upcall_frame *f)
{
	uint32_t s;

	pfCount++;
	pfAddr = f->arg0;
	pfError = f->arg1;
	pfKind = f->kind;
	pfCore = f->core;
	if (exo_frame_alloc(PAGE, &s) != 0 || exo_map_frame(s, f->arg0 & ~(PAGE - 1), RW) != 0) {
		printf("FAIL page-fault-handler: cannot map a frame at %x (eip %x)\n", f->arg0, f->eip);
		plat_exit(101);
	}
	exo_resume(f);
}

/* Registers as touchWithRegs set them, then read back after the faulting store was retried:
   eax ebx ecx edx esi edi ebp, CF, esp before, esp after. */
uint32_t exocalls_regs[10];

static void touchWithRegs(uint32_t addr)
{
	__asm__ volatile("pushl %%ebp\n\t"
			 "movl %%esp, exocalls_regs+32\n\t"
			 "movl $0x11111111, %%ebx\n\t"
			 "movl $0x22222222, %%ecx\n\t"
			 "movl $0x33333333, %%edx\n\t"
			 "movl $0x44444444, %%esi\n\t"
			 "movl $0x55555555, %%edi\n\t"
			 "movl $0x66666666, %%ebp\n\t"
			 "stc\n\t"
			 "movl $0x5a5a5a5a, (%%eax)\n\t"	/* faults; retried after the upcall */
			 "movl %%eax, exocalls_regs\n\t"
			 "movl %%ebx, exocalls_regs+4\n\t"
			 "movl %%ecx, exocalls_regs+8\n\t"
			 "movl %%edx, exocalls_regs+12\n\t"
			 "movl %%esi, exocalls_regs+16\n\t"
			 "movl %%edi, exocalls_regs+20\n\t"
			 "movl %%ebp, exocalls_regs+24\n\t"
			 "setc exocalls_regs+28\n\t"
			 "movl %%esp, exocalls_regs+36\n\t"
			 "popl %%ebp"
			 :
			 : "a"(addr)
			 : "ebx", "ecx", "edx", "esi", "edi", "memory", "cc");
}

/* ---- the boot page ---- */

static int testBoot(void)
{
	bi = exo_boot_info();
	check(bi->magic == EXO_BOOT_MAGIC, "boot-magic", "got %x want %x", bi->magic, EXO_BOOT_MAGIC);
	check(bi->principal == exo_principal, "boot-principal", "boot info %u, EAX at entry %u", bi->principal, exo_principal);
	uart = exo_boot_cap(EXO_CAP_UART, 0);
	ut = exo_boot_cap(EXO_CAP_UNTYPED, 0);
	dom = exo_boot_cap(EXO_CAP_DMA_DOMAIN, 0);
	queue = exo_boot_cap(EXO_CAP_DEVICE_QUEUE, 0);
	vec = exo_boot_cap(EXO_CAP_MSI_VECTOR, 0);
	if (!check(uart && ut && dom && queue && vec && exo_boot_cap(EXO_CAP_CORE_SLICE, 0), "boot-caps",
		   "uart %d untyped %d dma domain %d queue %d vector %d core slice %d", !!uart, !!ut, !!dom, !!queue, !!vec,
		   !!exo_boot_cap(EXO_CAP_CORE_SLICE, 0)))
		return -1;
	check((ut->rights & (EXO_R_WRITE | EXO_R_MAP | EXO_R_DMA | EXO_R_GRANT)) == (EXO_R_WRITE | EXO_R_MAP | EXO_R_DMA | EXO_R_GRANT),
	      "boot-untyped-rights", "rights %x", ut->rights);
	check(ut->size >= 64 * PAGE && ut->size <= bi->quota && ut->size % PAGE == 0, "boot-untyped-size",
	      "size %x quota %x", ut->size, bi->quota);
	int bad = 0;
	for (uint32_t k = 0; k < bi->ncaps; k++) {
		const struct exo_boot_cap *c = (const struct exo_boot_cap *)(bi + 1) + k;
		struct exo_cap_info i;
		int w = exo_cap_inspect(c->slot, &i);
		if (w < 0 || EXO_CAPW_GET((uint32_t)w, TYPE) != c->type || EXO_CAPW_GET((uint32_t)w, RIGHTS) != c->rights ||
		    i.base != c->base || i.size != c->size) {
			if (bad++ == 0)
				printf("  boot cap %u slot %u: inspect %d type %u rights %x base %x size %x\n", k, c->slot, w,
				       c->type, c->rights, c->base, c->size);
		}
	}
	check(bad == 0, "boot-caps-inspect", "%d of %u boot capabilities differ from CAP_INSPECT", bad, bi->ncaps);
	spare = slot();
	return 0;
}

/* ---- calls that need no capability ---- */

static void testPlain(void)
{
	expect("yield", exo_yield(), 0);
	expect("bad-call", exo_syscall(0x1ff, 0, 0, 0, 0, 0), EXO_E_BAD_CALL);
	expect("bad-call-linux-write", exo_syscall(4, 1, 0, 0, 0, 0), EXO_E_BAD_CALL);
	expect("donate-no-principal", exo_donate(999), EXO_E_NO_PRINCIPAL);
	expect("donate-self", exo_donate(exo_principal), 0);
	struct exo_repo_notice n[4];
	expect("repo-notice-none", exo_repo_notice(n, 4), 0);
	/* no request outstanding: the request id is looked up first, whatever the slot */
	expect("revoke-reply-no-request", exo_revoke_reply(uart->slot, 12345), EXO_E_NOT_BOUND);
	expect("revoke-reply-bad-slot", exo_revoke_reply(BAD, 12345), EXO_E_NOT_BOUND);
	expect("upcall-entry-bad-kind", exo_upcall_entry(9, onPageFault, (void *)(bi->free_va + PAGE)), EXO_E_BAD_ARG);
}

/* ---- slots and CAP_INSPECT ---- */

static void testSlots(void)
{
	struct exo_cap_info i;

	expect("inspect-bad-slot", exo_cap_inspect(BAD, 0), EXO_E_BAD_SLOT);
	expect("inspect-empty", exo_cap_inspect(spare, 0), EXO_E_EMPTY);
	int w = exo_cap_inspect(uart->slot, &i);
	check(w >= 0 && i.word == (uint32_t)w && exo_cap_inspect(uart->slot, 0) == w, "inspect-word", "word %x info.word %x", w, i.word);
	check(w >= 0 && EXO_CAPW_GET((uint32_t)w, TYPE) == EXO_CAP_UART && (EXO_CAPW_GET((uint32_t)w, RIGHTS) & EXO_R_WRITE),
	      "inspect-uart", "word %x", w);
	expect("inspect-bad-buffer", exo_cap_inspect(uart->slot, (struct exo_cap_info *)0x1000), EXO_E_BAD_ARG);
	expect("delete-bad-slot", exo_cap_delete(BAD), EXO_E_BAD_SLOT);
	expect("delete-empty", exo_cap_delete(spare), EXO_E_EMPTY);
}

/* ---- CAP_RETYPE ---- */

static void testRetype(void)
{
	struct exo_cap_info u0, u1, f;
	uint32_t s = slot(), nw = slot();

	exo_cap_inspect(ut->slot, &u0);
	expect("retype-frame", exo_cap_retype(ut->slot, EXO_CAP_FRAME, topOff(0), PAGE, s), 0);
	frameA = s;
	int w = exo_cap_inspect(s, &f);
	uint32_t uw = (uint32_t)w;
	check(w >= 0 && EXO_CAPW_GET(uw, TYPE) == EXO_CAP_FRAME && f.word == uw, "inspect-type", "word %x type %u", w,
	      EXO_CAPW_GET(uw, TYPE));
	check(EXO_CAPW_GET(uw, RIGHTS) == (ut->rights & EXO_R_ALL), "inspect-rights", "got %x want %x", EXO_CAPW_GET(uw, RIGHTS),
	      ut->rights & EXO_R_ALL);
	check(f.size == PAGE && f.base == ut->base + topOff(0), "inspect-size", "base %x size %x want %x %x", f.base, f.size,
	      ut->base + topOff(0), PAGE);
	check(f.parent_slot == ut->slot && EXO_CAPW_GET(uw, HAS_PARENT), "inspect-parent-slot", "got %u want %u (word %x)",
	      f.parent_slot, ut->slot, w);
	check(f.children == 0 && EXO_CAPW_GET(uw, CHILDREN) == 0 && f.badge == 0 && !EXO_CAPW_GET(uw, BADGED),
	      "inspect-children", "children %u word %x badge %x", f.children, w, f.badge);
	int uwd = exo_cap_inspect(ut->slot, &u1);
	check(u1.children == u0.children + 1 && EXO_CAPW_GET((uint32_t)uwd, CHILDREN) == (u1.children > 0x7fff ? 0x7fff : u1.children),
	      "inspect-untyped-children", "got %u want %u", u1.children, u0.children + 1);

	expect("retype-overlap", exo_cap_retype(ut->slot, EXO_CAP_FRAME, topOff(0), PAGE, spare), EXO_E_OVERLAP);
	expect("retype-overlap-partial", exo_cap_retype(ut->slot, EXO_CAP_FRAME, topOff(1), 2 * PAGE, spare), EXO_E_OVERLAP);
	expect("retype-edge", exo_cap_retype(ut->slot, EXO_CAP_UART, topOff(1), PAGE, spare), EXO_E_EDGE);
	expect("retype-edge-dma-domain", exo_cap_retype(ut->slot, EXO_CAP_DMA_DOMAIN, topOff(1), PAGE, spare), EXO_E_EDGE);
	expect("retype-unknown-type", exo_cap_retype(ut->slot, 99, topOff(1), PAGE, spare), EXO_E_BAD_ARG);
	expect("retype-unaligned-offset", exo_cap_retype(ut->slot, EXO_CAP_FRAME, topOff(1) + 8, PAGE, spare), EXO_E_BAD_ARG);
	expect("retype-unaligned-size", exo_cap_retype(ut->slot, EXO_CAP_FRAME, topOff(1), 100, spare), EXO_E_BAD_ARG);
	expect("retype-zero-size", exo_cap_retype(ut->slot, EXO_CAP_FRAME, topOff(1), 0, spare), EXO_E_BAD_ARG);
	expect("retype-out-of-range", exo_cap_retype(ut->slot, EXO_CAP_FRAME, ut->size, PAGE, spare), EXO_E_BAD_ARG);
	expect("retype-past-end", exo_cap_retype(ut->slot, EXO_CAP_FRAME, topOff(0), 2 * PAGE, spare), EXO_E_BAD_ARG);
	expect("retype-slot-full", exo_cap_retype(ut->slot, EXO_CAP_FRAME, topOff(1), PAGE, uart->slot), EXO_E_SLOT_FULL);
	expect("retype-wrong-type", exo_cap_retype(frameA, EXO_CAP_FRAME, 0, PAGE, spare), EXO_E_WRONG_TYPE);
	expect("retype-bad-slot", exo_cap_retype(BAD, EXO_CAP_FRAME, 0, PAGE, spare), EXO_E_BAD_SLOT);
	expect("retype-empty", exo_cap_retype(spare, EXO_CAP_FRAME, 0, PAGE, nw), EXO_E_EMPTY);
	expect("mint-untyped-no-write", exo_cap_mint(ut->slot, nw, EXO_R_READ | EXO_R_MAP, 0), 0);
	expect("retype-no-write", exo_cap_retype(nw, EXO_CAP_FRAME, topOff(1), PAGE, spare), EXO_E_RIGHTS);
	exo_cap_delete(nw);
}

/* ---- CAP_MINT, badges ---- */

static void testMint(void)
{
	struct exo_cap_info i, p;
	uint32_t m = slot(), b = slot(), x = slot();

	expect("mint", exo_cap_mint(frameA, m, RW | EXO_R_MAP, 0), 0);
	int w = exo_cap_inspect(m, &i);
	check(w >= 0 && EXO_CAPW_GET((uint32_t)w, RIGHTS) == (RW | EXO_R_MAP) && EXO_CAPW_GET((uint32_t)w, TYPE) == EXO_CAP_FRAME &&
		      i.parent_slot == frameA && i.size == PAGE,
	      "mint-inspect", "word %x parent_slot %u size %x", w, i.parent_slot, i.size);
	exo_cap_inspect(frameA, &p);
	check(p.children == 1, "mint-parent-children", "got %u want 1", p.children);
	expect("mint-more-rights", exo_cap_mint(m, x, RW | EXO_R_MAP | EXO_R_DMA, 0), EXO_E_RIGHTS);
	expect("mint-bad-rights", exo_cap_mint(frameA, x, 0x40, 0), EXO_E_BAD_ARG);
	expect("mint-bad-slot", exo_cap_mint(BAD, x, EXO_R_READ, 0), EXO_E_BAD_SLOT);
	expect("mint-empty", exo_cap_mint(spare, x, EXO_R_READ, 0), EXO_E_EMPTY);
	expect("mint-slot-full", exo_cap_mint(frameA, m, EXO_R_READ, 0), EXO_E_SLOT_FULL);
	expect("mint-dst-bad-slot", exo_cap_mint(frameA, BAD, EXO_R_READ, 0), EXO_E_BAD_SLOT);
	expect("mint-badge", exo_cap_mint(frameA, b, RW | EXO_R_MAP, 0x1234), 0);
	w = exo_cap_inspect(b, &i);
	check(w >= 0 && i.badge == 0x1234 && EXO_CAPW_GET((uint32_t)w, BADGED), "mint-badge-inspect", "badge %x word %x", i.badge, w);
	expect("mint-rebadge", exo_cap_mint(b, x, EXO_R_READ, 0x99), EXO_E_PERM);
	expect("mint-badge-kept", exo_cap_mint(b, x, EXO_R_READ, 0), 0);
	exo_cap_inspect(x, &i);
	check(i.badge == 0x1234, "mint-badge-inherited", "badge %x want 1234", i.badge);
	exo_cap_delete(x);
	exo_cap_delete(b);
	exo_cap_delete(m);
}

/* ---- MAP_FRAME, UNMAP_FRAME ---- */

static void testMap(void)
{
	uint32_t nm = slot(), ro = slot(), m = slot();
	uint32_t va = exo_va_alloc(PAGE), va2 = exo_va_alloc(PAGE);

	vaA = va;
	exo_cap_mint(frameA, nm, RW, 0);
	exo_cap_mint(frameA, ro, EXO_R_READ | EXO_R_MAP, 0);
	exo_cap_mint(frameA, m, RW | EXO_R_MAP, 0);
	expect("map-no-map-right", exo_map_frame(nm, va, RW), EXO_E_RIGHTS);
	expect("map-more-than-rights", exo_map_frame(ro, va, RW), EXO_E_RIGHTS);
	expect("map-wrong-type", exo_map_frame(uart->slot, va, RW), EXO_E_WRONG_TYPE);
	expect("map-bad-slot", exo_map_frame(BAD, va, RW), EXO_E_BAD_SLOT);
	expect("map-empty", exo_map_frame(spare, va, RW), EXO_E_EMPTY);
	expect("map-kernel-memory", exo_map_frame(frameA, 0x1000, RW), EXO_E_BAD_ARG);
	expect("map-unaligned", exo_map_frame(frameA, va + 4, RW), EXO_E_BAD_ARG);
	expect("map-above-user-max", exo_map_frame(frameA, EXO_USER_MAX, RW), EXO_E_BAD_ARG);
	expect("map-no-perms", exo_map_frame(frameA, va, 0), EXO_E_BAD_ARG);
	expect("map-frame", exo_map_frame(frameA, va, RW), 0);

	volatile uint32_t *p = (volatile uint32_t *)va;
	for (uint32_t k = 0; k < PAGE / 4; k++)
		p[k] = 0xa5000000u + k * 7;
	uint32_t bad = 0;
	for (uint32_t k = 0; k < PAGE / 4; k++)
		bad += p[k] != 0xa5000000u + k * 7;
	check(bad == 0, "frame-write-read", "%u of %u words differ", bad, PAGE / 4);

	expect("map-twice", exo_map_frame(m, va, RW), EXO_E_EXISTS);
	expect("unmap-not-bound", exo_unmap_frame(va2), EXO_E_NOT_BOUND);
	expect("map-read-only-alias", exo_map_frame(ro, va2, EXO_R_READ), 0);
	check(((volatile uint32_t *)va2)[3] == 0xa5000000u + 21, "map-alias-same-frame", "got %x want %x",
	      ((volatile uint32_t *)va2)[3], 0xa5000000u + 21);
	expect("unmap-alias", exo_unmap_frame(va2), 0);
	exo_cap_delete(nm);
	exo_cap_delete(ro);
	exo_cap_delete(m);
}

/* ---- unmap, fault, upcall, map, resume ---- */

static void testPageFault(void)
{
	void *stack = upcall_stack();

	check(stack != 0, "upcall-stack", "no memory for an exception stack");
	expect("upcall-entry-page-fault", exo_upcall_entry(EXO_UPCALL_PAGE_FAULT, onPageFault, stack), 0);
	expect("unmap-frame", exo_unmap_frame(vaA + 100), 0);
	expect("unmap-twice", exo_unmap_frame(vaA), EXO_E_NOT_BOUND);

	touchWithRegs(vaA + 20);
	uint32_t *r = exocalls_regs;
	check(pfCount == 1 && pfKind == EXO_UPCALL_PAGE_FAULT, "pf-upcall", "%u upcalls, kind %u", pfCount, pfKind);
	check(pfAddr == vaA + 20, "pf-address", "got %x want %x", pfAddr, vaA + 20);
	check((pfError & 7) == 6, "pf-error-code", "got %x want user|write|not-present (6)", pfError);
	check(pfCore == exo_core, "pf-core", "got %u want %u", pfCore, exo_core);
	check(r[0] == vaA + 20 && r[1] == 0x11111111 && r[2] == 0x22222222 && r[3] == 0x33333333 && r[4] == 0x44444444 &&
		      r[5] == 0x55555555 && r[6] == 0x66666666,
	      "pf-resume-registers", "eax %x ebx %x ecx %x edx %x esi %x edi %x ebp %x", r[0], r[1], r[2], r[3], r[4], r[5], r[6]);
	check(r[7] == 1, "pf-resume-flags", "CF %u want 1", r[7]);
	check(r[8] == r[9], "pf-resume-esp", "before %x after %x", r[8], r[9]);
	check(*(volatile uint32_t *)(vaA + 20) == 0x5a5a5a5a, "pf-retried-access", "got %x want 5a5a5a5a",
	      *(volatile uint32_t *)(vaA + 20));
}

/* ---- CAP_GRANT ---- */

static void testGrant(void)
{
	struct exo_cap_info i;
	uint32_t ng = slot();

	exo_cap_mint(frameA, ng, EXO_R_READ | EXO_R_MAP, 0);
	expect("grant-no-grant-right", exo_cap_grant(ng, exo_principal, EXO_R_READ, 0), EXO_E_RIGHTS);
	expect("grant-no-principal", exo_cap_grant(frameA, 999, EXO_R_READ, 0), EXO_E_NO_PRINCIPAL);
	expect("grant-bad-rights", exo_cap_grant(frameA, exo_principal, 0x40, 0), EXO_E_BAD_ARG);
	uint32_t gr = slot();
	exo_cap_mint(frameA, gr, EXO_R_READ | EXO_R_GRANT, 0);
	expect("grant-more-rights", exo_cap_grant(gr, exo_principal, EXO_R_READ | EXO_R_WRITE, 0), EXO_E_RIGHTS);
	exo_cap_delete(gr);
	expect("grant-bad-slot", exo_cap_grant(BAD, exo_principal, EXO_R_READ, 0), EXO_E_BAD_SLOT);
	int g = exo_cap_grant(frameA, exo_principal, EXO_R_READ | EXO_R_MAP, 0);
	check(g >= 0, "grant-self", "got %d want a slot", g);
	if (g >= 0) {
		int w = exo_cap_inspect((uint32_t)g, &i);
		check(w >= 0 && i.parent_slot == frameA && EXO_CAPW_GET((uint32_t)w, RIGHTS) == (EXO_R_READ | EXO_R_MAP),
		      "grant-inspect", "word %x parent_slot %u", w, i.parent_slot);
		exo_cap_delete((uint32_t)g);
	}
	exo_cap_delete(ng);
}

/* ---- CAP_DELETE ---- */

static void testDelete(void)
{
	struct exo_cap_info i;
	uint32_t a = slot(), b = slot();

	exo_cap_mint(frameA, a, RW | EXO_R_MAP, 0);
	exo_cap_mint(a, b, EXO_R_READ | EXO_R_MAP, 0);
	expect("delete", exo_cap_delete(a), 0);
	expect("delete-gone", exo_cap_inspect(a, 0), EXO_E_EMPTY);
	exo_cap_inspect(b, &i);
	check(i.parent_slot == frameA, "delete-children-move-up", "parent_slot %u want %u", i.parent_slot, frameA);
	expect("delete-twice", exo_cap_delete(a), EXO_E_EMPTY);
	exo_cap_delete(b);
}

/* ---- CAP_REVOKE: the count, the descendants, their bindings ---- */

static void testRevoke(void)
{
	struct exo_cap_info i;
	uint32_t f2 = slot(), d1 = slot(), d2 = slot(), d3 = slot(), va3 = exo_va_alloc(PAGE);

	expect("revoke-setup-retype", exo_cap_retype(ut->slot, EXO_CAP_FRAME, topOff(2), PAGE, f2), 0);
	exo_cap_mint(f2, d1, RW | EXO_R_MAP, 0);
	exo_cap_mint(f2, d2, EXO_R_READ | EXO_R_MAP, 0);
	exo_cap_mint(d1, d3, EXO_R_READ | EXO_R_MAP, 0);
	int d4 = exo_cap_grant(f2, exo_principal, EXO_R_READ, 0);
	expect("revoke-setup-map", exo_map_frame(d3, va3, EXO_R_READ), 0);
	expect("cap-revoke", exo_cap_revoke(f2), 4);
	int gone = (typeOf(d1) == EXO_E_EMPTY) + (typeOf(d2) == EXO_E_EMPTY) + (typeOf(d3) == EXO_E_EMPTY) +
		   (d4 >= 0 && typeOf((uint32_t)d4) == EXO_E_EMPTY);
	check(gone == 4, "revoke-descendants-gone", "%d of 4 gone", gone);
	int w = exo_cap_inspect(f2, &i);
	check(w >= 0 && EXO_CAPW_GET((uint32_t)w, TYPE) == EXO_CAP_FRAME && i.children == 0, "revoke-keeps-cap",
	      "word %d children %u", w, i.children);
	uint32_t before = pfCount;
	(void)*(volatile uint32_t *)va3;	/* the mapping went with d3: faults, the handler maps a page */
	check(pfCount == before + 1 && pfAddr == va3 && (pfError & 7) == 4, "revoke-removes-binding",
	      "upcalls %u (was %u) address %x want %x error %x", pfCount, before, pfAddr, va3, pfError);
	expect("revoke-nothing", exo_cap_revoke(f2), 0);
	expect("revoke-bad-slot", exo_cap_revoke(BAD), EXO_E_BAD_SLOT);
	expect("revoke-empty", exo_cap_revoke(spare), EXO_E_EMPTY);
}

/* ---- IRQ_BIND, IRQ_UNBIND ---- */

static void testIrq(void)
{
	uint32_t mode = bi->irq_mode;

	expect("irq-bind-bad-mode", exo_irq_bind(vec->slot, 7, exo_core), EXO_E_BAD_ARG);
	expect("irq-bind-wrong-type", exo_irq_bind(uart->slot, mode, exo_core), EXO_E_WRONG_TYPE);
	expect("irq-bind-empty", exo_irq_bind(spare, mode, exo_core), EXO_E_EMPTY);
	expect("irq-bind", exo_irq_bind(vec->slot, mode, exo_core), 0);
	expect("irq-bind-twice", exo_irq_bind(vec->slot, mode, exo_core), EXO_E_EXISTS);
	expect("irq-unbind", exo_irq_unbind(vec->slot), 0);
	expect("irq-unbind-twice", exo_irq_unbind(vec->slot), EXO_E_NOT_BOUND);
}

/* ---- QUEUE_BIND, QUEUE_UNBIND ---- */

static void testQueue(void)
{
	uint32_t qva = exo_va_alloc(PAGE), other = exo_va_alloc(PAGE);

	expect("queue-bind-kernel-va", exo_queue_bind(queue->slot, dom->slot, EXO_SLOT_NONE, 0x1000), EXO_E_BAD_ARG);
	expect("queue-bind-unaligned", exo_queue_bind(queue->slot, dom->slot, EXO_SLOT_NONE, qva + 8), EXO_E_BAD_ARG);
	expect("queue-bind-wrong-type", exo_queue_bind(uart->slot, dom->slot, EXO_SLOT_NONE, qva), EXO_E_WRONG_TYPE);
	expect("queue-bind-wrong-domain", exo_queue_bind(queue->slot, uart->slot, EXO_SLOT_NONE, qva), EXO_E_WRONG_TYPE);
	expect("queue-bind-wrong-vector", exo_queue_bind(queue->slot, dom->slot, uart->slot, qva), EXO_E_WRONG_TYPE);
	expect("queue-bind", exo_queue_bind(queue->slot, dom->slot, vec->slot, qva), 0);
	volatile uint32_t *q = (volatile uint32_t *)qva;
	q[0x28 / 4] = 0x1234;	/* ITR: read-write, no side effect until an interrupt */
	check(q[0x28 / 4] == 0x1234, "queue-regs-mapped", "ITR reads %x want 1234", q[0x28 / 4]);
	q[0x28 / 4] = 0;
	expect("queue-bind-twice", exo_queue_bind(queue->slot, dom->slot, EXO_SLOT_NONE, other), EXO_E_EXISTS);
	expect("queue-unbind", exo_queue_unbind(queue->slot), 0);
	expect("queue-unbind-twice", exo_queue_unbind(queue->slot), EXO_E_NOT_BOUND);
}

/* ---- DMA_MAP, DMA_UNMAP ---- */

static void testDma(void)
{
	uint32_t fd, nd = slot(), iova = 0x10000000u;

	if (!check(exo_frame_alloc(PAGE, &fd) == 0, "dma-frame", "no frame"))
		return;
	exo_cap_mint(fd, nd, RW | EXO_R_MAP, 0);
	expect("dma-map-wrong-type", exo_dma_map(uart->slot, fd, iova, RW), EXO_E_WRONG_TYPE);
	expect("dma-map-no-dma-right", exo_dma_map(dom->slot, nd, iova, EXO_R_READ), EXO_E_RIGHTS);
	expect("dma-map-unaligned", exo_dma_map(dom->slot, fd, iova + 8, RW), EXO_E_BAD_ARG);
	expect("dma-map", exo_dma_map(dom->slot, fd, iova, RW), 0);
	expect("dma-map-twice", exo_dma_map(dom->slot, fd, iova, EXO_R_READ), EXO_E_EXISTS);
	expect("dma-unmap-not-bound", exo_dma_unmap(dom->slot, iova + 16 * PAGE), EXO_E_NOT_BOUND);
	expect("dma-unmap", exo_dma_unmap(dom->slot, iova + 12), 0);
	expect("dma-unmap-twice", exo_dma_unmap(dom->slot, iova), EXO_E_NOT_BOUND);
	exo_cap_delete(nd);
}

/* ---- CONSOLE_WRITE ---- */

static char longBuf[EXO_PAGE_SIZE + 1];

static void testConsole(void)
{
	static const char line[] = "ok console-write\n";	/* the check prints itself */
	uint32_t nw = slot();

	int n = exo_console_write(uart->slot, line, sizeof line - 1);
	if (n != (int)sizeof line - 1)
		check(0, "console-write", "got %d want %d", n, (int)sizeof line - 1);
	expect("console-bad-buffer", exo_console_write(uart->slot, (const void *)0x1000, 4), EXO_E_BAD_ARG);
	expect("console-too-long", exo_console_write(uart->slot, longBuf, sizeof longBuf), EXO_E_BAD_ARG);
	expect("console-wrong-type", exo_console_write(frameA, line, 1), EXO_E_WRONG_TYPE);
	exo_cap_mint(uart->slot, nw, uart->rights & ~(uint32_t)EXO_R_WRITE, 0);
	expect("console-no-write-right", exo_console_write(nw, line, 1), EXO_E_RIGHTS);
	exo_cap_delete(nw);
}

int main(void)
{
	if (testBoot() != 0)
		return finish();
	testPlain();
	testSlots();
	testRetype();
	testMint();
	testMap();
	testPageFault();
	testGrant();
	testDelete();
	testRevoke();
	testIrq();
	testQueue();
	testDma();
	testConsole();
	return finish();	/* the exit status: EXO_EXIT with the failure count */
}
