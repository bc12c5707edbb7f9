/* allocmap_live.h — the layout of a run directory's per-process files: a
 * contract between the library (which writes them) and the allocmap CLI
 * (which reads them, from outside the process, while it runs or after it
 * ended). Self-contained: fixed-width types only, no allocmap.h.
 *
 * proc-<pid>.live
 *   Created by each process that loads the library when ALLOCMAP_RUN_DIR
 *   names a directory owned by the process's user (O_CREAT|O_EXCL|
 *   O_NOFOLLOW, mode 0600), sized to sizeof(struct allocmap_live) and mapped
 *   MAP_SHARED: every figure below is kept current in it while the program
 *   runs, so it stays behind however the process ends. Little-endian,
 *   x86-64 alignment; offsets never change within one version. A reader
 *   checks magic, version and size before anything else.
 *
 *   A pid whose earlier program already made its file (it exec'd a
 *   program that loads the library again) names the next one
 *   proc-<pid>.<k>.live, k = 1, 2, ... in exec order. A forked child makes
 *   its own, begun as a copy of its parent's (process.forked).
 *
 *   Consistency. Two kinds of fields:
 *   - counters (struct allocmap_live_heap, the site rows): each one an
 *     aligned 8-byte word updated with atomic operations by any thread;
 *     read each with one 8-byte load. They are not one snapshot: fields
 *     may disagree by the calls in flight (live_chunks by a few, peak
 *     figures with live ones), never torn.
 *   - sections the library writes as a whole (process, end, regions,
 *     modules):
 *     guarded by `seq`, a seqlock: odd while a writer is inside. A reader
 *     loads seq (acquire), retries while odd, copies the sections, loads
 *     seq again and retries if it changed.
 *
 *   Stacks (version 3). With stack_depth N > 0 (ALLOCMAP_STACK=N), the
 *   file is sizeof(struct allocmap_live) + ALLOCMAP_LIVE_SITES * N * 8
 *   bytes: struct allocmap_live is followed by the frames area, N
 *   uint64_t frames per site row (allocmap_live_frames). A row whose key
 *   has ALLOCMAP_LIVE_STACK_KEY counts the allocations of one call stack
 *   (the key is a hash of its frames): its frames are return addresses,
 *   innermost first (frame 0 is the allocating call's), 0 past the
 *   stack's end; frame 0 is stored last, so a reader that sees it 0
 *   takes the row as having no frames yet. Other rows keep one return
 *   address as their key, as with N = 0 (file_size is then
 *   sizeof(struct allocmap_live)).
 *
 *   Times are nanoseconds: start_realtime_ns is CLOCK_REALTIME since the
 *   epoch; every other time is CLOCK_MONOTONIC since start_monotonic_ns.
 *   Sizes are bytes.
 *
 * proc-<pid>.leaks
 *   Reserved. Written beside the live file by a leak scan (issue 15),
 *   text lines, one group per line; the leak check defines its format
 *   here when it lands.
 */
#ifndef ALLOCMAP_LIVE_H
#define ALLOCMAP_LIVE_H

#include <stdint.h>

#define ALLOCMAP_LIVE_MAGIC 0x4556494c50414d41ull /* "AMAPLIVE" read as bytes */
#define ALLOCMAP_LIVE_VERSION 3u /* 2: the region table; 3: stacks (the frames area) */
#define ALLOCMAP_LIVE_CMDLINE 2048 /* bytes of the command line kept */
#define ALLOCMAP_LIVE_PATH 488     /* bytes of a path kept, with its NUL */
#define ALLOCMAP_LIVE_MODULES 1024 /* loaded objects listed */
#define ALLOCMAP_LIVE_SPACE 32     /* rows of the address-space table */
#define ALLOCMAP_LIVE_SITES 16384  /* site rows, row 0 ("other") included */
#define ALLOCMAP_LIVE_REGIONS 4096 /* rows of the region table */
#define ALLOCMAP_LIVE_MAX_DEPTH 64 /* the most frames a stack keeps (ALLOCMAP_STACK) */
/* A site key with this bit set names a recorded stack (no user-space
 * address has it): the row's frames are in the frames area. */
#define ALLOCMAP_LIVE_STACK_KEY (1ull << 47)

