/* Where the exit summary's bytes go (sink.c): the destination that
 * ALLOCMAP_REPORT names, opened and closed with raw system calls. The
 * summary's text is laid out elsewhere (summary.c); this knows nothing
 * of what it says.
 */
#ifndef AM_REPORT_SINK_H
#define AM_REPORT_SINK_H

#include <stddef.h>

/* The descriptor for name, ALLOCMAP_REPORT's value: "-" or empty is the
 * stderr the process started with (fd 2, or the close-on-exec duplicate
 * of it the library set aside at start, numbered 1000 or above, if the
 * program closed or reused fd 2 since); else a file, "%p" in its name
 * expanded to the pid and "%%" to "%", opened for appending (created
 * 0600; no symbolic link; an existing regular file only if it is this
 * user's with no other name). Returns the descriptor, or -1 if it cannot
 * be had (a file's failure is said on stderr). Allocates nothing. */
int am_sink_open(const char *name);

/* Writes all of buf[0..len) to fd in one write where the kernel takes
 * it (an O_APPEND file: reports of several processes do not interleave). */
void am_sink_write(int fd, const char *buf, size_t len);

/* Gives back what am_sink_open returned (stderr stays open). */
void am_sink_close(int fd);

#endif
