/* The file-descriptor table: open, close, lseek, fstat. Each fd names its own open file
   (offset and mode) or socket; there is no dup, so the two are one slot. */

#include "libc.h"
#include "posix-int.h"

struct posix_file posix_files[POSIX_FDS];

static int fail(int e)
{
	errno = e;
	return -1;
}

int open(const char *path, int flags)
{
	int mode = flags & O_ACCMODE;

	if (!path)
		return fail(EFAULT);
	if ((flags & ~O_ACCMODE) || mode == O_ACCMODE)
		return fail(EINVAL);	/* O_CREAT, O_TRUNC, O_APPEND, ...: not supported */
	int ino = posix_lookup(path);
	if (ino < 0)
		return fail(-ino);
	if (mode != O_RDONLY) {
		/* the extent and the directory sectors must both be writable */
		const struct exofs_dirent *e = &posix_fs.dir[ino];
		struct plat_block_cap cap;
		if ((e->sectors && plat_block_cap(e->start, e->sectors, PLAT_BLOCK_WRITE, &cap) != 0) ||
		    plat_block_cap(posix_fs.sb.dir_start, posix_fs.sb.dir_sectors, PLAT_BLOCK_WRITE, &cap) != 0)
			return fail(EROFS);
	}
	int fd = posix_fd_alloc();
	if (fd < 0)
		return fail(EMFILE);
	posix_files[fd] = (struct posix_file){ .used = 1, .kind = POSIX_KIND_FILE, .mode = mode, .ino = (uint32_t)ino };
	return fd;
}

int posix_fd_alloc(void)
{
	for (int fd = POSIX_FIRST_FD; fd < POSIX_FDS; fd++)
		if (!posix_files[fd].used)
			return fd;
	return -1;
}

int close(int fd)
{
	struct posix_file *f = posix_fd(fd);

	if (!f)
		return fail(EBADF);
	if (f->kind == POSIX_KIND_SOCKET)
		posix_socket_close(fd);
	f->used = 0;
	return 0;
}

off_t lseek(int fd, off_t off, int whence)
{
	struct posix_file *f = posix_fd(fd);

	if (!f)
		return fail(EBADF);
	if (f->kind != POSIX_KIND_FILE)
		return fail(ESPIPE);
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)f->pos :
		       whence == SEEK_END ? (int64_t)posix_fs.dir[f->ino].size : -1;
	if (base < 0 || base + off < 0 || base + off > 0x7fffffff)
		return fail(EINVAL);
	f->pos = (uint32_t)(base + off);
	return (off_t)f->pos;
}

int fstat(int fd, struct stat *st)
{
	struct posix_file *f = posix_fd(fd);

	if (!f)
		return fail(EBADF);
	if (!st)
		return fail(EFAULT);
	if (f->kind != POSIX_KIND_FILE) {
		*st = (struct stat){ 0 };
		return 0;
	}
	const struct exofs_dirent *e = &posix_fs.dir[f->ino];
	*st = (struct stat){ .st_ino = f->ino, .st_size = e->size, .st_blocks = e->sectors, .st_first = e->start, .st_crc32 = e->crc32 };
	return 0;
}
