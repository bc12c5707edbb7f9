/* Numbers for people: sizes in binary units, durations, signal names,
 * JSON fields read with defaults. Each returns a pointer into one of a
 * few rotating static buffers, so several can appear in one printf.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define NBUF 16

static char *next_buf(void)
{
	static char bufs[NBUF][64];
	static unsigned at;
	return bufs[at++ % NBUF];
}

const char *fmt_bytes(uint64_t n)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	char *b = next_buf();
	double v = (double)n;
	unsigned u = 0;
	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0])
		v /= 1024, u++;
	if (u == 0)
		snprintf(b, 64, "%llu B", (unsigned long long)n);
	else
		snprintf(b, 64, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[u]);
	return b;
}

const char *fmt_ns(uint64_t ns)
{
	char *b = next_buf();
	if (ns < 1000000)
		snprintf(b, 64, "%.0f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(b, 64, "%.1f ms", ns / 1e6);
	else
		snprintf(b, 64, "%.2f s", ns / 1e9);
	return b;
}

const char *fmt_signal(int sig)
{
	char *b = next_buf();
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(b, 64, "SIG%s", abbrev);
	else
		snprintf(b, 64, "signal %d", sig);
	return b;
}

uint64_t jnum(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));
	return v > 0 ? (uint64_t)v : 0;
}

uint64_t jhex(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? strtoull(s, NULL, 16) : 0;
}

const char *jstr(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : dflt;
}
