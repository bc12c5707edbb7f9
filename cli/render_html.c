/* The HTML page: one self-contained file drawn from the run document
 * (issue 14). Not written yet: this is where it plugs in, and until
 * then asking for it says so.
 */
#include "cli.h"

int render_html(json_t *run, FILE *out)
{
	(void)run;
	(void)out;
	cli_error("html output is not available yet (use --format text or json; "
		  "`allocmap report RUN.json` can render a saved run later)");
	return -1;
}
