/* The HTML page's pieces shared by render_html.c (the page, its tables)
 * and html_svg.c (its pictures). Everything written is escaped here.
 */
#ifndef ALLOCMAP_CLI_HTML_H
#define ALLOCMAP_CLI_HTML_H

#include <stdio.h>

#include "cli.h"

/* s with &, <, >, " and ' escaped (NULL writes nothing). */
void html_esc(FILE *out, const char *s);

/* The address space of one process: loaded objects in address order,
 * then the other regions by kind, allocmap's own hatched. */
void html_space_svg(const json_t *proc, FILE *out);

/* Heap live bytes and RSS over time, the heap's peak marked. */
void html_timeline_svg(const json_t *proc, FILE *out);

/* html_flame.c: with --stack, the sites' stacks as icicle charts (by
 * live bytes at exit, by calls); nothing if no site has frames. */
void html_flame_svg(const json_t *proc, FILE *out);

#endif
