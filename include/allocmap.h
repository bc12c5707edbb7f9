/* allocmap — a live, exact index of every allocation in this process.
 *
 * Load it with LD_PRELOAD=liballocmap.so (or link -lallocmap) and ask, for
 * any address, what holds it. Every function here:
 *   - may be called from any thread, at any time after the library's
 *     constructor ran (before that they answer "not found" / zero);
 *   - never crashes on any argument value, and never calls the program's
 *     malloc;
 *   - returns plain data: strings it hands out have static storage or live
 *     as long as the allocation they describe (see each field).
 *
 * ABI. The library is liballocmap.so.0 (its SONAME; link -lallocmap
 * through the liballocmap.so symbolic link). Its symbols are versioned:
 * ALLOCMAP_0.3 holds what 0.3 exported, ALLOCMAP_0.4 what came since; a
 * program built against any 0.x header from 0.3 on runs with any later
 * liballocmap.so.0. Growth of structures:
 *   - a structure the library fills in the caller's storage and that may
 *     grow (struct allocmap_info, struct allocmap_symbol) goes with its
 *     size: the entry points ending in _ex take it, and the names without
 *     _ex are macros that pass sizeof *(out). A program built against an
 *     older header passes its smaller size and the library fills only the
 *     fields that size holds; a program built against a newer one gets
 *     the fields this library does not know zeroed. Fields are only ever
 *     appended, and each says since which version it is filled;
 *   - allocmap_query and allocmap_query_many stay exported as functions
 *     (a binary built against 0.3, or a lookup with dlsym, reaches them):
 *     they fill allocmap_info as 0.3 laid it out, up to and including path;
 *   - a structure the library hands to a callback (allocmap_info in
 *     allocmap_walk, the leak scan's) is the library's own, as large as
 *     its header says, so a program reads the fields it knows;
 *   - the statistics structures never grow: new figures come in new ones.
 */
#ifndef ALLOCMAP_H
#define ALLOCMAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALLOCMAP_VERSION_MAJOR 0
#define ALLOCMAP_VERSION_MINOR 4
#define ALLOCMAP_VERSION_PATCH 0
#define ALLOCMAP_VERSION "0.4.0"

#define ALLOCMAP_API __attribute__((visibility("default")))

enum allocmap_kind {
	ALLOCMAP_UNKNOWN,    /* nothing known holds the address */
	ALLOCMAP_HEAP_CHUNK, /* a live chunk of the program's malloc */
	ALLOCMAP_ANON,       /* an anonymous mapping */
	ALLOCMAP_FILE,       /* a mapping of a file that is not a loaded object */
	ALLOCMAP_OBJECT,     /* a segment of a loaded executable or shared object */
	ALLOCMAP_BRK,        /* the brk heap, where it is no malloc arena (a
				program's own sbrk) or the heap is not indexed */
	ALLOCMAP_STACK,      /* a thread's or the process's stack */
	ALLOCMAP_SELF,       /* allocmap's own data (the private allocator tiers) */
	ALLOCMAP_HEAP_FREE   /* malloc arena space in no live chunk: a freed
				chunk, arena metadata, the top chunk, an arena's
				reserve; base and size are the arena's mapping
				sequence, site is NULL, allocator "malloc".
				Since 0.4 (before: ALLOCMAP_BRK or ALLOCMAP_ANON
				with the arena's site) */
};

/* A mapping sequence ("big allocation") is a contiguous range of pages
 * made by one call, or one loaded object, or the brk heap, or a stack,
 * that holds no unmapped page and no other sequence: what one mmap made
 * (grown in place by mremap or brk, any mprotect inside it kept), a loaded
 * object's segments with the gaps between them (plugged PROT_NONE), the
 * brk heap, a stack. When part of one goes (munmap, mremap moving or
 * shrinking part of it, a MAP_FIXED mapping over part of it — a
 * reservation committed piecewise with MAP_FIXED included), the rest is
 * trimmed, or split in two, each part keeping the site, kind and path;
 * what a MAP_FIXED call or a move made is a sequence of its own. So
 * sequences never overlap, and [base, base + size) of a mapping-level
 * answer is mapped throughout, by that sequence alone (allocmap_check
 * verifies it). */
