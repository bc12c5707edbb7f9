/* A heapsort: in place, O(n log n) at worst, no recursion, no memory
 * (libc's qsort may call malloc). Elements up to 64 bytes, swapped
 * through a buffer on the stack. */
#include <string.h>

#include "leak.h"

#define MAX_ELEM 128

static void swap(char *a, char *b, size_t size)
{
	char tmp[MAX_ELEM];
	memcpy(tmp, a, size);
	memcpy(a, b, size);
	memcpy(b, tmp, size);
}

/* Moves element i of the heap a[0, n) down to its place. */
static void sift(char *a, size_t i, size_t n, size_t size, int (*less)(const void *, const void *))
{
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && less(a + c * size, a + (c + 1) * size))
			c++;
		if (!less(a + i * size, a + c * size))
			return;
		swap(a + i * size, a + c * size, size);
	}
}

void am_leak_sort(void *base, size_t n, size_t size, int (*less)(const void *, const void *))
{
	char *a = base;
	if (n < 2 || size > MAX_ELEM)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift(a, i, n, size, less);
	for (size_t end = n - 1; end > 0; end--) {
		swap(a, a + end * size, size);
		sift(a, 0, end, size, less);
	}
}
