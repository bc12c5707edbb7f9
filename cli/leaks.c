/* The leak check's result in the run document: each process's
 * proc-<pid>.leaks (format: include/allocmap_leaks.h) becomes its
 * "leaks" object (doc/report-schema.json), and --leaks=error's verdict
 * over the whole run.
 *
 * The file is the library's; this is its one reader. Lines it does not
 * know are skipped (a later version may add some); a file without "end"
 * was cut short and says so ("complete": false), with what it held. Each
 * group's site gets a location object {"addr"} completed from the file
 * (object, offset, dynamic symbol) here and symbolised with the process's
 * other sites (collect.c), which overrides what it knows better.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocmap_leaks.h"
#include "cli.h"

/* The file's class words, the document's keys and memcheck's words, in
 * the same order. */
static const char *const words[] = {"definite", "indirect", "possible", "reachable"};
const char *const leak_class_key[LEAK_CLASSES] = {"definitely_lost", "indirectly_lost", "possibly_lost",
						  "still_reachable"};
const char *const leak_class_text[LEAK_CLASSES] = {"definitely lost", "indirectly lost", "possibly lost",
						   "still reachable"};

static int class_of(const char *word)
{
	for (int c = 0; c < LEAK_CLASSES; c++)
		if (strcmp(word, words[c]) == 0)
			return c;
	return -1;
}

static json_t *bytes_count(uint64_t bytes, uint64_t count)
{
	return json_pack("{s:I,s:I}", "bytes", (json_int_t)bytes, "count", (json_int_t)count);
}

/* "totals ..." or "suppressed ...": four "CLASS B N" triples. */
static json_t *classes(const char *rest)
{
	json_t *o = json_object();
	char word[16];
	uint64_t b, n;
	int used;
	while (sscanf(rest, " %15s %" SCNu64 " %" SCNu64 "%n", word, &b, &n, &used) == 3) {
		int c = class_of(word);
		if (c >= 0)
			json_object_set_new(o, leak_class_key[c], bytes_count(b, n));
		rest += used;
	}
	for (int c = 0; c < LEAK_CLASSES; c++)
		if (!json_object_get(o, leak_class_key[c]))
			json_object_set_new(o, leak_class_key[c], bytes_count(0, 0));
	return o;
}

void leaks_attach_frames(json_t *proc)
{
	json_t *group, *site;
	size_t i, j;
	json_array_foreach(json_object_get(json_object_get(proc, "leaks"), "groups"), i, group) {
		uint64_t at = jhex(json_object_get(group, "location"), "addr");
		const json_t *best = NULL;
		json_array_foreach(json_object_get(proc, "sites"), j, site) {
			const json_t *frames = json_object_get(site, "frames");
			if (at && jhex(json_array_get(frames, 0), "addr") == at &&
			    (!best || jnum(site, "live_bytes") > jnum(best, "live_bytes")))
				best = site;
		}
		if (!best)
			continue;
		json_object_set_new(group, "frames", json_deep_copy(json_object_get(best, "frames")));
		json_object_set_new(group, "wrapper_frames", json_integer((json_int_t)jnum(best, "wrapper_frames")));
	}
}

static json_t *location(const char *site, const char *offset, const char *symbol, uint64_t symoff,
			const char *object)
{
	json_t *loc = json_pack("{s:s}", "addr", site);
	if (strcmp(object, "-") != 0) {
		json_object_set_new(loc, "object", json_string(object));
		json_object_set_new(loc, "offset", json_string(offset));
	}
	if (strcmp(symbol, "-") != 0) {
		json_object_set_new(loc, "function", json_string(symbol));
		json_object_set_new(loc, "function_offset", json_integer((json_int_t)symoff));
	}
	return loc;
}

/* "group CLASS BYTES COUNT SUPPRESSED SITE OFFSET SYMBOL SYMOFF OBJECT",
 * without its "group ", the newline removed; NULL if malformed. */
