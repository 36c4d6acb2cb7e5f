/* Visible revocation from the LibOS's side: the kernel asks for a capability back by a
   revocation upcall (arg0 the slot, arg1 the request id, info the cycles to the deadline).
   With boot info arg == 1 the LibOS complies (EXO_REVOKE_REPLY); otherwise it ignores the
   request and the kernel repossesses by force at the deadline, leaving a notice. It yields
   until the request is settled (replied, or a notice read), or until both MAX_YIELDS yields
   and WAIT_CYCLES have passed (a lone principal's yield returns at once), prints the notices
   EXO_REPO_NOTICE returns, and checks that the slot is empty now. */

#include "exotest.h"

#ifndef MAX_YIELDS
#define MAX_YIELDS	200
#endif
#ifndef WAIT_CYCLES
#define WAIT_CYCLES	20000000ull	/* 10 ms at 2 GHz */
#endif
#define SETTLE_YIELDS	20	/* after a reply: long enough for a wrong notice to show up */
#define MAX_NOTICES	8

static volatile uint32_t asked, askedSlot, askedRequest, askedDeadline, replies;
static volatile int replyResult = 1;	/* 1: not replied */
static uint32_t comply;

static void onRevocation(struct exo_upcall_frame *f)
{
	if (f->kind == EXO_UPCALL_REVOCATION) {
		asked++;
		askedSlot = f->arg0;
		askedRequest = f->arg1;
		askedDeadline = f->info;
		if (comply) {
			replyResult = exo_revoke_reply(f->arg0, f->arg1);
			replies++;
		}
	}
	exo_resume(f);
}

int main(void)
{
	const struct exo_boot_info *bi = exo_boot_info();
	struct exo_repo_notice notes[MAX_NOTICES];
	uint32_t nnotes = 0, yields = 0, settle = 0;
	void *stack = upcall_stack();

	comply = bi->arg == 1;
	printf("revoke: %s the kernel's requests\n", comply ? "complying with" : "ignoring");
	if (!check(stack != 0, "upcall-stack", "none"))
		return finish();
	expect("upcall-entry-revocation", exo_upcall_entry(EXO_UPCALL_REVOCATION, onRevocation, stack), 0);

	/* notices are consumed as they are read: gather them while waiting */
	uint64_t t0 = plat_cycles();
	while (yields < MAX_YIELDS || plat_cycles() - t0 < WAIT_CYCLES) {
		int n = exo_repo_notice(notes + nnotes, MAX_NOTICES - nnotes);
		if (n < 0) {
			check(0, "repo-notice", "got %d", n);
			break;
		}
		nnotes += (uint32_t)n;
		if (nnotes > 0)
			break;	/* repossessed: settled */
		if (replies > 0 && ++settle > SETTLE_YIELDS)
			break;	/* given back, and no notice came after */
		exo_yield();
		yields++;
	}

	printf("revoke: %u requests, slot %u request %u deadline %u cycles; %u replies (result %d); %u yields\n", asked, askedSlot,
	       askedRequest, askedDeadline, replies, replies ? replyResult : 0, yields);
	printf("revoke: EXO_REPO_NOTICE returned %u notices\n", nnotes);
	for (uint32_t k = 0; k < nnotes; k++)
		printf("revoke: notice %u: type %u base %x size %x request %u when %u:%u\n", k, notes[k].type, notes[k].base,
		       notes[k].size, notes[k].request, notes[k].when_hi, notes[k].when_lo);

	check(asked >= 1, "revocation-upcall", "no request in %u yields", yields);
	if (asked == 0)
		return finish();
	const struct exo_boot_cap *c = 0;
	for (uint32_t k = 0; k < bi->ncaps; k++)
		if (((const struct exo_boot_cap *)(bi + 1))[k].slot == askedSlot)
			c = (const struct exo_boot_cap *)(bi + 1) + k;
	if (comply) {
		expect("revoke-reply", replyResult, 0);
		expect("no-notice-after-reply", (int)nnotes, 0);
	} else {
		check(nnotes >= 1 && notes[0].request == askedRequest, "repo-notice", "%u notices, request %u want %u", nnotes,
		      nnotes ? notes[0].request : 0, askedRequest);
		if (c && nnotes >= 1)
			check(notes[0].type == c->type && notes[0].base == c->base && notes[0].size == c->size, "repo-notice-fields",
			      "type %u base %x size %x want %u %x %x", notes[0].type, notes[0].base, notes[0].size, c->type, c->base,
			      c->size);
	}
	expect("slot-gone", exo_cap_inspect(askedSlot, 0), EXO_E_EMPTY);
	return finish();
}
