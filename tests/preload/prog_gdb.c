/* The program tools/gdb/allocmap.py is tried on (tests/preload/gdb.sh):
 * linked with -lallocmap, it makes a chunk of 100 bytes (at the line
 * marked GDB_SITE), a mapping, and stops in stop_here with both live.
 * With "wait": prints its pid once they are made and waits (up to 30 s)
 * for a debugger to attach and set go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "allocmap.h"

char *p, *m;
volatile int go;

__attribute__((noinline)) void stop_here(void)
{
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static char *make(size_t n)
{
	char *c = malloc(n); /* GDB_SITE */
	if (c)
		memset(c, 'x', n);
	return c;
}

int main(int argc, char **argv)
{
	p = make(100);
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || m == MAP_FAILED)
		return 1;
	struct allocmap_info info;
	if (allocmap_query(p, &info) != 0) /* the library is there */
		return 2;
	if (argc > 1 && strcmp(argv[1], "wait") == 0) {
		printf("%ld\n", (long)getpid());
		fflush(stdout);
		for (int i = 0; i < 300 && !go; i++)
			usleep(100000);
	}
	stop_here();
	printf("%zu\n", info.size);
	free(p);
	return 0;
}
