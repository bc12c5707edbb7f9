/* The process's exit status, replaced at its very end: ALLOCMAP_LEAKS=error
 * (src/leak/atexit.c) decides in the library's destructor that a clean
 * exit must fail, but exit() runs on after destructors (stdio is flushed
 * last), so the destructor cannot _exit itself without losing the
 * program's buffered output. Instead libc's _exit — which exit() calls
 * last, through its own entry — is patched to make exit_group with the
 * new status when the program's is 0. A program that calls _exit or
 * _Exit itself (same entry) gets the same treatment; a status other than
 * 0 is kept (memcheck's --error-exitcode replaces any status).
 */
#include <errno.h>

#include "../sys/elfsym.h"
#include "../sys/syscall.h"
#include "hook.h"
#include "patch.h"

static int replacement;

static void exit_hook(int status) { am_sys_exit_group(status == 0 ? replacement : status); }

int am_hook_exit_status(int status)
{
	size_t size = 0;
	void *fn = am_elf_lookup("libc.so", "_exit", &size);
	if (!fn)
		return -ENOENT;
	replacement = status;
	return am_patch_jump_sized(fn, size, (void *)exit_hook);
}
