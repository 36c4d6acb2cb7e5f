/* pagestress: a working set several times the pager's frame quota (libos/pager), touched in
   a pattern with locality and in a random one, under FIFO and under CLOCK. Every page is
   written with data known from its page, line and version, and every touch checks the line
   it touches first, so a page lost, stale or mixed up on its way to the disk and back is
   seen. Prints one line of counters per run, the fault counts per policy, and exits with the
   number of failed checks.

   Configuration: -D defines, overridden by boot info `arg` (scenario `args: { value: N }`),
   N = frames * 100 + pattern * 10 + policy, each 0 to keep the define:
     policy   PAGESTRESS_POLICY    0 both (FIFO, then CLOCK), 1 FIFO, 2 CLOCK
     pattern  PAGESTRESS_PATTERN   0 both (locality, then random), 1 locality, 2 random
     frames   PAGESTRESS_FRAMES    resident frames (64); the working set is PAGESTRESS_RATIO (3)
                                   times that
   The backing store is the first read-write block range: 8 sectors per page of the set. */

#include "libc.h"
#include "libexo.h"
#include "pager.h"
#include "plat.h"

#ifndef PAGESTRESS_POLICY
#define PAGESTRESS_POLICY	0
#endif
#ifndef PAGESTRESS_PATTERN
#define PAGESTRESS_PATTERN	0
#endif
#ifndef PAGESTRESS_FRAMES
#define PAGESTRESS_FRAMES	64
#endif
#ifndef PAGESTRESS_RATIO
#define PAGESTRESS_RATIO	3
#endif
#ifndef PAGESTRESS_SEED
#define PAGESTRESS_SEED		0x2545f491u
#endif

#define PAGE		EXO_PAGE_SIZE
#define LINES		16			/* a page is checked and rewritten a line at a time */
#define LINE_WORDS	(PAGE / 4 / LINES)
#define MAX_PAGES	(PAGER_MAX_FRAMES * PAGESTRESS_RATIO)
#define HOT_PER_STEP	4			/* locality: hot pages touched per cold page */
#define COLD_ROUNDS	3			/* locality: times the cold pages are streamed through */
#define RANDOM_TOUCHES	4			/* random: touches per page of the set */
#define SHOWN_BAD	8			/* data failures printed in full; the rest only counted */

enum { LOCALITY = 1, RANDOM = 2 };
static const char *const patternName[] = { "", "locality", "random" };

static uint32_t frames, pages, failures;
static uint32_t base;				/* the pager's region */
static uint16_t version[MAX_PAGES][LINES];	/* what each line was last written with; 0: never */
static uint32_t touches, wordsChecked, badLines;
static uint32_t rng = PAGESTRESS_SEED;

static uint32_t random32(void)		/* xorshift32 */
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static int check(int ok, const char *what, int got, int want)
{
	if (ok)
		return 1;
	failures++;
	printf("FAIL %s: got %d want %d\n", what, got, want);
	return 0;
}

/* The k-th word of a line at a version: zeros before the first write (demand-zero pages). */
static uint32_t dataWord(uint32_t vpn, uint32_t line, uint32_t ver, uint32_t k)
{
	if (ver == 0)
		return 0;
	uint32_t x = vpn * 0x9e3779b9u ^ (line << 26 | ver << 10 | k) * 0x85ebca6bu;
	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	return x ^ x >> 12;
}

/* Check one line of a page against what was last written there; rewrite it if asked. */
static void touch(uint32_t vpn, uint32_t line, int write)
{
	volatile uint32_t *w = (volatile uint32_t *)(base + vpn * PAGE) + line * LINE_WORDS;
	uint32_t ver = version[vpn][line], bad = 0;

	for (uint32_t k = 0; k < LINE_WORDS; k++)
		bad += w[k] != dataWord(vpn, line, ver, k);
	wordsChecked += LINE_WORDS;
	touches++;
	if (bad) {
		if (badLines++ < SHOWN_BAD)
			printf("FAIL data: page %u line %u version %u: %u of %u words differ\n", vpn, line, ver, bad, LINE_WORDS);
		failures++;
	}
	if (!write)
		return;
	ver = ver == 0xffff ? 1 : ver + 1;
	version[vpn][line] = (uint16_t)ver;
	for (uint32_t k = 0; k < LINE_WORDS; k++)
		w[k] = dataWord(vpn, line, ver, k);
}

/* A hot set of half the frames, touched round robin between pages of a cold stream that is
   larger than the frames: CLOCK sees the hot pages' A bits and keeps them; FIFO does not. */
static void locality(void)
{
	uint32_t hot = frames / 2, cold = pages - hot;

	for (uint32_t s = 0; s < COLD_ROUNDS * cold; s++) {
		touch(hot + s % cold, s % LINES, 1);
		for (uint32_t j = 0; j < HOT_PER_STEP; j++)
			touch((s * HOT_PER_STEP + j) % hot, (s + j) % LINES, j & 1);
	}
}

/* Uniform over the set, half of the touches writes, from the seeded PRNG. */
static void uniform(void)
{
	for (uint32_t n = 0; n < RANDOM_TOUCHES * pages; n++) {
		uint32_t r = random32();
		touch(r % pages, (r >> 20) % LINES, r >> 31);
	}
}

