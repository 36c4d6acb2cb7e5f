/* plat.h's block device for the exo placement: the disk is the kernel's; this principal holds
   BlockRange capabilities (its boot capabilities: by default the whole disk read-only, or what
   the scenario's caps: give) and moves sectors with EXO_BLOCK_IO, which DMAs straight into or
   out of its own mapped pages and returns when the device is done. */

#include "libc.h"
#include "libexo.h"
#include "plat.h"

#define MAX_RANGES	8

static struct plat_block_cap ranges[MAX_RANGES];
static uint32_t nranges;
static int opened;

int plat_block_open(void)
{
	if (opened)
		return nranges ? 0 : -1;
	opened = 1;
	for (uint32_t k = 0; k < MAX_RANGES; k++) {
		const struct exo_boot_cap *c = exo_boot_cap(EXO_CAP_BLOCK_RANGE, k);
		if (!c)
			break;
		ranges[nranges++] = (struct plat_block_cap){
			.handle = c->slot, .base = c->base, .sectors = c->size,
			.rights = (c->rights & EXO_R_READ ? PLAT_BLOCK_READ : 0) | (c->rights & EXO_R_WRITE ? PLAT_BLOCK_WRITE : 0),
		};
	}
	return nranges ? 0 : -1;
}

/* The first range, in boot order, that holds all the sectors with the rights. */
int plat_block_cap(uint32_t sector, uint32_t count, uint32_t rights, struct plat_block_cap *cap)
{
	if (plat_block_open() != 0)
		return -1;
	for (uint32_t k = 0; k < nranges; k++) {
		const struct plat_block_cap *r = &ranges[k];
		if (sector >= r->base && sector - r->base < r->sectors && count <= r->sectors - (sector - r->base) &&
		    (r->rights & rights) == rights) {
			*cap = *r;
			return 0;
		}
	}
	return -1;
}

int plat_block_io(const struct plat_block_cap *cap, uint32_t op, uint32_t sector, uint32_t count, void *buf)
{
	if (op != PLAT_BLOCK_READ && op != PLAT_BLOCK_WRITE)
		return -1;
	int r = exo_block_io(cap->handle, op == PLAT_BLOCK_READ ? EXO_BLK_READ : EXO_BLK_WRITE, sector - cap->base, count, buf);
	if (r != 0) {
		printf("exo: BLOCK_IO %s of %u sectors at %u: %d\n", op == PLAT_BLOCK_READ ? "read" : "write", count, sector, r);
		return -1;
	}
	return 0;
}

/* Plain memory of this principal: the kernel maps the pages a command names into the disk's
   own IOMMU domain for that command only. */
void *plat_block_buffer(uint32_t bytes)
{
	return bytes ? exo_mem_map(bytes, EXO_R_READ | EXO_R_WRITE, 0) : 0;
}
