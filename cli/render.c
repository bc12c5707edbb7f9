/* Where the run document goes: each output's file (or standard output,
 * or standard error), in its format. A "%p" in an output's path writes
 * one file per process, each holding a run document with that process
 * alone (its text: that process's full report).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int render_json(json_t *run, FILE *out)
{
	return json_dumpf(run, out, JSON_INDENT(2)) == 0 && fputc('\n', out) != EOF ? 0 : -1;
}

static int dispatch(json_t *run, const char *format, const struct cli_view *v, FILE *out)
{
	if (strcmp(format, "json") == 0)
		return render_json(run, out);
	if (strcmp(format, "html") == 0)
		return render_html(run, out);
	return render_text(run, v, out);
}

static int write_file(json_t *run, const char *path, const char *format, const struct cli_view *v)
{
	FILE *f = !path ? stderr : strcmp(path, "-") == 0 ? stdout : fopen(path, "we");
	if (!f) {
		cli_error("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	int rc = dispatch(run, format, v, f);
	if (fflush(f) != 0 || ferror(f))
		rc = -1;
	if (f != stdout && f != stderr && fclose(f) != 0)
		rc = -1;
	if (rc != 0)
		cli_error("cannot write %s: %s", path ? path : "the report", strerror(errno));
	if (rc != 0 && f != stdout && f != stderr)
		unlink(path); /* no half-written report left behind */
	return rc;
}

/* path with each "%p" replaced by pid; malloc'd. */
static char *expand(const char *path, long pid)
{
	size_t cap = strlen(path) * 2 + 64, at = 0;
	char *out = malloc(cap);
	for (const char *p = path; out && *p && at + 24 < cap; p++) {
		if (p[0] == '%' && p[1] == 'p')
			at += (size_t)snprintf(out + at, cap - at, "%ld", pid), p++;
		else
			out[at++] = *p;
	}
	if (out)
		out[at] = '\0';
	return out;
}

/* A run document holding proc alone, sharing everything else. */
static json_t *one_process(json_t *run, json_t *proc)
{
	json_t *sub = json_copy(run);
	json_object_set_new(sub, "processes", json_pack("[O]", proc));
	json_object_set(sub, "root_pid", json_object_get(proc, "pid"));
	return sub;
}

static int per_process(json_t *run, const struct cli_output *o, const struct cli_view *v)
{
	size_t i;
	json_t *proc;
	int rc = 0;
	json_array_foreach(json_object_get(run, "processes"), i, proc) {
		long pid = (long)jnum(proc, "pid");
		char *path = expand(o->path, pid);
		json_t *sub = one_process(run, proc);
		struct cli_view pv = *v;
		pv.pid = pid;
		if (!path || write_file(sub, path, o->format, &pv) != 0)
			rc = -1;
		json_decref(sub);
		free(path);
	}
	return rc;
}

int render_outputs(json_t *run, const struct cli_opts *o)
{
	int rc = 0;
	for (int i = 0; i < o->nout; i++) {
		const struct cli_output *out = &o->out[i];
		if (out->path && strstr(out->path, "%p"))
			rc |= per_process(run, out, &o->view);
		else
			rc |= write_file(run, out->path, out->format, &o->view);
	}
	return rc ? -1 : 0;
}
