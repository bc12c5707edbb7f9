#!/usr/bin/env bash
# Answers a tool can walk (issue 12): prog_answers' scenarios, linked with
# -lallocmap and again under LD_PRELOAD, each under timeout. abi.sh: the
# installed library.
. "$(dirname "$0")/lib.sh"
prog=$BUILD/tests/prog_answers
for s in free oldstruct symbolize hole fixed mremap object brk vma; do
	check "$s (linked)" timeout -k 5 30 "$prog" "$s"
	check "$s (preload)" env LD_PRELOAD="$LIB" timeout -k 5 30 "$prog" "$s"
done
finish
