/* The ways a process leaves its program that the library's destructor
 * does not see (or sees without the status), interposed to tell the
 * report first (am_hook_on_end, hook.h):
 *   exit(status)    the status; then libc's exit (atexit handlers, the
 *                   destructors: the report's end is written there);
 *   _exit, _Exit    the end and status; then exit_group, which is all
 *                   glibc's _exit does;
 * The exec family is in execcalls.c. Only calls through the symbols are
 * seen: glibc's own internal calls (return from main into exit) are not;
 * the destructor covers them.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../include/allocmap_live.h"
#include "../sys/elfsym.h"
#include "../sys/syscall.h"
#include "hook.h"

#define API __attribute__((visibility("default")))

static void (*on_end)(unsigned reason, int status);
static long owner; /* the process whose memory this is (am_hook_owner_set) */

void am_hook_on_end(void (*fn)(unsigned reason, int status)) { on_end = fn; }

void am_hook_owner_set(void) { owner = am_sys_getpid(); }

int am_hook_in_shared_child(void) { return owner && am_sys_getpid() != owner; }

void am_hook_tell_end(unsigned reason, int status)
{
	void (*fn)(unsigned, int) = on_end;
	if (fn) {
		int saved = errno;
		fn(reason, status);
		errno = saved;
	}
}

API __attribute__((noreturn)) void exit(int status)
{
	static void (*real)(int);
	am_hook_tell_end(ALLOCMAP_END_EXIT, status);
	if (!real)
		real = (void (*)(int))am_elf_lookup("libc.so", "exit", NULL);
	if (real)
		real(status);
	am_sys_exit_group(status); /* no libc exit: cannot happen under glibc */
}

API __attribute__((noreturn)) void _exit(int status)
{
	am_hook_tell_end(ALLOCMAP_END__EXIT, status);
	am_sys_exit_group(status);
}

API __attribute__((noreturn)) void _Exit(int status) { _exit(status); }