struct allocmap_info {
	const void *base;      /* start of the innermost allocation holding p: a
				  malloc chunk's user pointer, a block of
				  allocmap's own tiers, or else the mapping
				  sequence (above) */
	size_t size;           /* its usable size in bytes (for a chunk: what
				  malloc_usable_size says; with a malloc other
				  than glibc's, the size asked for rounded up to
				  16 bytes, less 8) */
	size_t requested;      /* size the program asked for; == size where unknown */
	const void *site;      /* return address of the allocating call (the call
				  to malloc, mmap, ...), or NULL (made before
				  allocmap started, or by the loader) */
	enum allocmap_kind kind;
	const char *allocator; /* "malloc", "mmap", "brk", "stack", "object",
				  "kernel", "allocmap-nommap", "allocmap-mmap",
				  "allocmap-index" (static storage) */
	const void *map_base;  /* the enclosing mapping sequence (above) */
	size_t map_size;
	int prot;              /* PROT_* of the page holding p */
	const char *path;      /* backing file or object path, or NULL; valid until
				  the mapping is unmapped */
	/* ---- since 0.4: filled through allocmap_query_ex with a struct
	 * this large (allocmap_query, allocmap_walk); zero from the plain
	 * 0.3 entry points ---- */
	const void *vma_base;  /* the kernel's mapping holding p (one line of
				  /proc/self/maps): the pages around p that are
				  contiguous with the same protection, sharing
				  and backing (anonymous, or the same file at
				  contiguous offsets), across sequences, as the
				  kernel merges them; a split the library cannot
				  see (madvise, mlock) is not shown */
	size_t vma_size;
};

/* What holds p? 0 and *out filled when p is inside a known allocation;
 * -1 (and *out zeroed, kind ALLOCMAP_UNKNOWN) otherwise, including NULL,
 * kernel addresses and anything not indexed. out may not be NULL; if it
 * is, the call returns -1.
 *
 * Lock-free and wait-free unless a mapping change is in flight (then it
 * retries), with one exception: an address inside allocmap's own private
 * tiers (kind ALLOCMAP_SELF) is resolved to its block under that tier's
 * lock, held for one bitmap search (a thread already inside that tier,
 * as a signal handler that interrupted it, does not wait: it answers
 * without the block, with the no-mmap tier's whole region or -1).
 * Async-signal-safe. From a signal handler that interrupted a
 * mapping call or a query of its own thread it may answer -1 (the index
 * may be changing, and that thread cannot wait), and the mappings the
 * handler itself makes or removes may show only once that call has
 * returned (see allocmap_index_stats, dropped). A heap chunk is reported only if it was
 * live at some moment during the call: a query racing with free(p) either
 * sees the chunk or answers ALLOCMAP_HEAP_FREE, never a freed chunk's stale
 * size or site; one racing with
 * malloc may miss the new chunk, one racing with realloc may miss the
 * chunk while the call is under way (even if it fails; in a forked child,
 * a realloc another thread had under way at the fork), and one that
 * waits too long for a mapping call in flight on the chunk's arena gives
 * up and answers at the mapping level (kind ALLOCMAP_BRK or ALLOCMAP_ANON,
 * the arena's sequence and site: it cannot tell a chunk from free space). Chunk metadata is read from the arena
 * itself, and a mapping call that takes memory away (munmap, mprotect,
 * mremap, MAP_FIXED, a shrinking brk) waits for queries reading that
 * arena, so a query never faults on memory being unmapped — except by a
 * raw syscall instruction the library cannot see, or by a signal handler
 * that takes away memory of the very arena a query it interrupted on the
 * same thread is reading (it cannot wait for that query). */
ALLOCMAP_API int allocmap_query(const void *p, struct allocmap_info *out);
/* The same, filling the first out_size bytes of *out (see ABI above):
 * out_size at least 80 (0.3's struct, up to path) and a multiple of 8,
 * else -1. Since 0.4. */
