/* The HTML page (issue 14): one self-contained file drawn from the run
 * document only, like the text report. No network, no external script,
 * style or font; every number is in static HTML (a small inline script
 * only sorts the site tables on a header click), every string from the
 * run (paths, symbols, command lines) is escaped.
 *
 * Order: the header (command, exit status, duration, notes); the process
 * table with a link to each process's section when there is more than
 * one; then every process: memory figures, the address space picture
 * (html_svg.c) and table, the timeline chart, the site table, leaks.
 */
#include <stdlib.h>
#include <string.h>

#include "html.h"

void html_esc(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1100px;padding:0 1em;color:#222}"
	"h1{font-size:1.4em}h2{font-size:1.2em;border-bottom:2px solid #4e79a7;padding-bottom:.2em;margin-top:2em}"
	"h3{font-size:1.05em;margin-top:1.5em}code,.mono{font-family:ui-monospace,monospace}"
	"table{border-collapse:collapse;margin:.5em 0}th,td{padding:.2em .6em;border-bottom:1px solid #ddd}"
	"th{text-align:left;background:#f3f3f3}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	"td.n{white-space:nowrap}td.mono{overflow-wrap:anywhere}td.stk{font-size:12px;min-width:16em;max-width:24em}"
	"table.sortable th{cursor:pointer}table.sortable th:after{content:' \\2195';color:#aaa}"
	".note{color:#8a4b00}.dim{color:#777}"
	"svg text{font:12px system-ui,sans-serif}svg .rl{fill:#fff;font-size:11px;paint-order:stroke;stroke:rgba(0,0,0,.55);stroke-width:2.5px}svg .cap{fill:#444}"
	"svg .ax{fill:#555;font-size:11px}svg .grid{stroke:#eee}svg .axis{stroke:#888}"
	"svg polyline{fill:none;stroke-width:2}svg .heap{stroke:#4e79a7;stroke-width:2}"
	"svg .rss{stroke:#f28e2b;stroke-width:2}svg .peak circle{fill:#e15759}svg .peak text{fill:#e15759}"
	"svg .region:hover rect{opacity:.8}"
	"svg.flame text{font-size:11px;fill:#222;pointer-events:none}svg.flame .frame:hover rect{stroke:#222;stroke-width:1}";

/* Sorts a table.sortable's body on a header click: numbers by data-v. */
static const char script[] =
	"document.querySelectorAll('table.sortable').forEach(function(t){"
	"t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){"
	"var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),num=th.classList.contains('n'),"
	"dir=th.dataset.dir==='desc'?'asc':'desc';th.dataset.dir=dir;"
	"rows.sort(function(x,y){var a=x.cells[i],c=y.cells[i],r;"
	"if(num)r=Number(a.dataset.v)-Number(c.dataset.v);else r=a.textContent.localeCompare(c.textContent);"
	"return dir==='desc'?-r:r;});rows.forEach(function(r){b.appendChild(r);});});});});";

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void command(const json_t *proc, FILE *out)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(proc, "cmdline"), i, a) {
		if (i)
			fputc(' ', out);
		html_esc(out, json_string_value(a));
	}
	if (!json_array_size(json_object_get(proc, "cmdline")))
		html_esc(out, base(jstr(proc, "exe", "?")));
}

static void how_ended(const json_t *proc, FILE *out)
{
	const char *e = jstr(proc, "ended", "unknown");
	if ((strcmp(e, "exit") == 0 || strcmp(e, "_exit") == 0) && json_object_get(proc, "exit_status"))
		fprintf(out, "%s %d", strcmp(e, "exit") == 0 ? "exit" : "_exit", (int)jnum(proc, "exit_status"));
	else if (strcmp(e, "signal") == 0)
		fputs(fmt_signal((int)jnum(proc, "signal")), out);
	else
		html_esc(out, e);
}

/* A numeric cell: shown as text, sorted by its value. */
static void num_bytes(uint64_t v, FILE *out)
{
	fprintf(out, "<td class=\"n\" data-v=\"%llu\">%s</td>", (unsigned long long)v, fmt_bytes(v));
}

