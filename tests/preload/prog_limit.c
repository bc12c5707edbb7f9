/* Mallocs 1 MiB blocks (touched) until malloc fails or 4 GiB, prints
 * the MiB it got, frees them, and exits with allocmap_check(2)'s count
 * of discrepancies (0: the index is exact) — for limits.sh, under
 * RLIMIT_DATA or RLIMIT_AS.
 */
#include <allocmap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	static void *got[4096];
	size_t n = 0;
	while (n < 4096 && (got[n] = malloc(1 << 20)) != NULL)
		memset(got[n++], 1, 1 << 20);
	printf("%zu\n", n);
	struct allocmap_info i;
	int answers = n == 0 || (allocmap_query((char *)got[n / 2] + 100, &i) == 0 && i.base == got[n / 2]);
	while (n)
		free(got[--n]);
	int d = allocmap_check(2);
	return d == 0 && answers ? 0 : 1;
}
