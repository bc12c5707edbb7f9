/* The text report, drawn from the run document only (never from the
 * live files), so it shows nothing `--format json` does not give a tool.
 *
 * Order: the run's notes; the process table when there is more than one
 * process; then the chosen processes' reports (the root's by default),
 * each with the program's memory first, allocmap's own on one line, the
 * site tables, the timeline in one line, the leaked-at-exit summary, the
 * leak check's LEAK SUMMARY (Valgrind memcheck's words) and its lost
 * groups by site when a scan ran, and the internal counters with
 * --verbose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- small pieces ---- */

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* The command line, space-separated, cut to max characters. */
static const char *command(const json_t *proc, size_t max)
{
	static char buf[512];
	size_t at = 0, i;
	json_t *a;
	buf[0] = '\0';
	json_array_foreach(json_object_get(proc, "cmdline"), i, a) {
		at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", i ? " " : "", json_string_value(a));
		if (at >= sizeof buf)
			break;
	}
	if (!buf[0])
		snprintf(buf, sizeof buf, "%s", base(jstr(proc, "exe", "?")));
	if (strlen(buf) > max && max > 3)
		strcpy(buf + max - 3, "...");
	return buf;
}

static const char *how_ended(const json_t *proc)
{
	static char buf[64];
	const char *e = jstr(proc, "ended", "unknown");
	if ((strcmp(e, "exit") == 0 || strcmp(e, "_exit") == 0) && json_object_get(proc, "exit_status"))
		snprintf(buf, sizeof buf, "%s %d", e, (int)jnum(proc, "exit_status"));
	else if (strcmp(e, "signal") == 0)
		snprintf(buf, sizeof buf, "%s", fmt_signal((int)jnum(proc, "signal")));
	else
		snprintf(buf, sizeof buf, "%s", e);
	return buf;
}

static const char *loc_name(const json_t *loc)
{
	static char buf[1024];
	const char *fn = jstr(loc, "function", NULL), *obj = jstr(loc, "object", NULL);
	int at;
	if (fn)
		at = snprintf(buf, sizeof buf, "%s+0x%llx", fn, (unsigned long long)jnum(loc, "function_offset"));
	else
		at = snprintf(buf, sizeof buf, "%s", jstr(loc, "addr", "?"));
	if (obj)
		at += snprintf(buf + at, sizeof buf - (size_t)at, " in %s%s%s", base(obj), fn ? "" : "+",
			       fn ? "" : jstr(loc, "offset", ""));
	if (json_object_get(loc, "file") && at < (int)sizeof buf)
		snprintf(buf + at, sizeof buf - (size_t)at, " (%s:%d)", jstr(loc, "file", ""), (int)jnum(loc, "line"));
	return buf;
}

static const char *site_name(const json_t *site)
{
	return loc_name(json_object_get(site, "location"));
}

/* A site's recorded stack (--stack), one indented frame a line,
 * allocation wrappers marked. */
static void stack(const json_t *site, FILE *out)
{
	size_t i, wrappers = (size_t)jnum(site, "wrapper_frames");
	json_t *f;
	if (json_array_size(json_object_get(site, "frames")) < 2)
		return;
	json_array_foreach(json_object_get(site, "frames"), i, f)
		fprintf(out, "        #%-2zu %s%s\n", i, loc_name(f), i < wrappers ? "  [wrapper]" : "");
}

/* ---- the process table ---- */

static void process_table(const json_t *procs, FILE *out)
{
	size_t i;
	json_t *p;
	fprintf(out, "processes (%zu)\n", json_array_size(procs));
	fprintf(out, "  %-8s %-8s %-32s %11s %11s %11s  %s\n", "pid", "parent", "command", "peak heap", "peak RSS",
		"live at exit", "ended");
	json_array_foreach(procs, i, p) {
		const json_t *heap = json_object_get(p, "heap"), *rss = json_object_get(p, "rss");
		int data = !json_is_true(json_object_get(p, "no_data"));
		fprintf(out, "  %-8lld %-8lld %-32s %11s %11s %11s  %s\n", (long long)jnum(p, "pid"),
			(long long)jnum(p, "ppid"), command(p, 32), data ? fmt_bytes(jnum(heap, "peak_bytes")) : "-",
			data ? fmt_bytes(jnum(rss, "peak_bytes")) : "-", data ? fmt_bytes(jnum(heap, "live_bytes")) : "-",
			how_ended(p));
	}
	json_array_foreach(procs, i, p) {
		if (json_object_get(p, "note"))
			fprintf(out, "  %lld: %s\n", (long long)jnum(p, "pid"), jstr(p, "note", ""));
	}
	fputc('\n', out);
}