ALLOCMAP_API int allocmap_query_ex(const void *p, struct allocmap_info *out, size_t out_size);
#define allocmap_query(p, out) allocmap_query_ex((p), (out), sizeof *(out))

/* allocmap_query on each of ps[0..n): out[i] as allocmap_query(ps[i],
 * &out[i]) would fill it (kind ALLOCMAP_UNKNOWN where that returns -1).
 * Returns how many were found. The same guarantees, per address. For
 * many addresses into memory not in cache (scanning memory for pointers):
 * the memory reads of up to 32 queries overlap, where single calls wait
 * for each other's. Returns 0 if ps or out is NULL. */
ALLOCMAP_API size_t allocmap_query_many(const void *const *ps, size_t n, struct allocmap_info *out);
/* The same, out being an array of elements of out_size bytes each, each
 * filled as allocmap_query_ex fills one; 0 for an out_size it refuses.
 * Since 0.4. */
ALLOCMAP_API size_t allocmap_query_many_ex(const void *const *ps, size_t n, struct allocmap_info *out,
					   size_t out_size);
#define allocmap_query_many(ps, n, out) allocmap_query_many_ex((ps), (n), (out), sizeof *(out))

/* A kind's name: "unknown", "heap", "anon", "file", "object", "brk",
 * "stack", "self", "heap-free" (static storage), or NULL for a value that
 * is no kind. Since 0.4. */
ALLOCMAP_API const char *allocmap_kind_name(enum allocmap_kind kind);

/* What code lies at an address: the loaded object holding it and the
 * dynamic function symbol around it. */
struct allocmap_symbol {
	const char *object;       /* path of the loaded object (the main
				     program's included), as the mapping index
				     has it; valid until it is unloaded */
	const void *object_base;  /* its load bias: the object's own address of
				     addr is addr - object_base */
	size_t object_offset;     /* addr - object_base (what addr2line -e
				     object takes) */
	const char *name;         /* the dynamic function symbol whose extent
				     holds addr, or NULL (a static function, a
				     program's own built without -rdynamic);
				     same lifetime as object */
	size_t offset;            /* addr - the symbol's address (0 without one) */
};

/* Fills the first out_size bytes of *out (see ABI above) for addr: 0 when
 * addr lies in a loaded object, else -1 (and *out zeroed). Reads only the
 * index and the objects' own dynamic sections: no malloc, no lock, no
 * system call; async-signal-safe. A dlclose of that object racing with
 * the call is the caller's hazard, as with dladdr. Since 0.4. */
ALLOCMAP_API int allocmap_symbolize_ex(const void *addr, struct allocmap_symbol *out, size_t out_size);
#define allocmap_symbolize(addr, out) allocmap_symbolize_ex((addr), (out), sizeof *(out))

/* Compares the index with /proc/self/maps and the heap. Returns the number
 * of discrepancies (0 when exact), or -1 if the check could not run. When
 * fd >= 0, writes one line per discrepancy to fd. A stack's growth, which
 * the kernel makes on a fault with no call to see, is not one: the index
 * takes it in here. */
ALLOCMAP_API int allocmap_check(int fd);

/* Figures for one tier of the private allocator. */
struct allocmap_tier_stats {
	size_t reserved;      /* address space reserved for the tier */
	size_t footprint;     /* of which in use by the tier (break / chunks mapped) */
	size_t peak_footprint;
	size_t in_use;        /* usable bytes in live blocks */
	size_t peak_in_use;
	size_t resident;      /* bytes of the footprint resident in RAM, and
				 (the no-mmap tier) of its block bitmap, which
				 lies before the footprint: this can exceed it */
	uint64_t live_blocks;
	uint64_t failed;      /* requests that returned NULL */
	uint64_t bad_frees;   /* frees of pointers the tier does not own */
};

enum allocmap_tier { ALLOCMAP_TIER_NOMMAP, ALLOCMAP_TIER_MMAP };

