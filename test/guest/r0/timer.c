/* The local APIC timer and interrupt priorities (SDM vol. 3A 11.5.4, 11.8.3): one-shot
   accuracy against the TSC, periodic mode, the current count, a masked LVT, TPR masking of
   lower classes, and EOI ordering of nested interrupts. Prints what it measured. */

#include "rt/r0.h"

#define V_ONESHOT	0x30
#define V_PERIODIC	0x31
#define V_MASKED	0x32
#define V_LOW		0x45	/* class 4 */
#define V_HIGH		0x65	/* class 6 */
#define V_OUTER		0x50	/* class 5 */
#define V_SAME		0x52	/* class 5: waits for the outer EOI */
#define V_NESTED	0x70	/* class 7: preempts the outer handler */
#define TICKS		10
/* Slack for the one-shot: interrupts are taken at instruction boundaries, after the event
   fires between quanta (1000 cycles), plus exception entry and the handler's first rdtsc. */
#define SLACK		1500

static volatile uint64_t firedAt[TICKS + 1];
static volatile uint32_t fired, lowCount, highCount;
static volatile uint32_t log[8], logLen, outerDone, sameSawIsr;

static void onTimer(struct r0_frame *f)
{
	uint64_t t = r0_rdtsc();

	if (fired <= TICKS)
		firedAt[fired] = t;
	fired++;
	lapic_eoi();
}

static void onLow(struct r0_frame *f) { lowCount++; lapic_eoi(); }
static void onHigh(struct r0_frame *f) { highCount++; lapic_eoi(); }

static void note(uint32_t what)
{
	if (logLen < 8)
		log[logLen++] = what;
}

static void onNested(struct r0_frame *f)
{
	note(V_NESTED);
	lapic_eoi();
}

static void onSame(struct r0_frame *f)
{
	note(V_SAME);
	sameSawIsr = lapic_isr(V_OUTER);
	lapic_eoi();
}

/* In service at class 5: a class-7 request preempts at once, a class-5 one waits for our EOI. */
static void onOuter(struct r0_frame *f)
{
	note(V_OUTER);
	lapic_send(0, ICR_SELF | V_SAME);
	lapic_send(0, ICR_SELF | V_NESTED);
	r0_sti();
	r0_wait(20000, 0, 0);
	r0_cli();
	note(lapic_irr(V_SAME) ? 0x100 | V_SAME : 0);	/* still requested, not taken */
	note(lapic_isr(V_OUTER) ? 0x200 | V_OUTER : 0);
	lapic_eoi();
	note(lapic_isr(V_OUTER) ? 0x200 | V_OUTER : 0x300);
	outerDone = 1;
	/* iret restores IF: the class-5 request goes in now */
}

static void waitFired(uint32_t n, uint64_t limit)
{
	uint64_t t0 = r0_rdtsc();

	while (fired < n && r0_rdtsc() - t0 < limit) {
		r0_sti_hlt();
		r0_cli();
	}
}

/* wait for the one-shot in hlt, or (busy) spinning with IF set */
static void oneShot(uint32_t initial, int busy)
{
	char name[40] = "timer-one-shot-";
	int n = 15;
	uint32_t v = initial, digits = 1;

	for (uint32_t d = v; d >= 10; d /= 10)
		digits *= 10;
	for (; digits; digits /= 10)
		name[n++] = '0' + (v / digits) % 10;
	for (const char *s = busy ? "-busy" : "-hlt"; *s; s++)
		name[n++] = *s;
	name[n] = 0;

	fired = 0;
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV16);
	lapic_write(LAPIC_LVT_TIMER, V_ONESHOT);
	uint64_t t0 = r0_rdtsc();
	lapic_write(LAPIC_TIMER_ICR, initial);
	if (busy) {
		r0_sti();
		r0_wait((uint64_t)initial * 16 * 4 + 100000, &fired, 1);
		r0_cli();
	} else {
		waitFired(1, (uint64_t)initial * 16 * 4 + 100000);
	}
	uint32_t expect = initial * 16;
	int32_t measured = fired ? (int32_t)(firedAt[0] - t0) : -1;
	int32_t delta = measured - (int32_t)expect;
	r0_printf("info: one-shot initial %u x 16 = %u cycles, waiting %s: measured %d (delta %d)\n",
		  initial, expect, busy ? "busy" : "in hlt", measured, delta);
	r0_wait(initial * 16 + 5000, 0, 0);
	r0_check(fired == 1 && delta >= 0 && delta <= SLACK, name, "fired %u times, measured %d cycles, expected %u + [0, %u]",
		 fired, measured, expect, SLACK);
	r0_check(lapic_read(LAPIC_TIMER_CCR) == 0, "timer-one-shot-ends-at-zero", "current count %u", lapic_read(LAPIC_TIMER_CCR));
}

