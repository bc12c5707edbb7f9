/* Records of the mapping index (struct am_map, am_seq, am_path): made
 * from and returned to the no-mmap tier only. Called under the index lock.
 */
#ifndef AM_INDEX_RECORDS_H
#define AM_INDEX_RECORDS_H

#include "mapindex.h"

struct am_path *am_path_new(const char *s);   /* NULL for NULL/"" or no memory */
struct am_path *am_path_ref(struct am_path *p);
void am_path_unref(struct am_path *p);

struct am_seq *am_seq_new(uintptr_t lo, uintptr_t hi, enum am_origin o, const void *caller,
			  struct am_path *path);
/* Frees s if no map joined it (a sequence made for a map that failed). */
void am_seq_drop_if_empty(struct am_seq *s);
/* A map record joining seq (seq->nmaps counts it; extent widened). */
struct am_map *am_map_new(uintptr_t lo, uintptr_t hi, int prot, int flags, uint64_t off,
			  struct am_seq *seq, struct am_path *path, const void *caller);
struct am_map *am_map_clone(const struct am_map *m);
/* Drops m from its sequence (freeing the sequence when empty) and frees m. */
void am_map_free(struct am_map *m);

/* A forked child dropped every record (with the no-mmap tier), the spare
 * ones kept for reuse too. */
void am_records_reset(void);

/* Live record counts. */
uint64_t am_records_maps(void);
uint64_t am_records_seqs(void);

#endif