/* ---- one process ---- */

static void memory(const json_t *p, FILE *out)
{
	const json_t *h = json_object_get(p, "heap"), *r = json_object_get(p, "rss");
	const char *final = strcmp(jstr(p, "ended", ""), "running") == 0 ? "now" : "at exit";
	fprintf(out, "memory                  %12s  %12s\n", "peak", final);
	fprintf(out, "  heap live bytes       %12s  %12s   (peak at %s)\n", fmt_bytes(jnum(h, "peak_bytes")),
		fmt_bytes(jnum(h, "live_bytes")), fmt_ns(jnum(h, "peak_time_ns")));
	fprintf(out, "  heap chunks           %12llu  %12llu\n", (unsigned long long)jnum(h, "peak_chunks"),
		(unsigned long long)jnum(h, "live_chunks"));
	fprintf(out, "  resident (RSS)        %12s  %12s\n", fmt_bytes(jnum(r, "peak_bytes")),
		fmt_bytes(jnum(r, "final_bytes")));
	fprintf(out, "  allocations: %llu calls, %s in all, %llu temporary\n\n", (unsigned long long)jnum(h, "calls"),
		fmt_bytes(jnum(h, "bytes_total")), (unsigned long long)jnum(h, "temporary"));
}

static void space(const json_t *p, FILE *out)
{
	size_t i;
	json_t *row;
	fprintf(out, "address space           %12s  %12s  %6s\n", "virtual", "resident", "count");
	json_array_foreach(json_object_get(p, "space"), i, row) {
		char kind[64];
		snprintf(kind, sizeof kind, "%s / %s", jstr(row, "kind", "?"), jstr(row, "allocator", "?"));
		fprintf(out, "  %-21s %12s  %12s  %6llu\n", kind, fmt_bytes(jnum(row, "virtual_bytes")),
			fmt_bytes(jnum(row, "resident_bytes")), (unsigned long long)jnum(row, "count"));
	}
	const json_t *own = json_object_get(p, "allocmap");
	fprintf(out, "allocmap itself: %s reserved, %s resident\n\n", fmt_bytes(jnum(own, "reserved_bytes")),
		fmt_bytes(jnum(own, "resident_bytes")));
}

/* ---- site tables ---- */

static const char *sort_key;

static int by_key(const void *a, const void *b)
{
	uint64_t x = jnum(*(json_t *const *)a, sort_key), y = jnum(*(json_t *const *)b, sort_key);
	return x < y ? 1 : x > y ? -1 : 0;
}

/* The sites with a non-zero key, largest first; *n of them. */
static json_t **sorted_sites(const json_t *p, const char *key, size_t *n)
{
	const json_t *sites = json_object_get(p, "sites");
	json_t **v = calloc(json_array_size(sites) + 1, sizeof *v), *s;
	size_t i;
	*n = 0;
	json_array_foreach(sites, i, s) {
		if (v && jnum(s, key))
			v[(*n)++] = s;
	}
	sort_key = key;
	if (v)
		qsort(v, *n, sizeof *v, by_key);
	return v;
}

static void site_table(const json_t *p, const char *key, const char *title, int top, FILE *out)
{
	size_t n;
	json_t **v = sorted_sites(p, key, &n);
	if (!v || n == 0) {
		free(v);
		return;
	}
	fprintf(out, "top sites by %s (%zu of %zu)\n", title, n < (size_t)top ? n : (size_t)top, n);
	for (size_t i = 0; i < n && i < (size_t)top; i++) {
		const json_t *s = v[i];
		if (strcmp(key, "calls") == 0)
			fprintf(out, "  %10llu calls %11s %9llu temp  %s\n", (unsigned long long)jnum(s, "calls"),
				fmt_bytes(jnum(s, "bytes_total")), (unsigned long long)jnum(s, "temporary"),
				site_name(s));
		else if (strcmp(key, "live_bytes") == 0)
			fprintf(out, "  %11s %9llu %-6s  %s\n", fmt_bytes(jnum(s, "live_bytes")),
				(unsigned long long)jnum(s, "live_count"), jnum(s, "live_count") == 1 ? "chunk" : "chunks",
				site_name(s));
		else
			fprintf(out, "  %11s  %s\n", fmt_bytes(jnum(s, key)), site_name(s));
		stack(s, out);
	}
	fputc('\n', out);
	free(v);
}

