/* The heap the leak scan is timed on (bench/leaks.sh): N chunks (default
 * 1,000,000) of 24-120 bytes, linked in lists of 100 from a root array,
 * every tenth list dropped (definitely lost heads, indirectly lost
 * rests); plus, with a second argument, a GiB-sized heap of 4 KiB chunks
 * for the per-GiB figure. Exits through exit(): the scan, if asked for
 * (ALLOCMAP_LEAKS), runs there. Built without the library. */
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	char pad[];
};

struct node **root; /* a root: the program's data */
void **pages;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000, lists = n / 100;
	long big = argc > 2 ? atol(argv[2]) : 0;
	root = calloc((size_t)lists, sizeof *root);
	unsigned seed = 1;
	for (long l = 0; l < lists; l++)
		for (int i = 0; i < 100; i++) {
			seed = seed * 1103515245u + 12345u;
			struct node *x = malloc(sizeof *x + 16 + (seed >> 16) % 97);
			x->next = root[l];
			root[l] = x;
		}
	for (long l = 0; l < lists; l += 10)
		root[l] = NULL;
	pages = big ? calloc((size_t)big, sizeof *pages) : NULL;
	for (long i = 0; i < big; i++)
		pages[i] = memset(malloc(4096 - 16), 1, 64);
	return root[1] == NULL;
}
