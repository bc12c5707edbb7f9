/* Diagnostics without stdio: a small formatter and a writer to stderr.
 *
 * am_fmt understands %s %c %d %i %u %x %p %% with the length modifiers l,
 * z and ll; anything else is copied literally. It always NUL-terminates
 * and returns the length it wrote. Both functions are async-signal-safe
 * and never allocate; am_log writes one line prefixed "allocmap: ".
 */
#ifndef AM_LOG_H
#define AM_LOG_H

#include <stdarg.h>
#include <stddef.h>

size_t am_vfmt(char *buf, size_t cap, const char *fmt, va_list ap);
size_t am_fmt(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void am_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs once per flag: the first caller to flip *flag from 0 wins. */
#define am_log_once(flag, ...)                                                   \
	do {                                                                     \
		if (!__atomic_exchange_n((flag), 1, __ATOMIC_RELAXED))          \
			am_log(__VA_ARGS__);                                     \
	} while (0)

#endif
