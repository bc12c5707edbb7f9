/* The .leaks file: what a leak scan at exit leaves for the CLI.
 *
 * With ALLOCMAP_LEAKS set and ALLOCMAP_RUN_DIR naming a directory, a
 * process that ends through exit() writes $ALLOCMAP_RUN_DIR/proc-<pid>.leaks
 * (created O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600; an existing file is left
 * alone and the result goes to stderr only). Text, one record a line,
 * fields separated by one space, numbers in decimal unless 0x-prefixed:
 *
 *   allocmap-leaks 1                          magic and format version
 *   pid PID
 *   group CLASS BYTES COUNT SUPPRESSED SITE OFFSET SYMBOL SYMOFF OBJECT
 *   ...                                       one per (class, site), every class
 *   totals definite B N indirect B N possible B N reachable B N
 *   suppressed definite B N indirect B N possible B N reachable B N
 *   scan chunks N roots B threads N unstopped N stopped_ns T scan_ns T
 *   end                                       the file is complete
 *
 * group: CLASS is definite, indirect, possible or reachable (Valgrind's
 * definitely lost, indirectly lost, possibly lost, still reachable);
 * BYTES the bytes asked for by its COUNT chunks; SUPPRESSED 1 if a
 * suppression matched (then counted in "suppressed", not in "totals");
 * SITE the allocating call's return address (0x..., or (nil) when
 * unknown); OFFSET the site in its object's own addresses, for
 * `addr2line -e OBJECT OFFSET` (0x...); SYMBOL a dynamic symbol holding
 * the site, or "-"; SYMOFF the site's offset from it (0x...); OBJECT the
 * object's path, or "-", the rest of the line (it may hold spaces).
 * Groups come by class (definite first), then bytes (most first).
 * The heap index records one frame a chunk, so a group has no further
 * frames; a later version may add "frame ADDR OFFSET SYMBOL SYMOFF
 * OBJECT" lines after a group, which readers of version 1 skip (as any
 * line they do not know).
 * totals/suppressed: bytes and chunks by class. scan: chunks examined,
 * root bytes scanned, threads (the scanner's included), how many could
 * not be stopped, nanoseconds the others stood stopped, and of the scan.
 * A file without "end" was cut short (the process died while writing).
 */
#ifndef ALLOCMAP_LEAKS_H
#define ALLOCMAP_LEAKS_H

#define ALLOCMAP_LEAKS_MAGIC "allocmap-leaks 1"

/* The exit status of a process run with ALLOCMAP_LEAKS=error that would
 * have exited 0 and has definitely lost bytes not suppressed: 23, as
 * LeakSanitizer's default exitcode, which CI scripts already know. A
 * process exiting non-zero keeps its status. */
#define ALLOCMAP_LEAKS_STATUS 23

#endif
