/* The options of the subcommands, from one table.
 *
 * A value is given as "--opt VALUE", "--opt=VALUE", "-o VALUE" or
 * "-oVALUE"; an optional value (--leaks) only as "--opt=VALUE", so that
 * `allocmap run --leaks error` runs a command named error. A separate VALUE that looks like an option ("-x...", "--")
 * is refused rather than taken: `--output -- cmd` is a forgotten value,
 * not a file named "--". ("-" alone is a value: standard output.)
 *
 * `allocmap run` stops at "--" or at the first argument that is not an
 * option, so `allocmap run ls -l` and `allocmap run -- ls -l` agree; the
 * other subcommands take their operands anywhere.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum opt_id { O_FORMAT, O_OUTPUT, O_TOP, O_PID, O_FOLLOW, O_ALL, O_VERBOSE, O_KEEP, O_CHECK, O_LEAKS, O_SUPP, O_STACK, O_HELP };
enum { NO_VALUE, VALUE, OPTIONAL_VALUE }; /* takes_value */
enum { RUN = 1, REPORT = 2, SNAPSHOT = 4, ALL = 7 };

struct optdef {
	const char *name; /* long name, without "--" */
	char short_name;
	int takes_value; /* NO_VALUE, VALUE, OPTIONAL_VALUE */
	enum opt_id id;
	int subs; /* which subcommands have it */
};

static const struct optdef table[] = {
	{"format", 0, 1, O_FORMAT, ALL},     {"output", 'o', 1, O_OUTPUT, ALL}, {"top", 0, 1, O_TOP, ALL},
	{"pid", 0, 1, O_PID, ALL},	     {"follow", 0, 1, O_FOLLOW, ALL},   {"all", 0, 0, O_ALL, ALL},
	{"verbose", 'v', 0, O_VERBOSE, ALL}, {"keep", 0, 1, O_KEEP, RUN},	{"check", 0, 0, O_CHECK, RUN},
	{"leaks", 0, OPTIONAL_VALUE, O_LEAKS, RUN}, {"suppressions", 0, 1, O_SUPP, RUN},
	{"stack", 0, 1, O_STACK, RUN},
	{"help", 'h', 0, O_HELP, ALL},
};
#define NOPTS (sizeof table / sizeof table[0])

static int sub_bit(const char *sub)
{
	return strcmp(sub, "run") == 0 ? RUN : strcmp(sub, "report") == 0 ? REPORT : SNAPSHOT;
}

/* The option arg names (with its "=VALUE" or attached value in *inline_val). */
static const struct optdef *lookup(const char *arg, int subs, const char **inline_val)
{
	*inline_val = NULL;
	for (size_t i = 0; i < NOPTS; i++) {
		const struct optdef *d = &table[i];
		size_t n = strlen(d->name);
		if (!(d->subs & subs))
			continue;
		if (arg[1] == '-' && strncmp(arg + 2, d->name, n) == 0 && (arg[2 + n] == '\0' || arg[2 + n] == '=')) {
			*inline_val = arg[2 + n] == '=' ? arg + 3 + n : NULL;
			return d;
		}
		if (arg[1] != '-' && d->short_name && arg[1] == d->short_name) {
			*inline_val = arg[2] ? arg + 2 : NULL;
			return d;
		}
	}
	return NULL;
}

static int positive(const char *sub, const char *opt, const char *v, long *out)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n <= 0) {
		cli_error("%s: option '--%s' needs a positive number, not '%s'", sub, opt, v);
		return -1;
	}
	*out = n;
	return 0;
}

