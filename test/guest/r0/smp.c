/* Multi-core start-up and IPIs: INIT + STARTUP to every AP (EBX cores), per-AP stacks, APIC
   IDs, a lock xadd arrival count, a lock-xchg spinlock under contention, then fixed IPIs
   (BSP -> each AP -> BSP) and the self / all / all-but-self shorthands (SDM vol. 3A 11.6). */

#include "rt/r0.h"

#define V_PING	0x40	/* BSP -> AP */
#define V_PONG	0xa0	/* AP c -> BSP: V_PONG + c, since requests of one vector coalesce in the IRR */
#define V_OTHERS 0x42
#define V_SELF	0x43
#define V_ALL	0x44
#define SPINS	500
#define TIMEOUT	4000000ull	/* 2 ms at 2 GHz */

static volatile uint32_t arrived, ids[R0_MAX_CORES], stackAt[R0_MAX_CORES], svr[R0_MAX_CORES];
static volatile uint32_t go, done, shared;
static volatile uint32_t ping[R0_MAX_CORES], pongs, pongFrom[R0_MAX_CORES], others[R0_MAX_CORES], self[R0_MAX_CORES], all[R0_MAX_CORES];
static volatile uint32_t othersTotal, allTotal;
static r0_lock lock;

static void onPing(struct r0_frame *f)
{
	uint32_t id = lapic_id();

	ping[id]++;
	lapic_eoi();
	lapic_send(0, ICR_FIXED | (V_PONG + id));
}

static void onPong(struct r0_frame *f)
{
	pongFrom[f->vector - V_PONG]++;
	r0_xadd(&pongs, 1);
	lapic_eoi();
}

static void onOthers(struct r0_frame *f)
{
	others[lapic_id()]++;
	r0_xadd(&othersTotal, 1);
	lapic_eoi();
}

static void onSelf(struct r0_frame *f)
{
	self[lapic_id()]++;
	lapic_eoi();
}

static void onAll(struct r0_frame *f)
{
	all[lapic_id()]++;
	r0_xadd(&allTotal, 1);
	lapic_eoi();
}

static void contend(void)
{
	for (int k = 0; k < SPINS; k++) {
		r0_lock_acquire(&lock);
		uint32_t v = shared;	/* a plain read-modify-write: only the lock keeps it whole */
		for (volatile int d = 0; d < 3; d++)
			;
		shared = v + 1;
		r0_lock_release(&lock);
	}
	r0_xadd(&done, 1);
}

static void apMain(uint32_t core)
{
	uint32_t local;

	lapic_enable();
	ids[core] = lapic_id() + 1;
	stackAt[core] = (uint32_t)&local;
	svr[core] = lapic_read(LAPIC_SVR);
	r0_xadd(&arrived, 1);
	while (!go)
		r0_pause();
	contend();
	/* back in r0_ap_main: sti; hlt, taking IPIs */
}

static void start(uint32_t cores)
{
	uint64_t t0 = r0_rdtsc();
	r0_start_aps(cores, apMain);
	int ok = r0_wait(TIMEOUT, &arrived, cores - 1);
	r0_check(ok && arrived == cores - 1, "aps-started", "%u of %u APs arrived", arrived, cores - 1);
	r0_printf("info: %u APs up after %u cycles\n", arrived, (uint32_t)(r0_rdtsc() - t0));

	int idsOk = 1, stacksOk = 1;
	for (uint32_t c = 1; c < cores; c++) {
		if (ids[c] != c + 1 || (svr[c] & SVR_ENABLE) == 0)
			idsOk = r0_check(0, "ap-apic-id", "core %u: APIC ID %d, SVR %x", c, (int)ids[c] - 1, svr[c]);
		for (uint32_t d = 1; d < c; d++) {
			uint32_t gap = stackAt[c] > stackAt[d] ? stackAt[c] - stackAt[d] : stackAt[d] - stackAt[c];
			if (gap < 4096)
				stacksOk = r0_check(0, "ap-stacks", "cores %u and %u: stacks at %x and %x", c, d, stackAt[c], stackAt[d]);
		}
	}
	if (idsOk)
		r0_check(1, "ap-apic-ids", "");
	if (stacksOk)
		r0_check(1, "ap-stacks", "");
}

