#!/usr/bin/env bash
# The heap-index scenarios of prog_heapcheck, linked and under LD_PRELOAD.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_heapcheck
for s in api truth threads walk walkgrow unmapwait racefree signals many fastpath nobrk corrupt huge; do
	if timeout 300 "$prog" "$s"; then ok "linked $s"; else fail "linked $s"; fi
	if LD_PRELOAD=$LIB timeout 300 "$prog" "$s"; then ok "preload $s"; else fail "preload $s"; fi
done
finish
