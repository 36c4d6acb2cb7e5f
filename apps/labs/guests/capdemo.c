/* The capabilities lab's live run: two ring-3 principals on one core, the owner (boot arg bit 0
   clear, the borrower's principal id in bits 8..15) and the borrower (bit 0 set). The owner
   carves two Frames, F and G, maps both and grants the borrower a child of each (through a
   mint of its own for F). The borrower maps what it got, mints a child of F's and maps that too,
   and says so in G, the mailbox. Part 1: the owner revokes F (EXO_CAP_REVOKE): the descendants
   in both spaces go with their mappings, its own mapping of F stays. Part 2: the scenario's
   `revoke` fault asks the owner for G back; it has no revocation handler, so at the deadline
   the kernel repossesses G. Each side prints what it sees as "<what> <value>" lines. */
#include "exok.h"

#define F_SLOT	50
#define F1_SLOT	51
#define G_SLOT	53
#define G1_SLOT	54
#define B2_SLOT	60
#define WAIT_CYCLES	20000000ull	/* 10 ms at 2 GHz: how long the borrower watches for part 2 */

enum { READY, REVOKED, CHECKED, MAILBOX_WORDS };
#define MAGIC	0xf00du

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Wait (yielding) until mailbox word `w` is set. */
static void await(volatile uint32_t *box, int w)
{
	while (!box[w])
		exo(EXO_YIELD, 0, 0, 0, 0);
}

static int32_t mapped(uint32_t va)
{
	return exo(EXO_MAP_QUERY, va, 0, 0, 0);
}

static void owner(uint32_t peer)
{
	uint32_t ut = bootCap(EXO_CAP_UNTYPED, 0), va = bootInfo()->free_va;
	uint32_t rwm = EXO_R_READ | EXO_R_WRITE | EXO_R_MAP | EXO_R_GRANT;
	say("retype F ", exo5(EXO_CAP_RETYPE, ut, EXO_CAP_FRAME, 0, 4096, F_SLOT));
	say("retype G ", exo5(EXO_CAP_RETYPE, ut, EXO_CAP_FRAME, 4096, 4096, G_SLOT));
	say("map F ", exo(EXO_MAP_FRAME, F_SLOT, va, EXO_R_READ | EXO_R_WRITE, 0));
	say("map G ", exo(EXO_MAP_FRAME, G_SLOT, va + 4096, EXO_R_READ | EXO_R_WRITE, 0));
	volatile uint32_t *f = (volatile uint32_t *)va, *box = (volatile uint32_t *)(va + 4096);
	say("mint F1 ", exo(EXO_CAP_MINT, F_SLOT, F1_SLOT, rwm, 0));
	say("grant F1 ", exo(EXO_CAP_GRANT, F1_SLOT, peer, rwm, 0));
	say("mint G1 ", exo(EXO_CAP_MINT, G_SLOT, G1_SLOT, rwm, 0));
	say("grant G1 ", exo(EXO_CAP_GRANT, G1_SLOT, peer, EXO_R_READ | EXO_R_WRITE | EXO_R_MAP, 0));
	await(box, READY);
	say("F shared, borrower wrote ", f[0] == MAGIC);
	say("revoke F removed ", exo(EXO_CAP_REVOKE, F_SLOT, 0, 0, 0));
	say("owner F mapping after revoke ", mapped(va) >= 0);
	say("owner F1 after revoke ", exo(EXO_CAP_INSPECT, F1_SLOT, 0, 0, 0) >= 0);
	box[REVOKED] = 1;
	await(box, CHECKED);
	/* Part 2: no handler for the revocation upcall; wait (without touching G) until it is taken. */
	while (mapped(va + 4096) >= 0)
		exo(EXO_YIELD, 0, 0, 0, 0);
	struct exo_repo_notice n[4];
	say("owner notices ", exo(EXO_REPO_NOTICE, (uint32_t)n, 4, 0, 0));
	say("owner G after repossession ", exo(EXO_CAP_INSPECT, G_SLOT, 0, 0, 0) >= 0);
	say("owner G1 after repossession ", exo(EXO_CAP_INSPECT, G1_SLOT, 0, 0, 0) >= 0);
	leave(0);
}

/* The borrower's frames: the two lowest slots holding one, in grant order (F1's child first). */
static int frames(uint32_t *got)
{
	int n = 0;
	for (uint32_t s = 0; s < 48 && n < 2; s++) {
		int32_t w = exo(EXO_CAP_INSPECT, s, 0, 0, 0);
		if (w >= 0 && EXO_CAPW_GET((uint32_t)w, TYPE) == EXO_CAP_FRAME)
			got[n++] = s;
	}
	return n;
}

static void borrower(void)
{
	uint32_t got[2], va = bootInfo()->free_va;
	while (frames(got) < 2)
		exo(EXO_YIELD, 0, 0, 0, 0);
	say("map F's child ", exo(EXO_MAP_FRAME, got[0], va, EXO_R_READ | EXO_R_WRITE, 0));
	say("mint its child ", exo(EXO_CAP_MINT, got[0], B2_SLOT, EXO_R_READ | EXO_R_MAP, 0));
	say("map that read-only ", exo(EXO_MAP_FRAME, B2_SLOT, va + 8192, EXO_R_READ, 0));
	say("map G's child ", exo(EXO_MAP_FRAME, got[1], va + 4096, EXO_R_READ | EXO_R_WRITE, 0));
	volatile uint32_t *f = (volatile uint32_t *)va, *box = (volatile uint32_t *)(va + 4096);
	f[0] = MAGIC;
	box[READY] = 1;
	await(box, REVOKED);
	say("borrower F child mapping after revoke ", mapped(va) >= 0);
	say("borrower F grandchild mapping after revoke ", mapped(va + 8192) >= 0);
	say("borrower F child after revoke ", exo(EXO_CAP_INSPECT, got[0], 0, 0, 0) >= 0);
	say("borrower F grandchild after revoke ", exo(EXO_CAP_INSPECT, B2_SLOT, 0, 0, 0) >= 0);
	box[CHECKED] = 1;
	/* Part 2: watch G's child through the repossession (it is the owner's G that is asked for). */
	uint64_t end = rdtsc() + WAIT_CYCLES;
	while (rdtsc() < end && mapped(va + 4096) >= 0)
		exo(EXO_YIELD, 0, 0, 0, 0);
	say("borrower G child mapping after repossession ", mapped(va + 4096) >= 0);
	say("borrower G child after repossession ", exo(EXO_CAP_INSPECT, got[1], 0, 0, 0) >= 0);
	leave(0);
}

void _start(void)
{
	uint32_t arg = bootInfo()->arg;
	if (arg & 1)
		borrower();
	else
		owner((arg >> 8) & 0xff);
}
