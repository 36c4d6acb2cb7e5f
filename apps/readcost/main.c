/* readcost: the cost of one read() by size and path, for the posix-read and zero-copy labs
   (apps/labs/readcost.ts). What to do comes from the disk, in readcost.cfg: decimal numbers,
   "REPS OFFSET SIZE...". For each SIZE it reads the first SIZE bytes of data.bin, REPS times
   (lseek back to 0 between reads: no block cache, so each goes to the disk), first into a
   page-aligned buffer (the zero-copy path: DMA straight into it) and then into the same buffer
   OFFSET bytes on (the bounce path: DMA into the LibOS's bounce buffer and a copy), and prints
   the totals of struct posix_read_stats for each. Then it times memcpy on its own, CAL_BYTES
   from a page-aligned source to OFFSET past a page, as the bounce copy runs: the per-byte copy
   cost the labs predict the bounce path's extra time with.
   Exit 0 when every read returned its size and the bounce path always bounced; 2 on a bad
   configuration. */

#include "libc.h"
#include "plat.h"
#include "posix.h"

#define MAX_SIZE	(1u << 20)
#define MAX_SIZES	32
#define CAL_BYTES	65536

static uint8_t buf[MAX_SIZE + 4096] __attribute__((aligned(4096)));
static uint8_t calSrc[CAL_BYTES] __attribute__((aligned(4096)));
static uint8_t calDst[CAL_BYTES + 4096] __attribute__((aligned(4096)));

struct config {
	uint32_t reps, offset, nsizes;
	uint32_t sizes[MAX_SIZES];
};

/* readcost.cfg into c: 0, or -1 with a console line saying what is wrong. */
static int readConfig(struct config *c)
{
	static char text[512];
	uint32_t v[2 + MAX_SIZES], n = 0;
	int fd = open("readcost.cfg", O_RDONLY);
	ssize_t len = fd < 0 ? -1 : read(fd, text, sizeof text - 1);

	if (fd >= 0)
		close(fd);
	if (len <= 0) {
		printf("readcost: no readcost.cfg (errno %d)\n", errno);
		return -1;
	}
	for (ssize_t k = 0; k < len;) {
		if (text[k] < '0' || text[k] > '9') {
			k++;
			continue;
		}
		if (n == 2 + MAX_SIZES) {
			printf("readcost: more than %u sizes\n", MAX_SIZES);
			return -1;
		}
		uint32_t x = 0;
		for (; k < len && text[k] >= '0' && text[k] <= '9'; k++)
			x = x * 10 + (uint32_t)(text[k] - '0');
		v[n++] = x;
	}
	if (n < 3 || v[0] == 0 || v[1] == 0 || v[1] > 4095) {
		printf("readcost: readcost.cfg needs REPS (> 0), OFFSET (1..4095) and a size\n");
		return -1;
	}
	c->reps = v[0];
	c->offset = v[1];
	c->nsizes = n - 2;
	for (uint32_t k = 0; k < c->nsizes; k++) {
		c->sizes[k] = v[2 + k];
		if (c->sizes[k] == 0 || c->sizes[k] > MAX_SIZE) {
			printf("readcost: size %u is not in 1..%u\n", c->sizes[k], MAX_SIZE);
			return -1;
		}
	}
	return 0;
}

/* `reps` reads of `size` bytes at offset 0 into `at`, after one more that is timed apart (a
   platform may do first-use work for a new buffer: uni maps it into its IOMMU domain); the
   stats line; 0 if all went as asked. */
static int sweep(int fd, const char *path, uint8_t *at, uint32_t size, uint32_t reps)
{
	struct posix_read_stats s;
	uint64_t first = 0;

	for (int k = -1; k < (int)reps; k++) {
		if (lseek(fd, 0, SEEK_SET) != 0)
			return 1;
		if (k == 0)
			posix_read_stats_reset();
		uint64_t t = plat_cycles();
		ssize_t n = read(fd, at, size);
		if (k < 0)
			first = plat_cycles() - t;
		if (n != (ssize_t)size) {
			printf("readcost: read of %u bytes returned %d (errno %d)\n", size, n, errno);
			return 1;
		}
	}
	posix_read_stats(&s);
	printf("readcost: size %u path %s first %llu reads %u zero-copy %u bounced %u commands %u bytes %llu copied %llu cycles",
	       size, path, first, s.reads, s.zero_copy, s.bounced, s.commands, s.bytes, s.bytes_copied);
	for (int k = 0; k < POSIX_NPHASES; k++)
		printf(" %s %llu", posix_phase_name(k), s.cycles[k]);
	printf("\n");
	/* below a sector the "zero-copy" read bounces too (posix.h): the lab says so, no failure */
	return s.reads != reps || (at != buf && s.bounced != reps);
}

int main(void)
{
	struct config c;
	int bad = 0;

	if (readConfig(&c) != 0)
		return 2;
	int fd = open("data.bin", O_RDONLY);
	if (fd < 0) {
		printf("readcost: open data.bin: errno %d\n", errno);
		return 2;
	}
	for (uint32_t k = 0; k < c.nsizes; k++) {
		bad += sweep(fd, "zero-copy", buf, c.sizes[k], c.reps);
		bad += sweep(fd, "bounce", buf + c.offset, c.sizes[k], c.reps);
	}
	close(fd);
	memcpy(calDst + c.offset, calSrc, CAL_BYTES);	/* warm, as the counted reads are */
	uint64_t t0 = plat_cycles();
	memcpy(calDst + c.offset, calSrc, CAL_BYTES);
	uint64_t t1 = plat_cycles();
	uint64_t t2 = plat_cycles();
	printf("readcost: memcpy bytes %u offset %u cycles %llu timer %llu\n", CAL_BYTES, c.offset, t1 - t0, t2 - t1);
	printf("readcost: %s\n", bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}
