/* exofs: the file system of exolab's disk images, as kernel/fs-image.ts builds them and
   libos/posix reads them. One flat directory; each file is one contiguous run of 512-byte
   sectors (its extent). Every number is a little-endian uint32. test/libos/posix.test.ts
   checks that gcc -m32 sees the same numbers and offsets as kernel/fs-image.ts.

     sector 0                    the superblock (struct exofs_super, the rest zero)
     sectors 1 .. dir_sectors    the directory: struct exofs_dirent, 8 to a sector; the first
                                 `files` entries are in use, the rest zero
     data_start ..               the files' data, in directory order, each from a fresh sector;
                                 the bytes of a file's last sector past its size are zero
     .. sectors - 1              free (zero) up to the image size

   A LibOS trusts none of it: a bad magic or version, a directory past the image, or an entry
   whose extent leaves the image or holds fewer than ceil(size / 512) sectors is refused. */

#ifndef EXOFS_H
#define EXOFS_H

#include <stdint.h>

#define EXOFS_SECTOR		512
#define EXOFS_MAGIC		0x53464f58u	/* "XOFS" */
#define EXOFS_VERSION		1
#define EXOFS_NAME_MAX		47		/* bytes of a name; the NUL makes 48 */
#define EXOFS_MAX_FILES		256		/* directory entries: 32 sectors at most */
#define EXOFS_DIRENT_BYTES	64
#define EXOFS_DIRENTS_PER_SECTOR	(EXOFS_SECTOR / EXOFS_DIRENT_BYTES)
#define EXOFS_MAX_SECTORS	0x80000u	/* 256 MiB: the largest image the tool makes */

struct exofs_super {
	uint32_t magic;		/* EXOFS_MAGIC */
	uint32_t version;	/* EXOFS_VERSION */
	uint32_t sectors;	/* the image's size in sectors */
	uint32_t dir_start;	/* first sector of the directory (1) */
	uint32_t dir_sectors;	/* sectors of the directory */
	uint32_t files;		/* entries in use */
	uint32_t data_start;	/* first sector after the directory */
	uint32_t reserved;	/* 0 */
};

struct exofs_dirent {
	char name[EXOFS_NAME_MAX + 1];	/* NUL-terminated and NUL-padded; no '/' */
	uint32_t size;		/* bytes */
	uint32_t start;		/* first sector of the extent (absolute) */
	uint32_t sectors;	/* sectors in the extent: ceil(size / 512), 0 for an empty file */
	uint32_t crc32;		/* CRC-32 (IEEE 802.3) of the content the tool wrote */
};

_Static_assert(sizeof(struct exofs_super) == 32, "exofs_super layout");
_Static_assert(sizeof(struct exofs_dirent) == EXOFS_DIRENT_BYTES, "exofs_dirent layout");

#endif
