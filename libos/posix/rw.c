/* read() and write() on files: the data path. read() runs in timed phases (posix.h):
     lookup  the fd's open file
     cap     the capability that covers the sectors, with read rights
     sg      the scatter-gather list: runs of at most PLAT_BLOCK_MAX sectors, each landing in
             the caller's buffer (zero-copy: a page-aligned buffer and a sector-aligned
             offset; a partial last sector still goes by the bounce buffer) or in the bounce
             buffer with the part to copy out
     dma     the device transfers, each waited for
     copy    bounce buffer -> caller
   write() goes by the bounce buffer, a partial first or last sector read first. */

#include "libc.h"
#include "posix-int.h"

#define SECTOR		EXOFS_SECTOR
#define RUN_BYTES	(PLAT_BLOCK_MAX * SECTOR)
#define SG_MAX		(POSIX_READ_MAX / RUN_BYTES + 1)

struct sg_entry {
	uint32_t sector, count;
	uint8_t *dst;		/* where the device writes */
	uint8_t *copy_to;	/* 0: nothing to copy (zero-copy) */
	uint32_t copy_from;	/* offset in the bounce buffer */
	uint32_t copy_len;
};

static struct posix_read_stats stats;

static ssize_t fail(int e)
{
	errno = e;
	return -1;
}

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* n bytes from sector-aligned offset into page-aligned buf: whole sectors straight in. */
static uint32_t sgDirect(struct sg_entry *sg, uint32_t first, uint8_t *buf, uint32_t n)
{
	uint32_t whole = n / SECTOR, k = 0;

	for (uint32_t s = 0; s < whole; s += PLAT_BLOCK_MAX)
		sg[k++] = (struct sg_entry){ first + s, min32(PLAT_BLOCK_MAX, whole - s), buf + s * SECTOR, 0, 0, 0 };
	if (n % SECTOR)
		sg[k++] = (struct sg_entry){ first + whole, 1, posix_fs.bounce, buf + whole * SECTOR, 0, n % SECTOR };
	return k;
}

/* n bytes from `off` into the first of `nsec` sectors: each run into the bounce buffer, then
   its part of the request out to buf. */
static uint32_t sgBounce(struct sg_entry *sg, uint32_t first, uint32_t off, uint32_t nsec, uint8_t *buf, uint32_t n)
{
	uint32_t k = 0, done = 0;

	for (uint32_t s = 0; s < nsec; s += PLAT_BLOCK_MAX) {
		uint32_t count = min32(PLAT_BLOCK_MAX, nsec - s), from = s == 0 ? off : 0;
		uint32_t len = min32(n - done, count * SECTOR - from);
		sg[k++] = (struct sg_entry){ first + s, count, posix_fs.bounce, buf + done, from, len };
		done += len;
	}
	return k;
}

