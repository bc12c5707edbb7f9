/* The mapping count at its limit (vm.max_map_count) for limits.sh: makes
 * one-page read-only mappings inside a PROT_NONE reservation, every
 * other page (each a mapping of its own), until the kernel refuses one;
 * gives two back; then malloc(200000) (a mapping of glibc's) must
 * succeed. Prints how many were made; exit 0 if the malloc succeeded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "expect.h"

#define MOST 200000

int main(void)
{
	char *base = mmap(NULL, 2UL * MOST * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int n = 0;
	EXPECT(base != MAP_FAILED);
	while (n < MOST && mmap(base + 2UL * n * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
				0) != MAP_FAILED)
		n++;
	EXPECT(n > 2 && n < MOST);
	EXPECT(munmap(base + 2UL * (n - 1) * PAGE, PAGE) == 0 && munmap(base + 2UL * (n - 2) * PAGE, PAGE) == 0);
	void *x = malloc(200000);
	printf("%d\n", n);
	return x ? 0 : 1;
}
