#!/usr/bin/env bash
# The house's layers: no dependency (#include or cross-file call) runs up
# the floors sys -> palloc -> index -> heap -> hook -> api -> report ->
# init -> cli, except those tools/depgraph.py names with their reason; and
# allocmap maps its own memory only in src/sys/ (pages.c, the one door).
. "$(dirname "$0")/lib.sh"

out=$(python3 tools/depgraph.py "$BUILD/obj" 2>&1)
if echo "$out" | grep -q '^0 upward dependencies not allowed$'; then
	ok "layers: no upward dependency"
else
	fail "layers: $(echo "$out" | grep '^UPWARD' | head -5)"
fi

# Raw mapping calls outside src/sys/ would be a second door.
doors=$(grep -rln 'am_sys_mmap\|am_sys_munmap\|am_sys_mremap' src | grep -v '^src/sys/' || true)
if [ -z "$doors" ]; then ok "one door: own mappings only through src/sys/"; else fail "one door: also in $doors"; fi

# Every system call instruction lives under src/sys/.
sc=$(grep -rlnE '__asm__[^;]*"syscall|^\s*"syscall' src | grep -v '^src/sys/' || true)
if [ -z "$sc" ]; then ok "one door: syscall instructions only in src/sys/"; else fail "syscall instructions in $sc"; fi
finish
