/* A program with known stacks for stack.sh (through `allocmap run
 * --stack N`): every allocation goes through two levels of the program's
 * own wrappers, buf_alloc (marked STACK_BUF) calling xmalloc (marked
 * STACK_X), from two callers:
 *   make_names  keeps 1000 chunks of 100 bytes  (the call marked STACK_NAMES)
 *   make_table  keeps 10 chunks of 40000 bytes  (the call marked STACK_TABLE)
 * then frees 500 names; exit 0. Without stacks, both callers' chunks
 * have one site: the malloc call inside xmalloc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINL __attribute__((noinline))

static void *volatile sink;

NOINL static void *xmalloc(size_t n)
{
	void *p = malloc(n); /* STACK_X */
	if (!p) {
		fputs("out of memory\n", stderr);
		exit(1);
	}
	return p;
}

NOINL static void *buf_alloc(size_t n)
{
	void *p = xmalloc(n); /* STACK_BUF */
	memset(p, 0, n);
	return p;
}

NOINL static void **make_names(int n)
{
	static void *v[1000];
	for (int i = 0; i < n; i++)
		v[i] = buf_alloc(100); /* STACK_NAMES */
	return v;
}

NOINL static void **make_table(int n)
{
	static void *v[10];
	for (int i = 0; i < n; i++)
		v[i] = buf_alloc(40000); /* STACK_TABLE */
	return v;
}

int main(void)
{
	void **names = make_names(1000);
	sink = make_table(10);
	for (int i = 0; i < 500; i++)
		free(names[i]);
	return 0;
}
