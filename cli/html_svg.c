/* The HTML page's pictures, inline SVG (no script needed): the address
 * space as strips of regions whose widths are log-scaled (so a 4 KiB
 * region stays visible beside a 1 GiB one; the true size is in the
 * label and the hover text) — every region in address order (rows of
 * REGIONS_PER_ROW, gaps between them marked), the loaded objects, the
 * totals by kind — and the timeline as a line chart.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

#define W 1000 /* the pictures' width in SVG units */

static const char *kind_colour(const char *kind)
{
	static const struct {
		const char *kind, *colour;
	} c[] = {
		{ "heap", "#4e79a7" }, { "anon", "#f28e2b" }, { "object", "#59a14f" }, { "stack", "#e15759" },
		{ "file", "#76b7b2" }, { "shm", "#b07aa1" },  { "allocmap", "#9c755f" }, { "self", "#9c755f" },
		{ "brk", "#4e79a7" },
	};
	for (size_t i = 0; kind && i < sizeof c / sizeof c[0]; i++)
		if (strcmp(kind, c[i].kind) == 0)
			return c[i].colour;
	return "#bab0ac";
}

/* log-scaled weight of a region of n bytes (a page weighs 1) */
static double weight(uint64_t n)
{
	return log2(1.0 + (double)n / 4096.0) + 1.0;
}

struct region {
	const char *label, *kind, *allocator, *path;
	uint64_t start, end, size, resident;
	int have_range, own, gap;
	int res_known; /* resident is known (a region by kind, or one of the region table) */
};

#define GAP_W 14.0 /* a gap between loaded objects, whatever its size */
#define REGIONS_PER_ROW 32
#define REGION_ROWS 24 /* rows drawn at most; the rest is said */

/* One strip of regions at height y, widths log-scaled over W. */
static void strip(const struct region *r, size_t n, double y, const char *pattern, FILE *out)
{
	double total = 0, x = 0;
	size_t gaps = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].gap)
			gaps++;
		else
			total += weight(r[i].size);
	for (size_t i = 0; i < n; i++) {
		double w = r[i].gap ? GAP_W : weight(r[i].size) / total * (W - GAP_W * (double)gaps);
		const char *c = kind_colour(r[i].kind);
		if (r[i].gap) {
			fprintf(out, "<g class=\"gap\"><title>0x%llx-0x%llx\n%s not in a loaded object</title>"
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"40\" fill=\"#eee\"/>"
				"<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"middle\">&#8230;</text></g>\n",
				(unsigned long long)r[i].start, (unsigned long long)r[i].end, fmt_bytes(r[i].size), x, y, w,
				x + w / 2, y + 24);
			x += w;
			continue;
		}
		fprintf(out, "<g class=\"region\"><title>");
		if (r[i].have_range)
			fprintf(out, "0x%llx-0x%llx\n", (unsigned long long)r[i].start, (unsigned long long)r[i].end);
		fprintf(out, "%s", r[i].have_range && !r[i].size ? "extent not recorded" : fmt_bytes(r[i].size));
		if (r[i].kind) {
			fputs("\nkind: ", out);
			html_esc(out, r[i].kind);
		}
		if (r[i].allocator) {
			fputs("\nallocator: ", out);
			html_esc(out, r[i].allocator);
		}
		if (r[i].path) {
			fputs("\npath: ", out);
			html_esc(out, r[i].path);
		}
		if (r[i].res_known)
			fprintf(out, "\nresident: %s", fmt_bytes(r[i].resident));
		if (r[i].own)
			fputs("\nallocmap's own", out);
		fprintf(out, "</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"40\" fill=\"%s\" "
			"stroke=\"#fff\" stroke-width=\"1\"/>", x, y, w, c);
		if (r[i].res_known && r[i].size) { /* the resident part, darker, at the bottom */
			double f = (double)r[i].resident / (double)r[i].size;
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#000\" "
				"fill-opacity=\"0.25\"/>", x + 1, y + 40 - 40 * (f > 1 ? 1 : f), w > 2 ? w - 2 : w,
				40 * (f > 1 ? 1 : f));
		}
		if (r[i].own)
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"38\" fill=\"url(#%s)\" "
				"stroke=\"#000\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/>", x + 1, y + 1,
				w > 2 ? w - 2 : w, pattern);
		if (w > 60) {
			fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"rl\">", x + 4, y + 16);
			html_esc(out, r[i].label);
			fprintf(out, "</text><text x=\"%.1f\" y=\"%.1f\" class=\"rl\">%s</text>", x + 4, y + 32,
				r[i].have_range && !r[i].size ? "size ?" : fmt_bytes(r[i].size));
		}
		fputs("</g>\n", out);
		x += w;
	}
}

