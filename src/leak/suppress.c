/* Suppressions: which lost chunks are counted apart instead of reported.
 *
 * The file ALLOCMAP_SUPPRESSIONS names holds one rule a line:
 *     leak:PATTERN
 * PATTERN is a glob ('*' any run of characters, '?' any one) matched
 * against the whole of the site's symbol (its dynamic symbol's name) and
 * against the whole path of the object holding it; a group is suppressed
 * if either matches. Blank lines and lines starting with '#' are
 * ignored; any other line is reported once and ignored. The file is read
 * once, at the first scan, into the mmap tier (at most MAX_FILE bytes).
 *
 * The default set, always on, holds one-time allocations of glibc and
 * the loader that are lost by design (see DEFAULTS).
 */
#include <fcntl.h>

#include "../options.h"
#include "../palloc/palloc.h"
#include "../sys/log.h"
#include "../sys/syscall.h"
#include "leak.h"

#define MAX_FILE (64u << 10)

/* Observed on Debian 12 (glibc 2.36; README, "Leak check"): on ls,
 * python3 and the tests, nothing of glibc's shows as lost, and two of
 * the loader's chunks show as possibly lost, both reached only by
 * interior pointers by design: a thread's DTV (the TCB points 16 bytes
 * in; memcheck reports it too) and dl_find_object's mappings segment
 * (over-allocated for alignment; memcheck never sees it, as valgrind
 * frees it through __libc_freeres before its scan). The loader's own
 * allocations are all per-object or per-thread bookkeeping, so the
 * default set is the loader, whole (its sites are static functions, with
 * no dynamic symbol to name). */
static const char DEFAULTS[] = "leak:*/ld-linux-x86-64.so.2\n";

static const char *rules;  /* the file's text, NUL-terminated, or "" */
static int loaded;

static int glob(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*p == '*')
			star = ++p, resume = s;
		else if (*p == '?' || *p == *s)
			p++, s++;
		else if (star)
			p = star, s = ++resume;
		else
			return 0;
	}
	while (*p == '*')
		p++;
	return !*p;
}

/* Matches the pattern [p, end) against the group's symbol and object. */
static int rule_matches(const char *p, const char *end, const struct allocmap_leak_group *g)
{
	char pat[512];
	size_t n = (size_t)(end - p) < sizeof pat - 1 ? (size_t)(end - p) : sizeof pat - 1;
	for (size_t i = 0; i < n; i++)
		pat[i] = p[i];
	pat[n] = 0;
	return (g->symbol && glob(pat, g->symbol)) || (g->object && glob(pat, g->object));
}

static int starts(const char *s, const char *prefix)
{
	while (*prefix && *s == *prefix)
		s++, prefix++;
	return !*prefix;
}

static int any_rule(const char *text, const struct allocmap_leak_group *g, int warn)
{
	static int bad_noted;
	for (const char *l = text; *l;) {
		const char *end = l;
		while (*end && *end != '\n')
			end++;
		if (starts(l, "leak:") && rule_matches(l + 5, end, g))
			return 1;
		if (warn && l != end && *l != '#' && !starts(l, "leak:"))
			am_log_once(&bad_noted, "ALLOCMAP_SUPPRESSIONS: a line does not start with \"leak:\"; ignored");
		l = *end ? end + 1 : end;
	}
	return 0;
}

static void load(void)
{
	const char *path = am_env("ALLOCMAP_SUPPRESSIONS");
	char *buf;
	long fd, n = 0;
	loaded = 1, rules = "";
	if (!path || !*path)
		return;
	fd = am_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
	buf = am_sys_failed(fd) ? NULL : am_palloc_malloc(&am_tier_mmap, MAX_FILE + 1);
	for (long r = 1; buf && n < (long)MAX_FILE && r > 0; n += r > 0 ? r : 0)
		r = am_sys_read((int)fd, buf + n, MAX_FILE - (size_t)n);
	if (!am_sys_failed(fd))
		am_sys_close((int)fd);
	if (!buf) {
		am_log("ALLOCMAP_SUPPRESSIONS=%s cannot be read; no suppressions but the defaults", path);
		return;
	}
	buf[n] = 0;
	rules = buf;
}

int am_leak_suppressed(const struct allocmap_leak_group *g)
{
	if (!loaded)
		load();
	return any_rule(DEFAULTS, g, 0) || any_rule(rules, g, 1);
}
