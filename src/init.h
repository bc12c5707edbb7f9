/* Library start-up, for paths that can run before the constructor (the
 * first malloc of another library's constructor). */
#ifndef AM_INIT_H
#define AM_INIT_H

/* Initialises the library if it is not yet; idempotent; single-threaded
 * by construction (it runs before main or from the constructor). */
void am_init_once(void);

#endif
