/* Stopping the other threads for a scan: a real-time signal to each, whose
 * handler saves the thread's registers into its slot and parks it on a
 * futex until the scanner lets it go.
 *
 * Invariants. A thread parks only when it is outside allocmap (no index
 * lock, no tier, no mapping call, no heap read announced): so nothing the
 * scanner needs — the tiers to allocate, the index to walk, a reader to
 * leave — can be held by a parked thread. A thread inside answers BUSY
 * and returns; it is asked again every millisecond, up to ASK_TRIES
 * times, then left running (unstopped). The program's locks (glibc's
 * arena locks, the loader's) may be held by parked threads: the scanner
 * takes none of them. Threads found while others park (made just before)
 * are found by enumerating /proc/self/task again until a pass finds none
 * new.
 *
 * The signal is SIGRTMAX or the highest real-time signal below it whose
 * action is the default; its action is put back after the scan, unless a
 * thread never answered (signal blocked, or exiting): its signal may
 * still come, so the handler stays, doing nothing when no scan runs.
 * One scan at a time (scan.c's lock): `active` is the scan's slot set.
 */
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "../palloc/palloc.h"
#include "../sys/log.h"
#include "../sys/signal.h"
#include "../sys/syscall.h"
#include "../sys/thread.h"
#include "leak.h"

enum slot_state { SLOT_NEW, SLOT_SENT, SLOT_PARKED, SLOT_BUSY, SLOT_RESUMED, SLOT_GONE };

#define ASK_TRIES 100                  /* 1 ms apart: busy threads are asked for ~100 ms */
#define ANSWER_NS (500 * 1000000ull)   /* a thread not answering in this is left running */
#define MS_NS 1000000l

static struct am_leak_threads *active;
static int gate;                       /* 1 while parked threads stay parked */
static struct am_sigaction saved;      /* the program's action for the signal */
static int handler_stays;              /* a thread never answered: keep the handler */

static void set_state(struct am_leak_thread *th, int s)
{
	__atomic_store_n(&th->state, s, __ATOMIC_RELEASE);
	am_sys_futex(&th->state, FUTEX_WAKE_PRIVATE, 1, NULL);
}

static int get_state(struct am_leak_thread *th) { return __atomic_load_n(&th->state, __ATOMIC_ACQUIRE); }

static struct am_leak_thread *slot_of(struct am_leak_threads *ts, int tid)
{
	for (unsigned i = 1; i < ts->n; i++)
		if (ts->t[i].tid == tid)
			return &ts->t[i];
	return NULL;
}

static void park(int sig, siginfo_t *si, void *ucv)
{
	(void)sig, (void)si;
	struct am_leak_threads *ts = __atomic_load_n(&active, __ATOMIC_ACQUIRE);
	struct am_leak_thread *th = ts ? slot_of(ts, (int)am_sys_gettid()) : NULL;
	if (!th || get_state(th) != SLOT_SENT)
		return; /* a late signal of a scan that gave up on this thread */
	if (am_thread_inside()) {
		set_state(th, SLOT_BUSY);
		return;
	}
	const ucontext_t *uc = ucv;
	for (int i = 0; i < AM_LEAK_NREGS; i++)
		th->regs[i] = (uintptr_t)uc->uc_mcontext.gregs[i]; /* REG_R8 .. REG_RSP */
	th->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	th->tp = am_leak_tp();
	set_state(th, SLOT_PARKED);
	while (__atomic_load_n(&gate, __ATOMIC_ACQUIRE))
		am_sys_futex(&gate, FUTEX_WAIT_PRIVATE, 1, NULL);
	set_state(th, SLOT_RESUMED);
}
_Static_assert(REG_RSP == AM_LEAK_NREGS - 1, "the saved registers end with rsp");

/* The highest real-time signal whose action is the default, or 0. */
static int pick_signal(void)
{
	for (int sig = 64; sig > 34; sig--) { /* glibc keeps 32 and 33; SIGRTMIN is 34 */
		struct am_sigaction old;
		if (am_sys_sigaction(sig, NULL, &old) == 0 && old.handler == (void *)SIG_DFL)
			return sig;
	}
	return 0;
}

static int install(struct am_leak_threads *ts)
{
	struct am_sigaction act = {.handler = (void *)park, .flags = SA_SIGINFO | SA_RESTART, .mask = ~0ull};
	if (handler_stays)
		return ts->sig = handler_stays; /* ours is there from a scan before */
	ts->sig = pick_signal();
	if (!ts->sig || am_sys_sigaction(ts->sig, &act, &saved) != 0)
		return ts->sig = 0;
	return ts->sig;
}

static void sleep_ns(long ns)
{
	long t[2] = {0, ns};
	int word = 0;
	am_sys_futex(&word, FUTEX_WAIT_PRIVATE, 0, t);
}

/* Adds tid as a new slot if it is not the scanner and not known yet. */
static void add_tid(struct am_leak_threads *ts, int tid, unsigned *added)
{
	if (tid == ts->t[0].tid || slot_of(ts, tid))
		return;
	if (ts->n == ts->cap) {
		ts->unstopped++, ts->overflow++; /* no slot: scanned whole while it runs */
		return;
	}
	ts->t[ts->n++] = (struct am_leak_thread){.tid = tid, .state = SLOT_NEW};
	++*added;
}

