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
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
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

static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return CLI_EXIT_FAIL;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static int exec_failed(const char *cmd, int e)
{
	cli_error("cannot run '%s': %s", cmd, strerror(e));
	return e == ENOENT || e == ENOTDIR || e == ENAMETOOLONG ? CLI_EXIT_NOTFOUND : CLI_EXIT_NOEXEC;
}

int cli_spawn_wait(char **cmd)
{
	int handled[NFORWARDED], pipefd[2];
	sigset_t block, old;
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		cli_error("cannot run '%s': pipe: %s", cmd[0], strerror(errno));
		return CLI_EXIT_FAIL;
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
		return CLI_EXIT_FAIL;
	}
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	int e = exec_error(pipefd[0]);
	int status = wait_status(pid);
	return e ? exec_failed(cmd[0], e) : status;
}
