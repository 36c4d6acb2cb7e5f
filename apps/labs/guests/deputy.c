/* The deputy of the confused-deputy lab: a ring-3 principal that keeps a billing ledger on the
   disk (the first sectors of its block range) and writes data to the disk for a client, which
   names where. Ambient variant (boot arg bit 0 clear): it writes with its own authority, a
   range over the ledger and the client's area, wherever the client says. Capability variant:
   its own range covers only the ledger; it writes with the capability the caller granted it
   and named (checked to carry the caller's badge), at a sector of that capability's range,
   and never with its own. Prints "<what> <value>" lines; exits when the client quits. */
#include "deputy.h"

#define BUF_SLOT	50

/* The Frame the client granted: the lowest slot holding one, other than our own buffer. */
static uint32_t sharedFrame(void)
{
	for (;;) {
		for (uint32_t s = 0; s < 48; s++) {
			int32_t w = exo(EXO_CAP_INSPECT, s, 0, 0, 0);
			if (w >= 0 && EXO_CAPW_GET((uint32_t)w, TYPE) == EXO_CAP_FRAME)
				return s;
		}
		exo(EXO_YIELD, 0, 0, 0, 0);
	}
}

/* The ledger: every sector of it written once, as its own record. */
static int32_t writeLedger(uint32_t range, uint32_t sectors, uint32_t *buf)
{
	for (uint32_t at = 0; at < sectors; at += 8) {
		uint32_t n = sectors - at < 8 ? sectors - at : 8;
		for (uint32_t k = 0; k < n; k++) {
			buf[k * 128] = LEDGER_MAGIC;
			buf[k * 128 + 1] = at + k;
		}
		int32_t r = exo5(EXO_BLOCK_IO, range, EXO_BLK_WRITE, at, n, (uint32_t)buf);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Capability variant: the named slot must hold a block range the caller granted (its badge). */
static int32_t callersRange(uint32_t slot)
{
	struct exo_cap_info info;
	int32_t w = exo(EXO_CAP_INSPECT, slot, (uint32_t)&info, 0, 0);
	if (w < 0)
		return w;
	if (EXO_CAPW_GET((uint32_t)w, TYPE) != EXO_CAP_BLOCK_RANGE || info.badge != CLIENT_BADGE)
		return EXO_E_PERM;
	return 0;
}

void _start(void)
{
	const struct exo_boot_info *bi = bootInfo();
	uint32_t caps = ARG_CAPS(bi->arg), ledger = DEPUTY_LEDGER(bi->arg);
	uint32_t own = bootCap(EXO_CAP_BLOCK_RANGE, 0), va = bi->free_va;
	exo5(EXO_CAP_RETYPE, bootCap(EXO_CAP_UNTYPED, 0), EXO_CAP_FRAME, 0, 4096, BUF_SLOT);
	exo(EXO_MAP_FRAME, BUF_SLOT, va, EXO_R_READ | EXO_R_WRITE, 0);
	say("ledger written ", writeLedger(own, ledger, (uint32_t *)va));
	uint32_t shared = va + 0x10000;
	say("map shared ", exo(EXO_MAP_FRAME, sharedFrame(), shared, EXO_R_READ | EXO_R_WRITE, 0));
	struct mailbox *m = (struct mailbox *)shared;
	uint32_t served = 0;
	for (;;) {
		while (m->state != BOX_REQUEST && m->state != BOX_QUIT)
			exo(EXO_YIELD, 0, 0, 0, 0);
		if (m->state == BOX_QUIT)
			break;
		int32_t r;
		if (!caps)
			r = exo5(EXO_BLOCK_IO, own, EXO_BLK_WRITE, m->sector, m->count, shared + 4096);
		else if ((r = callersRange(m->slot)) == 0)
			r = exo5(EXO_BLOCK_IO, m->slot, EXO_BLK_WRITE, m->sector, m->count, shared + 4096);
		m->result = r;
		served++;
		m->state = BOX_DONE;
	}
	say("served ", served);
	leave(0);
}
