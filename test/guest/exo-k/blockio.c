/* BLOCK_IO and MAP_QUERY from ring 3: the principal has two block ranges (boot caps, in the
   scenario's order): sectors 0..63 read-only and 64..127 read-write. It reads sector 0 of the
   first into a frame, writes a pattern into the second and reads it back into another frame,
   and tries the calls' error paths. MAP_QUERY reports the accessed and dirty bits the CPU set
   on its pages. Prints "ok"/"FAIL" lines; exit status = failures. */
#include "../../../apps/labs/guests/exok.h"

static int fails;

static void expect(const char *what, int32_t got, int32_t want)
{
	say(what, got);
	if (got != want) {
		fails++;
		say("  FAIL, wanted ", want);
	}
}

void _start(void)
{
	const struct exo_boot_info *bi = bootInfo();
	uint32_t ut = bootCap(EXO_CAP_UNTYPED, 0), ro = bootCap(EXO_CAP_BLOCK_RANGE, 0), rw = bootCap(EXO_CAP_BLOCK_RANGE, 1);
	uint32_t va = bi->free_va;
	exo5(EXO_CAP_RETYPE, ut, EXO_CAP_FRAME, 0, 8192, 50);
	exo(EXO_MAP_FRAME, 50, va, EXO_R_READ | EXO_R_WRITE, 0);
	volatile uint8_t *a = (volatile uint8_t *)va, *b = (volatile uint8_t *)(va + 4096);
	expect("map-query fresh ", exo(EXO_MAP_QUERY, va, EXO_PTE_ACCESSED | EXO_PTE_DIRTY, 0, 0), 0);
	expect("read ro 0..7 ", exo5(EXO_BLOCK_IO, ro, EXO_BLK_READ, 0, 8, va), 0);
	say("sector 0 byte 0 ", a[0]);
	say("sector 0 byte 511 ", a[511]);
	for (int k = 0; k < 4096; k++)
		b[k] = (uint8_t)(k * 7 + 3);
	expect("map-query after writes ", exo(EXO_MAP_QUERY, va + 4096, EXO_PTE_ACCESSED, 0, 0), EXO_PTE_ACCESSED | EXO_PTE_DIRTY);
	expect("map-query accessed cleared ", exo(EXO_MAP_QUERY, va + 4096, 0, 0, 0), EXO_PTE_DIRTY);
	expect("write rw 8 sectors ", exo5(EXO_BLOCK_IO, rw, EXO_BLK_WRITE, 0, 8, va + 4096), 0);
	for (int k = 0; k < 4096; k++)
		a[k] = 0;
	expect("read back ", exo5(EXO_BLOCK_IO, rw, EXO_BLK_READ, 0, 8, va), 0);
	int same = 1;
	for (int k = 0; k < 4096; k++)
		if (a[k] != (uint8_t)(k * 7 + 3))
			same = 0;
	expect("data read back equals written ", same, 1);
	expect("write to the read-only range ", exo5(EXO_BLOCK_IO, ro, EXO_BLK_WRITE, 0, 8, va), EXO_E_RIGHTS);
	expect("past the range ", exo5(EXO_BLOCK_IO, rw, EXO_BLK_READ, 60, 8, va), EXO_E_BAD_ARG);
	expect("into kernel memory ", exo5(EXO_BLOCK_IO, rw, EXO_BLK_READ, 0, 8, 0x1000), EXO_E_BAD_ARG);
	expect("into an unmapped page ", exo5(EXO_BLOCK_IO, rw, EXO_BLK_READ, 0, 8, va + 0x100000), EXO_E_BAD_ARG);
	expect("unaligned buffer ", exo5(EXO_BLOCK_IO, rw, EXO_BLK_READ, 0, 1, va + 16), EXO_E_BAD_ARG);
	expect("bad op ", exo5(EXO_BLOCK_IO, rw, 9, 0, 1, va), EXO_E_BAD_ARG);
	expect("flush ", exo5(EXO_BLOCK_IO, rw, EXO_BLK_FLUSH, 0, 0, 0), 0);
	expect("not a block range ", exo5(EXO_BLOCK_IO, ut, EXO_BLK_READ, 0, 1, va), EXO_E_WRONG_TYPE);
	expect("map-query unmapped ", exo(EXO_MAP_QUERY, va + 0x100000, 0, 0, 0), EXO_E_NOT_BOUND);
	say("done, failures ", fails);
	leave(fails);
}
