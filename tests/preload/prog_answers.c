/* Answers a tool can walk (issue 12), run under the library (linked with
 * -lallocmap, and again under LD_PRELOAD by answers.sh).
 *
 *   prog_answers SCENARIO
 *
 * free: arena space in no live chunk (a freed chunk, the top chunk) answers
 * ALLOCMAP_HEAP_FREE with no site, where a live chunk answers its chunk.
 * Each scenario ends with allocmap_check(2) == 0; a failed expectation
 * prints its line and exits 1.
 */
#include <allocmap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect.h"

static struct allocmap_info q(const void *p)
{
	struct allocmap_info i;
	EXPECT(allocmap_query(p, &i) == 0);
	return i;
}

static void expect_free(const void *p)
{
	struct allocmap_info i = q(p);
	EXPECT(i.kind == ALLOCMAP_HEAP_FREE);
	EXPECT(i.site == NULL);
	EXPECT(!strcmp(i.allocator, "malloc"));
	EXPECT((uintptr_t)p - (uintptr_t)i.base < i.size);
}

static void scenario_free(void)
{
	char *a = malloc(3000), *b = malloc(3000), *c = malloc(3000);
	EXPECT(a && b && c);
	memset(b, 1, 3000);
	EXPECT(q(b + 100).kind == ALLOCMAP_HEAP_CHUNK && q(b + 100).base == b);
	uintptr_t freed = (uintptr_t)b + 100;
	free(b);
	expect_free((const void *)freed); /* a freed chunk, between two live ones */
	EXPECT(q(a).kind == ALLOCMAP_HEAP_CHUNK && q(c).kind == ALLOCMAP_HEAP_CHUNK);
	expect_free((char *)sbrk(0) - 16); /* the main arena's top chunk */
	free(a);
	free(c);
}

static const struct {
	const char *name;
	void (*run)(void);
} all[] = {
	{"free", scenario_free},
};

int main(int argc, char **argv)
{
	for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
		if (argc > 1 && !strcmp(argv[1], all[k].name)) {
			all[k].run();
			int n = allocmap_check(2);
			if (n != 0) {
				fprintf(stderr, "allocmap_check after %s: %d discrepancies\n", argv[1], n);
				return 1;
			}
			return 0;
		}
	}
	fprintf(stderr, "usage: %s SCENARIO\n", argv[0]);
	return 2;
}