static int apply(const char *sub, const struct optdef *d, const char *v, struct cli_opts *o)
{
	long n;
	switch (d->id) {
	case O_FORMAT: o->format = v; return 0;
	case O_OUTPUT:
		if (o->nout == CLI_MAX_OUTPUTS) {
			cli_error("%s: at most %d outputs", sub, CLI_MAX_OUTPUTS);
			return -1;
		}
		o->out[o->nout++].path = v;
		return 0;
	case O_TOP:
		if (positive(sub, d->name, v, &n) != 0)
			return -1;
		o->view.top = (int)(n > 100000 ? 100000 : n);
		return 0;
	case O_PID: return positive(sub, d->name, v, &o->view.pid);
	case O_FOLLOW: o->view.follow = v; return 0;
	case O_ALL: o->view.all = 1; return 0;
	case O_VERBOSE: o->view.verbose = 1; return 0;
	case O_KEEP: o->keep = v; return 0;
	case O_CHECK: o->check = 1; return 0;
	case O_LEAKS:
		if (v && strcmp(v, "error") != 0) {
			cli_error("%s: option '--leaks' takes no value or '=error', not '%s'", sub, v);
			return -1;
		}
		o->leaks = v ? CLI_LEAKS_ERROR : CLI_LEAKS_REPORT;
		return 0;
	case O_SUPP: o->suppressions = v; return 0;
	case O_STACK:
		if (positive(sub, d->name, v, &n) != 0)
			return -1;
		if (n > CLI_MAX_STACK) {
			cli_error("%s: option '--stack' takes 1 to %d frames, not '%s'", sub, CLI_MAX_STACK, v);
			return -1;
		}
		o->stack = (int)n;
		return 0;
	case O_HELP: o->help = 1; return 0;
	}
	return 0;
}

/* The value of option d at argv[*i]: inline, or the next argument
 * unless it looks like an option. NULL after saying why. */
static const char *value_of(const char *sub, const struct optdef *d, const char *inline_val, int argc, char **argv,
			    int *i)
{
	if (inline_val)
		return inline_val;
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	if (!v || (v[0] == '-' && v[1] != '\0')) {
		cli_error("%s: option '--%s' needs a value%s%s%s", sub, d->name, v ? ", not '" : "", v ? v : "",
			  v ? "'" : "");
		return NULL;
	}
	++*i;
	return v;
}

static int one_option(const char *sub, int argc, char **argv, int *i, struct cli_opts *o)
{
	const char *inline_val;
	const struct optdef *d = lookup(argv[*i], sub_bit(sub), &inline_val);
	if (!d) {
		cli_error("%s: unknown option '%s'", sub, argv[*i]);
		return -1;
	}
	if (d->takes_value == NO_VALUE && inline_val) {
		cli_error("%s: option '--%s' takes no value", sub, d->name);
		return -1;
	}
	if (d->takes_value == OPTIONAL_VALUE)
		return apply(sub, d, inline_val, o);
	const char *v = d->takes_value ? value_of(sub, d, inline_val, argc, argv, i) : NULL;
	if (d->takes_value && !v)
		return -1;
	return apply(sub, d, v, o);
}

int cli_parse(const char *sub, int argc, char **argv, struct cli_opts *o)
{
	int is_run = strcmp(sub, "run") == 0, i;
	o->rest = calloc((size_t)argc + 1, sizeof *o->rest);
	o->view.top = o->view.top ? o->view.top : 10;
	for (i = 0; o->rest && i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (is_run)
				break;
			o->rest[o->nrest++] = argv[i];
		} else if (one_option(sub, argc, argv, &i, o) != 0) {
			return -1;
		}
		if (o->help)
			return 0;
	}
	while (o->rest && i < argc)
		o->rest[o->nrest++] = argv[i++];
	return o->rest ? 0 : -1;
}

static const char *format_of_path(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot || strchr(dot, '/'))
		return NULL;
	if (strcmp(dot, ".json") == 0)
		return "json";
	if (strcmp(dot, ".html") == 0 || strcmp(dot, ".htm") == 0)
		return "html";
	if (strcmp(dot, ".txt") == 0)
		return "text";
	return NULL;
}

int cli_resolve_outputs(struct cli_opts *o, const char *default_path)
{
	const char *dflt = o->format ? o->format : "text";
	if (strcmp(dflt, "text") != 0 && strcmp(dflt, "json") != 0 && strcmp(dflt, "html") != 0) {
		cli_error("unknown format '%s' (text, json or html)", dflt);
		return -1;
	}
	if (o->nout == 0)
		o->out[o->nout++].path = default_path;
	for (int i = 0; i < o->nout; i++) {
		const char *f = o->out[i].path ? format_of_path(o->out[i].path) : NULL;
		o->out[i].format = f ? f : dflt;
	}
	return 0;
}
