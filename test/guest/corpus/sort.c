/* Sorting: quicksort (Hoare partition, median of three, insertion sort for short runs) and a
   plain insertion sort on pseudo-random signed data, checked for order and permutation, then
   binary search. */

#include "rt.h"

#define N 600

static int32_t data[N], copy[N];

static void insertion(int32_t *a, int n)
{
	for (int i = 1; i < n; i++) {
		int32_t v = a[i];
		int j = i - 1;
		while (j >= 0 && a[j] > v) {
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = v;
	}
}

static void swap(int32_t *a, int32_t *b)
{
	int32_t t = *a;
	*a = *b;
	*b = t;
}

static void quick(int32_t *a, int lo, int hi)
{
	while (hi - lo > 12) {
		int mid = lo + (hi - lo) / 2, i = lo - 1, j = hi + 1;
		int32_t pivot;

		if (a[mid] < a[lo]) swap(&a[mid], &a[lo]);
		if (a[hi] < a[lo]) swap(&a[hi], &a[lo]);
		if (a[hi] < a[mid]) swap(&a[hi], &a[mid]);
		pivot = a[mid];
		for (;;) {
			do i++; while (a[i] < pivot);
			do j--; while (a[j] > pivot);
			if (i >= j)
				break;
			swap(&a[i], &a[j]);
		}
		if (j - lo < hi - j) {	/* recurse on the smaller side */
			quick(a, lo, j);
			lo = j + 1;
		} else {
			quick(a, j + 1, hi);
			hi = j;
		}
	}
	insertion(a + lo, hi - lo + 1);
}

static int sorted(const int32_t *a, int n)
{
	for (int i = 1; i < n; i++)
		if (a[i - 1] > a[i])
			return 0;
	return 1;
}

static uint32_t digest(const int32_t *a, int n)
{
	uint32_t sum = 0, x = 0;

	for (int i = 0; i < n; i++) {
		sum += (uint32_t)a[i];
		x ^= (uint32_t)a[i] * 0x9e3779b9u;	/* order-independent */
	}
	return sum ^ x;
}

static int search(const int32_t *a, int n, int32_t key)
{
	int lo = 0, hi = n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) >> 1;
		if (a[mid] == key)
			return mid;
		if (a[mid] < key)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

int main(void)
{
	uint32_t state = 0xc0ffee;
	uint32_t before;

	for (int i = 0; i < N; i++)
		data[i] = (int32_t)rt_rand(&state) >> (i % 20);	/* negatives and small values, some repeats */
	data[7] = INT_MIN_;
	data[8] = INT_MAX_;
	data[9] = 0;
	data[10] = data[11];
	memcpy(copy, data, sizeof data);
	before = digest(data, N);
	quick(data, 0, N - 1);
	insertion(copy, N);
	rt_check("quicksort sorted", sorted(data, N));
	rt_check("quicksort permutation", digest(data, N) == before);
	rt_check("insertion sorted", sorted(copy, N));
	rt_check("same result", memcmp(data, copy, sizeof data) == 0);
	rt_check32("min", (uint32_t)data[0], 0x80000000u);
	rt_check32("max", (uint32_t)data[N - 1], 0x7fffffffu);
	for (int i = 0; i < N; i += 37)
		rt_printf("data[%d] = %d\n", i, data[i]);
	rt_check32("search 0", (uint32_t)data[search(data, N, 0)], 0);
	rt_check32("search missing", (uint32_t)search(data, N, 12345), (uint32_t)-1);
	rt_check32("search max", (uint32_t)search(data, N, INT_MAX_), N - 1);
	return rt_done();
}
