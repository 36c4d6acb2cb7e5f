/* The client of the confused-deputy lab: it shares a Frame with the deputy (the mailbox),
   asks it to write two requests of data to its own area of the disk, and in between asks it
   `attacks` times to write over the billing ledger. Ambient variant: it names ledger sectors
   of the deputy's range. Capability variant: it grants the deputy a badged child of its own
   range (and a read-only one), and tries, in turn, a sector before its range (wrapping to the
   ledger), the deputy's own ledger slot, and the read-only grant. Prints one line a request:
   "request <k> <kind> status <EXO_E_*>", kind 0 legitimate, 1..3 the attacks. */
#include "deputy.h"

#define SHARED_SLOT	50

static struct mailbox *m;
static uint32_t *data;

static int32_t ask(uint32_t req, uint32_t slot, uint32_t sector, uint32_t count)
{
	for (uint32_t k = 0; k < count; k++) {
		data[k * 128] = CLIENT_MAGIC;
		data[k * 128 + 1] = req;
		data[k * 128 + 2] = k;
	}
	m->slot = slot;
	m->sector = sector;
	m->count = count;
	m->state = BOX_REQUEST;
	while (m->state != BOX_DONE)
		exo(EXO_YIELD, 0, 0, 0, 0);
	int32_t r = m->result;
	m->state = BOX_IDLE;
	return r;
}

static void report(uint32_t req, uint32_t kind, int32_t status)
{
	static char what[40] = "request ";
	char *p = what + 8;
	*p++ = '0' + req / 100 % 10; *p++ = '0' + req / 10 % 10; *p++ = '0' + req % 10;
	*p++ = ' '; *p++ = '0' + kind; *p++ = ' ';
	const char *s = "status ";
	while (*s)
		*p++ = *s++;
	*p = 0;
	say(what, status);
}

void _start(void)
{
	const struct exo_boot_info *bi = bootInfo();
	uint32_t a = bi->arg, caps = ARG_CAPS(a), attacks = CLIENT_ATTACKS(a), n = CLIENT_SECTORS(a);
	uint32_t ledger = CLIENT_LEDGER(a), deputy = CLIENT_DEPUTY(a), mine = bootCap(EXO_CAP_BLOCK_RANGE, 0);
	uint32_t va = bi->free_va;
	exo5(EXO_CAP_RETYPE, bootCap(EXO_CAP_UNTYPED, 0), EXO_CAP_FRAME, 0, SHARED_BYTES, SHARED_SLOT);
	exo(EXO_MAP_FRAME, SHARED_SLOT, va, EXO_R_READ | EXO_R_WRITE, 0);
	m = (struct mailbox *)va;
	data = (uint32_t *)(va + 4096);
	int32_t rw = EXO_E_EMPTY, ro = EXO_E_EMPTY;
	if (caps) {
		rw = exo(EXO_CAP_GRANT, mine, deputy, EXO_R_READ | EXO_R_WRITE, CLIENT_BADGE);
		ro = exo(EXO_CAP_GRANT, mine, deputy, EXO_R_READ, CLIENT_BADGE);
		say("grant rw ", rw >= 0);
		say("grant ro ", ro >= 0);
	}
	say("grant mailbox ", exo(EXO_CAP_GRANT, SHARED_SLOT, deputy, EXO_R_READ | EXO_R_WRITE | EXO_R_MAP, 0) >= 0);
	/* My own area: the sectors right after the ledger on the disk, 0.. of my range. */
	uint32_t req = 0;
	report(req, 0, ask(req, (uint32_t)rw, caps ? 0 : ledger, n));
	req++;
	for (uint32_t k = 0; k < attacks; k++, req++) {
		uint32_t target = (k * n) % ledger;   /* a ledger sector, on the disk */
		if (!caps) {
			report(req, 1, ask(req, 0, target, n));
			continue;
		}
		switch (k % 3) {
		case 0: report(req, 1, ask(req, (uint32_t)rw, target - ledger, n)); break;   /* before my range: wraps */
		case 1: report(req, 2, ask(req, mine, target, n)); break;   /* the deputy's ledger: same boot slot as my range */
		default: report(req, 3, ask(req, (uint32_t)ro, target - ledger, n)); break;
		}
	}
	report(req, 0, ask(req, (uint32_t)rw, caps ? n : ledger + n, n));
	m->state = BOX_QUIT;
	say("done ", 0);
	leave(0);
}
