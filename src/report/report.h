/* Reports of the process, written by the library itself.
 *
 * summary.c: the plain-text exit summary (ALLOCMAP_REPORT), laid out from
 * the public API; sink.c (sink.h): where its bytes go.
 */
#ifndef AM_REPORT_REPORT_H
#define AM_REPORT_REPORT_H

/* At exit: when ALLOCMAP_REPORT is set, writes the summary of this
 * process there ("-" or empty: stderr; "%p" in a file name: the pid; the
 * file is appended to), including the result of allocmap_check when
 * ALLOCMAP_CHECK_AT_EXIT is on. Returns 1 if it wrote the report (the
 * check, if asked for, has then been done), 0 if ALLOCMAP_REPORT is
 * unset or its destination could not be had (a file's failure is said
 * on stderr). For stderr the library keeps, from its start, a
 * close-on-exec duplicate of fd 2 (numbered 1000 or above), because
 * programs may close fd 2 before they exit. Call once, from the library's destructor; allocates nothing,
 * raw system calls only. */
int am_report_at_exit(void);

#endif
