/* A futex mutex that never touches libc (no pthread, no errno).
 *
 * States: 0 free, 1 held, 2 held with (possible) waiters. Uncontended
 * lock and unlock are one atomic each. Not recursive: a thread that
 * already holds the lock deadlocks; callers that can be re-entered (from
 * a signal handler) must detect that first (see palloc's owner token).
 * Locks are process-private; a forked child reinitialises what it needs.
 */
#ifndef AM_SYS_LOCK_H
#define AM_SYS_LOCK_H

struct am_lock {
	int state;
};

#define AM_LOCK_INIT {0}

void am_lock_slow(struct am_lock *l);
void am_unlock_wake(struct am_lock *l);

static inline int am_trylock(struct am_lock *l)
{
	int expect = 0;
	return __atomic_compare_exchange_n(&l->state, &expect, 1, 0, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline void am_lock(struct am_lock *l)
{
	if (!am_trylock(l))
		am_lock_slow(l);
}

static inline void am_unlock(struct am_lock *l)
{
	if (__atomic_exchange_n(&l->state, 0, __ATOMIC_RELEASE) == 2)
		am_unlock_wake(l);
}

#endif