/* How the process ended, as far as the library could see. */
enum allocmap_live_end {
	ALLOCMAP_END_RUNNING = 0, /* not yet: or killed with no word (SIGKILL, a signal the program handles) */
	ALLOCMAP_END_EXIT = 1,    /* exit() or return from main: the destructors ran */
	ALLOCMAP_END__EXIT = 2,   /* _exit() or _Exit(): status is what it passed */
	ALLOCMAP_END_EXEC = 3,    /* an exec through the exec family's symbols is succeeding
				     (posix_spawn, system, popen reach the kernel inside libc,
				     unseen: RUNNING) */
	ALLOCMAP_END_SIGNAL = 4   /* a fatal signal whose action was the default (the library's
				     handler wrote this, then the default action happened); a
				     signal the program handles, or SIGKILL, leaves RUNNING */
};

struct allocmap_live_header {
	uint64_t magic;     /* ALLOCMAP_LIVE_MAGIC */
	uint32_t version;   /* ALLOCMAP_LIVE_VERSION */
	uint32_t seq;       /* seqlock over process, end, regions, modules (see above) */
	uint64_t file_size; /* allocmap_live_file_size(stack_depth) */
	uint32_t site_rows; /* ALLOCMAP_LIVE_SITES */
	uint32_t stack_depth; /* frames per site row in the frames area (ALLOCMAP_STACK); 0: none */
};

struct allocmap_live_process {
	int32_t pid, ppid;
	uint64_t start_realtime_ns;  /* when the library started in this process */
	uint64_t start_monotonic_ns; /* the same moment, CLOCK_MONOTONIC: the origin of every other time */
	uint32_t cmdline_len;        /* bytes used in cmdline */
	uint32_t cmdline_truncated;  /* 1: the command line was longer */
	char cmdline[ALLOCMAP_LIVE_CMDLINE]; /* argv, each argument NUL-terminated */
	char exe[ALLOCMAP_LIVE_PATH];        /* readlink /proc/self/exe, NUL-terminated ("" unknown) */
	uint64_t forked;   /* 1: forked from a parent that had the library: the file began as a copy of
			      the parent's (its live chunks); calls, totals and peaks count from the fork */
};

/* The heap of the malloc family (every interposed entry point, C++
 * operators and libc's allocating wrappers included). Counters. */
struct allocmap_live_heap {
	uint64_t live_bytes;    /* requested bytes of live chunks */
	uint64_t live_chunks;
	uint64_t peak_bytes;    /* the maximum live_bytes reached (exact) */
	uint64_t peak_chunks;   /* live_chunks when peak_bytes was last raised */
	uint64_t peak_ns;       /* when the peak last grew by the snapshot margin (peak_snap_bytes) */
	uint64_t calls;         /* allocations: malloc, calloc, realloc, new, strdup... */
	uint64_t total_bytes;   /* requested bytes over the run */
	uint64_t frees;         /* chunks given back (realloc counts as a free and an allocation) */
	uint64_t temporary;     /* allocations freed by the thread that made them
				   with no other allocation of that thread in
				   between (heaptrack's definition) */
	uint64_t peak_snap_bytes; /* live_bytes when the sites' peak_bytes were last copied */
	uint64_t site_overflow; /* allocations counted in row 0 because the table was full */
	uint64_t pad[5];
};

/* One row of the address-space table: mappings by allocator and kind. */
struct allocmap_live_space {
	char allocator[16];     /* as allocmap_info.allocator: "malloc" "mmap" "brk" "stack" "object" "allocmap-..." */
	uint32_t kind;          /* enum allocmap_kind (allocmap.h) */
	uint32_t count;         /* mapping sequences */
	uint64_t virtual_bytes;
	uint64_t resident_bytes; /* by mincore */
};

/* One region of the address space at the end: a run of mappings of one
 * mapping sequence with no gap between them (allocmap.h's walk of
 * sequences, cut where a sequence has a hole). */
struct allocmap_live_region {
	uint64_t start, end;
	uint64_t resident_bytes; /* by mincore */
	uint32_t kind;           /* enum allocmap_kind (allocmap.h) */
	uint32_t prot;           /* PROT_* of its first mapping */
	char allocator[16];      /* as in allocmap_live_space */
	char name[48];           /* the file's name (no directory), truncated; "" if none */
};

/* The region table, in address order; written with the end section. */
struct allocmap_live_regions {
	uint32_t count;          /* rows used */
	uint32_t merged;         /* regions beyond the table, merged into its last row */
	struct allocmap_live_region row[ALLOCMAP_LIVE_REGIONS];
};

