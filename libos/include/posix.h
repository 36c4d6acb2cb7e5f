/* The LibOS's POSIX layer (DESIGN section 4): a file-descriptor table and open, read, write,
   close, lseek and fstat over the exofs file system on the block device (libos/include/exofs.h,
   images built by kernel/fs-image.ts). Calls return -1 and set errno, as POSIX has it.
     - One flat directory: "name" and "/name" are the same file. No O_CREAT, no unlink.
     - write() overwrites in place and may grow a file only to the end of its last sector
       (ENOSPC past that); the new size goes to the directory on disk at once. A device or
       capability without write rights makes open(O_WRONLY | O_RDWR) fail with EROFS.
     - fd 0 reads nothing (EBADF); fds 1 and 2 write to the console.
   read() is timed by phases with the TSC (struct posix_read_stats): fd lookup -> the
   capability for the block range -> the scatter-gather list -> DMA straight into the caller's
   buffer (when it is page-aligned and the file offset a multiple of 512) or into a bounce
   buffer and a copy. No block cache: every read() goes to the disk.
   Sockets: UDP over libos/net (socket, bind, sendto, recvfrom, close) once posix_net_up() has
   brought the NIC queue up; fds of sockets and files share the table. There is no ARP client:
   sendto() reaches an address a datagram came from (or the broadcast address), else
   EHOSTUNREACH. read(), write() and lseek() on a socket fail (EBADF, EBADF, ESPIPE). */

#ifndef POSIX_H
#define POSIX_H

#include <stddef.h>
#include <stdint.h>
#include "net.h"

typedef int32_t ssize_t;
typedef int32_t off_t;

#define O_RDONLY	0
#define O_WRONLY	1
#define O_RDWR		2
#define O_ACCMODE	3

#define SEEK_SET	0
#define SEEK_CUR	1
#define SEEK_END	2

#define ENOENT		2
#define EIO		5
#define EBADF		9
#define ENOMEM		12
#define EFAULT		14
#define ENODEV		19
#define EINVAL		22
#define EMFILE		24
#define ENOSPC		28
#define EROFS		30
#define ENAMETOOLONG	36
#define EAGAIN		11
#define ESPIPE		29
#define ENOTSOCK	88
#define EDESTADDRREQ	89
#define EMSGSIZE	90
#define EPROTONOSUPPORT	93
#define EAFNOSUPPORT	97
#define ENETDOWN	100
#define ENOBUFS		105
#define EHOSTUNREACH	113

extern int errno;

struct stat {
	uint32_t st_ino;	/* the directory index */
	uint32_t st_size;	/* bytes */
	uint32_t st_blocks;	/* 512-byte sectors of its extent */
	uint32_t st_first;	/* the extent's first sector on the disk */
	uint32_t st_crc32;	/* the CRC-32 the image tool recorded */
};

int open(const char *path, int flags);
int close(int fd);
ssize_t read(int fd, void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n);
off_t lseek(int fd, off_t off, int whence);
int fstat(int fd, struct stat *st);
/* Read the file system (open does on first use): 0, or -1 with errno (ENODEV: no block
   device; EIO: not exofs, or refused, with a console line saying why). */
int posix_mount(void);

/* ---- UDP sockets ---- */
#define AF_INET		2
#define SOCK_DGRAM	2
#define IPPROTO_UDP	17
#define MSG_DONTWAIT	0x40
#define INADDR_ANY	0u

typedef uint32_t socklen_t;
struct in_addr {
	uint32_t s_addr;	/* network order */
};
struct sockaddr {
	uint16_t sa_family;
	char sa_data[14];
};
struct sockaddr_in {
	uint16_t sin_family;	/* AF_INET */
	uint16_t sin_port;	/* network order */
	struct in_addr sin_addr;
	uint8_t sin_zero[8];
};

static inline uint16_t htons(uint16_t x) { return (uint16_t)(x << 8 | x >> 8); }
static inline uint16_t ntohs(uint16_t x) { return htons(x); }
static inline uint32_t htonl(uint32_t x) { return __builtin_bswap32(x); }
static inline uint32_t ntohl(uint32_t x) { return __builtin_bswap32(x); }

/* Bring the network up under the sockets (net_init): 0, or -1 with errno ENETDOWN. */
int posix_net_up(const struct net_config *c);
/* How long a blocking recvfrom() waits before EAGAIN, in cycles; 0 (the default): forever. */
void posix_recv_wait(uint64_t cycles);
int socket(int domain, int type, int protocol);
/* Port 0 takes an ephemeral port; the address must be INADDR_ANY or ours. */
int bind(int fd, const struct sockaddr *addr, socklen_t len);
/* An unbound socket is bound to an ephemeral port first. */
ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen);
/* A datagram longer than len is cut to len (the rest is lost, as POSIX has it for UDP). */
ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen);

/* Datagrams the stack delivered to the socket layer: queued for a socket, or dropped because
   its queue was full or no open socket holds the port. */
struct posix_sock_stats {
	uint32_t queued, queue_full, no_socket;
};
void posix_sock_stats(struct posix_sock_stats *s);

/* ---- the phases of read() ---- */
#define POSIX_PHASES(X) \
	X(lookup,	"fd lookup: the table entry and its open file") \
	X(cap,		"the capability for the block range (rights and bounds)") \
	X(sg,		"the scatter-gather list: sector runs and where each lands") \
	X(dma,		"DMA: the device commands, waited for") \
	X(copy,		"bounce buffer to the caller's buffer")

#define POSIX_PHASE_ENUM(name, why) POSIX_PHASE_##name,
enum posix_phase { POSIX_PHASES(POSIX_PHASE_ENUM) POSIX_NPHASES };
#undef POSIX_PHASE_ENUM

/* Totals since start (or the last reset), for read() calls that reached the disk. */
struct posix_read_stats {
	uint32_t reads;		/* read() calls that moved data from the disk */
	uint32_t zero_copy;	/* of those, DMA into the caller's buffer (a partial last sector still bounces) */
	uint32_t bounced;	/* of those, all through the bounce buffer */
	uint32_t commands;	/* device transfers (scatter-gather entries) */
	uint64_t bytes;		/* returned to callers */
	uint64_t bytes_copied;	/* of those, copied out of the bounce buffer */
	uint64_t cycles[POSIX_NPHASES];
};

void posix_read_stats(struct posix_read_stats *s);
void posix_read_stats_reset(void);
const char *posix_phase_name(int phase);

#endif
