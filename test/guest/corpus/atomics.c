/* Atomic read-modify-write instructions as gcc's __sync builtins emit them: lock xadd,
   lock cmpxchg (success and failure), xchg, lock add/sub/and/or/xor, lock inc/dec and, last,
   the 64-bit lock cmpxchg8b. */

#include "rt.h"

static volatile uint32_t counter;
static volatile uint64_t wide;

int main(void)
{
	uint32_t old, r, fl;
	uint8_t zf;

	counter = 10;
	old = __sync_fetch_and_add(&counter, 5);
	rt_check32("xadd old", old, 10);
	rt_check32("xadd new", counter, 15);
	rt_check32("add_and_fetch", __sync_add_and_fetch(&counter, 0xfffffff0u), 0xffffffff);
	rt_check32("fetch_and_sub", __sync_fetch_and_sub(&counter, 1), 0xffffffff);
	rt_check32("fetch_and_or", __sync_fetch_and_or(&counter, 0x0f0f0000), 0xfffffffe);
	rt_check32("fetch_and_and", __sync_fetch_and_and(&counter, 0x00ff00ff), 0xfffffffe);
	rt_check32("fetch_and_xor", __sync_fetch_and_xor(&counter, 0x1), 0x00ff00fe);
	rt_check32("after xor", counter, 0x00ff00ff);
	__sync_fetch_and_add(&counter, 1);	/* result unused: lock addl or lock incl */
	rt_check32("lock add", counter, 0x00ff0100);
	__sync_fetch_and_sub(&counter, 0x100);
	rt_check32("lock sub", counter, 0x00ff0000);

	rt_check32("cas succeeds", __sync_val_compare_and_swap(&counter, 0x00ff0000, 7), 0x00ff0000);
	rt_check32("cas stored", counter, 7);
	rt_check32("cas fails", __sync_val_compare_and_swap(&counter, 8, 9), 7);
	rt_check32("cas left it", counter, 7);
	rt_check32("bool cas", __sync_bool_compare_and_swap(&counter, 7, 70), 1);
	rt_check32("bool cas fails", __sync_bool_compare_and_swap(&counter, 7, 71), 0);
	rt_check32("test_and_set", __sync_lock_test_and_set(&counter, 3), 70);	/* xchg */
	rt_check32("after xchg", counter, 3);

	/* the flags and eax of a raw cmpxchg */
	{
		uint32_t mem = 5, acc = 6;
		__asm__("cmpxchgl %3, %1\n\tpushfl\n\tpopl %2" : "+a"(acc), "+m"(mem), "=r"(fl) : "r"(99u) : "cc", "memory");
		rt_printf("cmpxchg miss: eax %u mem %u flags %03x\n", acc, mem, fl & FL_STATUS);
		__asm__("cmpxchgl %3, %1\n\tpushfl\n\tpopl %2" : "+a"(acc), "+m"(mem), "=r"(fl) : "r"(99u) : "cc", "memory");
		rt_printf("cmpxchg hit: eax %u mem %u flags %03x\n", acc, mem, fl & FL_STATUS);
	}
	{
		uint8_t mem = 0x80, acc = 0x80, nv = 0x11;
		__asm__("cmpxchgb %2, %1\n\tsetz %0" : "=q"(zf), "+m"(mem), "+q"(nv), "+a"(acc) : : "cc", "memory");
		rt_check32("cmpxchgb", (uint32_t)zf << 8 | mem, 0x111);
	}
	{
		uint32_t a = 0x1000, b = 0x0234;
		__asm__("xaddl %0, %1\n\tpushfl\n\tpopl %2" : "+r"(a), "+r"(b), "=r"(fl) : : "cc");
		rt_printf("xadd reg: %08x %08x flags %03x\n", a, b, fl & FL_STATUS);
		r = a ^ b;
		__asm__("xchgl %0, %1" : "+r"(a), "+r"(b));
		rt_check32("xchg", a ^ b, r);
		rt_check32("xchg order", a, 0x1234);
	}

	wide = 0x1111111122222222ull;
	rt_check64("cmpxchg8b succeeds", __sync_val_compare_and_swap(&wide, 0x1111111122222222ull, 0xaaaaaaaabbbbbbbbull),
		   0x1111111122222222ull);
	rt_check64("cmpxchg8b stored", wide, 0xaaaaaaaabbbbbbbbull);
	rt_check64("cmpxchg8b fails", __sync_val_compare_and_swap(&wide, 5, 6), 0xaaaaaaaabbbbbbbbull);
	rt_check64("64-bit fetch_and_add", __sync_fetch_and_add(&wide, 0x5555555544444445ull), 0xaaaaaaaabbbbbbbbull);
	rt_check64("64-bit sum", wide, 0);
	return rt_done();
}
