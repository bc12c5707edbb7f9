/* libc's allocating wrappers, interposed so that the chunk they return
 * has their caller as its site (not a line inside libc): strdup, strndup
 * and their internal names (__strdup, __getdelim: what glibc's headers
 * turn some calls into); their own copies (the copy is ours: same result, errno ENOMEM from
 * malloc on failure); realpath with a NULL buffer, getline, getdelim,
 * asprintf, vasprintf forward to libc's (semantics, errno and all) and
 * give the chunk libc made through our malloc to the caller
 * (am_resite; a getline buffer only when libc (re)allocated it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sys/elfsym.h"
#include "hook.h"

#define API __attribute__((visibility("default")))
#define CALLER __builtin_return_address(0)

API char *__strdup(const char *s);
API char *__strndup(const char *s, size_t n);
API ssize_t __getdelim(char **line, size_t *n, int d, FILE *f); /* what <stdio.h> makes of getline when optimising */

static void *libc_fn(const char *name) { return am_elf_lookup("libc.so", name, NULL); }

static char *copy(const char *s, size_t len, const void *site)
{
	char *p = am_malloc_at(len + 1, site);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

API char *strdup(const char *s) { return copy(s, strlen(s), CALLER); }
API char *__strdup(const char *s) { return copy(s, strlen(s), CALLER); }
API char *strndup(const char *s, size_t n) { return copy(s, strnlen(s, n), CALLER); }
API char *__strndup(const char *s, size_t n) { return copy(s, strnlen(s, n), CALLER); }

API char *realpath(const char *path, char *resolved)
{
	static char *(*real)(const char *, char *);
	if (!real)
		real = (char *(*)(const char *, char *))libc_fn("realpath");
	char *r = real(path, resolved);
	if (!resolved)
		am_resite(r, CALLER);
	return r;
}

static ssize_t delim(char **line, size_t *n, int d, FILE *f, const void *site)
{
	static ssize_t (*real)(char **, size_t *, int, FILE *);
	if (!real)
		real = (ssize_t(*)(char **, size_t *, int, FILE *))libc_fn("getdelim");
	char *before = *line;
	ssize_t r = real(line, n, d, f);
	if (*line != before)
		am_resite(*line, site);
	return r;
}

API ssize_t getdelim(char **line, size_t *n, int d, FILE *f) { return delim(line, n, d, f, CALLER); }
API ssize_t __getdelim(char **line, size_t *n, int d, FILE *f) { return delim(line, n, d, f, CALLER); }
API ssize_t getline(char **line, size_t *n, FILE *f) { return delim(line, n, '\n', f, CALLER); }

static int vformat(char **out, const char *fmt, va_list ap, const void *site)
{
	static int (*real)(char **, const char *, va_list);
	if (!real)
		real = (int (*)(char **, const char *, va_list))libc_fn("vasprintf");
	int r = real(out, fmt, ap);
	if (r >= 0)
		am_resite(*out, site);
	return r;
}

API int vasprintf(char **out, const char *fmt, va_list ap) { return vformat(out, fmt, ap, CALLER); }

API int asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vformat(out, fmt, ap, CALLER);
	va_end(ap);
	return r;
}
