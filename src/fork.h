/* fork and the index: handlers that keep the index, the heap index and
 * the private tiers whole across fork (see fork.c). */
#ifndef AM_FORK_H
#define AM_FORK_H

/* Registers the fork handlers; once, at start-up, after the index is up. */
void am_fork_install(void);

#endif
