/* The run directory: where each process of the command leaves its live
 * file. Private (mode 0700) so no other user can read the figures or
 * plant a file; removed after the report unless --keep named it.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int make_temp(char *out, size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(out, cap, "%s/allocmap-XXXXXX", tmp) >= cap || !mkdtemp(out)) {
		cli_error("cannot create a run directory in %s: %s", tmp, strerror(errno));
		return -1;
	}
	return 0;
}

/* NULL if dir is an empty directory, else what is wrong with it. */
static const char *not_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return strerror(errno);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n ? "not an empty directory" : NULL;
}

static int make_kept(const char *keep, char *out, size_t cap)
{
	if (mkdir(keep, 0700) != 0 && errno != EEXIST) {
		cli_error("--keep %s: %s", keep, strerror(errno));
		return -1;
	}
	const char *why = not_empty(keep);
	if (why) {
		cli_error("--keep %s: %s", keep, why);
		return -1;
	}
	char *real = realpath(keep, NULL);
	if (!real || strlen(real) >= cap) {
		cli_error("--keep %s: %s", keep, real ? "path too long" : strerror(errno));
		free(real);
		return -1;
	}
	strcpy(out, real);
	free(real);
	return 0;
}

int rundir_create(const char *keep, char *out, size_t cap)
{
	return keep ? make_kept(keep, out, cap) : make_temp(out, cap);
}

void rundir_remove(const char *dir, const char *keep)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;
	if (keep || !(d = opendir(dir)))
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    (size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < sizeof path)
			unlink(path);
	closedir(d);
	if (rmdir(dir) != 0)
		cli_error("cannot remove the run directory %s: %s", dir, strerror(errno));
}
