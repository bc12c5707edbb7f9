/* Programs with known answers for known.sh (through `allocmap run`):
 *   keep     keep_100mib() keeps 102400 chunks of 1 KiB (100 MiB) at one
 *            call site (the line marked ANSWER_KEEP); exit 0
 *   peak     peak_200mib() holds 200 MiB in 64 KiB chunks at once, then
 *            frees them all; exit 0
 *   threads  4 threads keep 1000 chunks of 1 KiB each; then "ready" on
 *            standard output, and waits for standard input to close
 *   exit4    keeps 1 MiB, then _exit(4)
 *   sleep    keeps 1 MiB, then "ready" and sleeps (to be signalled)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEEP_N 102400
#define PEAK_N 3200

static void *volatile sink;

__attribute__((noinline)) static void **keep_100mib(void)
{
	void **v = calloc(KEEP_N, sizeof *v);
	for (int i = 0; v && i < KEEP_N; i++) {
		v[i] = malloc(1024); /* ANSWER_KEEP */
		memset(v[i], 1, 1024);
	}
	return v;
}

__attribute__((noinline)) static void peak_200mib(void)
{
	static void *v[PEAK_N];
	for (int i = 0; i < PEAK_N; i++)
		memset(v[i] = malloc(64 << 10), 1, 64 << 10);
	for (int i = 0; i < PEAK_N; i++)
		free(v[i]);
}

static void *keep_1000(void *arg)
{
	void **v = arg;
	for (int i = 0; i < 1000; i++)
		v[i] = malloc(1024);
	return NULL;
}

static int threads(void)
{
	static void *v[4][1000];
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, keep_1000, v[i]) != 0)
			return 3;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("ready\n");
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof buf) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "keep"))
		return (sink = keep_100mib()) == NULL;
	if (!strcmp(m, "peak"))
		return peak_200mib(), 0;
	if (!strcmp(m, "threads"))
		return threads();
	memset(sink = malloc(1 << 20), 1, 1 << 20);
	if (!strcmp(m, "exit4"))
		_exit(4);
	if (!strcmp(m, "sleep")) {
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	fprintf(stderr, "prog_known: unknown mode '%s'\n", m);
	return 2;
}