static int parse_tid(const char *s)
{
	int v = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (*s - '0');
	return *s ? -1 : v;
}

/* Enumerates /proc/self/task into ts (or only counts, with ts NULL);
 * returns the threads found, -1 if it cannot be read. */
static long enumerate(struct am_leak_threads *ts, unsigned *added)
{
	char buf[4096];
	long fd = am_sys_open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), total = 0, n;
	if (am_sys_failed(fd))
		return -1;
	while ((n = am_sys_getdents64((int)fd, buf, sizeof buf)) > 0)
		for (long off = 0; off < n;) {
			const char *name = buf + off + 19; /* d_ino 8, d_off 8, d_reclen 2, d_type 1 */
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, 2);
			int tid = parse_tid(name);
			if (tid > 0 && ++total && ts)
				add_tid(ts, tid, added);
			off += reclen;
		}
	am_sys_close((int)fd);
	return total;
}

/* Signals every slot not yet asked (NEW) or that answered BUSY. */
static void ask(struct am_leak_threads *ts, long pid)
{
	for (unsigned i = 1; i < ts->n; i++) {
		struct am_leak_thread *th = &ts->t[i];
		if (th->state != SLOT_NEW && th->state != SLOT_BUSY)
			continue;
		th->state = SLOT_SENT;
		if (am_sys_tgkill(pid, th->tid, ts->sig) != 0)
			th->state = SLOT_GONE;
	}
}

/* Waits until no slot is SENT or the deadline passes. */
static void await_answers(struct am_leak_threads *ts, uint64_t deadline)
{
	for (unsigned i = 1; i < ts->n; i++)
		while (get_state(&ts->t[i]) == SLOT_SENT && am_sys_now_ns() < deadline) {
			long t[2] = {0, 10 * MS_NS};
			am_sys_futex(&ts->t[i].state, FUTEX_WAIT_PRIVATE, SLOT_SENT, t);
		}
}

static unsigned count_state(const struct am_leak_threads *ts, int s)
{
	unsigned c = 0;
	for (unsigned i = 1; i < ts->n; i++)
		c += get_state(&ts->t[i]) == s;
	return c;
}

/* Asks and re-asks until every thread found is parked, or gone, or the
 * tries and the deadline are spent. */
static void stop_all(struct am_leak_threads *ts)
{
	long pid = am_sys_getpid();
	uint64_t deadline = am_sys_now_ns() + ANSWER_NS;
	for (int tries = 0; tries < ASK_TRIES; tries++) {
		unsigned added = 0;
		ask(ts, pid);
		await_answers(ts, deadline);
		enumerate(ts, &added);
		if (!added && !count_state(ts, SLOT_BUSY))
			break;
		if (!added)
			sleep_ns(MS_NS);
	}
}

int am_leak_stop(struct am_leak_threads *ts, uintptr_t sp, const uintptr_t *regs, int stop)
{
	long found = enumerate(NULL, NULL);
	memset(ts, 0, sizeof *ts);
	ts->cap = (unsigned)(found > 0 ? found : 1) * 2 + 64;
	ts->t = am_palloc_calloc(&am_tier_mmap, ts->cap, sizeof *ts->t);
	if (!ts->t)
		return -1;
	ts->n = 1;
	ts->t[0] = (struct am_leak_thread){.tid = (int)am_sys_gettid(), .state = SLOT_PARKED, .sp = sp,
					   .tp = am_leak_tp()};
	memcpy(ts->t[0].regs, regs, sizeof ts->t[0].regs);
	if (found <= 1 || !stop || !install(ts))
		return enumerate(ts, &(unsigned){0}), ts->unstopped += ts->n - 1, 0;
	__atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&active, ts, __ATOMIC_RELEASE);
	enumerate(ts, &(unsigned){0});
	stop_all(ts);
	ts->unstopped += ts->n - 1 - count_state(ts, SLOT_PARKED);
	return 0;
}

/* Whether some thread was signalled and never answered. */
static int unanswered(const struct am_leak_threads *ts) { return count_state(ts, SLOT_SENT) != 0; }

void am_leak_resume(struct am_leak_threads *ts)
{
	if (ts->sig) {
		__atomic_store_n(&gate, 0, __ATOMIC_RELEASE);
		am_sys_futex(&gate, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL);
		for (unsigned i = 1; i < ts->n; i++)
			while (get_state(&ts->t[i]) == SLOT_PARKED)
				am_sys_futex(&ts->t[i].state, FUTEX_WAIT_PRIVATE, SLOT_PARKED, NULL);
		__atomic_store_n(&active, NULL, __ATOMIC_RELEASE);
		if (unanswered(ts)) {
			/* its handler may yet run, and may have read `active` just
			 * before: the slots are left allocated (a few KiB, once) */
			if (!handler_stays)
				am_log("a thread never answered the leak scan's signal %d; its handler stays", ts->sig);
			handler_stays = ts->sig;
			memset(ts, 0, sizeof *ts);
			return;
		}
		if (!handler_stays)
			am_sys_sigaction(ts->sig, &saved, NULL);
	}
	am_palloc_free(&am_tier_mmap, ts->t);
	memset(ts, 0, sizeof *ts);
}
