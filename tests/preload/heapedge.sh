#!/usr/bin/env bash
# The heap index's edge cases (prog_heapedge), linked and under LD_PRELOAD.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_heapedge
for s in nested racetop freedrace neighbour mremaprace slack reallocfail huge; do
	if timeout 120 "$prog" "$s"; then ok "linked $s"; else fail "linked $s"; fi
	if LD_PRELOAD=$LIB timeout 120 "$prog" "$s"; then ok "preload $s"; else fail "preload $s"; fi
done
finish
