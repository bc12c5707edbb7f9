/* Helpers every benchmark shares: a monotonic clock, medians, and the
 * pair of environments (without and with the preloaded library) the
 * preload/native comparisons run their programs in. Header-only: each
 * benchmark is one program. */
#ifndef ALLOCMAP_BENCHUTIL_H
#define ALLOCMAP_BENCHUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char **environ;

static inline double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts v in place; its median. */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define BENCH_MAX_ENV 1024

/* env_side[0]: ours less LD_PRELOAD and ALLOCMAP_*, plus LD_PRELOAD=base
 * if base is not NULL (another malloc, on both sides); [1]: the same with
 * LD_PRELOAD=lib or lib:base. */
static char *env_side[2][BENCH_MAX_ENV + 3];
static char preload_var[2][4096];

static inline int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static inline void make_envs(const char *lib, const char *base)
{
	int n = 0;
	for (char **e = environ; *e; e++)
		if (!starts_with(*e, "LD_PRELOAD=") && !starts_with(*e, "ALLOCMAP_")) {
			if (n == BENCH_MAX_ENV) {
				fprintf(stderr, "benchmark: more than %d environment variables\n", BENCH_MAX_ENV);
				exit(2);
			}
			env_side[0][n] = env_side[1][n] = *e, n++;
		}
	snprintf(preload_var[0], sizeof preload_var[0], "LD_PRELOAD=%s", base ? base : "");
	snprintf(preload_var[1], sizeof preload_var[1], "LD_PRELOAD=%s%s%s", lib, base ? ":" : "", base ? base : "");
	env_side[0][n] = base ? preload_var[0] : NULL;
	env_side[1][n] = preload_var[1];
	env_side[0][n + 1] = env_side[1][n + 1] = NULL;
}

#endif
