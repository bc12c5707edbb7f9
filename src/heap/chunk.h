/* glibc's malloc chunk format, as far as the heap index reads it, in one
 * place (glibc's malloc/malloc.c, "Chunk representations"; stable since
 * glibc 2.26 on x86-64).
 *
 * A chunk handed to the program at p is preceded by its size word at
 * p - 8: the chunk's size (a multiple of 16) in the high bits, and three
 * flags in the low three: PREV_INUSE (the chunk before is in use; set in
 * the *next* chunk's word for this one), IS_MMAPPED (mapped on its own,
 * with a 16-byte header: no next chunk), NON_MAIN_ARENA. The usable size
 * is the chunk size less 8 (the next chunk's size word is ours to use
 * while it has PREV_INUSE set), or less 16 for an mmapped chunk. The
 * smallest chunk is 32 bytes. A chunk freed into a bin (not a tcache or
 * fastbin) repeats its size at its end, in the next chunk's prev_size:
 * the last usable word, where the heap index keeps its trailer. Pure
 * arithmetic and loads: any context.
 */
#ifndef AM_HEAP_CHUNK_H
#define AM_HEAP_CHUNK_H

#include <stddef.h>

#define AM_CHUNK_PREV_INUSE ((size_t)1)
#define AM_CHUNK_IS_MMAPPED ((size_t)2)
#define AM_CHUNK_FLAGS ((size_t)7)
#define AM_CHUNK_MIN 32

/* The size word of the chunk handed out at p. */
static inline size_t am_chunk_word(const void *p) { return ((const size_t *)p)[-1]; }
static inline size_t am_chunk_size(size_t w) { return w & ~AM_CHUNK_FLAGS; }
static inline int am_chunk_mmapped(size_t w) { return (w & AM_CHUNK_IS_MMAPPED) != 0; }
static inline int am_chunk_prev_inuse(size_t w) { return (w & AM_CHUNK_PREV_INUSE) != 0; }
/* What the program may use of a chunk with size word w. */
static inline size_t am_chunk_usable(size_t w) { return am_chunk_size(w) - (am_chunk_mmapped(w) ? 16 : 8); }

#endif
