/* Programs with known answers for the live file (live.sh). Modes:
 *   hog      hog() allocates 100 MiB in 1 KiB chunks and keeps them
 *   peak     the heap peaks at 200 MiB (1 KiB chunks), then all is freed
 *   temp     1000 malloc/free pairs (temporary), 10 kept
 *   exit3    _exit(3) with 1 MiB live
 *   abort    abort() with 1 MiB live
 *   fork     a child allocates 10 MiB, the parent 1 MiB; both exit 0
 *   strdup   strdup/asprintf/getline: sites in main
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KIB 1024
#define MIB (1024 * KIB)

__attribute__((noinline)) static void **hog(size_t total)
{
	size_t n = total / KIB;
	void **keep = calloc(n, sizeof *keep);
	for (size_t i = 0; i < n; i++)
		keep[i] = malloc(KIB);
	return keep;
}

static void drop(void **keep, size_t total)
{
	for (size_t i = 0; i < total / KIB; i++)
		free(keep[i]);
	free(keep);
}

static int forked(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		hog(10 * MIB);
		exit(0);
	}
	hog(MIB);
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

static int wrappers(void)
{
	char *a = strdup("a string"), *b = NULL, *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/cmdline", "r");
	if (asprintf(&b, "%d", 42) < 0 || !f || getline(&line, &cap, f) < 0)
		return 1;
	printf("main %p\n", (void *)wrappers);
	fclose(f);
	return a == NULL;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "hog"))
		return hog(100 * MIB) == NULL;
	if (!strcmp(m, "peak")) {
		drop(hog(200 * MIB), 200 * MIB);
		return 0;
	}
	if (!strcmp(m, "temp")) {
		for (int i = 0; i < 1000; i++)
			free(*(void *volatile *)&(void *){malloc(100)});
		return hog(10 * KIB) == NULL;
	}
	if (!strcmp(m, "exit3") || !strcmp(m, "abort")) {
		hog(MIB);
		if (m[0] == 'a')
			abort();
		_exit(3);
	}
	if (!strcmp(m, "fork"))
		return forked();
	if (!strcmp(m, "strdup"))
		return wrappers();
	return 2;
}
