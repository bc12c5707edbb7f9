/* Slow paths of the futex mutex (see lock.h): spin briefly, then sleep in
 * the kernel with the state marked "waiters" so the unlocker wakes one. */
#include "lock.h"

#include <linux/futex.h>

#include "syscall.h"

void am_lock_slow(struct am_lock *l)
{
	for (int i = 0; i < 100; i++) {
		__builtin_ia32_pause();
		if (__atomic_load_n(&l->state, __ATOMIC_RELAXED) == 0 && am_trylock(l))
			return;
	}
	while (__atomic_exchange_n(&l->state, 2, __ATOMIC_ACQUIRE) != 0)
		am_sys_futex(&l->state, FUTEX_WAIT_PRIVATE, 2, NULL);
}

void am_unlock_wake(struct am_lock *l) { am_sys_futex(&l->state, FUTEX_WAKE_PRIVATE, 1, NULL); }
