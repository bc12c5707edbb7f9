#!/usr/bin/env bash
# Address-space limits (issue 17): under RLIMIT_DATA (ulimit -d) or
# RLIMIT_AS (ulimit -v) allocmap's reservations shrink to a small part
# of the limit (src/init.c), so the program can malloc nearly what it can
# without the library (ALLOCMAP_DISABLE=1: loaded, nothing reserved);
# the index stays exact and answers (prog_limit: allocmap_check 0, a
# chunk's query). Before: 8 MiB of 48 under ulimit -d 50000, 91 of 386
# under ulimit -v 400000.
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
finish
