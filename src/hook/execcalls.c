/* The exec family, interposed to tell the report that the process is
 * about to become another program (am_hook_tell_end, reason
 * ALLOCMAP_END_EXEC) before it does; when the call fails and returns,
 * the end is undone (ALLOCMAP_END_RUNNING) and errno kept as libc left it.
 *   execve          the system call itself (no libc code in between);
 *   execv, execvp, execvpe, fexecve, execveat
 *                   libc's own function, found at start-up: their path
 *                   search and fallbacks stay glibc's; inside libc they
 *                   reach the kernel through glibc's private __execve,
 *                   which is why each is interposed by name;
 *   execl, execle, execlp
 *                   their arguments gathered into an array on the stack,
 *                   then as execve, execv... with it (glibc does the same).
 * Not seen: posix_spawn, system and popen (their child is a new process
 * whose exec the CLI sees as a new image under the pid).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../include/allocmap_live.h"
#include "../sys/elfsym.h"
#include "../sys/syscall.h"
#include "hook.h"

#define API __attribute__((visibility("default")))

typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*execvpe_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*execveat_fn)(int, const char *, char *const[], char *const[], int);

extern char **environ;
int execvpe(const char *file, char *const argv[], char *const envp[]);
int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags);

/* libc's function `name`, looked up once (the lookup allocates nothing). */
static void *libc_fn(void **slot, const char *name)
{
	void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!fn) {
		fn = am_elf_lookup("libc.so", name, NULL);
		__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	}
	if (!fn)
		errno = ENOSYS;
	return fn;
}

/* r is what a failed exec returned: the end is undone, errno kept. */
static int undone(int r)
{
	am_hook_tell_end(ALLOCMAP_END_RUNNING, 0);
	return r;
}

API int execve(const char *path, char *const argv[], char *const envp[])
{
	am_hook_tell_end(ALLOCMAP_END_EXEC, 0);
	long r = am_sys_forward(SYS_execve, (long)path, (long)argv, (long)envp, 0, 0, 0);
	errno = (int)-r;
	return undone(-1);
}

API int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }

API int execvpe(const char *file, char *const argv[], char *const envp[])
{
	static void *real;
	execvpe_fn fn = (execvpe_fn)libc_fn(&real, "execvpe");
	if (!fn)
		return -1;
	am_hook_tell_end(ALLOCMAP_END_EXEC, 0);
	return undone(fn(file, argv, envp));
}

API int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }

API int fexecve(int fd, char *const argv[], char *const envp[])
{
	static void *real;
	fexecve_fn fn = (fexecve_fn)libc_fn(&real, "fexecve");
	if (!fn)
		return -1;
	am_hook_tell_end(ALLOCMAP_END_EXEC, 0);
	return undone(fn(fd, argv, envp));
}

API int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	static void *real;
	execveat_fn fn = (execveat_fn)libc_fn(&real, "execveat");
	if (!fn)
		return -1;
	am_hook_tell_end(ALLOCMAP_END_EXEC, 0);
	return undone(fn(dirfd, path, argv, envp, flags));
}

/* The number of arguments of an execl call before its NULL. */
static size_t count_args(const char *arg0, va_list ap)
{
	size_t n = 0;
	for (const char *a = arg0; a; a = va_arg(ap, const char *))
		n++;
	return n;
}

/* execl, execle, execlp: the list (and for execle the environment after
 * it) as arrays on the stack, then fn with them. */
static int list_exec(int (*fn)(const char *, char *const[], char *const[]), const char *path, const char *arg0,
		     va_list ap, int has_env)
{
	va_list again;
	va_copy(again, ap);
	size_t n = count_args(arg0, again);
	va_end(again);
	char *argv[n + 1];
	argv[0] = (char *)arg0;
	for (size_t i = 1; i <= n; i++)
		argv[i] = va_arg(ap, char *); /* argv[n] is the list's NULL */
	char **envp = has_env ? va_arg(ap, char **) : environ;
	return fn(path, argv, envp);
}

/* execl, execlp, execle: their list through list_exec to fn. */
#define LIST_EXEC(name, fn, has_env)                                   \
	API int name(const char *path, const char *arg0, ...)          \
	{                                                              \
		va_list ap;                                            \
		va_start(ap, arg0);                                    \
		int r = list_exec(fn, path, arg0, ap, has_env);        \
		va_end(ap);                                            \
		return r;                                              \
	}

LIST_EXEC(execl, execve, 0)
LIST_EXEC(execlp, execvpe, 0)
LIST_EXEC(execle, execve, 1)
