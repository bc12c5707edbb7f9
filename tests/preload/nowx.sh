#!/usr/bin/env bash
# No page is ever writable and executable, not even while libc's entries
# are patched: programs run under a seccomp filter that kills the process
# on any mmap/mprotect asking for PROT_WRITE|PROT_EXEC (prog_nowx),
# installed before the library loads; once with /proc/self/mem writes
# refused (the fallback: text briefly read-write, not executable).
. "$(dirname "$0")/lib.sh"
nowx=$BUILD/tests/prog_nowx
err=$BUILD/nowx.err
for p in "" -p; do
	what=${p:+"/proc/self/mem refused, "}
	LD_PRELOAD=$LIB timeout 60 "$nowx" $p /bin/true 2>"$err"; rc=$?
	if [ $rc -eq 0 ]; then ok "${what}preloaded into /bin/true"; else fail "${what}/bin/true (exit $rc): $(head -2 "$err")"; fi
	timeout 60 "$nowx" $p "$BUILD/tests/prog_mapcheck" startup 2>"$err"; rc=$?
	if [ $rc -eq 0 ]; then ok "${what}linked prog_mapcheck startup"; else fail "${what}prog_mapcheck (exit $rc): $(head -2 "$err")"; fi
done
if LD_PRELOAD=$LIB "$nowx" -p /bin/true 2>&1 | grep -q "/proc/self/mem refused"; then
	ok "the fallback says so"
else
	fail "the fallback is silent"
fi
finish
