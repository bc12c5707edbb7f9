#!/usr/bin/env bash
# The process-lifecycle stress scenarios of prog_lifecycle under
# LD_PRELOAD: threads with dlopen, fork, spawn, exec, signals, thread
# stacks, raw clone, threads unmapping at once, unusual mapping calls,
# brk. Each runs under timeout, so a hang or deadlock is a FAIL, not a
# stuck suite.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_lifecycle
for s in dlopen fork spawn exec signals stacks clone unmaps vma resync growsdown brk; do
	if LD_PRELOAD=$LIB timeout -k 5 30 "$prog" "$s"; then ok "$s"; else fail "$s (exit $?)"; fi
done
finish
