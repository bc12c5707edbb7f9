/* Test decoder for proc-<pid>.live (include/allocmap_live.h): prints the
 * fields the live-file tests check as KEY=VALUE lines, and the site rows
 * as "site ADDR LIVE_BYTES LIVE_COUNT PEAK_BYTES CALLS TOTAL TEMP" sorted
 * by nothing (the test sorts). Exits 2 on a bad magic, version or size.
 * The real reader is the CLI's. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../../include/allocmap_live.h"

static void heap(const struct allocmap_live_heap *h)
{
	printf("live_bytes=%lu\nlive_chunks=%lu\npeak_bytes=%lu\npeak_snap_bytes=%lu\ncalls=%lu\n"
	       "total_bytes=%lu\nfrees=%lu\ntemporary=%lu\n",
	       h->live_bytes, h->live_chunks, h->peak_bytes, h->peak_snap_bytes, h->calls, h->total_bytes,
	       h->frees, h->temporary);
}

static void end(const struct allocmap_live_end_info *e)
{
	printf("reason=%u\nstatus=%d\nstatus_known=%u\nsignal=%d\nrss=%lu\nhwm=%lu\nown_reserved=%lu\nnspace=%u\n",
	       e->reason, e->status, e->status_known, e->signal, e->rss_bytes, e->hwm_bytes, e->own_reserved,
	       e->nspace);
}

int main(int argc, char **argv)
{
	struct stat st;
	int fd = argc > 1 ? open(argv[1], O_RDONLY) : -1;
	if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size != sizeof(struct allocmap_live))
		return 2;
	const struct allocmap_live *L = mmap(NULL, sizeof *L, PROT_READ, MAP_SHARED, fd, 0);
	if (L == MAP_FAILED || L->header.magic != ALLOCMAP_LIVE_MAGIC || L->header.version != ALLOCMAP_LIVE_VERSION)
		return 2;
	printf("pid=%d\nppid=%d\nexe=%s\narg0=%s\nmodules=%u\n", L->process.pid, L->process.ppid, L->process.exe,
	       L->process.cmdline, L->modules.count);
	for (unsigned i = 0; i < L->modules.count; i++)
		printf("module %#lx %#lx %#lx %s\n", L->modules.row[i].base, L->modules.row[i].end,
		       L->modules.row[i].bias, L->modules.row[i].path);
	heap(&L->heap);
	end(&L->end);
	for (unsigned i = 0; i < ALLOCMAP_LIVE_SITES; i++) {
		const struct allocmap_live_site *s = &L->site[i];
		if (s->site || i == 0)
			printf("site %#lx %lu %lu %lu %lu %lu %lu\n", s->site, s->live_bytes, s->live_count,
			       s->peak_bytes, s->calls, s->total_bytes, s->temporary);
	}
	return 0;
}
