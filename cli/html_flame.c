/* The HTML page's call-stack picture (--stack): an icicle chart in
 * inline SVG, one per measure (live bytes at exit, calls). The outermost
 * frame is the top row; each row below splits its parent among the
 * functions it called, widths proportional to the measure; a stack's
 * allocating frames are at the bottom, allocation wrappers (fold.c)
 * drawn grey. Frames are merged by function (or address when unknown) at
 * each depth under the same parent, as flame graphs do. Each box has a
 * <title> (the browser's hover text: function, file:line, object, both
 * measures and the share of the whole); no script needed.
 */
#include <stdlib.h>
#include <string.h>

#include "html.h"

#define W 1000.0 /* the chart's width in SVG units */
#define ROW 18   /* a row's height */
#define MIN_W 0.3 /* boxes narrower than this are not drawn */

struct node {
	const json_t *loc; /* the first frame merged here */
	uint64_t bytes, calls;
	int wrapper;
	struct node *kid, *next;
};

static const char *name_of(const json_t *loc)
{
	return jstr(loc, "function", jstr(loc, "addr", "?"));
}

static struct node *child(struct node *n, const json_t *loc, int wrapper)
{
	struct node **k = &n->kid;
	for (; *k; k = &(*k)->next)
		if (strcmp(name_of((*k)->loc), name_of(loc)) == 0)
			return *k;
	*k = calloc(1, sizeof **k);
	if (*k) {
		(*k)->loc = loc;
		(*k)->wrapper = wrapper;
	}
	return *k;
}

/* Adds a site's stack, outermost frame first, to the tree under root. */
static void add_site(struct node *root, const json_t *site)
{
	const json_t *frames = json_object_get(site, "frames");
	size_t n = json_array_size(frames), wrappers = (size_t)jnum(site, "wrapper_frames");
	uint64_t bytes = jnum(site, "live_bytes"), calls = jnum(site, "calls");
	struct node *at = root;
	root->bytes += bytes;
	root->calls += calls;
	for (size_t i = n; i-- > 0 && at;) {
		at = child(at, json_array_get(frames, i), i < wrappers);
		if (at) {
			at->bytes += bytes;
			at->calls += calls;
		}
	}
}

static void free_tree(struct node *n)
{
	while (n) {
		struct node *next = n->next;
		free_tree(n->kid);
		free(n);
		n = next;
	}
}

static int depth_of(const struct node *n)
{
	int d = 0;
	for (const struct node *k = n->kid; k; k = k->next) {
		int x = depth_of(k);
		d = x > d ? x : d;
	}
	return d + 1;
}

/* A colour per function, warm hues, stable across runs. */
static void colour(const struct node *n, FILE *out)
{
	unsigned h = 5381;
	if (n->wrapper) {
		fputs("#c7c7c7", out);
		return;
	}
	for (const char *s = name_of(n->loc); *s; s++)
		h = h * 33 + (unsigned char)*s;
	fprintf(out, "hsl(%u,%u%%,%u%%)", 10 + h % 45, 65 + (h >> 8) % 25, 55 + (h >> 16) % 12);
}

static void title(const struct node *n, const struct node *root, int by_bytes, FILE *out)
{
	const json_t *loc = n->loc;
	uint64_t v = by_bytes ? n->bytes : n->calls, all = by_bytes ? root->bytes : root->calls;
	fputs("<title>", out);
	html_esc(out, name_of(loc));
	if (json_object_get(loc, "file")) {
		fputc('\n', out);
		html_esc(out, jstr(loc, "file", ""));
		fprintf(out, ":%d", (int)jnum(loc, "line"));
	}
	if (json_object_get(loc, "object")) {
		fputs("\nin ", out);
		html_esc(out, jstr(loc, "object", ""));
	}
	fprintf(out, "\nlive at exit: %s\ncalls: %llu\n%.1f%% of all %s%s</title>", fmt_bytes(n->bytes),
		(unsigned long long)n->calls, all ? 100.0 * (double)v / (double)all : 0.0,
		by_bytes ? "live bytes" : "calls", n->wrapper ? "\n(allocation wrapper)" : "");
}

/* The box's label: as much of the name as fits (about 7 units a character). */
static void label(const struct node *n, double x, double y, double w, FILE *out)
{
	size_t fit = (size_t)(w / 7.0), len = strlen(name_of(n->loc));
	char buf[256];
	if (fit < 3)
		return;
	snprintf(buf, sizeof buf, "%.*s%s", (int)(len <= fit ? len : fit - 2), name_of(n->loc), len <= fit ? "" : "..");
	fprintf(out, "<text x=\"%.1f\" y=\"%d\">", x + 3, (int)y + 13);
	html_esc(out, buf);
	fputs("</text>", out);
}

static void draw(const struct node *n, const struct node *root, int by_bytes, double x, int row, FILE *out)
{
	uint64_t all = by_bytes ? root->bytes : root->calls;
	for (const struct node *k = n->kid; k; k = k->next) {
		double w = W * (double)(by_bytes ? k->bytes : k->calls) / (double)all;
		if (w >= MIN_W) {
			fprintf(out, "<g class=\"frame\">");
			title(k, root, by_bytes, out);
			fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"", x, row * ROW,
				w > 2 ? w - 0.8 : w, ROW - 1); /* a hairline between neighbours */
			colour(k, out);
			fputs("\"/>", out);
			label(k, x, row * ROW, w, out);
			fputs("</g>\n", out);
			draw(k, root, by_bytes, x, row + 1, out);
		}
		x += w;
	}
}

static void chart(const struct node *root, int by_bytes, FILE *out)
{
	uint64_t all = by_bytes ? root->bytes : root->calls;
	int rows = depth_of(root) - 1;
	fprintf(out, "<h4>%s</h4>\n", by_bytes ? "By live bytes at exit" : "By calls");
	if (!all || rows < 1) {
		fputs("<p class=\"dim\">nothing to show</p>\n", out);
		return;
	}
	fprintf(out, "<svg class=\"flame\" data-by=\"%s\" viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\">\n",
		by_bytes ? "live_bytes" : "calls", (int)W, rows * ROW);
	draw(root, root, by_bytes, 0, 0, out);
	fputs("</svg>\n", out);
}

void html_flame_svg(const json_t *proc, FILE *out)
{
	struct node root = {0};
	size_t i, stacks = 0;
	json_t *s;
	json_array_foreach(json_object_get(proc, "sites"), i, s) {
		if (json_array_size(json_object_get(s, "frames")) > 0) {
			add_site(&root, s);
			stacks++;
		}
	}
	if (stacks) {
		fprintf(out, "<h3>Call stacks (%zu)</h3>\n<p class=\"dim\">Outermost frame on top; each box's width is "
			"its share; hover for details. Allocation wrappers in grey.</p>\n", stacks);
		chart(&root, 1, out);
		chart(&root, 0, out);
	}
	free_tree(root.kid);
}
