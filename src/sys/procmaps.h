/* The /proc/<pid>/maps reader: owns the text format, nothing else.
 *
 * A line, as the kernel writes it (fs/proc/task_mmu.c, show_map_vma):
 *
 *   lo-hi perm offset major:minor inode[ <spaces>name]\n
 *
 * lo, hi, offset, major and minor in hex, inode in decimal, perm four
 * characters [r-][w-][x-][sp]. The name is padded to a fixed column with
 * spaces and never starts with one (a d_path starts with '/', a special
 * name with '[', a d_dname with "prefix:"). In file names the kernel
 * escapes only '\n', as "\012"; it does not escape '\\', so a name that
 * really contains the four bytes "\012" reads the same as one with a
 * newline: we decode it as a newline. An unlinked file's name ends in
 * " (deleted)"; a live file really named "x (deleted)" reads the same.
 *
 * Nothing here allocates, takes a lock, touches errno or keeps state
 * between calls: every function may run in any thread concurrently, and
 * is async-signal-safe (the readers use about AM_PROCMAPS_BUF bytes of
 * stack).
 *
 * The kernel prints the file a chunk (a read() call) at a time, resuming
 * after the end of the last vma it printed; the address space can change
 * in between. So each line is whole and the ends (hi) strictly increase,
 * but a vma that changed between two chunks can show twice, the later
 * line overlapping the earlier one (and being the fresher); the reader
 * flags it (overlaps). A walk with no entry flagged is coherent.
 */
#ifndef AM_SYS_PROCMAPS_H
#define AM_SYS_PROCMAPS_H

#include <stddef.h>
#include <stdint.h>

/* A name (or the end of a line without one) must start within this many
 * bytes of its line start; the kernel's fields and padding take at most
 * 88. It lets a reader parse a line longer than its buffer from the head. */
#define AM_PROCMAPS_FIELDS_MAX 126

/* The stack buffer am_procmaps_read{,_fd} use, and the smallest buffer
 * am_procmaps_read_buf accepts. */
#define AM_PROCMAPS_BUF 8192
#define AM_PROCMAPS_MIN_BUF (AM_PROCMAPS_FIELDS_MAX + 2)

/* A malformed line met by a reader: -EBADMSG. */
#define AM_PROCMAPS_EBADMSG (-74)

struct am_maps_entry {
	uintptr_t lo, hi;	/* [lo, hi), lo < hi */
	int prot;		/* PROT_READ | PROT_WRITE | PROT_EXEC */
	int shared;		/* 1 for 's' (VM_MAYSHARE), 0 for 'p' */
	uint64_t offset;	/* file offset in bytes (0 if anonymous) */
	unsigned dev_major;	/* device of the file, 0:0 if anonymous */
	unsigned dev_minor;
	uint64_t inode;		/* 0 if anonymous */
	const char *path;	/* NUL-terminated name, "" if none; valid only
				   during the callback (or while the caller's
				   path buffer lives) */
	int deleted;		/* the name ended in " (deleted)", stripped */
	int truncated;		/* path holds only a prefix of the name (it
				   did not fit the buffer); deleted is exact */
	int overlaps;		/* a reader saw lo below the end of an entry
				   it delivered before (always 0 from
				   am_procmaps_parse_line) */
};

/* Parses one line of len bytes (a trailing '\n' is allowed, line[len] is
 * never read and need not be NUL). The name, decoded, goes to pathbuf,
 * NUL-terminated; when it needs more than pathcap - 1 bytes, pathbuf holds
 * its longest prefix that fits and out->truncated is set. out->path
 * points to pathbuf. Returns 0, or -1 for a malformed line (any field
 * missing, out of range or followed by junk, lo >= hi, the name starting
 * beyond AM_PROCMAPS_FIELDS_MAX, a '\n' before the end or a NUL anywhere)
 * or pathcap == 0; *out is then unspecified.
 * pathbuf must not overlap line. */
int am_procmaps_parse_line(const char *line, size_t len, struct am_maps_entry *out,
			   char *pathbuf, size_t pathcap);

typedef int (*am_procmaps_cb)(const struct am_maps_entry *e, void *arg);

/* Calls cb for each line of /proc/self/maps, in order (ascending hi).
 * Stops as soon as cb returns non-zero, and returns that value (so a
 * callback should stop with a positive value). Otherwise returns 0 at
 * end of file, a negative errno from open/read, or AM_PROCMAPS_EBADMSG
 * at a malformed line (the lines before it were delivered). A line longer
 * than the buffer is still delivered, with a truncated path. */
int am_procmaps_read(am_procmaps_cb cb, void *arg);

/* The same from an open fd, read from its current position to end of
 * file; fd is left open. */
int am_procmaps_read_fd(int fd, am_procmaps_cb cb, void *arg);

/* The same with the caller's buffer of cap bytes instead of the stack
 * (the path of an entry points into it). Returns -EINVAL if
 * cap < AM_PROCMAPS_MIN_BUF. */
int am_procmaps_read_buf(int fd, am_procmaps_cb cb, void *arg, char *buf, size_t cap);

#endif
