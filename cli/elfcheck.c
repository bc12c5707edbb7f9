/* Is the command statically linked? Told up front, because nothing can
 * be preloaded into such a program: it runs, but leaves no figures.
 *
 * The command is looked up as execvp will (PATH, unless it holds a '/');
 * an ELF executable without a PT_INTERP program header has no dynamic
 * loader, hence no LD_PRELOAD. Anything else (a script, a file that does
 * not exist) is left for exec to judge.
 */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The path execvp would run, into out; 0, or -1 if none. */
static int resolve(const char *cmd, char *out, size_t cap)
{
	if (strchr(cmd, '/')) {
		snprintf(out, cap, "%s", cmd);
		return 0;
	}
	const char *path = getenv("PATH");
	char *dirs = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;
	int rc = -1;
	for (char *d = strtok_r(dirs, ":", &save); d && rc; d = strtok_r(NULL, ":", &save))
		if ((size_t)snprintf(out, cap, "%s/%s", *d ? d : ".", cmd) < cap && access(out, X_OK) == 0)
			rc = 0;
	free(dirs);
	return rc;
}

static int has_interp(int fd, const Elf64_Ehdr *eh)
{
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		off_t at = (off_t)(eh->e_phoff + (uint64_t)i * eh->e_phentsize);
		if (pread(fd, &ph, sizeof ph, at) != (ssize_t)sizeof ph)
			return 1; /* unreadable: do not claim static */
		if (ph.p_type == PT_INTERP)
			return 1;
	}
	return 0;
}

int cli_is_static(const char *cmd)
{
	char path[PATH_MAX];
	Elf64_Ehdr eh;
	if (resolve(cmd, path, sizeof path) != 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* ET_DYN too: a static-pie executable is one */
	int is = pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
		 eh.e_ident[EI_CLASS] == ELFCLASS64 && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) &&
		 eh.e_phentsize == sizeof(Elf64_Phdr) && !has_interp(fd, &eh);
	close(fd);
	return is;
}
