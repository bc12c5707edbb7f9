/* A signal handler that siglongjmps out of the mapping call it
 * interrupted — a timer handler leaving an mmap/mprotect/munmap loop,
 * which works without the library — must neither hang the other threads
 * (a jump out of a call holding the index lock) nor make the jumping
 * thread's later changes go missing (a call bracket never closed).
 *
 *   prog_sigjump [SECONDS [raw]]
 *
 * raw: the handler is installed by syscall(SYS_rt_sigaction), in the
 * kernel's layout with a restorer of this program's own, as a runtime
 * without libc's sigaction would; it must read back as it was set.
 *
 * One thread maps, protects, remaps and unmaps inside a reservation of
 * its own while another thread sends it SIGUSR1 every few microseconds;
 * the handler jumps back to the top of its loop. A third thread maps,
 * unmaps and mallocs meanwhile: it must keep going (no progress for 3
 * seconds is a hang: exit 1). After the storm the jumping thread maps and
 * unmaps again: each query must see it at once, and allocmap_check(2)
 * must find nothing. Exit 0 if all held.
 */
#include <allocmap.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "expect.h"

#define RES_PAGES 16

static sigjmp_buf env;
static volatile sig_atomic_t armed;
static volatile int stop_storm, stop_other;
static volatile unsigned long jumps;
static unsigned long other_ops;
static pthread_t jumper_thread;
static char *res;

static void on_usr1(int sig)
{
	(void)sig;
	if (armed)
		siglongjmp(env, 1);
}

/* Mapping calls over the reservation, forever: each may be jumped out of. */
static void churn(void)
{
	const int fixed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
	for (unsigned k = 0;; k++) {
		char *p = res + (k % 8) * PAGE;
		mmap(p, 4 * PAGE, PROT_READ | PROT_WRITE, fixed, -1, 0);
		mprotect(p + PAGE, PAGE, PROT_READ);
		mremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, res + 12 * PAGE);
		munmap(p + 2 * PAGE, PAGE);
	}
}

static void expect_known(const void *p, int known)
{
	struct allocmap_info i;
	EXPECT((allocmap_query(p, &i) == 0) == known);
}

/* After the storm, this thread's changes show at once. */
static void after_storm(void)
{
	for (int k = 0; k < 100; k++) {
		char *p = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		EXPECT(p != MAP_FAILED);
		expect_known(p + 3 * PAGE, 1);
		EXPECT(munmap(p, 4 * PAGE) == 0);
		expect_known(p, 0);
		EXPECT(mmap(res, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == res);
		expect_known(res, 1);
		EXPECT(munmap(res, PAGE) == 0);
		expect_known(res, 0);
	}
}

static void *jumper(void *arg)
{
	(void)arg;
	/* A guard page below and above, never touched: the churn leaves holes
	 * in the reservation, and without guards a hole at its edge joins the
	 * free space beside it, where another thread's stack may then be
	 * placed and overwritten by the next MAP_FIXED (seen: the killer
	 * thread's stack, 2 runs in 12). */
	char *guarded = mmap(NULL, (RES_PAGES + 2) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(guarded != MAP_FAILED);
	res = guarded + PAGE;
	sigsetjmp(env, 1);
	if (!stop_storm) {
		armed = 1;
		jumps++;
		churn();
	}
	armed = 0;
	after_storm();
	return NULL;
}

static void *killer(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 5000};
	while (!stop_storm) {
		pthread_kill(jumper_thread, SIGUSR1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void *other(void *arg)
{
	(void)arg;
	while (!stop_other) {
		void *m = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		free(malloc(200000));
		if (m != MAP_FAILED)
			munmap(m, PAGE);
		__atomic_fetch_add(&other_ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Waits `seconds`, failing if the other thread stops making progress. */
static void watch(double seconds)
{
	unsigned long last = 0;
	double still = 0;
	for (double t = 0; t < seconds; t += 0.05) {
		usleep(50000);
		unsigned long now = __atomic_load_n(&other_ops, __ATOMIC_RELAXED);
		still = now == last ? still + 0.05 : 0;
		last = now;
		if (still >= 3) {
			fprintf(stderr, "hang: the other thread made no mapping call for 3 s (%lu jumps)\n", jumps);
			_exit(1);
		}
	}
}

/* The kernel's struct sigaction, and a restorer: rt_sigreturn with the
 * signal frame untouched on the stack. */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};
#define KSA_RESTORER 0x04000000ul
__attribute__((naked)) static void restore_rt(void) { __asm__("mov $15, %eax\n\tsyscall\n\thlt"); }

static void install_raw(void)
{
	struct ksigaction k = {on_usr1, KSA_RESTORER, restore_rt, 0}, back;
	EXPECT(syscall(SYS_rt_sigaction, SIGUSR1, &k, NULL, sizeof k.mask) == 0);
	memset(&back, 0xff, sizeof back);
	EXPECT(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &back, sizeof k.mask) == 0);
	EXPECT(back.handler == on_usr1 && (back.flags & ~KSA_RESTORER) == 0 && (back.flags & KSA_RESTORER) &&
	       back.mask == 0);
	EXPECT(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &back, 4) == -1); /* the kernel's EINVAL */
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2;
	struct sigaction sa = {.sa_handler = on_usr1};
	pthread_t k, o;
	if (argc > 2 && !strcmp(argv[2], "raw"))
		install_raw();
	else
		sigaction(SIGUSR1, &sa, NULL);
	EXPECT(pthread_create(&o, NULL, other, NULL) == 0);
	EXPECT(pthread_create(&jumper_thread, NULL, jumper, NULL) == 0);
	EXPECT(pthread_create(&k, NULL, killer, NULL) == 0);
	watch(seconds);
	stop_storm = 1;
	pthread_join(k, NULL);
	pthread_kill(jumper_thread, SIGUSR1); /* leaves churn() if no signal did */
	watch(0.5);
	pthread_join(jumper_thread, NULL);
	stop_other = 1;
	pthread_join(o, NULL);
	struct allocmap_index_stats st;
	allocmap_index_stats(&st);
	printf("%lu jumps, %lu calls on the other thread, %lu dropped, %lu re-reads\n", jumps, other_ops,
	       (unsigned long)st.dropped, (unsigned long)st.resyncs);
	EXPECT(jumps > 100 && allocmap_check(2) == 0);
	return 0;
}
