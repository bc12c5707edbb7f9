/* A program with its own malloc family (a bump allocator in the
 * executable): it wins symbol resolution over allocmap's. Under the
 * library it must run exactly as without it; allocmap says once that it
 * cannot index the heap and answers at the mapping level. */
#include <allocmap.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static char arena[1 << 22];
static size_t used;

void *malloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (used + n > sizeof arena)
		return NULL;
	used += n;
	return arena + used - n;
}
void free(void *p) { (void)p; }
void *calloc(size_t n, size_t m) { return malloc(n * m); } /* bump memory is zero */
void *realloc(void *p, size_t n)
{
	void *q = malloc(n);
	if (p && q)
		memcpy(q, p, n); /* the arena is large enough to over-read safely */
	return q;
}

int main(void)
{
	char *p = malloc(100);
	strcpy(p, "own malloc");
	struct allocmap_info i;
	int r = allocmap_query(p, &i);
	printf("%s %d %s\n", p, r, r == 0 && i.kind != ALLOCMAP_HEAP_CHUNK ? "mapping-level" : "wrong");
	return 0;
}