static void periodic(void)
{
	const uint32_t period = 3000;

	fired = 0;
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | V_PERIODIC);
	lapic_write(LAPIC_TIMER_ICR, period);
	waitFired(TICKS + 1, period * (TICKS + 5) * 2);
	lapic_write(LAPIC_TIMER_ICR, 0);	/* stops the timer */
	uint32_t got = fired;
	uint32_t lo = 0xffffffffu, hi = 0;
	for (int k = 1; k <= TICKS && k < (int)got; k++) {
		uint32_t d = (uint32_t)(firedAt[k] - firedAt[k - 1]);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	uint32_t total = got > TICKS ? (uint32_t)(firedAt[TICKS] - firedAt[0]) : 0;
	r0_printf("info: periodic %u cycles: %u intervals between %u and %u, %u ticks in %u cycles\n",
		  period, TICKS, lo, hi, TICKS, total);
	r0_check(got >= TICKS + 1 && total >= TICKS * period - SLACK && total <= TICKS * period + SLACK,
		 "timer-periodic", "%u interrupts, %u cycles for %u periods", got, total, TICKS);
	r0_check(lo + SLACK >= period && hi <= period + SLACK, "timer-periodic-intervals", "intervals %u..%u", lo, hi);
	r0_sti();
	r0_wait(period * 5, 0, 0);
	r0_cli();
	r0_check(fired == got, "timer-stopped-by-zero-count", "%u more interrupts", fired - got);
}

static void currentCount(void)
{
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | V_ONESHOT);
	lapic_write(LAPIC_TIMER_ICR, 1000000);
	uint64_t t0 = r0_rdtsc();
	uint32_t c1 = lapic_read(LAPIC_TIMER_CCR);
	r0_wait(5000, 0, 0);
	uint32_t c2 = lapic_read(LAPIC_TIMER_CCR);
	uint32_t spent = (uint32_t)(r0_rdtsc() - t0);
	r0_printf("info: current count %u then %u after %u cycles\n", c1, c2, spent);
	r0_check(c1 <= 1000000 && c2 < c1 && c1 - c2 >= 5000 && c1 - c2 <= spent + 100, "timer-current-count-decreases",
		 "%u then %u over %u cycles", c1, c2, spent);
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV16);	/* a divide change keeps the count */
	uint32_t c3 = lapic_read(LAPIC_TIMER_CCR);
	r0_wait(16000, 0, 0);
	uint32_t c4 = lapic_read(LAPIC_TIMER_CCR);
	r0_check(c3 <= c2 && c3 - c4 >= 900 && c3 - c4 <= 1100, "timer-divide-16-rate", "%u then %u over ~16000 cycles", c3, c4);
	lapic_write(LAPIC_TIMER_ICR, 0);
	r0_check(lapic_read(LAPIC_TIMER_CCR) == 0, "timer-zero-count-reads-zero", "%u", lapic_read(LAPIC_TIMER_CCR));
}

static void masked(void)
{
	uint32_t count = 0;

	r0_set_handler(V_MASKED, onLow);
	lowCount = 0;
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | V_MASKED);
	lapic_write(LAPIC_TIMER_ICR, 100);
	r0_sti();
	r0_wait(5000, 0, 0);
	r0_cli();
	count = lapic_read(LAPIC_TIMER_CCR);
	r0_check(lowCount == 0 && !lapic_irr(V_MASKED) && count == 0, "timer-masked-no-interrupt",
		 "%u interrupts, IRR %u, count %u", lowCount, lapic_irr(V_MASKED), count);
	r0_set_handler(V_MASKED, 0);
}

static void priorities(void)
{
	r0_set_handler(V_LOW, onLow);
	r0_set_handler(V_HIGH, onHigh);
	lowCount = highCount = 0;
	lapic_write(LAPIC_TPR, 0x50);
	r0_sti();
	lapic_send(0, ICR_SELF | V_LOW);
	r0_wait(10000, 0, 0);
	int pending = lapic_irr(V_LOW);
	r0_check(lowCount == 0 && pending && lapic_read(LAPIC_PPR) == 0x50, "tpr-masks-lower-class",
		 "%u taken, IRR %d, PPR %x", lowCount, pending, lapic_read(LAPIC_PPR));
	lapic_send(0, ICR_SELF | V_HIGH);
	r0_wait(10000, 0, 0);
	r0_check(highCount == 1 && lowCount == 0, "tpr-passes-higher-class", "high %u low %u", highCount, lowCount);
	lapic_write(LAPIC_TPR, 0);
	r0_wait(1000, &lowCount, 1);
	r0_check(lowCount == 1 && !lapic_irr(V_LOW), "tpr-lowered-delivers", "low %u", lowCount);
	r0_cli();
}

static void eoiOrder(void)
{
	r0_set_handler(V_OUTER, onOuter);
	r0_set_handler(V_SAME, onSame);
	r0_set_handler(V_NESTED, onNested);
	logLen = outerDone = 0;
	r0_sti();
	lapic_send(0, ICR_SELF | V_OUTER);
	r0_wait(100000, &logLen, 6);
	r0_cli();
	static const uint32_t want[6] = { V_OUTER, V_NESTED, 0x100 | V_SAME, 0x200 | V_OUTER, 0x300, V_SAME };
	int ok = logLen == 6;
	for (int k = 0; k < 6; k++)
		ok &= log[k] == want[k];
	r0_check(ok && !sameSawIsr, "eoi-ordering", "log (%u): %x %x %x %x %x %x, outer in service in inner: %u",
		 logLen, log[0], log[1], log[2], log[3], log[4], log[5], sameSawIsr);
	r0_check(!lapic_isr(V_OUTER) && !lapic_isr(V_SAME) && !lapic_isr(V_NESTED), "isr-empty-after-eoi", "");
}

int main(void)
{
	r0_set_handler(V_ONESHOT, onTimer);
	r0_set_handler(V_PERIODIC, onTimer);
	lapic_enable();
	oneShot(100, 0);
	oneShot(1000, 0);
	oneShot(10000, 0);
	oneShot(1000, 1);
	oneShot(12345, 1);
	periodic();
	currentCount();
	masked();
	priorities();
	eoiOrder();
	return r0_finish();
}
