#!/usr/bin/env bash
# prog_sigjump: a handler that siglongjmps out of the mapping calls it
# interrupts hangs no thread and loses no change, linked and preloaded:
# the program's handlers are deferred while the thread is inside the
# library (src/hook/sigactions.c), also one installed by
# syscall(SYS_rt_sigaction). It fails with the deferral taken out.
# prog_sigmap: a timer handler that maps memory during the program's own
# mapping calls costs no re-read of the maps and drops no change.
. "$(dirname "$0")/lib.sh"
# both NAME PROG ARGS...: PROG linked with the library, then preloaded too.
both() {
	for mode in linked preload; do
		pre=; [ $mode = preload ] && pre=$LIB
		if out=$(LD_PRELOAD=$pre timeout -k 5 60 "${@:2}" 2>&1); then
			ok "$mode $1 ($(echo "$out" | tail -1))"
		else
			fail "$mode $1"; echo "$out" | tail -10
		fi
	done
}
both "siglongjmp out of mapping calls" "$BUILD/tests/prog_sigjump" 2
both "siglongjmp out of mapping calls, handler set by syscall()" "$BUILD/tests/prog_sigjump" 2 raw
both "handler maps during mapping calls, no re-read" "$BUILD/tests/prog_sigmap" 1
finish
