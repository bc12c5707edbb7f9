/* Execs /bin/true through the variant named by argv[1] (execve, execv,
 * execvp, execvpe, execl, execle, execlp, fexecve, execveat), for
 * exec.sh; with a second argument "fail", execs a path that does not
 * exist through every variant instead, checks each fails with ENOENT
 * and exits 5. Exit 3 when something is not as expected.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;
int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags);

static int run(const char *how, const char *path, const char *file)
{
	char *argv[] = {(char *)file, NULL};
	if (!strcmp(how, "execve"))
		return execve(path, argv, environ);
	if (!strcmp(how, "execv"))
		return execv(path, argv);
	if (!strcmp(how, "execvp"))
		return execvp(file, argv);
	if (!strcmp(how, "execvpe"))
		return execvpe(file, argv, environ);
	if (!strcmp(how, "execl"))
		return execl(path, file, (char *)NULL);
	if (!strcmp(how, "execle"))
		return execle(path, file, (char *)NULL, environ);
	if (!strcmp(how, "execlp"))
		return execlp(file, file, (char *)NULL);
	if (!strcmp(how, "execveat"))
		return execveat(AT_FDCWD, path, argv, environ, 0);
	if (!strcmp(how, "fexecve")) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? -1 : -2;
		return fexecve(fd, argv, environ);
	}
	return -2;
}

int main(int argc, char **argv)
{
	static const char *all[] = {"execve", "execv",	"execvp",  "execvpe", "execl",
				    "execle", "execlp", "fexecve", "execveat"};
	void *keep = malloc(4096);
	if (argc > 2) {
		for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
			errno = 0;
			if (run(all[i], "/no/such/program", "no-such-program-allocmap") != -1 || errno != ENOENT) {
				fprintf(stderr, "prog_exec: %s: errno %d\n", all[i], errno);
				return 3;
			}
		}
		free(keep);
		return 5;
	}
	run(argc > 1 ? argv[1] : "", "/bin/true", "true");
	perror("prog_exec");
	return 3;
}
