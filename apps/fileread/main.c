/* fileread: reads one file of the disk's exofs image with read() in a loop, PASSES times into
   a page-aligned buffer (the zero-copy path: DMA straight into it) and PASSES times into a
   buffer one byte off (the bounce path: DMA into the LibOS's bounce buffer, then a copy),
   CRC-32 of each pass, then prints the checksum and each path's per-phase average cycles of
   one read(). Exit 0 when every pass agrees with the others and with the CRC-32 the image
   tool recorded. With FILEREAD_WRITE it also overwrites part of WRITE_FILE and reads it back
   (or reports EROFS where the disk is read-only). */

#include "libc.h"
#include "posix.h"

#ifndef FILEREAD_FILE
#define FILEREAD_FILE	"data.bin"
#endif
#ifndef WRITE_FILE
#define WRITE_FILE	"scratch.bin"
#endif
#ifndef CHUNK
#define CHUNK		65536
#endif
#ifndef PASSES
#define PASSES		2
#endif

static uint8_t buf[CHUNK + 4096] __attribute__((aligned(4096)));
static uint32_t crcTable[256];
static uint32_t computed;	/* the CRC-32 of the first pass */

static void crcInit(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crcTable[n] = c;
	}
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, uint32_t n)
{
	crc = ~crc;
	while (n--)
		crc = crcTable[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The whole file through `at`, CHUNK bytes a read(); its CRC-32, or -1 on an error. */
static int64_t pass(int fd, uint8_t *at, uint32_t size)
{
	uint32_t crc = 0, total = 0;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return -1;
	for (;;) {
		ssize_t n = read(fd, at, CHUNK);
		if (n < 0) {
			printf("fileread: read: errno %d\n", errno);
			return -1;
		}
		if (n == 0)
			break;
		crc = crc32(crc, at, (uint32_t)n);
		total += (uint32_t)n;
	}
	if (total != size) {
		printf("fileread: read %u bytes of %u\n", total, size);
		return -1;
	}
	return crc;
}

static void report(const char *path, const struct posix_read_stats *s)
{
	uint32_t n = s->reads ? s->reads : 1;
	uint64_t total = 0;

	printf("fileread: phases %s reads %u commands %u bytes %llu copied %llu cycles/read:", path, s->reads, s->commands,
	       s->bytes, s->bytes_copied);
	for (int k = 0; k < POSIX_NPHASES; k++) {
		printf(" %s %llu", posix_phase_name(k), s->cycles[k] / n);
		total += s->cycles[k];
	}
	printf(" total %llu\n", total / n);
}

/* Both paths, PASSES times each; the number of passes whose CRC differs from `want`. */
static int readPaths(int fd, uint32_t size, uint32_t want)
{
	static const char *const names[2] = { "zero-copy", "bounce" };
	struct posix_read_stats s;
	int bad = 0;

	for (int path = 0; path < 2; path++) {
		posix_read_stats_reset();
		for (int k = 0; k < PASSES; k++) {
			int64_t c = pass(fd, buf + path, size);
			printf("fileread: %s pass %d crc32 %08x\n", names[path], k, (uint32_t)c);
			if (path == 0 && k == 0)
				computed = (uint32_t)c;
			bad += c != want;
		}
		posix_read_stats(&s);
		report(names[path], &s);
		if ((path == 0 && s.zero_copy == 0) || (path == 1 && s.bounced != s.reads)) {
			printf("fileread: the %s pass did not take its path (%u zero-copy, %u bounced)\n", names[path], s.zero_copy, s.bounced);
			bad++;
		}
	}
	return bad;
}

#ifdef FILEREAD_WRITE
/* Overwrite bytes [100, 3100) of WRITE_FILE with a pattern and read them back; then grow the
   file to the end of its last sector (a short write), and one more write is ENOSPC. */
static int writeCheck(void)
{
	static uint8_t pat[3000], back[3000];
	struct stat st;
	int fd = open(WRITE_FILE, O_RDWR);

	if (fd < 0) {
		printf("fileread: write: open %s: %s\n", WRITE_FILE, errno == EROFS ? "EROFS" : "error");
		return errno == EROFS ? 0 : 1;
	}
	for (uint32_t k = 0; k < sizeof pat; k++)
		pat[k] = (uint8_t)(k * 13 + 7);
	int ok = lseek(fd, 100, SEEK_SET) == 100 && write(fd, pat, sizeof pat) == (ssize_t)sizeof pat &&
		 lseek(fd, 100, SEEK_SET) == 100 && read(fd, back, sizeof back) == (ssize_t)sizeof back &&
		 memcmp(pat, back, sizeof pat) == 0;
	fstat(fd, &st);
	uint32_t room = st.st_blocks * 512 - st.st_size;
	ok = ok && lseek(fd, 0, SEEK_END) == (off_t)st.st_size && write(fd, pat, room + 10) == (ssize_t)room;
	ok = ok && write(fd, pat, 1) == -1 && errno == ENOSPC;
	fstat(fd, &st);
	ok = ok && st.st_size == st.st_blocks * 512;
	printf("fileread: write check %s: %s now %u bytes\n", ok ? "ok" : "FAILED", WRITE_FILE, st.st_size);
	close(fd);
	return !ok;
}
#endif

int main(void)
{
	struct stat st;

	crcInit();
	int fd = open(FILEREAD_FILE, O_RDONLY);
	if (fd < 0) {
		printf("fileread: open %s: errno %d\n", FILEREAD_FILE, errno);
		return 2;
	}
	fstat(fd, &st);
	printf("fileread: %s %u bytes at sector %u, recorded crc32 %08x\n", FILEREAD_FILE, st.st_size, st.st_first, st.st_crc32);
	int bad = readPaths(fd, st.st_size, st.st_crc32);
	close(fd);
	printf("fileread: crc32 %08x %s\n", computed, bad ? "MISMATCH" : "ok");
#ifdef FILEREAD_WRITE
	bad += writeCheck();
#endif
	return bad ? 1 : 0;
}
