/* Mounting exofs (libos/include/exofs.h): the superblock and the directory are read once into
   memory the device may write, and checked entry by entry before anything trusts them; file
   names are looked up there. */

#include "libc.h"
#include "posix-int.h"

struct posix_fs posix_fs;
int errno;

static int refuse(const char *why, uint32_t k)
{
	printf("posix: exofs refused: %s (%u)\n", why, k);
	return -EIO;
}

/* Every entry's name is terminated and has no '/', and its extent lies in the image. */
static int dirCheck(const struct exofs_super *sb, const struct exofs_dirent *dir)
{
	for (uint32_t k = 0; k < sb->files; k++) {
		const struct exofs_dirent *e = &dir[k];
		uint32_t len = 0;
		while (len <= EXOFS_NAME_MAX && e->name[len])
			len++;
		if (len == 0 || len > EXOFS_NAME_MAX)
			return refuse("an entry's name is empty or unterminated", k);
		for (uint32_t j = 0; j < len; j++)
			if (e->name[j] == '/')
				return refuse("an entry's name holds '/'", k);
		if (e->sectors < (e->size + EXOFS_SECTOR - 1) / EXOFS_SECTOR)
			return refuse("an entry's extent is shorter than its size", k);
		if (e->sectors && (e->start < sb->data_start || e->start >= sb->sectors || e->sectors > sb->sectors - e->start))
			return refuse("an entry's extent leaves the image", k);
	}
	return 0;
}

static int mount(void)
{
	struct posix_fs *fs = &posix_fs;
	struct plat_block_cap cap;

	if (plat_block_open() != 0)
		return -ENODEV;
	if (!(fs->sector = plat_block_buffer(4096)) || !(fs->bounce = plat_block_buffer(POSIX_BOUNCE_SECTORS * EXOFS_SECTOR)))
		return -ENOMEM;
	if (plat_block_read(0, 1, fs->sector) != 0)
		return -EIO;
	memcpy(&fs->sb, fs->sector, sizeof fs->sb);
	const struct exofs_super *sb = &fs->sb;
	if (sb->magic != EXOFS_MAGIC || sb->version != EXOFS_VERSION)
		return refuse("bad magic or version", sb->magic);
	if (sb->dir_start != 1 || sb->dir_sectors == 0 || sb->dir_sectors > EXOFS_MAX_FILES / EXOFS_DIRENTS_PER_SECTOR ||
	    sb->files > sb->dir_sectors * EXOFS_DIRENTS_PER_SECTOR || sb->data_start != 1 + sb->dir_sectors ||
	    sb->sectors < sb->data_start || sb->sectors > EXOFS_MAX_SECTORS)
		return refuse("the superblock's directory does not add up", sb->dir_sectors);
	if (plat_block_cap(0, sb->sectors, PLAT_BLOCK_READ, &cap) != 0)
		return refuse("no capability covers the image's sectors", sb->sectors);
	if (!(fs->dir = plat_block_buffer(sb->dir_sectors * EXOFS_SECTOR)))
		return -ENOMEM;
	if (plat_block_read(sb->dir_start, sb->dir_sectors, fs->dir) != 0)
		return -EIO;
	return dirCheck(sb, fs->dir);
}

int posix_mount(void)
{
	if (posix_fs.mounted == 0) {
		int r = mount();
		posix_fs.mounted = r == 0 ? 1 : r;
	}
	if (posix_fs.mounted < 0) {
		errno = -posix_fs.mounted;
		return -1;
	}
	return 0;
}

int posix_lookup(const char *path)
{
	if (posix_mount() != 0)
		return -errno;
	while (*path == '/')
		path++;
	size_t len = strlen(path);
	if (len == 0)
		return -ENOENT;
	if (len > EXOFS_NAME_MAX)
		return -ENAMETOOLONG;
	for (uint32_t k = 0; k < posix_fs.sb.files; k++)
		if (memcmp(posix_fs.dir[k].name, path, len + 1) == 0)
			return (int)k;
	return -ENOENT;
}

/* The sector of the directory that holds entry `ino`, written from the copy in memory. */
int posix_dirent_sync(uint32_t ino)
{
	uint32_t s = ino / EXOFS_DIRENTS_PER_SECTOR;

	memcpy(posix_fs.sector, (uint8_t *)posix_fs.dir + s * EXOFS_SECTOR, EXOFS_SECTOR);
	return plat_block_write(posix_fs.sb.dir_start + s, 1, posix_fs.sector) == 0 ? 0 : -EIO;
}
