/* Environment parsing: see options.h. */
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/auxv.h>

#include "sys/log.h"
#include "sys/syscall.h"

extern char **environ;

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* In a set-uid or set-gid process (AT_SECURE) the environment is the
 * caller's to choose, not the program owner's: an ALLOCMAP_REPORT there
 * would write a file of the caller's naming with the owner's rights. So
 * every variable is ignored, and that is said once, if one is set. */
static const char *secure_filter(const char *value)
{
	static int said;
	if (!value || !getauxval(AT_SECURE))
		return value;
	am_log_once(&said, "set-uid/set-gid process: ALLOCMAP_* variables are ignored");
	return NULL;
}

const char *am_env(const char *name)
{
	for (char **e = environ; e && *e; e++) {
		const char *s = *e, *n = name;
		while (*n && *s == *n)
			s++, n++;
		if (!*n && *s == '=')
			return secure_filter(s + 1);
	}
	return NULL;
}

/* Whether this process is the one to say that NAME's value is bad: every
 * process image reads the environment, so without allocmap run each
 * says it once; under allocmap run (ALLOCMAP_RUN_DIR) only the first
 * process of the run does, the one that creates DIR/bad-NAME (children
 * and exec'd programs find it there). */
static int first_to_say(const char *name)
{
	const char *dir = am_env("ALLOCMAP_RUN_DIR");
	char path[4096];
	if (!dir || dir[0] != '/' || am_fmt(path, sizeof path, "%s/bad-%s", dir, name) >= sizeof path - 1)
		return 1;
	long fd = am_sys_open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		am_sys_close((int)fd);
	return fd != -EEXIST;
}

void am_env_bad(const char *name, const char *value, const char *why, size_t used)
{
	if (first_to_say(name))
		am_log("%s=\"%s\" is %s; using %zu", name, value, why, used);
}

static int suffix_shift(char c)
{
	switch (c) {
	case '\0': return 0;
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	case 't': case 'T': return 40;
	default: return -1;
	}
}

int am_parse_size(const char *s, size_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	int sh = suffix_shift(*p);
	if (p == s || sh < 0 || (sh && p[1] && !streq(p + 1, "iB") && !streq(p + 1, "B")))
		return -1;
	if (sh && v > (UINT64_MAX >> sh))
		return -1;
	*out = (size_t)(v << sh);
	return 0;
}

size_t am_env_size(const char *name, size_t dflt, size_t lo, size_t hi)
{
	const char *s = am_env(name);
	size_t v;
	if (!s)
		return dflt;
	if (am_parse_size(s, &v) != 0) {
		am_env_bad(name, s, "not a size (e.g. 4096, 64K, 32M, 1G)", dflt);
		return dflt;
	}
	if (v < lo || v > hi) {
		char why[80];
		am_fmt(why, sizeof why, "outside [%zu, %zu]", lo, hi);
		am_env_bad(name, s, why, dflt);
		return dflt;
	}
	return v;
}

size_t am_env_count(const char *name, size_t dflt, size_t lo, size_t hi)
{
	const char *s = am_env(name);
	size_t v = 0;
	const char *p = s;
	if (!s)
		return dflt;
	for (; *p >= '0' && *p <= '9' && v <= hi; p++)
		v = v * 10 + (size_t)(*p - '0');
	if (p == s || *p || v < lo || v > hi) {
		char why[80];
		am_fmt(why, sizeof why, "not a whole number from %zu to %zu", lo, hi);
		am_env_bad(name, s, why, dflt);
		return dflt;
	}
	return v;
}

int am_parse_bool(const char *s)
{
	static const char *const yes[] = {"1", "yes", "on", "true"};
	static const char *const no[] = {"0", "no", "off", "false", ""};
	for (unsigned i = 0; i < sizeof yes / sizeof *yes; i++)
		if (streq(s, yes[i]))
			return 1;
	for (unsigned i = 0; i < sizeof no / sizeof *no; i++)
		if (streq(s, no[i]))
			return 0;
	return -1;
}

int am_env_bool(const char *name, int dflt)
{
	const char *s = am_env(name);
	int b = s ? am_parse_bool(s) : dflt;
	if (b < 0)
		am_env_bad(name, s, "not a boolean (1/0, yes/no, on/off, true/false)", (size_t)dflt);
	return b < 0 ? dflt : b;
}
