#!/usr/bin/env bash
# allocmap_check when it cannot run — /proc/self/maps cannot be opened
# (RLIMIT_NOFILE of 3), or the index is off (ALLOCMAP_DISABLE=1) — says
# so and why, reports no mapping as a discrepancy, and the check at exit
# never says "-1 discrepancies".
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_mapcheck
err=$BUILD/checkfail.err
for mode in linked preload; do
	pre=; [ $mode = preload ] && pre=$LIB
	LD_PRELOAD=$pre ALLOCMAP_CHECK_AT_EXIT=1 timeout 60 "$prog" nofile 2>"$err"; rc=$?
	if [ $rc -eq 0 ] && grep -q "cannot read /proc/self/maps: error 24 (too many open files" "$err" &&
		grep -q "the check at exit could not run" "$err" && ! grep -q "not mapped\|not indexed\|-1 discrep" "$err"; then
		ok "$mode no file descriptor left"
	else
		fail "$mode no file descriptor left (exit $rc): $(head -3 "$err")"
	fi
done
LD_PRELOAD=$LIB ALLOCMAP_DISABLE=1 ALLOCMAP_CHECK_AT_EXIT=1 timeout 60 /bin/true 2>"$err"
if grep -q "the index is not running" "$err" && ! grep -q -- "-1 discrep" "$err"; then
	ok "ALLOCMAP_DISABLE: the check at exit says it could not run"
else
	fail "ALLOCMAP_DISABLE: $(head -3 "$err")"
fi
finish