static void sites(const json_t *p, int top, FILE *out)
{
	site_table(p, "live_bytes", "live bytes at exit", top, out);
	site_table(p, "peak_bytes", "bytes at the heap's peak", top, out);
	site_table(p, "calls", "calls", top, out);
	const json_t *other = json_object_get(p, "sites_other");
	if (other)
		fprintf(out, "(sites beyond the table's capacity: %s live, %llu calls)\n\n",
			fmt_bytes(jnum(other, "live_bytes")), (unsigned long long)jnum(other, "calls"));
}

/* ---- timeline, leaks, counters ---- */

static void timeline(const json_t *p, FILE *out)
{
	const json_t *tl = json_object_get(p, "timeline");
	const json_t *t = json_object_get(tl, "t_ns"), *h = json_object_get(tl, "heap_bytes");
	const json_t *r = json_object_get(tl, "rss_bytes");
	size_t n = json_array_size(t), peak = 0, rpeak = 0;
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (json_integer_value(json_array_get(h, i)) > json_integer_value(json_array_get(h, peak)))
			peak = i;
		if (json_integer_value(json_array_get(r, i)) > json_integer_value(json_array_get(r, rpeak)))
			rpeak = i;
	}
#define AT(a, i) ((uint64_t)json_integer_value(json_array_get(a, i)))
	fprintf(out, "timeline: %zu sample%s every %s up to %s; heap %s -> %s, peak %s at %s; RSS %s -> %s, peak %s at %s\n\n",
		n, n == 1 ? "" : "s", fmt_ns(jnum(tl, "period_ns")), fmt_ns(AT(t, n - 1)), fmt_bytes(AT(h, 0)), fmt_bytes(AT(h, n - 1)),
		fmt_bytes(AT(h, peak)), fmt_ns(AT(t, peak)), fmt_bytes(AT(r, 0)), fmt_bytes(AT(r, n - 1)),
		fmt_bytes(AT(r, rpeak)), fmt_ns(AT(t, rpeak)));
#undef AT
}

static void leaks(const json_t *p, FILE *out)
{
	size_t n, i;
	json_t **v = sorted_sites(p, "live_bytes", &n);
	uint64_t chunks = 0;
	for (i = 0; v && i < n; i++)
		chunks += jnum(v[i], "live_count");
	if (strcmp(jstr(p, "ended", ""), "running") != 0 && v && n)
		fprintf(out, "leaked at exit: %s in %llu chunk%s from %zu site%s; largest: %s from %s\n\n",
			fmt_bytes(jnum(json_object_get(p, "heap"), "live_bytes")), (unsigned long long)chunks,
			chunks == 1 ? "" : "s", n, n == 1 ? "" : "s", fmt_bytes(jnum(v[0], "live_bytes")),
			site_name(v[0]));
	free(v);
}

/* The groups a person acts on: lost (not still reachable), not suppressed. */
static int lost_group(const json_t *g)
{
	return !json_is_true(json_object_get(g, "suppressed")) &&
	       strcmp(jstr(g, "class", ""), "still_reachable") != 0;
}

static void leak_groups(const json_t *l, int top, FILE *out)
{
	const json_t *groups = json_object_get(l, "groups");
	size_t i, n = 0, shown = 0;
	json_t *g;
	json_array_foreach(groups, i, g)
		n += lost_group(g);
	if (n == 0)
		return;
	fprintf(out, "lost by site (%zu of %zu groups; still reachable and suppressed ones only in --format json)\n",
		n < (size_t)top ? n : (size_t)top, n);
	json_array_foreach(groups, i, g) {
		if (!lost_group(g) || shown++ == (size_t)top)
			continue;
		fprintf(out, "  %llu bytes in %llu blocks are %s at %s\n", (unsigned long long)jnum(g, "bytes"),
			(unsigned long long)jnum(g, "count"), leak_class_words(jstr(g, "class", "")), site_name(g));
		stack(g, out);
	}
}

