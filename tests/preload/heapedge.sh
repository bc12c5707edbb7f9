#!/usr/bin/env bash
# The heap index's edge cases (prog_heapedge), linked and under LD_PRELOAD.
# A scenario that could not run (it prints "skipped: why") is said skipped.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_heapedge

scenario() { # how (linked / preload) scenario
	local out rc
	out=$(if [ "$1" = preload ]; then export LD_PRELOAD=$LIB; fi; timeout 120 "$prog" "$2")
	rc=$?
	[ -z "$out" ] || echo "$out"
	if [ $rc -ne 0 ]; then
		fail "$1 $2"
	elif grep -q '^skipped: ' <<<"$out"; then
		echo "skip $1 $2 ($(sed -n 's/^skipped: //p' <<<"$out" | head -1))"
	else
		ok "$1 $2"
	fi
}

for s in nested racetop freedrace neighbour mremaprace slack reallocfail inplace huge; do
	scenario linked "$s"
	scenario preload "$s"
done
finish