static void num(uint64_t v, FILE *out)
{
	fprintf(out, "<td class=\"n\" data-v=\"%llu\">%llu</td>", (unsigned long long)v, (unsigned long long)v);
}

/* ---- the process table ---- */

static void process_table(const json_t *procs, FILE *out)
{
	size_t i;
	json_t *p;
	fprintf(out, "<h2 id=\"processes\">Processes (%zu)</h2>\n<table class=\"sortable\"><thead><tr>"
		"<th class=\"n\">pid</th><th class=\"n\">parent</th><th>command</th><th class=\"n\">peak heap</th>"
		"<th class=\"n\">peak RSS</th><th class=\"n\">live at exit</th><th>ended</th></tr></thead><tbody>\n",
		json_array_size(procs));
	json_array_foreach(procs, i, p) {
		const json_t *heap = json_object_get(p, "heap"), *rss = json_object_get(p, "rss");
		int data = !json_is_true(json_object_get(p, "no_data"));
		long long pid = (long long)jnum(p, "pid");
		fprintf(out, "<tr><td class=\"n\" data-v=\"%lld\"><a href=\"#pid-%lld\">%lld</a></td>", pid, pid, pid);
		num(jnum(p, "ppid"), out);
		fputs("<td class=\"mono\">", out);
		command(p, out);
		fputs("</td>", out);
		if (data) {
			num_bytes(jnum(heap, "peak_bytes"), out);
			num_bytes(jnum(rss, "peak_bytes"), out);
			num_bytes(jnum(heap, "live_bytes"), out);
		} else {
			fputs("<td class=\"n\" data-v=\"0\">-</td><td class=\"n\" data-v=\"0\">-</td>"
			      "<td class=\"n\" data-v=\"0\">-</td>", out);
		}
		fputs("<td>", out);
		how_ended(p, out);
		if (json_object_get(p, "note")) {
			fputs(" <span class=\"note\">(", out);
			html_esc(out, jstr(p, "note", ""));
			fputs(")</span>", out);
		}
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}

/* ---- one process ---- */

static void memory(const json_t *p, FILE *out)
{
	const json_t *h = json_object_get(p, "heap"), *r = json_object_get(p, "rss");
	const char *final = strcmp(jstr(p, "ended", ""), "running") == 0 ? "now" : "at exit";
	fprintf(out, "<h3>Memory</h3>\n<table><thead><tr><th></th><th class=\"n\">peak</th><th class=\"n\">%s</th>"
		"<th></th></tr></thead><tbody>\n", final);
	fprintf(out, "<tr><td>heap live bytes</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>peak at %s</td></tr>\n",
		fmt_bytes(jnum(h, "peak_bytes")), fmt_bytes(jnum(h, "live_bytes")), fmt_ns(jnum(h, "peak_time_ns")));
	fprintf(out, "<tr><td>heap chunks</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td></td></tr>\n",
		(unsigned long long)jnum(h, "peak_chunks"), (unsigned long long)jnum(h, "live_chunks"));
	fprintf(out, "<tr><td>resident (RSS)</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td></td></tr>\n",
		fmt_bytes(jnum(r, "peak_bytes")), fmt_bytes(jnum(r, "final_bytes")));
	fprintf(out, "</tbody></table>\n<p>allocations: %llu calls, %s in all, %llu temporary</p>\n",
		(unsigned long long)jnum(h, "calls"), fmt_bytes(jnum(h, "bytes_total")),
		(unsigned long long)jnum(h, "temporary"));
}

static void space(const json_t *p, FILE *out)
{
	size_t i;
	json_t *row;
	fputs("<h3>Address space</h3>\n", out);
	html_space_svg(p, out);
	if (json_array_size(json_object_get(p, "space")))
		fputs("<table><thead><tr><th>kind</th><th>allocator</th><th class=\"n\">virtual</th>"
	      "<th class=\"n\">resident</th><th class=\"n\">count</th></tr></thead><tbody>\n", out);
	json_array_foreach(json_object_get(p, "space"), i, row) {
		fputs("<tr><td>", out);
		html_esc(out, jstr(row, "kind", "?"));
		fputs("</td><td>", out);
		html_esc(out, jstr(row, "allocator", "?"));
		fputs("</td>", out);
		num_bytes(jnum(row, "virtual_bytes"), out);
		num_bytes(jnum(row, "resident_bytes"), out);
		num(jnum(row, "count"), out);
		fputs("</tr>\n", out);
	}
	if (json_array_size(json_object_get(p, "space")))
		fputs("</tbody></table>\n", out);
	const json_t *own = json_object_get(p, "allocmap");
	fprintf(out, "<p>allocmap itself: %s reserved, %s resident</p>\n",
		fmt_bytes(jnum(own, "reserved_bytes")), fmt_bytes(jnum(own, "resident_bytes")));
	const json_t *mods = json_object_get(p, "modules");
	if (!json_array_size(mods))
		return;
	fprintf(out, "<details><summary>loaded objects (%zu)</summary><table><thead><tr><th>path</th>"
		"<th class=\"n\">start</th><th class=\"n\">end</th><th class=\"n\">size</th></tr></thead><tbody>\n",
		json_array_size(mods));
	json_array_foreach(mods, i, row) {
		fputs("<tr><td class=\"mono\">", out);
		html_esc(out, jstr(row, "path", "?"));
		fprintf(out, "</td><td class=\"n mono\">0x%llx</td><td class=\"n mono\">0x%llx</td>",
			(unsigned long long)jnum(row, "start"), (unsigned long long)jnum(row, "end"));
		num_bytes(jnum(row, "end") - jnum(row, "start"), out);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></details>\n", out);
}

static void location(const json_t *loc, FILE *out)
{
	const char *fn = jstr(loc, "function", NULL), *obj = jstr(loc, "object", NULL);
	fputs("<td class=\"mono\">", out);
	if (fn) {
		html_esc(out, fn);
		fprintf(out, "+0x%llx", (unsigned long long)jnum(loc, "function_offset"));
	} else {
		html_esc(out, jstr(loc, "addr", "?"));
	}
	if (obj) {
		fputs(" <span class=\"dim\">in ", out);
		html_esc(out, base(obj));
		if (!fn) {
			fputc('+', out);
			html_esc(out, jstr(loc, "offset", ""));
		}
		fputs("</span>", out);
	}
	fputs("</td><td class=\"mono\">", out);
	if (json_object_get(loc, "file")) {
		html_esc(out, jstr(loc, "file", ""));
		fprintf(out, ":%d", (int)jnum(loc, "line"));
	}
	fputs("</td>", out);
}

static int by_live(const void *a, const void *b)
{
	uint64_t x = jnum(*(json_t *const *)a, "live_bytes"), y = jnum(*(json_t *const *)b, "live_bytes");
	uint64_t u = jnum(*(json_t *const *)a, "calls"), v = jnum(*(json_t *const *)b, "calls");
	return x < y ? 1 : x > y ? -1 : u < v ? 1 : u > v ? -1 : 0;
}

static void site_row(const json_t *s, int depth, FILE *out)
{
	fputs("<tr>", out);
	num_bytes(jnum(s, "live_bytes"), out);
	num(jnum(s, "live_count"), out);
	num_bytes(jnum(s, "peak_bytes"), out);
	num(jnum(s, "calls"), out);
	num_bytes(jnum(s, "bytes_total"), out);
	num(jnum(s, "temporary"), out);
	location(json_object_get(s, "location"), out);
	if (depth > 1) {
		size_t i;
		json_t *f;
		fputs("<td class=\"mono stk\">", out);
		json_array_foreach(json_object_get(s, "frames"), i, f) {
			if (i)
				fputs("<br>", out);
			html_esc(out, jstr(f, "function", jstr(f, "addr", "?")));
		}
		fputs("</td>", out);
	}
	fputs("</tr>\n", out);
}

static void sites(const json_t *p, FILE *out)
{
	const json_t *all = json_object_get(p, "sites");
	size_t n = json_array_size(all), i;
	int depth = (int)jnum(p, "stack_depth");
	json_t **v = calloc(n + 1, sizeof *v), *s;
	if (!v || n == 0) {
		free(v);
		return;
	}
	json_array_foreach(all, i, s)
		v[i] = s;
	qsort(v, n, sizeof *v, by_live);
	fprintf(out, "<h3>Allocation sites (%zu)</h3>\n<p class=\"dim\">Sorted by live bytes; click a column's "
		"header to sort by it (peak bytes, calls, ...).</p>\n<table class=\"sortable sites\"><thead><tr>"
		"<th class=\"n\">live bytes</th><th class=\"n\">live chunks</th><th class=\"n\">bytes at heap peak</th>"
		"<th class=\"n\">calls</th><th class=\"n\">bytes in all</th><th class=\"n\">temporary</th>"
		"<th>site</th><th>file:line</th>%s</tr></thead><tbody>\n", n, depth > 1 ? "<th>stack</th>" : "");
	for (i = 0; i < n; i++)
		site_row(v[i], depth, out);
	fputs("</tbody></table>\n", out);
	const json_t *other = json_object_get(p, "sites_other");
	if (other)
		fprintf(out, "<p>(sites beyond the table's capacity: %s live, %llu calls)</p>\n",
			fmt_bytes(jnum(other, "live_bytes")), (unsigned long long)jnum(other, "calls"));
	free(v);
}

static void timeline(const json_t *p, FILE *out)
{
	const json_t *tl = json_object_get(p, "timeline");
	size_t n = json_array_size(json_object_get(tl, "t_ns"));
	fputs("<h3>Timeline</h3>\n", out);
	if (n == 0) {
		fputs("<p class=\"dim\">no timeline samples</p>\n", out);
		return;
	}
	fprintf(out, "<p class=\"dim\">%zu sample%s, every %s</p>\n", n, n == 1 ? "" : "s", fmt_ns(jnum(tl, "period_ns")));
	html_timeline_svg(p, out);
}

/* An object's "bytes" and "count" as two numeric cells (exact bytes, as
 * memcheck gives them). */
static void bytes_count(const json_t *o, FILE *out)
{
	num(jnum(o, "bytes"), out);
	num(jnum(o, "count"), out);
}

/* The classes as memcheck's LEAK SUMMARY, suppressed chunks apart. */
static void leak_summary(const json_t *l, FILE *out)
{
	const json_t *sup = json_object_get(l, "suppressed"), *scan = json_object_get(l, "scan");
	fprintf(out, "<h3>Leak check</h3>\n<p class=\"dim\">scan at exit: %llu chunks in %s",
		(unsigned long long)jnum(scan, "chunks"), fmt_ns(jnum(scan, "scan_ns")));
	if (jnum(scan, "threads_unstopped"))
		fprintf(out, "; %llu threads could not be stopped", (unsigned long long)jnum(scan, "threads_unstopped"));
	fprintf(out, "%s</p>\n<table class=\"leaks\"><thead><tr><th>LEAK SUMMARY</th><th class=\"n\">bytes</th>"
		"<th class=\"n\">blocks</th><th class=\"n\">suppressed bytes</th><th class=\"n\">suppressed blocks</th>"
		"</tr></thead><tbody>\n", json_is_true(json_object_get(l, "complete")) ? "" : "; its file was cut short");
	for (int c = 0; c < LEAK_CLASSES; c++) {
		const json_t *k = json_object_get(l, leak_class_key[c]), *s = json_object_get(sup, leak_class_key[c]);
		fprintf(out, "<tr><th>%s</th>", leak_class_text[c]);
		bytes_count(k, out);
		bytes_count(s, out);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}

/* Every group: lost ones first, as the file orders them. */
static void leak_groups(const json_t *l, FILE *out)
{
	const json_t *groups = json_object_get(l, "groups");
	size_t i;
	json_t *g;
	if (!json_array_size(groups))
		return;
	fprintf(out, "<table class=\"sortable leak-groups\"><thead><tr><th>class</th><th class=\"n\">bytes</th>"
		"<th class=\"n\">blocks</th><th>site</th><th>file:line</th></tr></thead><tbody>\n");
	json_array_foreach(groups, i, g) {
		fputs("<tr><td>", out);
		html_esc(out, leak_class_words(jstr(g, "class", "")));
		fputs(json_is_true(json_object_get(g, "suppressed")) ? " <span class=\"dim\">(suppressed)</span>" : "", out);
		fputs("</td>", out);
		bytes_count(g, out);
		location(json_object_get(g, "location"), out);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}

static void leaks(const json_t *p, FILE *out)
{
	const json_t *l = json_object_get(p, "leaks");
	if (strcmp(jstr(p, "ended", ""), "running") != 0 && jnum(json_object_get(p, "heap"), "live_bytes"))
		fprintf(out, "<h3>Leaked at exit</h3>\n<p>%s in %llu chunks still live when the process ended "
			"(by site: the live bytes column above)</p>\n", fmt_bytes(jnum(json_object_get(p, "heap"), "live_bytes")),
			(unsigned long long)jnum(json_object_get(p, "heap"), "live_chunks"));
	if (!json_is_object(l))
		return;
	leak_summary(l, out);
	leak_groups(l, out);
}

static void process_section(const json_t *p, FILE *out)
{
	long long pid = (long long)jnum(p, "pid");
	fprintf(out, "<section id=\"pid-%lld\">\n<h2>pid %lld <span class=\"dim\">(parent %lld)</span>: <code>", pid,
		pid, (long long)jnum(p, "ppid"));
	command(p, out);
	fputs("</code></h2>\n<p>ended: ", out);
	how_ended(p, out);
	if (jnum(p, "duration_ns"))
		fprintf(out, " after %s", fmt_ns(jnum(p, "duration_ns")));
	if (json_object_get(p, "note")) {
		fputs("; <span class=\"note\">", out);
		html_esc(out, jstr(p, "note", ""));
		fputs("</span>", out);
	}
	fputs("</p>\n", out);
	if (!json_is_true(json_object_get(p, "no_data"))) {
		memory(p, out);
		space(p, out);
		timeline(p, out);
		sites(p, out);
		html_flame_svg(p, out);
		leaks(p, out);
	}
	fputs("</section>\n", out);
}

/* ---- the run ---- */

static const json_t *root_process(const json_t *run)
{
	const json_t *procs = json_object_get(run, "processes");
	size_t i;
	json_t *p;
	json_array_foreach(procs, i, p) {
		if (jnum(p, "pid") == jnum(run, "root_pid"))
			return p;
	}
	return json_array_get(procs, 0);
}

static void header(const json_t *run, FILE *out)
{
	const json_t *cmd = json_object_get(run, "command"), *root = root_process(run);
	size_t i;
	json_t *a;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", out);
	html_esc(out, jstr(run, "tool", "allocmap"));
	fputs(" report", out);
	if (json_array_size(cmd)) {
		fputs(": ", out);
		html_esc(out, json_string_value(json_array_get(cmd, 0)));
	}
	fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", style);
	html_esc(out, jstr(run, "tool", "allocmap"));
	fputs(" report</h1>\n<table class=\"summary\"><tbody>\n", out);
	if (cmd) {
		fputs("<tr><th>command</th><td><code>", out);
		json_array_foreach(cmd, i, a) {
			if (i)
				fputc(' ', out);
			html_esc(out, json_string_value(a));
		}
		fprintf(out, "</code></td></tr>\n<tr><th>exit status</th><td>%d</td></tr>\n", (int)jnum(run, "exit_status"));
	}
	if (root && jnum(root, "duration_ns"))
		fprintf(out, "<tr><th>duration</th><td>%s</td></tr>\n", fmt_ns(jnum(root, "duration_ns")));
	else
		fputs("<tr><th>duration</th><td class=\"dim\">not recorded</td></tr>\n", out);
	fprintf(out, "<tr><th>processes</th><td>%zu</td></tr>\n</tbody></table>\n",
		json_array_size(json_object_get(run, "processes")));
	json_array_foreach(json_object_get(run, "notes"), i, a) {
		fputs("<p class=\"note\">note: ", out);
		html_esc(out, json_string_value(a));
		fputs("</p>\n", out);
	}
}

int render_html(json_t *run, FILE *out)
{
	const json_t *procs = json_object_get(run, "processes");
	size_t i;
	json_t *p;
	header(run, out);
	if (json_array_size(procs) > 1)
		process_table(procs, out);
	json_array_foreach(procs, i, p)
		process_section(p, out);
	fprintf(out, "<script>%s</script>\n</body>\n</html>\n", script);
	return ferror(out) ? -1 : 0;
}
