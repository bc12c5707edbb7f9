/* The debug build's verdict on a validator's count (debug.h). */
#include <signal.h>

#include "debug.h"
#include "log.h"
#include "syscall.h"

void am_debug_require(size_t broken, const char *what, const char *where)
{
	if (!broken)
		return;
	am_log("debug: %zu broken invariants in %s at %s; aborting", broken, what, where);
	am_sys_tgkill(am_sys_getpid(), am_sys_gettid(), SIGABRT);
	__builtin_trap(); /* SIGABRT blocked or caught and returned */
}