static json_t *group(const char *rest)
{
	char word[16], site[24], offset[24], symbol[512];
	uint64_t bytes, count, symoff;
	int supp, used;
	if (sscanf(rest, "%15s %" SCNu64 " %" SCNu64 " %d %23s %23s %511s %" SCNx64 " %n", word, &bytes,
		   &count, &supp, site, offset, symbol, &symoff, &used) != 8 ||
	    class_of(word) < 0)
		return NULL;
	json_t *g = json_pack("{s:s,s:I,s:I,s:b}", "class", leak_class_key[class_of(word)], "bytes",
			      (json_int_t)bytes, "count", (json_int_t)count, "suppressed", supp != 0);
	if (strncmp(site, "0x", 2) == 0 && strncmp(offset, "0x", 2) == 0)
		json_object_set_new(g, "location", location(site, offset, symbol, symoff, rest + used));
	return g;
}

static json_t *scan_line(const char *rest)
{
	uint64_t chunks, roots, stopped, scan;
	unsigned threads, unstopped;
	if (sscanf(rest,
		   "chunks %" SCNu64 " roots %" SCNu64 " threads %u unstopped %u stopped_ns %" SCNu64
		   " scan_ns %" SCNu64,
		   &chunks, &roots, &threads, &unstopped, &stopped, &scan) != 6)
		return NULL;
	return json_pack("{s:I,s:I,s:i,s:i,s:I,s:I}", "chunks", (json_int_t)chunks, "root_bytes",
			 (json_int_t)roots, "threads", (int)threads, "threads_unstopped", (int)unstopped,
			 "stopped_ns", (json_int_t)stopped, "scan_ns", (json_int_t)scan);
}

static void merge(json_t *into, json_t *from)
{
	json_object_update(into, from);
	json_decref(from);
}

/* One line of the file (newline removed) into l. */
static void line_into(json_t *l, const char *line)
{
	json_t *v;
	if (strncmp(line, "group ", 6) == 0 && (v = group(line + 6)))
		json_array_append_new(json_object_get(l, "groups"), v);
	else if (strncmp(line, "totals ", 7) == 0)
		merge(l, classes(line + 7));
	else if (strncmp(line, "suppressed ", 11) == 0)
		json_object_set_new(l, "suppressed", classes(line + 11));
	else if (strncmp(line, "scan ", 5) == 0 && (v = scan_line(line + 5)))
		json_object_set_new(l, "scan", v);
	else if (strcmp(line, "end") == 0)
		json_object_set_new(l, "complete", json_true());
}

json_t *leaks_read(const char *dir, long pid)
{
	char path[PATH_MAX], line[8192];
	snprintf(path, sizeof path, "%s/proc-%ld.leaks", dir, pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	if (!fgets(line, sizeof line, f) || strcmp(line, ALLOCMAP_LEAKS_MAGIC "\n") != 0) {
		fclose(f);
		return NULL;
	}
	json_t *l = json_pack("{s:b,s:[]}", "complete", 0, "groups");
	merge(l, classes(""));
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		line_into(l, line);
	}
	fclose(f);
	return l;
}

const char *leak_class_words(const char *key)
{
	for (int c = 0; c < LEAK_CLASSES; c++)
		if (strcmp(key, leak_class_key[c]) == 0)
			return leak_class_text[c];
	return key;
}

uint64_t leaks_definite(const json_t *proc)
{
	return jnum(json_object_get(json_object_get(proc, "leaks"), "definitely_lost"), "bytes");
}

int leaks_verdict(json_t *run, int status)
{
	size_t i, n = 0;
	json_t *p;
	json_array_foreach(json_object_get(run, "processes"), i, p) n += leaks_definite(p) > 0;
	json_object_set_new(run, "leak_error", json_boolean(n > 0));
	if (n > 0 && status == 0) {
		status = ALLOCMAP_LEAKS_STATUS;
		json_object_set_new(run, "exit_status", json_integer(status));
	}
	return status;
}