ssize_t read(int fd, void *buf, size_t n)
{
	uint64_t t0 = plat_cycles();
	struct posix_file *f = posix_file_fd(fd);
	uint64_t t1 = plat_cycles();

	if (!f || f->mode == O_WRONLY)
		return fail(EBADF);
	if (!buf && n)
		return fail(EFAULT);
	const struct exofs_dirent *e = &posix_fs.dir[f->ino];
	if (n == 0 || f->pos >= e->size)
		return 0;
	uint32_t len = min32(min32((uint32_t)n, e->size - f->pos), POSIX_READ_MAX);
	uint32_t off = f->pos % SECTOR, first = e->start + f->pos / SECTOR, nsec = (off + len + SECTOR - 1) / SECTOR;
	struct plat_block_cap cap;
	if (plat_block_cap(first, nsec, PLAT_BLOCK_READ, &cap) != 0)
		return fail(EIO);
	uint64_t t2 = plat_cycles();

	struct sg_entry sg[SG_MAX];
	int direct = ((uint32_t)buf & 4095) == 0 && off == 0 && len >= SECTOR;
	uint32_t nsg = direct ? sgDirect(sg, first, buf, len) : sgBounce(sg, first, off, nsec, buf, len);
	uint64_t t3 = plat_cycles(), dma = 0, copy = 0;

	uint32_t copied = 0;
	for (uint32_t k = 0; k < nsg; k++) {
		const struct sg_entry *s = &sg[k];
		uint64_t a = plat_cycles();
		if (plat_block_io(&cap, PLAT_BLOCK_READ, s->sector, s->count, s->dst) != 0)
			return fail(EIO);
		uint64_t b = plat_cycles();
		dma += b - a;
		if (s->copy_to) {
			memcpy(s->copy_to, posix_fs.bounce + s->copy_from, s->copy_len);
			copy += plat_cycles() - b;
			copied += s->copy_len;
		}
	}
	f->pos += len;
	stats.reads++;
	if (direct)
		stats.zero_copy++;
	else
		stats.bounced++;
	stats.commands += nsg;
	stats.bytes += len;
	stats.bytes_copied += copied;
	stats.cycles[POSIX_PHASE_lookup] += t1 - t0;
	stats.cycles[POSIX_PHASE_cap] += t2 - t1;
	stats.cycles[POSIX_PHASE_sg] += t3 - t2;
	stats.cycles[POSIX_PHASE_dma] += dma;
	stats.cycles[POSIX_PHASE_copy] += copy;
	return (ssize_t)len;
}

/* One run of at most PLAT_BLOCK_MAX sectors: bytes [pos, pos + len) of the extent at `start`. */
static int writeRun(uint32_t start, uint32_t pos, const uint8_t *src, uint32_t len)
{
	uint32_t off = pos % SECTOR, sector = start + pos / SECTOR, count = (off + len + SECTOR - 1) / SECTOR;
	uint8_t *b = posix_fs.bounce;

	if (off && plat_block_read(sector, 1, b) != 0)
		return -1;
	if ((off + len) % SECTOR && (count > 1 || !off)) {
		/* the device writes pages only: the last sector lands in a page of its own first */
		if (plat_block_read(sector + count - 1, 1, posix_fs.sector) != 0)
			return -1;
		memcpy(b + (count - 1) * SECTOR, posix_fs.sector, SECTOR);
	}
	memcpy(b + off, src, len);
	return plat_block_write(sector, count, b);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	if (fd == 1 || fd == 2) {
		for (size_t k = 0; k < n; k++)
			plat_putc((char)p[k]);
		return (ssize_t)n;
	}
	struct posix_file *f = posix_file_fd(fd);
	if (!f || f->mode == O_RDONLY)
		return fail(EBADF);
	if (!buf && n)
		return fail(EFAULT);
	struct exofs_dirent *e = &posix_fs.dir[f->ino];
	uint32_t room = e->sectors * SECTOR;
	if (n == 0)
		return 0;
	if (f->pos >= room)
		return fail(ENOSPC);
	uint32_t len = min32(min32((uint32_t)n, room - f->pos), POSIX_READ_MAX);
	uint32_t done = 0;
	while (done < len) {
		uint32_t pos = f->pos + done, run = min32(len - done, RUN_BYTES - pos % SECTOR);
		if (writeRun(e->start, pos, p + done, run) != 0)
			break;	/* a short write, or EIO if nothing went */
		done += run;
	}
	if (done == 0)
		return fail(EIO);
	if (f->pos + done > e->size) {
		e->size = f->pos + done;
		if (posix_dirent_sync(f->ino) != 0)
			return fail(EIO);
	}
	f->pos += done;
	return (ssize_t)done;
}

void posix_read_stats(struct posix_read_stats *s)
{
	*s = stats;
}

void posix_read_stats_reset(void)
{
	memset(&stats, 0, sizeof stats);
}

static const char *const phaseNames[] = {
#define POSIX_PHASE_NAME(name, why) #name,
	POSIX_PHASES(POSIX_PHASE_NAME)
#undef POSIX_PHASE_NAME
};

const char *posix_phase_name(int phase)
{
	return phase >= 0 && phase < POSIX_NPHASES ? phaseNames[phase] : "?";
}