static void spinlock(uint32_t cores)
{
	go = 1;
	contend();
	int ok = r0_wait(TIMEOUT * 4, &done, cores);
	r0_check(ok && shared == cores * SPINS, "spinlock-xchg", "counter %u, expected %u (%u of %u cores done)",
		 shared, cores * SPINS, done, cores);
}

static void ipis(uint32_t cores)
{
	r0_sti();
	for (uint32_t c = 1; c < cores; c++)
		lapic_send(c, ICR_FIXED | V_PING);
	int ok = r0_wait(TIMEOUT, &pongs, cores - 1);
	int each = 1;
	for (uint32_t c = 1; c < cores; c++)
		each &= ping[c] == 1;
	r0_check(ok && each && ping[0] == 0, "ipi-fixed-to-each-ap", "pings %u %u %u %u", ping[0], ping[1], ping[2], ping[3]);
	each = 1;
	for (uint32_t c = 1; c < cores; c++)
		each &= pongFrom[c] == 1;
	r0_check(pongs == cores - 1 && each, "ipi-replies", "%u replies of %u (from core 1: %u)", pongs, cores - 1, pongFrom[1]);

	lapic_send(0, ICR_OTHERS | V_OTHERS);
	ok = r0_wait(TIMEOUT, &othersTotal, cores - 1);
	r0_wait(20000, 0, 0);	/* let a stray one arrive */
	each = 1;
	for (uint32_t c = 1; c < cores; c++)
		each &= others[c] == 1;
	r0_check(ok && each && others[0] == 0 && othersTotal == cores - 1, "ipi-all-but-self",
		 "total %u, core 0 got %u, core 1 got %u", othersTotal, others[0], others[1]);

	lapic_send(0, ICR_SELF | V_SELF);
	ok = r0_wait(TIMEOUT, &self[0], 1);
	r0_wait(20000, 0, 0);
	each = 1;
	for (uint32_t c = 1; c < cores; c++)
		each &= self[c] == 0;
	r0_check(ok && each && self[0] == 1, "ipi-self", "core 0 got %u, core 1 got %u", self[0], self[1]);

	lapic_send(0, ICR_ALL | V_ALL);
	ok = r0_wait(TIMEOUT, &allTotal, cores);
	r0_wait(20000, 0, 0);
	each = 1;
	for (uint32_t c = 0; c < cores; c++)
		each &= all[c] == 1;
	r0_check(ok && each && allTotal == cores, "ipi-all-including-self", "total %u of %u", allTotal, cores);

	/* a send to a core that does not exist goes nowhere and breaks nothing */
	lapic_send(cores + 1 < 0xff ? cores + 1 : 0xfe, ICR_FIXED | V_PING);
	r0_wait(20000, 0, 0);
	r0_check(ping[0] == 0 && pongs == cores - 1, "ipi-to-absent-core", "pings %u replies %u", ping[0], pongs);
	r0_cli();
}

int main(void)
{
	uint32_t cores = r0_cores;

	r0_set_handler(V_PING, onPing);
	for (uint32_t c = 1; c < cores && c < R0_MAX_CORES; c++)
		r0_set_handler(V_PONG + c, onPong);
	r0_set_handler(V_OTHERS, onOthers);
	r0_set_handler(V_SELF, onSelf);
	r0_set_handler(V_ALL, onAll);
	lapic_enable();
	r0_check(lapic_id() == 0, "bsp-apic-id", "%u", lapic_id());
	r0_printf("info: %u cores\n", cores);
	start(cores);
	spinlock(cores);
	ipis(cores);
	return r0_finish();
}
