/* Where the library is and what the child's environment says.
 *
 * The library is found from this executable's own path (/proc/self/exe,
 * symlinks resolved), so an installed tree (PREFIX/bin, PREFIX/lib) and
 * the build tree (build/bin, build/lib) both work without configuration;
 * ALLOCMAP_LIB overrides. The run directory and the suppressions file
 * given to the child are absolute, because the command may change
 * directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define LIB_NAME "liballocmap.so"

/* 0 if path is a readable ELF file; else -1 with errno set (ENOEXEC: not
 * ELF). */
static int check_elf(const char *path)
{
	unsigned char magic[4];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, magic, sizeof magic);
	int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && n == 4 && memcmp(magic, "\177ELF", 4) == 0;
	close(fd);
	if (!ok)
		errno = ENOEXEC;
	return ok ? 0 : -1;
}

static const char *lib_error(void)
{
	return errno == ENOEXEC ? "not an ELF shared object" : strerror(errno);
}

/* <dir of /proc/self/exe>/../lib/liballocmap.so, unresolved, into out. */
static int beside_exe(char *out, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		cli_error("cannot find the library: /proc/self/exe: %s; set ALLOCMAP_LIB", strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	*slash = '\0'; /* the kernel's path is absolute: there is one */
	if ((size_t)snprintf(out, cap, "%s/../lib/" LIB_NAME, exe) >= cap) {
		cli_error("cannot find the library: path too long");
		return -1;
	}
	return 0;
}

int cli_find_library(char *out, size_t cap)
{
	char guess[PATH_MAX];
	const char *env = getenv("ALLOCMAP_LIB");
	const char *from = env && *env ? "ALLOCMAP_LIB=" : "";
	if (env && *env)
		snprintf(guess, sizeof guess, "%s", env);
	else if (beside_exe(guess, sizeof guess) != 0)
		return -1;
	char *real = realpath(guess, NULL);
	if (!real || check_elf(real) != 0) {
		cli_error("cannot use the library %s%s: %s%s", from, guess, lib_error(),
			  *from ? "" : " (set ALLOCMAP_LIB to its path)");
		free(real);
		return -1;
	}
	if (strpbrk(real, " :") || strlen(real) >= cap) {
		cli_error("cannot preload %s: LD_PRELOAD cannot hold a path with ' ' or ':'", real);
		free(real);
		return -1;
	}
	strcpy(out, real);
	free(real);
	return 0;
}

/* 1 if lib is already one of the entries of an LD_PRELOAD value. */
static int preloaded(const char *value, const char *lib)
{
	size_t n = strlen(lib);
	for (const char *p = value; (p = strstr(p, lib)); p += n)
		if ((p == value || p[-1] == ' ' || p[-1] == ':') && (p[n] == '\0' || p[n] == ' ' || p[n] == ':'))
			return 1;
	return 0;
}

static int set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	if (!old || !*old)
		return setenv("LD_PRELOAD", lib, 1);
	if (preloaded(old, lib))
		return 0;
	size_t n = strlen(lib) + strlen(old) + 2;
	char *v = malloc(n);
	if (!v)
		return -1;
	snprintf(v, n, "%s:%s", lib, old);
	int rc = setenv("LD_PRELOAD", v, 1);
	free(v);
	return rc;
}

int cli_setup_env(const char *lib, const char *run_dir, const struct cli_opts *o)
{
	char depth[16];
	snprintf(depth, sizeof depth, "%d", o->stack);
	/* The processes only report: --leaks=error is decided here from
	 * their .leaks files, so no process of the command changes status. */
	if (set_preload(lib) != 0 || setenv("ALLOCMAP_RUN_DIR", run_dir, 1) != 0 ||
	    (o->check && setenv("ALLOCMAP_CHECK_AT_EXIT", "1", 1) != 0) ||
	    (o->leaks && setenv("ALLOCMAP_LEAKS", "1", 1) != 0) ||
	    (o->suppressions && setenv("ALLOCMAP_SUPPRESSIONS", o->suppressions, 1) != 0) ||
	    (o->stack && setenv("ALLOCMAP_STACK", depth, 1) != 0)) {
		cli_error("cannot set the environment: %s", strerror(errno));
		return -1;
	}
	return 0;
}
