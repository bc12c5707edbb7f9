/* The per-thread re-entry record's storage: see thread.h. Zero is every
 * field's "outside" value, so a new thread starts outside everything. */
#include "thread.h"

__thread struct am_thread am_self;
