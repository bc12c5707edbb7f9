#!/usr/bin/env bash
# The mapping fuzzer (prog_mapfuzz) for a bounded time: four seeds, two
# with the library linked and two under LD_PRELOAD, each for at most
# ALLOCMAP_FUZZ_MS milliseconds (default 1000) or 20000 operations. A
# failure names its seed: `prog_mapfuzz SEED STEPS` replays it. Set
# ALLOCMAP_FUZZ_SEEDS to run other seeds.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_mapfuzz
ms=${ALLOCMAP_FUZZ_MS:-1000}
n=0
for seed in ${ALLOCMAP_FUZZ_SEEDS:-1 2 3 4}; do
	pre=; mode=linked
	if [ $((n % 2)) -eq 1 ]; then pre=$LIB mode=preload; fi
	n=$((n + 1))
	if out=$(LD_PRELOAD=$pre timeout -k 5 60 "$prog" "$seed" 20000 "$ms" 2>&1); then
		ok "$mode seed $seed ($(echo "$out" | tail -1))"
	else
		fail "$mode seed $seed"; echo "$out" | tail -30
	fi
done
finish
