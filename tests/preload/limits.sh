#!/usr/bin/env bash
# Address-space limits (issue 17): under RLIMIT_DATA (ulimit -d) or
# RLIMIT_AS (ulimit -v) allocmap's reservations shrink to a small part
# of the limit (src/init.c), so the program can malloc nearly what it can
# without the library (ALLOCMAP_DISABLE=1: loaded, nothing reserved);
# the index stays exact and answers (prog_limit: allocmap_check 0, a
# chunk's query). Before: 8 MiB of 48 under ulimit -d 50000, 91 of 386
# under ulimit -v 400000. And at the mapping count's limit
# (vm.max_map_count), a malloc that maps still succeeds.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_limit
for lim in "-d 50000 8" "-v 400000 40"; do
	set -- $lim
	off=$(ulimit $1 $2; ALLOCMAP_DISABLE=1 "$prog" 2>/dev/null)
	on=$(ulimit $1 $2; "$prog" 2>"$BUILD/limits.err")
	rc=$?
	check "ulimit $1 $2: $on MiB with the library, $off without (at most $3 less)" \
		[ -n "$on" ] && [ -n "$off" ] && [ "$on" -ge $((off - $3)) ]
	check "ulimit $1 $2: the index exact, a chunk answers" [ $rc -eq 0 ]
	check "ulimit $1 $2: said once" [ "$(grep -c 'address space is limited' "$BUILD/limits.err")" -eq 1 ]
done
# The mapping count at its limit: allocmap holds a few of the program's
# mappings (its own .so's segments, its reservations), and a malloc that
# needs a mapping must still succeed with two given back.
off=$(ALLOCMAP_DISABLE=1 "$BUILD/tests/prog_mapcount" 2>/dev/null)
rc_off=$?
on=$("$BUILD/tests/prog_mapcount" 2>"$BUILD/limits.err")
rc_on=$?
check "max_map_count: $on mappings made with the library, $off without (at most 8 fewer)" \
	[ -n "$on" ] && [ -n "$off" ] && [ "$on" -ge $((off - 8)) ]
check "max_map_count: malloc(200000) with two given back succeeds, with and without" [ $rc_on -eq 0 ] && [ $rc_off -eq 0 ]
finish
