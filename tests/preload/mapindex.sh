#!/usr/bin/env bash
# The mapping-index scenarios of prog_mapcheck, each run with the library
# linked (-lallocmap) and again under LD_PRELOAD.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_mapcheck
for s in startup anon file dlopen random threads large_malloc getpwnam fork forkstress self rawsyscall growsdown stackgrow growsdown_merged remap_hole unseen_offset; do
	if timeout 300 "$prog" "$s"; then ok "linked $s"; else fail "linked $s"; fi
	if LD_PRELOAD=$LIB timeout 300 "$prog" "$s"; then ok "preload $s"; else fail "preload $s"; fi
done
# The page index forgone under a small address-space limit (src/init.c): the
# fallback search must give the same answers.
for mode in linked preload; do
	pre=; [ $mode = preload ] && pre=$LIB
	if (ulimit -v 300000; LD_PRELOAD=$pre timeout 300 "$prog" fallback 2>"$BUILD/fallback.err") &&
		grep -q "binary search" "$BUILD/fallback.err"; then
		ok "$mode fallback"
	else
		fail "$mode fallback: $(tail -3 "$BUILD/fallback.err")"
	fi
done
# The check at exit says its result also when there is no discrepancy.
for mode in linked preload; do
	pre=; [ $mode = preload ] && pre=$LIB
	err=$(LD_PRELOAD=$pre ALLOCMAP_CHECK_AT_EXIT=1 timeout 300 "$prog" startup 2>&1 >/dev/null)
	if [ "$err" = "allocmap: 0 discrepancies" ]; then
		ok "$mode check at exit: says 0 discrepancies"
	else
		fail "$mode check at exit: stderr '$(tail -3 <<<"$err")'"
	fi
done
finish
