#!/usr/bin/env bash
# prog_sigjump: a handler that siglongjmps out of the mapping calls it
# interrupts hangs no thread and loses no change, linked and preloaded:
# the program's handlers are deferred while the thread is inside the
# library (src/hook/sigactions.c). It fails with the deferral taken out.
# prog_sigmap: a timer handler that maps memory during the program's own
# mapping calls costs no re-read of the maps and drops no change.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_sigjump
for mode in linked preload; do
	pre=; [ $mode = preload ] && pre=$LIB
	if out=$(LD_PRELOAD=$pre timeout -k 5 60 "$prog" 2 2>&1); then
		ok "$mode siglongjmp out of mapping calls ($(echo "$out" | tail -1))"
	else
		fail "$mode siglongjmp out of mapping calls"; echo "$out" | tail -10
	fi
done
for mode in linked preload; do
	pre=; [ $mode = preload ] && pre=$LIB
	if out=$(LD_PRELOAD=$pre timeout -k 5 60 "$BUILD/tests/prog_sigmap" 1 2>&1); then
		ok "$mode handler maps during mapping calls, no re-read ($(echo "$out" | tail -1))"
	else
		fail "$mode handler maps during mapping calls"; echo "$out" | tail -3
	fi
done
finish
