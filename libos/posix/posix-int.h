/* Inside the POSIX layer: the mounted file system, the open files, the fd table. */

#ifndef POSIX_INT_H
#define POSIX_INT_H

#include "exofs.h"
#include "plat.h"
#include "posix.h"

#define POSIX_FDS		16
#define POSIX_FIRST_FD		3	/* 0, 1, 2: the console */
#define POSIX_BOUNCE_SECTORS	PLAT_BLOCK_MAX
/* A read() moves at most this much (a short read past it, as POSIX allows). */
#define POSIX_READ_MAX		(16u * PLAT_BLOCK_MAX * EXOFS_SECTOR)

#define POSIX_KIND_FILE		0
#define POSIX_KIND_SOCKET	1

struct posix_file {
	int used;
	int kind;		/* POSIX_KIND_* */
	int mode;		/* O_RDONLY, O_WRONLY or O_RDWR */
	uint32_t ino;		/* a file: index into the directory */
	uint32_t pos;
	uint16_t port;		/* a socket: its bound port (host order), 0 when unbound */
};

struct posix_fs {
	int mounted;		/* 1, or -errno of a failed mount (not tried again) */
	struct exofs_super sb;
	struct exofs_dirent *dir;	/* the whole directory, as on disk */
	uint8_t *sector;		/* one page: the superblock, directory updates */
	uint8_t *bounce;		/* POSIX_BOUNCE_SECTORS sectors, page-aligned */
};

extern struct posix_fs posix_fs;
extern struct posix_file posix_files[POSIX_FDS];

/* fs.c */
int posix_lookup(const char *path);	/* the file's index, or -errno */
int posix_dirent_sync(uint32_t ino);	/* its directory sector to disk: 0 or -EIO */

/* fd.c */
int posix_fd_alloc(void);		/* a free fd, or -1 */

/* socket.c */
void posix_socket_close(int fd);	/* its queued datagrams go back to the stack */

/* The open file (or socket) of fd, or 0. */
static inline struct posix_file *posix_fd(int fd)
{
	if (fd < POSIX_FIRST_FD || fd >= POSIX_FDS || !posix_files[fd].used)
		return 0;
	return &posix_files[fd];
}

/* The open file of fd, not a socket, or 0. */
static inline struct posix_file *posix_file_fd(int fd)
{
	struct posix_file *f = posix_fd(fd);
	return f && f->kind == POSIX_KIND_FILE ? f : 0;
}

#endif
