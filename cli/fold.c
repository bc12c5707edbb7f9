/* Folding allocation wrappers (--stack): a site whose frames begin inside
 * the program's own allocation wrappers (xmalloc, g_malloc, a buf_alloc
 * calling it...) is reported at the first frame outside them.
 *
 * A wrapper is a frame whose function name (demangled, parameters left
 * out) contains malloc, calloc, realloc, strdup, strndup or memdup, or
 * ends in "_alloc" or "alloc0" (g_malloc0, xzalloc...): the names such
 * wrappers are given in glibc's, GLib's and GNU's own code; or is C++'s
 * allocator machinery (std::allocator<T>, a ::allocate member). A frame with no function name
 * is never one; neither is the last frame (a stack made only of wrappers
 * keeps its innermost frame). The site keeps every frame; "location"
 * becomes a copy of the first frame kept, and "wrapper_frames" says how
 * many were passed over.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_wrapper(const char *fn)
{
	static const char *const parts[] = {"malloc", "calloc", "realloc", "strdup", "strndup", "memdup", "allocator<"};
	char name[512];
	if (!fn)
		return 0;
	/* a C++ name without its parameters: "Pool::node_alloc(int)" */
	snprintf(name, sizeof name, "%.*s", (int)(strchr(fn, '(') && fn[0] != '(' ? strchr(fn, '(') - fn : 511), fn);
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		if (strstr(name, parts[i]))
			return 1;
	return ends_with(name, "_alloc") || ends_with(name, "alloc0") || ends_with(name, "::allocate");
}

void fold_wrappers(json_t *site)
{
	const json_t *frames = json_object_get(site, "frames");
	size_t n = json_array_size(frames), k = 0;
	while (k + 1 < n && is_wrapper(jstr(json_array_get(frames, k), "function", NULL)))
		k++;
	if (k == 0)
		return;
	json_object_set_new(site, "location", json_deep_copy(json_array_get(frames, k)));
	json_object_set_new(site, "wrapper_frames", json_integer((json_int_t)k));
}