static void leak_summary(const json_t *p, int top, FILE *out)
{
	const json_t *l = json_object_get(p, "leaks"), *sup = json_object_get(l, "suppressed");
	const json_t *scan = json_object_get(l, "scan");
	uint64_t sb = 0, sn = 0;
	if (!l)
		return;
	fprintf(out, "LEAK SUMMARY (scan at exit: %llu chunks in %s", (unsigned long long)jnum(scan, "chunks"),
		fmt_ns(jnum(scan, "scan_ns")));
	if (jnum(scan, "threads_unstopped"))
		fprintf(out, "; %llu threads could not be stopped", (unsigned long long)jnum(scan, "threads_unstopped"));
	fprintf(out, "%s)\n", json_is_true(json_object_get(l, "complete")) ? "" : "; its file was cut short");
	for (int c = 0; c < LEAK_CLASSES; c++) {
		const json_t *k = json_object_get(l, leak_class_key[c]), *s = json_object_get(sup, leak_class_key[c]);
		fprintf(out, "  %17s: %llu bytes in %llu blocks\n", leak_class_text[c], (unsigned long long)jnum(k, "bytes"),
			(unsigned long long)jnum(k, "count"));
		sb += jnum(s, "bytes"), sn += jnum(s, "count");
	}
	fprintf(out, "  %17s: %llu bytes in %llu blocks\n", "suppressed", (unsigned long long)sb,
		(unsigned long long)sn);
	leak_groups(l, top, out);
	fputc('\n', out);
}

static void counters(const json_t *p, FILE *out)
{
	const char *k;
	json_t *v;
	fputs("internal counters\n", out);
	json_object_foreach((json_t *)json_object_get(p, "counters"), k, v)
		fprintf(out, "  %-28s %lld\n", k, (long long)json_integer_value(v));
	fputc('\n', out);
}

static void process_report(const json_t *p, const struct cli_view *v, FILE *out)
{
	fprintf(out, "== pid %lld (parent %lld): %s ==\n", (long long)jnum(p, "pid"), (long long)jnum(p, "ppid"),
		command(p, 200));
	fprintf(out, "ended: %s", how_ended(p));
	if (jnum(p, "duration_ns"))
		fprintf(out, " after %s", fmt_ns(jnum(p, "duration_ns")));
	fprintf(out, "%s%s\n\n", json_object_get(p, "note") ? "; " : "", jstr(p, "note", ""));
	if (json_is_true(json_object_get(p, "no_data")))
		return;
	memory(p, out);
	space(p, out);
	sites(p, v->top, out);
	timeline(p, out);
	leaks(p, out);
	leak_summary(p, v->top, out);
	if (v->verbose)
		counters(p, out);
}

/* ---- the run ---- */

static int chosen(const json_t *p, const struct cli_view *v, long root)
{
	long pid = (long)jnum(p, "pid");
	if (v->all)
		return 1;
	if (v->pid)
		return pid == v->pid;
	if (v->follow) {
		const char *argv0 = json_string_value(json_array_get(json_object_get(p, "cmdline"), 0));
		return strcmp(base(jstr(p, "exe", "")), v->follow) == 0 || (argv0 && strcmp(base(argv0), v->follow) == 0);
	}
	return pid == root;
}

static void header(const json_t *run, FILE *out)
{
	const json_t *cmd = json_object_get(run, "command");
	size_t i;
	json_t *a;
	fprintf(out, "%s report", jstr(run, "tool", "allocmap"));
	if (cmd) {
		fputs(": ", out);
		json_array_foreach(cmd, i, a)
			fprintf(out, "%s%s", i ? " " : "", json_string_value(a));
		fprintf(out, " (exit status %d%s)", (int)jnum(run, "exit_status"),
			json_is_true(json_object_get(run, "leak_error")) ? "; --leaks=error: definitely lost bytes" : "");
	}
	fputs("\n", out);
	json_array_foreach(json_object_get(run, "notes"), i, a)
		fprintf(out, "note: %s\n", json_string_value(a));
	fputc('\n', out);
}

int render_text(json_t *run, const struct cli_view *v, FILE *out)
{
	const json_t *procs = json_object_get(run, "processes");
	long root = (long)jnum(run, "root_pid");
	size_t i, shown = 0;
	json_t *p;
	header(run, out);
	if (json_array_size(procs) > 1)
		process_table(procs, out);
	json_array_foreach(procs, i, p) {
		if (chosen(p, v, root) && ++shown)
			process_report(p, v, out);
	}
	if (!shown && v->follow)
		fprintf(out, "no process named %s in this run\n", v->follow);
	else if (!shown && v->pid)
		fprintf(out, "no process %ld in this run\n", v->pid);
	return ferror(out) ? -1 : 0;
}