/* Fills *out for one tier; 0 on success, -1 for a bad tier or NULL out. */
ALLOCMAP_API int allocmap_tier_stats(enum allocmap_tier tier, struct allocmap_tier_stats *out);

/* Figures for the mapping index (allocmap_index_stats). Counters only
 * grow; each is read without a lock, so the fields are not one snapshot. */
struct allocmap_index_stats {
	uint64_t maps;             /* live mapping records (runs of one protection) */
	uint64_t sequences;        /* live mapping sequences ("big allocations") */
	uint64_t events;           /* address-space changes applied: mmap, munmap,
				      mprotect, mremap, brk, loader changes */
	uint64_t resyncs;          /* re-reads of /proc/self/maps */
	uint64_t dropped;          /* changes a signal handler made while its
				      thread was inside the index, or inside a
				      mapping call over the same memory, or inside
				      a query while another thread held the
				      index: made good by a later re-read */
	uint64_t missed;           /* ranges left out of the index because no record
				      could be allocated (the no-mmap tier is full:
				      see ALLOCMAP_MAX_SEQUENCES); queries there
				      answer -1, never a stale answer */
	uint64_t holes_plugged;    /* gaps inside loaded objects reserved PROT_NONE */
	unsigned max_depth;        /* deepest recursion of the index into itself
				      seen on any thread: 0 while only the program's
				      calls were indexed, 1 once the library's own
				      mmap tier grew and its mapping was indexed */
	uint64_t depth_violations; /* times that stratification broke (the index
				      used the mmap tier, or recursed deeper than 1);
				      always 0, and counted by allocmap_check */
	int page_index;            /* 1: the O(1) page index answers queries;
				      0: a binary search does (no reservation) */
};

/* Fills *out; 0 on success, -1 for NULL out (or before start-up: then
 * *out is zeroed and -1 returned). */
ALLOCMAP_API int allocmap_index_stats(struct allocmap_index_stats *out);

/* The address-space changes the index applied, by kind (they add up to
 * allocmap_index_stats' events), and where allocmap's own mappings went:
 * into the address range it keeps them in, away from loaded objects, or
 * (that range full or taken) where the kernel chose. Counters only grow,
 * each read without a lock. Since 0.4. */
struct allocmap_event_stats {
	uint64_t mmap, munmap, mprotect, mremap, brk;
	uint64_t loader;           /* objects loaded or unloaded */
	uint64_t own_placed;       /* allocmap's own mappings placed in its range */
	uint64_t own_unplaced;     /* allocmap's own mappings left to the kernel's choice */
};

/* Fills *out; 0 on success, -1 for NULL out (or before start-up: then
 * *out is zeroed and -1 returned). Lock-free, async-signal-safe. */
ALLOCMAP_API int allocmap_event_stats(struct allocmap_event_stats *out);

/* Walking every allocation. The callback gets one allocmap_info per
 * mapping sequence (ALLOCMAP_WALK_SEQUENCES: see struct allocmap_info;
 * they never overlap; vma_base and vma_size there are those of base)
 * and/or per live heap chunk (ALLOCMAP_WALK_CHUNKS), in address order (a
 * chunk comes after the sequence holding it). With ALLOCMAP_WALK_MAPS
 * (since 0.4) it also gets one per mapping of a sequence (a run of pages
 * of one protection, as allocmap_index_stats counts maps): base and size
 * are that mapping's, map_base and map_size its sequence's extent, the
 * other fields as for the sequence; it comes after its sequence's own
 * call and before the chunks inside it. The walk takes no
 * lock while the callback runs: the callback may allocate, map, or query;
 * allocations made or freed meanwhile may or may not be visited, but every
 * one visited was live at some moment during the walk. A non-zero return
 * from the callback stops the walk and is returned; otherwise 0 (or -1
 * for a NULL callback or before start-up). */
#define ALLOCMAP_WALK_SEQUENCES 1u
#define ALLOCMAP_WALK_CHUNKS 2u
#define ALLOCMAP_WALK_MAPS 4u
typedef int (*allocmap_walk_fn)(const struct allocmap_info *info, void *arg);
ALLOCMAP_API int allocmap_walk(unsigned flags, allocmap_walk_fn fn, void *arg);

