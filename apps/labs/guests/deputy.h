/* The confused-deputy lab's two principals (deputy.c, deputy-client.c) share this: the
   mailbox at the start of a Frame the client grants the deputy, the request's data in the
   frame's second page, the boot argument layouts and the disk's record markers. */

#ifndef DEPUTY_H
#define DEPUTY_H

#include "exok.h"

/* The mailbox: one request at a time, each side yielding while it waits for the other. */
enum { BOX_IDLE, BOX_REQUEST, BOX_DONE, BOX_QUIT };
struct mailbox {
	volatile uint32_t state;   /* BOX_* */
	volatile uint32_t slot;    /* capability variant: the block range to write with, a slot in the deputy's space */
	volatile uint32_t sector;  /* ambient: a sector of the deputy's own range; capability: of `slot`'s range */
	volatile uint32_t count;   /* sectors, from the frame's second page */
	volatile int32_t result;   /* the deputy's answer: 0 or EXO_E_* */
};
#define SHARED_BYTES	8192	/* mailbox page + one data page (8 sectors) */

/* Boot args. Deputy: bit 0 the capability variant, bits 8..19 the ledger's sectors. Client:
   bit 0 the variant, bits 1..7 attacks, bits 8..11 sectors per request, bits 12..23 the
   ledger's sectors, bits 24..31 the deputy's principal id. */
#define ARG_CAPS(a)	((a) & 1)
#define DEPUTY_LEDGER(a)	(((a) >> 8) & 0xfff)
#define CLIENT_ATTACKS(a)	(((a) >> 1) & 0x7f)
#define CLIENT_SECTORS(a)	(((a) >> 8) & 0xf)
#define CLIENT_LEDGER(a)	(((a) >> 12) & 0xfff)
#define CLIENT_DEPUTY(a)	(((a) >> 24) & 0xff)

/* A ledger sector starts "BILL" and its own sector number; a client's data "CLNT", request, index. */
#define LEDGER_MAGIC	0x4c4c4942u	/* "BILL" */
#define CLIENT_MAGIC	0x544e4c43u	/* "CLNT" */
/* The badge the client puts on what it grants: the deputy's proof that a capability is the caller's. */
#define CLIENT_BADGE	0xc11e

#endif
