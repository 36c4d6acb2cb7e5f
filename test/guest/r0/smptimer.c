/* A few milliseconds of every core at once, for determinism and snapshot tests: each core
   runs a periodic LAPIC timer of its own period, does some work per tick, passes an IPI to
   the next core every few ticks and folds what it sees into order-sensitive shared state. */

#include "rt/r0.h"

#define V_TICK	0x30
#define V_PASS	0x50
#define RUN_CYCLES	6000000ull	/* 3 ms at 2 GHz */

static volatile uint32_t ticks[R0_MAX_CORES], passes[R0_MAX_CORES], work[R0_MAX_CORES];
static volatile uint32_t history, events, arrived, stop;
static r0_lock lock;

static void fold(uint32_t what)
{
	r0_lock_acquire(&lock);
	history = history * 31 + what;	/* depends on the order the cores come in */
	r0_lock_release(&lock);
	r0_xadd(&events, 1);
}

static void onTick(struct r0_frame *f)
{
	uint32_t id = lapic_id(), n = ++ticks[id];

	lapic_eoi();
	for (uint32_t k = 0; k < 200 + id * 37; k++)
		work[id] = work[id] * 1103515245u + 12345u + k;
	fold((id << 16) | (n & 0xffff));
	if (n % 4 == 0 && r0_cores > 1)
		lapic_send((id + 1) % r0_cores, ICR_FIXED | V_PASS);
}

static void onPass(struct r0_frame *f)
{
	uint32_t id = lapic_id();

	passes[id]++;
	lapic_eoi();
	fold(0x80000000u | id);
}

static void startTimer(uint32_t core)
{
	lapic_enable();
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | V_TICK);
	lapic_write(LAPIC_TIMER_ICR, 20000 + core * 3001);
}

static void apMain(uint32_t core)
{
	startTimer(core);
	r0_xadd(&arrived, 1);
	while (!stop)
		r0_sti_hlt();
	r0_cli();
	lapic_write(LAPIC_TIMER_ICR, 0);
}

int main(void)
{
	uint32_t cores = r0_cores;

	r0_set_handler(V_TICK, onTick);
	r0_set_handler(V_PASS, onPass);
	startTimer(0);
	r0_start_aps(cores, apMain);
	r0_wait(4000000, &arrived, cores - 1);
	r0_check(arrived == cores - 1, "smptimer-aps", "%u of %u", arrived, cores - 1);
	uint64_t t0 = r0_rdtsc();
	while (r0_rdtsc() - t0 < RUN_CYCLES)
		r0_sti_hlt();
	r0_cli();
	stop = 1;
	lapic_write(LAPIC_TIMER_ICR, 0);
	int ok = 1;
	for (uint32_t c = 0; c < cores; c++) {
		r0_printf("info: core %u: %u ticks, %u passes, work %x\n", c, ticks[c], passes[c], work[c]);
		ok &= ticks[c] > 0 && (cores == 1 || passes[c] > 0);
	}
	r0_printf("info: %u events, history %x\n", events, history);
	r0_check(ok, "smptimer-every-core-ticked", "");
	return r0_finish();
}