/* The heap index's figures. live_chunks/live_bytes are counted by a walk
 * over the chunk bitmaps: O(heap size / 1024) work. */
struct allocmap_heap_stats {
	int indexed;           /* 1: chunks are indexed: the program's malloc is
				  glibc's, or another one preloaded after allocmap
				  (jemalloc, tcmalloc...: see the one-time message);
				  0: a malloc resolved before allocmap's (in the
				  executable, or preloaded first), or allocmap is
				  off: queries answer by mapping */
	uint64_t live_chunks;  /* chunks indexed and live */
	uint64_t live_bytes;   /* their usable bytes */
	uint64_t arenas;       /* arenas with a chunk bitmap */
	uint64_t unindexed;    /* chunks that could not be recorded (no bitmap; with
				  another malloc, also chunks not 16-byte aligned
				  or bigger than 16 KiB and straddling arenas) */
	uint64_t slow_path;    /* malloc/free calls that had to look their chunk's
				  bitmap up in the index: per thread, a few per
				  arena and per 16 MiB of heap and after any arena
				  dies; also every call on a chunk never indexed.
				  Far more means the fast path is being missed */
};
ALLOCMAP_API int allocmap_heap_stats(struct allocmap_heap_stats *out);

/* Which malloc the heap index follows: "glibc" (chunk sizes are glibc's),
 * "other" (another malloc preloaded after allocmap: sizes are those asked
 * for, rounded up to 16 bytes, less 8), or NULL when chunks are not
 * indexed (see allocmap_heap_stats). Static storage. Since 0.3. */
ALLOCMAP_API const char *allocmap_heap_malloc(void);

/* The live heap chunks grouped by allocation site, most bytes first:
 * fills out[0..min(max, n)) and returns n, the number of distinct sites
 * (so n > max says the list was cut), or -1 (out NULL with max > 0, the
 * heap is not indexed, or no memory in allocmap's tiers). bytes are the
 * sizes asked for. Other threads are not stopped: chunks they allocate
 * or free meanwhile may or may not be counted. Never calls the program's
 * malloc (the gdb command `allocmap sites` calls it with out on the
 * stack). Not async-signal-safe. Since 0.4. */
struct allocmap_site {
	const void *site;      /* return address of the allocating call, or NULL */
	size_t bytes;          /* bytes asked for, summed over its live chunks */
	size_t count;          /* its live chunks */
	const char *object;    /* as in allocmap_leak_group below */
	size_t offset;
	const char *symbol;
	size_t symbol_offset;
};
ALLOCMAP_API long allocmap_sites(struct allocmap_site *out, size_t max);

/* ---- Leak check ----
 *
 * A conservative reachability scan over the heap index's live chunks,
 * classifying them as Valgrind's memcheck does (--leak-check=full):
 *
 * Roots: every readable and writable mapping of the program's that is
 * not a malloc arena — loaded objects' data and bss (and their RELRO),
 * anonymous mappings (which hold the main thread's TLS block, made by
 * the loader), each thread's stack from its stack pointer up (a glibc
 * thread's static TLS and descriptor lie at its stack's top, so they are
 * scanned with it; dynamic TLS and the DTV are chunks, reached through
 * them), and the general-purpose registers of every thread. Not roots:
 * the arenas outside live chunks, allocmap's own memory, file mappings
 * that are not loaded objects (a read past a file's end would fault),
 * stacks below their stack pointer. Pointer-sized aligned words only.
 *
 * A chunk reached from a root or a reachable chunk by a pointer to its
 * start is still reachable; reached only by pointers inside it (or only
 * from possibly-lost chunks), possibly lost; not reached, it is lost:
 * definitely lost if no lost chunk points to it either (it heads a
 * "clique"), else indirectly lost. A chunk's extent and bytes are the
 * size asked for.
 *
 * Other threads are stopped while the scan runs: each gets a real-time
 * signal (SIGRTMAX, or the highest one below it the program has no
 * handler for) whose handler saves its registers and parks it on a
 * futex. A thread inside allocmap itself (its index, its tiers, a
 * mapping call) or with the signal blocked is not parked: it is asked
 * again for up to about 100 ms, then left running, and its stack is
 * scanned whole (threads_unstopped counts them). Only the signal's
 * handler is changed, and only during the scan, unless a thread never
 * answered: then a handler that ignores the signal stays in place
 * rather than the default action (which would kill the process).
 */
