/* The C++ allocation operators, interposed so that a chunk's site is the
 * `new` expression's caller, not libstdc++'s operator new.
 *
 * Every variant (plain, array, nothrow, align_val_t, aligned + nothrow;
 * every delete, sized or not). The fast path is our malloc (memalign for
 * the aligned ones) with the caller as site. When it fails, the
 * operator's own semantics — call the new_handler and retry, throw
 * std::bad_alloc, or (nothrow) return NULL — are the real operator's:
 * we call libstdc++'s (or libc++'s) same variant, which calls our malloc
 * again and does exactly that, and give the chunk it returns our
 * caller's site (am_resite). The deletes free (glibc's and both C++
 * libraries' aligned deletes do so too). Size 0 asks for 1 byte, as the
 * standard requires a unique pointer.
 */
#include <stddef.h>
#include <stdlib.h>

#include "../sys/elfsym.h"
#include "hook.h"

#define API __attribute__((visibility("default")))
#define CALLER __builtin_return_address(0)

/* The real operator called `name` (a mangled name). Without a C++
 * library nothing can throw bad_alloc: the process aborts, as an
 * uncaught exception would end it. */
static void *real_op(const char *name)
{
	void *f = am_elf_lookup("libstdc++", name, NULL);
	f = f ? f : am_elf_lookup("libc++", name, NULL);
	if (!f)
		abort();
	return f;
}

/* The operators' mangled names (x86-64: size_t is m, align_val_t a size_t). */
API void *_Znwm(size_t);
API void *_Znam(size_t);
API void *_ZnwmRKSt9nothrow_t(size_t, const void *);
API void *_ZnamRKSt9nothrow_t(size_t, const void *);
API void *_ZnwmSt11align_val_t(size_t, size_t);
API void *_ZnamSt11align_val_t(size_t, size_t);
API void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *);
API void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t, size_t, const void *);
API void _ZdlPv(void *);
API void _ZdaPv(void *);
API void _ZdlPvm(void *, size_t);
API void _ZdaPvm(void *, size_t);
API void _ZdlPvRKSt9nothrow_t(void *, const void *);
API void _ZdaPvRKSt9nothrow_t(void *, const void *);
API void _ZdlPvSt11align_val_t(void *, size_t);
API void _ZdaPvSt11align_val_t(void *, size_t);
API void _ZdlPvmSt11align_val_t(void *, size_t, size_t);
API void _ZdaPvmSt11align_val_t(void *, size_t, size_t);
API void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *, size_t, const void *);
API void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *, size_t, const void *);

typedef void *(*new_fn)(size_t);
typedef void *(*new_nt_fn)(size_t, const void *);
typedef void *(*new_al_fn)(size_t, size_t);
typedef void *(*new_al_nt_fn)(size_t, size_t, const void *);

/* The failure path: the real operator `name` decides (handler, throw,
 * NULL); what it returns is the caller's. */
__attribute__((noinline)) static void *fail_plain(const char *name, size_t n, const void *nt, const void *site)
{
	void *p = nt ? ((new_nt_fn)real_op(name))(n, nt) : ((new_fn)real_op(name))(n);
	am_resite(p, site);
	return p;
}

__attribute__((noinline)) static void *fail_aligned(const char *name, size_t n, size_t al, const void *nt,
						    const void *site)
{
	void *p = nt ? ((new_al_nt_fn)real_op(name))(n, al, nt) : ((new_al_fn)real_op(name))(n, al);
	am_resite(p, site);
	return p;
}

static inline void *plain(const char *name, size_t n, const void *nt, const void *site)
{
	void *p = am_malloc_at(n ? n : 1, site);
	return __builtin_expect(p != NULL, 1) ? p : fail_plain(name, n, nt, site);
}

static inline void *aligned(const char *name, size_t n, size_t al, const void *nt, const void *site)
{
	void *p = am_memalign_at(al, n ? n : 1, site);
	return __builtin_expect(p != NULL, 1) ? p : fail_aligned(name, n, al, nt, site);
}

API void *_Znwm(size_t n) { return plain("_Znwm", n, NULL, CALLER); }
API void *_Znam(size_t n) { return plain("_Znam", n, NULL, CALLER); }
API void *_ZnwmRKSt9nothrow_t(size_t n, const void *nt) { return plain("_ZnwmRKSt9nothrow_t", n, nt, CALLER); }
API void *_ZnamRKSt9nothrow_t(size_t n, const void *nt) { return plain("_ZnamRKSt9nothrow_t", n, nt, CALLER); }
API void *_ZnwmSt11align_val_t(size_t n, size_t al) { return aligned("_ZnwmSt11align_val_t", n, al, NULL, CALLER); }
API void *_ZnamSt11align_val_t(size_t n, size_t al) { return aligned("_ZnamSt11align_val_t", n, al, NULL, CALLER); }
API void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt)
{
	return aligned("_ZnwmSt11align_val_tRKSt9nothrow_t", n, al, nt, CALLER);
}
API void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt)
{
	return aligned("_ZnamSt11align_val_tRKSt9nothrow_t", n, al, nt, CALLER);
}

API void _ZdlPv(void *p) { free(p); }
API void _ZdaPv(void *p) { free(p); }
API void _ZdlPvm(void *p, size_t n) { (void)n, free(p); }
API void _ZdaPvm(void *p, size_t n) { (void)n, free(p); }
API void _ZdlPvRKSt9nothrow_t(void *p, const void *nt) { (void)nt, free(p); }
API void _ZdaPvRKSt9nothrow_t(void *p, const void *nt) { (void)nt, free(p); }
API void _ZdlPvSt11align_val_t(void *p, size_t al) { (void)al, free(p); }
API void _ZdaPvSt11align_val_t(void *p, size_t al) { (void)al, free(p); }
API void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t al) { (void)n, (void)al, free(p); }
API void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t al) { (void)n, (void)al, free(p); }
API void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt) { (void)al, (void)nt, free(p); }
API void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt) { (void)al, (void)nt, free(p); }
