/* ELF dynamic-symbol lookup over the loader's link map, without the loader.
 *
 * Walks _r_debug.r_map (the default namespace's loaded objects, in load
 * order) and reads each object's .dynamic, .dynsym, .dynstr and
 * DT_GNU_HASH / DT_HASH tables in place. Nothing here allocates, calls
 * dlsym, takes a lock or touches errno; it reads only memory the loader
 * keeps mapped while an object is loaded.
 *
 * Context: start-up and install paths. The link map is read without the
 * loader's lock, so a concurrent dlclose of the object being searched is
 * the caller's hazard (the install path runs before the program does).
 */
#ifndef AM_SYS_ELFSYM_H
#define AM_SYS_ELFSYM_H

#include <stddef.h>
#include <stdint.h>

/* The file name of a path: what follows its last '/' ("" for NULL). */
const char *am_path_base(const char *path);

/* The run-time address of the defined dynamic symbol sym in the first
 * loaded object whose file name (the part after the last '/') contains
 * lib_substring; lib_substring NULL searches every object in load order
 * (every name contains "", so "" searches only the first object: the
 * main program). Among several versions of sym the default
 * one (name@@VERSION) wins. If size is not NULL it receives st_size.
 * Returns NULL when no object matches, sym is absent or undefined in it,
 * or sym is an IFUNC or TLS symbol (its value is not the object's
 * address). */
void *am_elf_lookup(const char *lib_substring, const char *sym, size_t *size);

/* Like symbol resolution with the object whose dynamic section is
 * self_dynamic removed: the first object in load order defining sym.
 * *before is set when that object precedes self's (it interposes self).
 * NULL if no other object defines sym. */
void *am_elf_lookup_next(const void *self_dynamic, const char *sym, int *before);

/* The name of a defined function symbol starting exactly at addr in any
 * loaded object's dynamic symbol table, its st_size in *size (the largest
 * among aliases). Returns NULL if there is none (static functions and a
 * program's own functions usually have no dynamic symbol). */
const char *am_elf_symbol_at(const void *addr, size_t *size);

/* The executable segments of the object this code is linked into: *lo,
 * *hi span the lowest to the highest PF_X segment, read from its own
 * program headers (__ehdr_start), so it works before the loader's link
 * map is consistent. Returns 1 if that object is a shared object of its
 * own (the library, loaded or preloaded), 0 if it is the main program (a
 * test linking the library's archive), whose text is then not the
 * library's alone. Allocates nothing. */
int am_elf_own_text(uintptr_t *lo, uintptr_t *hi);

/* The name of a defined function symbol, in any loaded object's dynamic
 * symbol table, whose extent [start, start + st_size) holds addr, and
 * addr's offset from its start in *off; NULL if none (a static function,
 * or a program's own built without -rdynamic). A linear search: for
 * reports, not hot paths. The link map is read without the loader's
 * lock: a concurrent dlclose of the object is the caller's hazard. */
const char *am_elf_symbol_near(const void *addr, size_t *off);

/* The loaded object whose dynamic section lies in [lo, hi) (its span, as
 * the mapping index has it): its bias (l_addr) in *bias, and the dynamic
 * function symbol whose extent holds addr in *name (NULL if none), addr's
 * offset from it in *off. 0 if there is such an object, else -1. Reads
 * memory only (no lock, no allocation): async-signal-safe; a concurrent
 * dlclose of that object is the caller's hazard. */
int am_elf_describe(uintptr_t lo, uintptr_t hi, const void *addr, uintptr_t *bias, const char **name, size_t *off);

#endif
