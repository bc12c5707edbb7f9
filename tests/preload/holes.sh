#!/usr/bin/env bash
# No holey objects: an executable and a DSO linked with 2 MiB segment
# alignment (-z max-page-size=0x200000 -z separate-code) have gaps inside
# their spans. Built here (the Makefile's prog_* rule has no such flags),
# then holes_main checks, linked and preloaded, that the gaps are plugged
# and owned by their object at start-up, after dlopen and after dlclose,
# and that no mmap lands inside any object. The control run (library
# disabled) shows that the gaps exist and that a hinted mmap does land.
. "$(dirname "$0")/lib.sh"
src=$(dirname "$0")
out=$BUILD/tests
holey="-Wl,-z,max-page-size=0x200000 -Wl,-z,separate-code"
mkdir -p "$out"
cc -std=c11 -D_GNU_SOURCE -O1 -g -fPIC -shared $holey "$src/holes_dso.c" -o "$out/libholes_dso.so" ||
	{ fail "build libholes_dso.so"; finish; exit; }
cc -std=c11 -D_GNU_SOURCE -O1 -g -Iinclude $holey "$src/holes_main.c" -o "$out/holes_main" \
	-L"$BUILD/lib" -Wl,-rpath,"$(cd "$BUILD/lib" && pwd)" -lallocmap -ldl ||
	{ fail "build holes_main"; finish; exit; }

dso=$(cd "$out" && pwd)/libholes_dso.so
if ALLOCMAP_DISABLE=1 "$out/holes_main" "$dso" control; then ok "control (gaps exist)"; else fail "control"; fi
if "$out/holes_main" "$dso"; then ok "linked"; else fail "linked"; fi
if LD_PRELOAD=$LIB "$out/holes_main" "$dso"; then ok "preload"; else fail "preload"; fi
finish
