/* The library's environment variables, read straight from environ (no
 * getenv, no allocation) so they work before libc is fully up.
 *
 * Every bad value is reported with the variable's name and the value in
 * force instead (am_env_bad: once a process image, once a run under
 * allocmap run); the program always keeps running.
 */
#ifndef AM_OPTIONS_H
#define AM_OPTIONS_H

#include <stddef.h>

/* The value of NAME in the environment, or NULL (always in a set-uid or
 * set-gid process: AT_SECURE). */
const char *am_env(const char *name);

/* A size such as "4096", "64K", "32M", "1G"; dflt when unset, and when
 * the value is malformed or outside [lo, hi] (after logging why). */
size_t am_env_size(const char *name, size_t dflt, size_t lo, size_t hi);

/* A whole decimal number in [lo, hi]; dflt when unset or not one. */
size_t am_env_count(const char *name, size_t dflt, size_t lo, size_t hi);

/* Says NAME="value" is `why`, and that `used` is used instead. */
void am_env_bad(const char *name, const char *value, const char *why, size_t used);

/* "1", "yes", "on", "true" -> 1; "0", "no", "off", "false", "" -> 0;
 * anything else -1. */
int am_parse_bool(const char *s);

/* A boolean: unset -> dflt; "1", "yes", "on", "true" -> 1; "0", "no",
 * "off", "false", "" -> 0; anything else logged, dflt. */
int am_env_bool(const char *name, int dflt);

/* Parses a size as above into *out; 0 on success, -1 if malformed. */
int am_parse_size(const char *s, size_t *out);

#endif
