/* For a platform without plat.h's block device yet (mono, so far): weak stand-ins that say
   there is no disk, so every app still links and open() fails with ENODEV. A platform's own
   definitions (libos/plat/<placement>/block.c) take their place at link time. */

#include "plat.h"

__attribute__((weak)) int plat_block_open(void)
{
	return -1;
}

__attribute__((weak)) int plat_block_cap(uint32_t sector, uint32_t count, uint32_t rights, struct plat_block_cap *cap)
{
	return -1;
}

__attribute__((weak)) int plat_block_io(const struct plat_block_cap *cap, uint32_t op, uint32_t sector, uint32_t count, void *buf)
{
	return -1;
}

__attribute__((weak)) void *plat_block_buffer(uint32_t bytes)
{
	return 0;
}
