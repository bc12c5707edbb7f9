/* The child: fork, execvp, forward signals, wait.
 *
 * A close-on-exec pipe tells the parent whether execvp failed (the child
 * writes errno into it; a successful exec closes it unwritten), so a
 * command that cannot run is told apart from one that exits 126 or 127
 * itself.
 *
 * Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT are caught and sent on to
 * the child, except those the terminal generated (si_code SI_KERNEL): the
 * terminal sends them to the whole foreground process group, which the
 * child shares with us, so it has its own copy already. Signals ignored
 * when allocmap started are left ignored (and the child inherits that).
 * They are blocked from before the fork until the child's pid is known.
 *
 * While the child runs, the parent polls it every 10 ms (waitpid with
 * WNOHANG) and calls the caller's tick between polls: that is when the
 * timeline is sampled. 10 ms is also the most the child's end can wait
 * to be noticed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NFORWARDED (sizeof forwarded / sizeof forwarded[0])

static volatile sig_atomic_t child_pid;

static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	if (si->si_code != SI_KERNEL && child_pid > 0)
		kill((pid_t)child_pid, sig);
	errno = saved;
}

static void block_forwarded(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < NFORWARDED; i++)
		sigaddset(set, forwarded[i]);
}

/* Installs forward() for each signal not ignored; handled[i] says which. */
static void catch_signals(int handled[NFORWARDED])
{
	struct sigaction sa = {.sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART}, old;
	block_forwarded(&sa.sa_mask);
	for (size_t i = 0; i < NFORWARDED; i++) {
		handled[i] = sigaction(forwarded[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN;
		if (handled[i])
			sigaction(forwarded[i], &sa, NULL);
	}
}

static void exec_child(char **cmd, const int handled[NFORWARDED], const sigset_t *mask, int err_fd)
{
	for (size_t i = 0; i < NFORWARDED; i++)
		if (handled[i])
			signal(forwarded[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(cmd[0], cmd);
	int e = errno;
	ssize_t unused = write(err_fd, &e, sizeof e);
	(void)unused;
	_exit(CLI_EXIT_NOTFOUND);
}

/* The child's errno if its exec failed, else 0. */
static int exec_error(int fd)
{
	int e = 0;
	ssize_t n;
	while ((n = read(fd, &e, sizeof e)) < 0 && errno == EINTR)
		;
	close(fd);
	return n == (ssize_t)sizeof e ? e : 0;
}

#define POLL_NS 10000000L

uint64_t cli_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits for pid, ticking while it runs; the raw wait status, or -1. */
static int wait_ticking(pid_t pid, void (*tick)(void *, uint64_t), void *arg)
{
	int st;
	for (;;) {
		pid_t r = waitpid(pid, &st, tick ? WNOHANG : 0);
		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		if (r == 0) {
			tick(arg, cli_now_ns());
			nanosleep(&(struct timespec){0, POLL_NS}, NULL);
		}
	}
}

static void ended(int st, struct child_end *end)
{
	if (st == -1)
		end->status = CLI_EXIT_FAIL;
	else if (WIFSIGNALED(st))
		end->signal = WTERMSIG(st), end->status = 128 + end->signal;
	else
		end->status = WEXITSTATUS(st);
}

static int exec_failed(const char *cmd, int e)
{
	cli_error("cannot run '%s': %s", cmd, strerror(e));
	return e == ENOENT || e == ENOTDIR || e == ENAMETOOLONG ? CLI_EXIT_NOTFOUND : CLI_EXIT_NOEXEC;
}

/* Forks the child; its pid, or -1 after saying why. */
static pid_t start(char **cmd, int *err_fd)
{
	int handled[NFORWARDED], pipefd[2];
	sigset_t block, old;
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		cli_error("cannot run '%s': pipe: %s", cmd[0], strerror(errno));
		return -1;
	}
	block_forwarded(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	catch_signals(handled);
	pid_t pid = fork();
	if (pid == 0)
		exec_child(cmd, handled, &old, pipefd[1]);
	close(pipefd[1]);
	if (pid < 0) {
		cli_error("cannot run '%s': fork: %s", cmd[0], strerror(errno));
		close(pipefd[0]);
	}
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	*err_fd = pipefd[0];
	return pid;
}

void cli_spawn_wait(char **cmd, void (*tick)(void *arg, uint64_t now), void *arg, struct child_end *end)
{
	int err_fd;
	*end = (struct child_end){.status = CLI_EXIT_FAIL};
	if ((end->pid = start(cmd, &err_fd)) < 0)
		return;
	int e = exec_error(err_fd);
	end->ran = !e;
	ended(wait_ticking(end->pid, e ? NULL : tick, arg), end);
	if (e)
		end->status = exec_failed(cmd[0], e), end->signal = 0;
}
