/* The live file as the CLI sees it: open, sample, decode, and (for the
 * test fixture only) write.
 *
 * live.c is the only file that knows the binary layout of
 * proc-<pid>.live (doc/report-data.md section 1); everything else in the
 * CLI works on the jansson process object it returns (section 2). A
 * struct live maps the file read-only and shared, so the sampler sees
 * the library's counters move while the process runs.
 */
#ifndef ALLOCMAP_CLI_LIVE_H
#define ALLOCMAP_CLI_LIVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct live;

/* Opens and maps path. NULL with a message in err ("proc-12.live: not a
 * live file", "...: version 2, this allocmap reads 1", or the system
 * error) if it cannot be read or is not (yet) a live file. */
struct live *live_open(const char *path, char *err, size_t errlen);
void live_close(struct live *lf);

/* The process's pid, as the file says (never from the name: a pid that
 * exec'd has proc-<pid>.live, then proc-<pid>.<k>.live). */
long live_pid(const struct live *lf);

/* 1 once the file says its program ended (or exec'd another). */
int live_ended(const struct live *lf);

/* The heap's live bytes now and the process's start (CLOCK_MONOTONIC,
 * ns): what the timeline sampler reads while the process runs. */
void live_sample(const struct live *lf, uint64_t *heap_live, uint64_t *start_mono_ns);

/* The process object of doc/report-data.md section 2, as recorded:
 * sites carry raw addresses only ("location": {"addr"}, "frames"), and
 * "modules" lists the module map the symboliser needs; no timeline.
 * NULL with a message in err if the file is inconsistent. */
json_t *live_to_json(const struct live *lf, char *err, size_t errlen);

/* Writes proc, a process object in the shape live_to_json returns, as
 * a live file at path (created, or overwritten in place so a reader
 * never sees it shorter). For the test fixture. 0, or -1 with errno. */
int live_write(const char *path, const json_t *proc);

#endif
