/* Symbolisation of a process's sites with elfutils' libdwfl, offline:
 * the process may be gone, so each module of the live file's map is
 * reported from its file at its recorded load bias (dwfl_report_elf),
 * never read from /proc/PID.
 *
 * An address is a return address: its function is looked up and its
 * file:line taken at addr - 1, the call instruction itself (after a call
 * to a function that does not return, addr may already be the next
 * function). Each distinct address is symbolised once per process (the
 * cache maps "0x..." to its location object). C++ names are demangled
 * with libstdc++'s __cxa_demangle; the linkage name is kept as "symbol".
 */
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

/* Modules whose files can be opened; the others keep "object" only. */
static Dwfl *report_modules(const json_t *modules)
{
	Dwfl *d = dwfl_begin(&callbacks);
	size_t i;
	json_t *m;
	if (!d)
		return NULL;
	dwfl_report_begin(d);
	json_array_foreach(modules, i, m) {
		const char *path = json_string_value(json_object_get(m, "path"));
		json_int_t bias = json_integer_value(json_object_get(m, "bias"));
		if (path && path[0] == '/')
			dwfl_report_elf(d, path, path, -1, (GElf_Addr)bias, true);
	}
	dwfl_report_end(d, NULL, NULL);
	return d;
}

/* The module of the map holding addr: the one with the highest bias not
 * above it (biases are where the objects were loaded). */
static const json_t *module_of(const json_t *modules, uint64_t addr)
{
	const json_t *best = NULL, *m;
	uint64_t best_bias = 0;
	size_t i;
	json_array_foreach(modules, i, m) {
		uint64_t b = (uint64_t)json_integer_value(json_object_get(m, "bias"));
		uint64_t end = (uint64_t)json_integer_value(json_object_get(m, "end"));
		if (b <= addr && b >= best_bias && (end <= b || addr < end)) {
			best = m;
			best_bias = b;
		}
	}
	return best;
}

static void set_hex(json_t *o, const char *key, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "0x%" PRIx64, v);
	json_object_set_new(o, key, json_string(buf));
}

static void add_source(Dwfl_Module *mod, uint64_t pc, json_t *loc)
{
	Dwfl_Line *line = dwfl_module_getsrc(mod, pc);
	int lineno = 0;
	const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
	if (file && lineno > 0) {
		json_object_set_new(loc, "file", json_string(file));
		json_object_set_new(loc, "line", json_integer(lineno));
	}
}

/* libstdc++'s demangler (the C++ ABI's, extern "C"): a malloc'd string or NULL. */
char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

static void add_function(const char *name, json_t *loc)
{
	int status = -1;
	char *plain = strncmp(name, "_Z", 2) == 0 ? __cxa_demangle(name, NULL, NULL, &status) : NULL;
	json_object_set_new(loc, "function", json_string(status == 0 && plain ? plain : name));
	if (status == 0 && plain)
		json_object_set_new(loc, "symbol", json_string(name));
	free(plain);
}

static void add_symbol(Dwfl *d, uint64_t addr, json_t *loc)
{
	uint64_t pc = addr ? addr - 1 : 0;
	Dwfl_Module *mod = dwfl_addrmodule(d, pc);
	GElf_Off off;
	GElf_Sym sym;
	if (!mod)
		return;
	const char *name = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
	if (name) {
		add_function(name, loc);
		json_object_set_new(loc, "function_offset", json_integer((json_int_t)(off + 1)));
	}
	add_source(mod, pc, loc);
}

struct sym {
	Dwfl *dwfl;
	const json_t *modules;
	json_t *cache;
};

struct sym *sym_new(const json_t *modules)
{
	struct sym *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->dwfl = report_modules(modules);
	s->modules = modules;
	s->cache = json_object();
	return s;
}

void sym_free(struct sym *s)
{
	if (!s)
		return;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	json_decref(s->cache);
	free(s);
}

static json_t *locate(struct sym *s, uint64_t addr)
{
	json_t *loc = json_object();
	const json_t *m = module_of(s->modules, addr);
	set_hex(loc, "addr", addr);
	if (m) {
		uint64_t bias = (uint64_t)json_integer_value(json_object_get(m, "bias"));
		json_object_set(loc, "object", json_object_get(m, "path"));
		set_hex(loc, "offset", addr - bias);
	}
	if (s->dwfl)
		add_symbol(s->dwfl, addr, loc);
	return loc;
}

void sym_locate(struct sym *s, json_t *loc)
{
	const char *key = json_string_value(json_object_get(loc, "addr"));
	if (!key)
		return;
	json_t *done = json_object_get(s->cache, key);
	if (!done) {
		done = locate(s, strtoull(key, NULL, 16));
		json_object_set_new(s->cache, key, done);
	}
	json_object_update(loc, done);
}