struct result {
	const struct pager_policy *policy;
	int pattern;
	struct pager_stats s;
	uint32_t patternFaults;
	int ran;
};

/* One run: the whole set written (each first touch a zero-filled page), the pattern, then
   every line of every page checked once more. */
static void runOne(const struct pager_policy *policy, int pattern, struct result *res)
{
	static struct pager pg;
	struct pager_config c = { .pages = pages, .frames = frames, .policy = policy, .block = EXO_SLOT_NONE, .sector = 0 };
	int r = pager_init(&pg, &c);

	res->policy = policy;
	res->pattern = pattern;
	if (!check(r == 0, "pager_init", r, 0))
		return;
	base = pg.base;
	memset(version, 0, sizeof version);
	touches = wordsChecked = badLines = 0;
	for (uint32_t vpn = 0; vpn < pages; vpn++)
		for (uint32_t line = 0; line < LINES; line++)
			touch(vpn, line, 1);
	uint32_t f0 = pg.stats.faults;
	if (pattern == LOCALITY)
		locality();
	else
		uniform();
	res->patternFaults = pg.stats.faults - f0;
	for (uint32_t vpn = 0; vpn < pages; vpn++)
		for (uint32_t line = 0; line < LINES; line++)
			touch(vpn, line, 0);
	const struct pager_stats *s = &pg.stats;
	/* a fault on a resident page whose mapping the kernel took (a page-fault storm) maps it again */
	check(s->faults == s->evictions + pg.nframes + s->remaps, "faults = evictions + resident + remaps", s->faults,
	      s->evictions + pg.nframes + s->remaps);
	check(s->faults == s->zerofills + s->pageins + s->remaps, "faults = zero-fills + page-ins + remaps", s->faults,
	      s->zerofills + s->pageins + s->remaps);
	check(pg.nframes <= frames, "resident frames within the quota", pg.nframes, frames);
	check(s->zerofills == pages, "one zero-fill per page (every page is written)", s->zerofills, pages);
	printf("pagestress: policy=%s pattern=%s frames=%u pages=%u touches=%u faults=%u pattern_faults=%u evictions=%u "
	       "writebacks=%u pageins=%u zerofills=%u scanned=%u remaps=%u cycles_per_fault=%u words_checked=%u bad_lines=%u\n",
	       policy->name, patternName[pattern], frames, pages, touches, s->faults, res->patternFaults, s->evictions,
	       s->writebacks, s->pageins, s->zerofills, s->scanned, s->remaps, s->faults ? (uint32_t)(s->cycles / s->faults) : 0,
	       wordsChecked, badLines);
	res->s = *s;
	res->ran = 1;
	r = pager_fini(&pg);
	check(r == 0, "pager_fini", r, 0);
}

int main(void)
{
	uint32_t arg = exo_boot_info()->arg;
	uint32_t policy = arg % 10 ? arg % 10 : PAGESTRESS_POLICY;
	uint32_t pattern = arg / 10 % 10 ? arg / 10 % 10 : PAGESTRESS_PATTERN;
	const struct pager_policy *const policies[] = { &pager_fifo, &pager_clock };
	struct result res[2][2] = { 0 };
	uint32_t total = 0;

	frames = arg / 100 ? arg / 100 : PAGESTRESS_FRAMES;
	pages = frames * PAGESTRESS_RATIO;
	if (policy > 2 || pattern > 2 || frames < PAGER_MIN_FRAMES || frames > PAGER_MAX_FRAMES) {
		printf("pagestress: bad configuration: policy %u pattern %u frames %u (arg %u)\n", policy, pattern, frames, arg);
		return 2;
	}
	printf("pagestress: %u frames, a working set of %u pages\n", frames, pages);
	for (uint32_t t = 0; t < 2; t++) {
		if (pattern != 0 && pattern != t + 1)
			continue;
		for (uint32_t p = 0; p < 2; p++)
			if (policy == 0 || policy == p + 1)
				runOne(policies[p], (int)t + 1, &res[t][p]);
	}
	for (uint32_t t = 0; t < 2; t++) {
		for (uint32_t p = 0; p < 2; p++)
			total += res[t][p].s.faults;
		if (res[t][0].ran && res[t][1].ran)
			printf("pagestress: %s faults per policy: fifo %u clock %u (pattern phase: fifo %u clock %u)\n",
			       patternName[t + 1], res[t][0].s.faults, res[t][1].s.faults, res[t][0].patternFaults,
			       res[t][1].patternFaults);
	}
	if (res[0][0].ran && res[0][1].ran)
		check(res[0][1].patternFaults <= res[0][0].patternFaults, "clock <= fifo on locality", res[0][1].patternFaults,
		      res[0][0].patternFaults);
	check(pager_frames_carved() <= frames, "frames carved within the quota", pager_frames_carved(), frames);
	printf("pagestress: %u faults in all, %u frames carved; done, %u failed\n", total, pager_frames_carved(), failures);
	return (int)failures;
}
