/* Ways to die by a signal, for fatal.sh: the library's handler must
 * leave each outcome as it is natively, and must stay out of sight of the
 * program's own signal calls.
 *   segv    keeps 1000 chunks of 1 KiB, then writes through NULL
 *   abort   abort()
 *   term    raise(SIGTERM)
 *   pipe    writes to a pipe with no reader (SIGPIPE)
 *   own     a SIGSEGV handler of its own recovers (siglongjmp); exit 7
 *   view    reads and sets actions: sees SIG_DFL where the library's
 *           handler is, gets its own handler back, then sets SIG_DFL
 *           again and raises SIGTERM (dies by it)
 *   hold    sigset(SIGUSR1, SIG_HOLD) and back, then raise(SIGUSR1)
 *   vfork   a SIGUSR2 handler; a vfork child sets SIGUSR2 to SIG_DFL (its
 *           own action: it shares the parent's memory, not its actions)
 *           and _exits; the parent's raise(SIGUSR2) must still run the
 *           handler; exit 0
 * Exit 3 when something the program sees is not as without the library.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf back;

static void recover(int sig)
{
	(void)sig;
	siglongjmp(back, 1);
}

static void noop(int sig) { (void)sig; }

static int own(void)
{
	struct sigaction act = {.sa_handler = recover};
	sigemptyset(&act.sa_mask);
	if (sigaction(SIGSEGV, &act, NULL) != 0)
		return 3;
	if (sigsetjmp(back, 1) == 0)
		*(volatile int *)0 = 1;
	return 7;
}

static int view(void)
{
	struct sigaction old;
	if (sigaction(SIGSEGV, NULL, &old) != 0 || old.sa_handler != SIG_DFL || old.sa_flags != 0)
		return 3;
	if (signal(SIGTERM, noop) != SIG_DFL || signal(SIGTERM, SIG_DFL) != noop)
		return 3;
	if (sigaction(SIGTERM, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
		return 3;
	raise(SIGTERM);
	return 3;
}

/* sigset is what is tested here, obsolete as it is. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int hold(void)
{
	if (sigset(SIGUSR1, SIG_HOLD) != SIG_DFL || sigset(SIGUSR1, SIG_DFL) != SIG_HOLD)
		return 3;
	raise(SIGUSR1);
	return 3;
}

static volatile sig_atomic_t usr2;

static void count_usr2(int sig)
{
	(void)sig;
	usr2++;
}

static int shared_child(void)
{
	if (signal(SIGUSR2, count_usr2) == SIG_ERR)
		return 3;
	pid_t pid = vfork();
	if (pid == 0) {
		signal(SIGUSR2, SIG_DFL);
		_exit(0);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 3;
	raise(SIGUSR2);
	return usr2 == 1 ? 0 : 3;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	static void *keep[1000];
	for (int i = 0; i < 1000; i++)
		memset(keep[i] = malloc(1024), 1, 1024);
	if (!strcmp(m, "segv"))
		*(volatile int *)0 = 1;
	if (!strcmp(m, "abort"))
		abort();
	if (!strcmp(m, "term"))
		raise(SIGTERM);
	if (!strcmp(m, "pipe")) {
		int fd[2];
		if (pipe(fd) != 0)
			return 3;
		close(fd[0]);
		(void)!write(fd[1], "x", 1);
	}
	if (!strcmp(m, "own"))
		return own();
	if (!strcmp(m, "view"))
		return view();
	if (!strcmp(m, "hold"))
		return hold();
	if (!strcmp(m, "vfork"))
		return shared_child();
	fprintf(stderr, "prog_fatal: unknown mode '%s'\n", m);
	return 2;
}