enum allocmap_leak_class {
	ALLOCMAP_LEAK_DEFINITE,  /* definitely lost */
	ALLOCMAP_LEAK_INDIRECT,  /* indirectly lost: pointed to only from lost chunks */
	ALLOCMAP_LEAK_POSSIBLE,  /* possibly lost: reached only through interior pointers */
	ALLOCMAP_LEAK_REACHABLE, /* still reachable */
	ALLOCMAP_LEAK_CLASSES
};

/* The chunks of one class allocated at one site. */
struct allocmap_leak_group {
	enum allocmap_leak_class cls;
	const void *site;      /* return address of the allocating call, or NULL */
	size_t bytes;          /* bytes asked for, summed */
	size_t count;          /* chunks */
	int suppressed;        /* 1: matched a suppression (ALLOCMAP_SUPPRESSIONS
				  or the default set); counted apart in the totals */
	const char *object;    /* path of the loaded object holding site, or NULL;
				  valid until it is unloaded */
	size_t offset;         /* site's address in that object's own addresses
				  (what addr2line -e object takes) */
	const char *symbol;    /* a dynamic function symbol holding site, or NULL
				  (a program's own functions have none unless it
				  was linked with -rdynamic); same lifetime */
	size_t symbol_offset;  /* site - the symbol's address */
};

struct allocmap_leak_totals {
	size_t bytes[ALLOCMAP_LEAK_CLASSES];   /* not suppressed, by class */
	size_t count[ALLOCMAP_LEAK_CLASSES];
	size_t suppressed_bytes[ALLOCMAP_LEAK_CLASSES];
	size_t suppressed_count[ALLOCMAP_LEAK_CLASSES];
	size_t chunks;          /* live chunks examined */
	size_t root_bytes;      /* bytes of roots scanned */
	unsigned threads;       /* threads of the process, the caller's included */
	unsigned threads_unstopped; /* of which left running (see above) */
	uint64_t stopped_ns;    /* time the other threads stood stopped */
	uint64_t scan_ns;       /* time of the whole call before the first callback */
};

/* The scan. flags: ALLOCMAP_LEAK_SHOW_REACHABLE also reports still-reachable
 * groups; ALLOCMAP_LEAK_SHOW_SUPPRESSED also reports suppressed groups;
 * ALLOCMAP_LEAK_NO_STOP leaves other threads running (their stacks are
 * then scanned whole, while they change: a chunk may be misclassified).
 *
 * fn is called once per reported group, in order of class (definitely
 * lost first), then of bytes (most first), with the totals, which are
 * complete from the first call and count every class whatever the
 * flags; then once more with group NULL (so it is called at least once).
 * All other threads run again before the first call: fn may allocate,
 * query, or do anything but scan again. A non-zero return stops the
 * calls and is returned.
 *
 * Returns 0, fn's non-zero return, or -1: fn NULL, the library is off
 * or the heap is not indexed (allocmap_heap_malloc() is NULL), another
 * scan is in progress (one at a time in a process), or no memory for
 * the scan in allocmap's tiers. Never calls the program's malloc. Not
 * async-signal-safe. */
#define ALLOCMAP_LEAK_SHOW_REACHABLE 1u
#define ALLOCMAP_LEAK_SHOW_SUPPRESSED 2u
#define ALLOCMAP_LEAK_NO_STOP 4u
typedef int (*allocmap_leak_fn)(const struct allocmap_leak_group *group,
				const struct allocmap_leak_totals *totals, void *arg);
ALLOCMAP_API int allocmap_leak_scan(unsigned flags, allocmap_leak_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
