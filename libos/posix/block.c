/* Whole-sector reads and writes for the file system, on any platform: the capability (or
   range) that covers the sectors, then the platform's transfer (plat.h plat_block_cap and
   plat_block_io: libos/plat/exo/block.c, or libos/plat/pc/block.c for uni and mono). */

#include "plat.h"

int plat_block_read(uint32_t sector, uint32_t count, void *buf)
{
	struct plat_block_cap c;

	return plat_block_cap(sector, count, PLAT_BLOCK_READ, &c) == 0 ? plat_block_io(&c, PLAT_BLOCK_READ, sector, count, buf) : -1;
}

int plat_block_write(uint32_t sector, uint32_t count, const void *buf)
{
	struct plat_block_cap c;

	return plat_block_cap(sector, count, PLAT_BLOCK_WRITE, &c) == 0 ?
		plat_block_io(&c, PLAT_BLOCK_WRITE, sector, count, (void *)buf) : -1;
}