/* Written once, when the process ends (see enum allocmap_live_end). */
struct allocmap_live_end_info {
	uint32_t reason;        /* enum allocmap_live_end */
	int32_t status;         /* exit status, if status_known */
	int32_t signal;         /* the fatal signal (ALLOCMAP_END_SIGNAL) */
	uint32_t status_known;  /* 0: main returned (the CLI has it from wait) */
	uint64_t end_ns;        /* the duration of the process */
	uint64_t rss_bytes;     /* VmRSS at the end */
	uint64_t hwm_bytes;     /* VmHWM: peak RSS */
	uint32_t nspace;        /* rows used in space */
	uint32_t pad;
	struct allocmap_live_space space[ALLOCMAP_LIVE_SPACE];
	/* allocmap itself: both private tiers and its other mappings */
	uint64_t own_reserved;  /* address space reserved */
	uint64_t own_resident;
	/* internal counters, for --verbose */
	uint64_t events;        /* address-space changes applied */
	uint64_t resyncs;       /* re-reads of /proc/self/maps */
	uint64_t dropped;       /* events a signal handler made unusable */
	uint64_t holes_plugged;
	uint64_t missed;        /* ranges left unindexed */
	uint64_t unindexed_chunks;
	uint64_t slow_path;     /* malloc/free calls off the fast path */
	uint64_t nudged;        /* own mappings placed in allocmap's window */
	uint64_t pad2[8];
};

struct allocmap_live_module {
	uint64_t base;          /* lowest address of the object */
	uint64_t end;           /* end of its highest segment */
	uint64_t bias;          /* load bias: run-time address minus link-time address */
	char path[ALLOCMAP_LIVE_PATH]; /* "" for the main program if unknown */
};

struct allocmap_live_modules {
	uint32_t count;         /* rows used */
	uint32_t truncated;     /* 1: more objects than rows */
	uint64_t changes;       /* loader events seen */
	struct allocmap_live_module row[ALLOCMAP_LIVE_MODULES];
};

/* A site: the return address of the allocating call (for the C++
 * operators and libc's wrappers: their caller), or a stack's key
 * (ALLOCMAP_LIVE_STACK_KEY). Counters. Row 0 is
 * "other": allocations whose site found no free row. A row's site is
 * written once, by compare-and-swap from 0, and never changes. */
struct allocmap_live_site {
	uint64_t site;          /* 0: row unused (row 0: always "other") */
	uint64_t live_bytes;
	uint64_t live_count;
	uint64_t peak_bytes;    /* live_bytes when the heap's peak was last copied
				   (heap.peak_snap_bytes: within 1/64 of the peak,
				   or 64 KiB, whichever is larger) */
	uint64_t calls;
	uint64_t total_bytes;
	uint64_t temporary;
	uint64_t pad;
};

struct allocmap_live {
	struct allocmap_live_header header;
	struct allocmap_live_process process;
	struct allocmap_live_heap heap;
	struct allocmap_live_end_info end;
	struct allocmap_live_modules modules;
	struct allocmap_live_site site[ALLOCMAP_LIVE_SITES];
	struct allocmap_live_regions regions;
};

/* The frames area's row for site row `row` of L (stack_depth > 0). */
static inline uint64_t *allocmap_live_frames(const struct allocmap_live *L, uint32_t row)
{
	return (uint64_t *)(L + 1) + (uint64_t)row * L->header.stack_depth;
}

static inline uint64_t allocmap_live_file_size(uint32_t stack_depth)
{
	return sizeof(struct allocmap_live) + (uint64_t)ALLOCMAP_LIVE_SITES * stack_depth * 8;
}

_Static_assert(sizeof(struct allocmap_live_header) == 32, "live header layout");
_Static_assert(sizeof(struct allocmap_live_process) == 2048 + 488 + 40, "live process layout");
_Static_assert(sizeof(struct allocmap_live_heap) == 128, "live heap layout");
_Static_assert(sizeof(struct allocmap_live_space) == 40, "live space row layout");
_Static_assert(sizeof(struct allocmap_live_end_info) == 48 + 32 * 40 + 144, "live end layout");
_Static_assert(sizeof(struct allocmap_live_module) == 512, "live module layout");
_Static_assert(sizeof(struct allocmap_live_site) == 64, "live site layout");
_Static_assert(sizeof(struct allocmap_live_region) == 96, "live region layout");

#endif