static int by_start(const void *a, const void *b)
{
	const struct region *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* The regions of the run document, in address order, a gap between two
 * that do not touch; *n: how many entries. */
static struct region *region_list(const json_t *regions, size_t *n)
{
	size_t nr = json_array_size(regions), i, k = 0;
	struct region *r = calloc(2 * nr + 1, sizeof *r);
	const json_t *e;
	if (!r)
		return NULL;
	json_array_foreach(regions, i, e) {
		uint64_t lo = jhex(e, "start"), hi = jhex(e, "end");
		uint64_t prev = k ? r[k - 1].end : lo;
		if (prev < lo)
			r[k++] = (struct region){ .gap = 1, .start = prev, .end = lo, .size = lo - prev };
		const char *kind = jstr(e, "kind", "?"), *name = jstr(e, "name", NULL);
		r[k++] = (struct region){ .label = name ? name : kind, .kind = kind, .allocator = jstr(e, "allocator", NULL),
					  .path = name, .start = lo, .end = hi, .size = hi - lo,
					  .resident = jnum(e, "resident_bytes"), .have_range = 1, .res_known = 1,
					  .own = strcmp(kind, "self") == 0 };
	}
	*n = k;
	return r;
}

/* The regions in rows from y on; the height used. */
static double region_rows(const json_t *p, double y, const char *pattern, FILE *out)
{
	size_t n = 0;
	struct region *r = region_list(json_object_get(p, "regions"), &n);
	if (!r || !n) {
		free(r);
		return 0;
	}
	size_t rows = (n + REGIONS_PER_ROW - 1) / REGIONS_PER_ROW;
	fprintf(out, "<text x=\"0\" y=\"%.0f\" class=\"cap\">every region in address order, %zu rows "
		"(darker: resident; hatched: allocmap's own; grey: unmapped gap)</text>\n", y + 16, rows);
	for (size_t i = 0; i < rows && i < REGION_ROWS; i++) {
		size_t first = i * REGIONS_PER_ROW, count = n - first < REGIONS_PER_ROW ? n - first : REGIONS_PER_ROW;
		fprintf(out, "<g class=\"regionrow\">");
		strip(r + first, count, y + 22 + 48.0 * (double)i, pattern, out);
		fputs("</g>\n", out);
	}
	double h = 22 + 48.0 * (double)(rows < REGION_ROWS ? rows : REGION_ROWS) + 8;
	if (rows > REGION_ROWS) {
		fprintf(out, "<text x=\"0\" y=\"%.0f\" class=\"cap\">%zu more rows not drawn (the JSON report has "
			"them all)</text>\n", y + h + 8, rows - REGION_ROWS);
		h += 20;
	}
	free(r);
	return h;
}

/* The height the region rows will take, to size the picture. */
static double region_height(const json_t *p)
{
	size_t n = 0;
	free(region_list(json_object_get(p, "regions"), &n));
	size_t rows = (n + REGIONS_PER_ROW - 1) / REGIONS_PER_ROW;
	return n ? 22 + 48.0 * (double)(rows < REGION_ROWS ? rows : REGION_ROWS) + 8 + (rows > REGION_ROWS ? 20 : 0) : 0;
}

void html_space_svg(const json_t *p, FILE *out)
{
	const json_t *mods = json_object_get(p, "modules"), *space = json_object_get(p, "space");
	const json_t *own = json_object_get(p, "allocmap");
	size_t nm = json_array_size(mods), ns = json_array_size(space), i;
	struct region *m = calloc(2 * nm + 1, sizeof *m), *s = calloc(ns + 2, sizeof *s);
	char pattern[64];
	json_t *e;
	if (!m || !s)
		goto done;
	snprintf(pattern, sizeof pattern, "hatch-%llu", (unsigned long long)jnum(p, "pid"));
	json_array_foreach(mods, i, e) {
		const char *path = jstr(e, "path", "?");
		m[i] = (struct region){ .label = base(path), .kind = "object", .allocator = "loader", .path = path,
					.start = jnum(e, "start"), .end = jnum(e, "end"), .have_range = 1 };
		m[i].size = m[i].end > m[i].start ? m[i].end - m[i].start : 0;
	}
	qsort(m, nm, sizeof *m, by_start);
	for (size_t k = nm; k-- > 1;) { /* the gaps, in place from the end */
		uint64_t lo = m[k - 1].end > m[k - 1].start ? m[k - 1].end : m[k - 1].start;
		if (m[k].start > lo) {
			memmove(&m[k + 1], &m[k], (nm - k) * sizeof *m);
			m[k] = (struct region){ .gap = 1, .start = lo, .end = m[k + 1].start, .size = m[k + 1].start - lo };
			nm++;
		}
	}
	size_t n = 0;
	int own_rows = 0;
	json_array_foreach(space, i, e) {
		s[n] = (struct region){ .label = jstr(e, "kind", "?"), .kind = jstr(e, "kind", NULL),
					.allocator = jstr(e, "allocator", NULL), .size = jnum(e, "virtual_bytes"),
					.resident = jnum(e, "resident_bytes"), .res_known = 1 };
		s[n].own = s[n].kind && (strcmp(s[n].kind, "allocmap") == 0 || strcmp(s[n].kind, "self") == 0);
		own_rows += s[n].own;
		n++;
	}
	if (own && jnum(own, "reserved_bytes") && !own_rows) /* else its rows are there already */
		s[n++] = (struct region){ .label = "allocmap", .kind = "allocmap", .allocator = "allocmap",
					  .size = jnum(own, "reserved_bytes"), .resident = jnum(own, "resident_bytes"),
					  .own = 1, .res_known = 1 };
	int h = (nm ? 70 : 0) + (n ? 70 : 0) + 10 + (int)region_height(p);
	fprintf(out, "<svg class=\"space\" viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" "
		"aria-label=\"address space\">\n", W, h);
	fprintf(out, "<defs><pattern id=\"%s\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
		"patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#fff\" fill-opacity=\"0.3\"/>"
		"<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#000\" stroke-width=\"3\"/></pattern></defs>\n",
		pattern);
	double y = region_rows(p, 0, pattern, out);
	if (nm) {
		fprintf(out, "<text x=\"0\" y=\"%.0f\" class=\"cap\">loaded objects in address order "
			"(0x%llx - 0x%llx)</text>\n", y + 16, (unsigned long long)m[0].start,
			(unsigned long long)(m[nm - 1].end > m[nm - 1].start ? m[nm - 1].end : m[nm - 1].start));
		strip(m, nm, y + 22, pattern, out);
		y += 70;
	}
	if (n) {
		fprintf(out, "<text x=\"0\" y=\"%.0f\" class=\"cap\">regions by kind (darker: resident; "
			"hatched: allocmap's own)</text>\n", y + 16);
		strip(s, n, y + 22, pattern, out);
	}
	fputs("</svg>\n", out);
done:
	free(m);
	free(s);
}

#define AT(a, i) ((uint64_t)json_integer_value(json_array_get(a, i)))

/* The smallest round step giving at most 6 ticks over span: powers of two
 * times 1, 1024, 1024^2... for bytes; 1, 2 or 5 times a power of ten for time. */
static double step(double span, int bytes)
{
	for (double p = 1; p < 1e19; p *= bytes ? 2 : 10)
		for (int m = 0; m < (bytes ? 1 : 3); m++) {
			double s = p * (bytes ? 1 : m == 0 ? 1 : m == 1 ? 2 : 5);
			if (span / s <= 6)
				return s;
		}
	return span > 0 ? span : 1;
}

void html_timeline_svg(const json_t *p, FILE *out)
{
	const json_t *tl = json_object_get(p, "timeline");
	const json_t *t = json_object_get(tl, "t_ns"), *h = json_object_get(tl, "heap_bytes");
	const json_t *r = json_object_get(tl, "rss_bytes");
	size_t n = json_array_size(t), peak = 0;
	uint64_t tmax = 1, ymax = 1;
	const double L = 80, R = W - 20, T = 20, B = 250; /* the plot area */
	for (size_t i = 0; i < n; i++) {
		if (AT(t, i) > tmax)
			tmax = AT(t, i);
		if (AT(h, i) > ymax)
			ymax = AT(h, i);
		if (AT(r, i) > ymax)
			ymax = AT(r, i);
		if (AT(h, i) > AT(h, peak))
			peak = i;
	}
	fprintf(out, "<svg class=\"timeline\" viewBox=\"0 0 %d 290\" width=\"100%%\" role=\"img\" "
		"aria-label=\"timeline\">\n", W);
	double ys = step((double)ymax, 1), xs = step((double)tmax, 0);
	for (double v = 0; v <= (double)ymax * 1.0001; v += ys) {
		double y = B - v / (double)ymax * (B - T);
		fprintf(out, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" class=\"grid\"/>"
			"<text x=\"%.0f\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%s</text>\n", L, y, R, y, L - 6,
			y + 4, fmt_bytes((uint64_t)v));
	}
	for (double v = 0; v <= (double)tmax * 1.0001; v += xs) {
		double x = L + v / (double)tmax * (R - L);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" class=\"grid\"/>"
			"<text x=\"%.1f\" y=\"%.0f\" class=\"ax\" text-anchor=\"middle\">%s</text>\n", x, T, x, B, x,
			B + 18, fmt_ns((uint64_t)v));
	}
	fprintf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"axis\"/>"
		"<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"axis\"/>\n", L, B, R, B, L, T, L, B);
	fprintf(out, "<text x=\"%.0f\" y=\"284\" class=\"ax\" text-anchor=\"middle\">time since the process "
		"started</text>\n", (L + R) / 2);
	const json_t *series[2] = { r, h };
	const char *cls[2] = { "rss", "heap" };
	for (int k = 0; k < 2; k++) {
		fprintf(out, "<polyline class=\"%s\" points=\"", cls[k]);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s%.1f,%.1f", i ? " " : "", L + (double)AT(t, i) / (double)tmax * (R - L),
				B - (double)AT(series[k], i) / (double)ymax * (B - T));
		fputs("\"/>\n", out);
	}
	if (n) {
		double x = L + (double)AT(t, peak) / (double)tmax * (R - L);
		double y = B - (double)AT(h, peak) / (double)ymax * (B - T);
		fprintf(out, "<g class=\"peak\"><title>heap peak: %s at %s</title>"
			"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">"
			"heap peak %s at %s</text></g>\n", fmt_bytes(AT(h, peak)), fmt_ns(AT(t, peak)), x, y,
			x + (x > W / 2 ? -8 : 8), y < T + 20 ? y + 18 : y - 8, x > W / 2 ? "end" : "start",
			fmt_bytes(AT(h, peak)), fmt_ns(AT(t, peak)));
	}
	fprintf(out, "<g class=\"legend\"><line x1=\"%.0f\" y1=\"10\" x2=\"%.0f\" y2=\"10\" class=\"heap\"/>"
		"<text x=\"%.0f\" y=\"14\">heap live bytes</text><line x1=\"%.0f\" y1=\"10\" x2=\"%.0f\" y2=\"10\" "
		"class=\"rss\"/><text x=\"%.0f\" y=\"14\">resident (RSS)</text></g>\n", L + 10, L + 40, L + 46, L + 180,
		L + 210, L + 216);
	fputs("</svg>\n", out);
}
