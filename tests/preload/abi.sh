#!/usr/bin/env bash
# The library's ABI (include/allocmap.h: ABI): its SONAME, the symbols it
# exports and their versions, and an installed tree (make install
# PREFIX=tmp) that builds a program through pkg-config, which then runs
# with no LD_LIBRARY_PATH and reaches the library by its SONAME.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_ABS=$(cd "$BUILD" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check "SONAME liballocmap.so.0" sh -c "readelf -d '$LIB' | grep -q 'Library soname: \[liballocmap.so.0\]'"
check "liballocmap.so.0 beside the library" test "$(readlink "$BUILD/lib/liballocmap.so.0")" = liballocmap.so
# The API versioned; the malloc family and other libc entries unversioned
# (an interposer must be: the loader binds malloc@GLIBC_2.2.5 to no other
# version). Nothing else exported.
nm -D --defined-only "$LIB" | awk '{print $3}' | sort >"$work/exports"
cat >"$work/expected" <<'LIST'
ALLOCMAP_0.3
ALLOCMAP_0.4
allocmap_check@@ALLOCMAP_0.3
allocmap_event_stats@@ALLOCMAP_0.4
allocmap_heap_malloc@@ALLOCMAP_0.3
allocmap_heap_stats@@ALLOCMAP_0.3
allocmap_index_stats@@ALLOCMAP_0.3
allocmap_kind_name@@ALLOCMAP_0.4
allocmap_leak_scan@@ALLOCMAP_0.3
allocmap_query@@ALLOCMAP_0.3
allocmap_query_ex@@ALLOCMAP_0.4
allocmap_query_many@@ALLOCMAP_0.3
allocmap_query_many_ex@@ALLOCMAP_0.4
allocmap_sites@@ALLOCMAP_0.4
allocmap_symbolize_ex@@ALLOCMAP_0.4
allocmap_tier_stats@@ALLOCMAP_0.3
allocmap_walk@@ALLOCMAP_0.3
LIST
for s in _Exit __getdelim __libc_memalign __strdup __strndup _exit aligned_alloc asprintf calloc cfree execve \
	exit free getdelim getline malloc malloc_usable_size memalign posix_memalign pvalloc realloc reallocarray \
	realpath strdup strndup valloc vasprintf execv execvp execvpe execl execle execlp fexecve execveat \
	sigaction signal bsd_signal ssignal sysv_signal sigset; do echo "$s"; done >>"$work/expected"
sort -o "$work/expected" "$work/expected"
check "exports: the API versioned, the interposed entries unversioned, nothing else" \
	sh -c "grep -v '^_Z' '$work/exports' | diff -u '$work/expected' - && ! grep '^_Z.*@' '$work/exports'"

if (cd "$SRC" && make -s install BUILD="$BUILD_ABS" PREFIX="$work/inst" >"$work/install.log" 2>&1); then
	ok "make install PREFIX=tmp"
else
	fail "make install PREFIX=tmp"; cat "$work/install.log"; finish; exit
fi
L=$work/inst/lib
check "installed: liballocmap.so -> liballocmap.so.0 -> liballocmap.so.0.x.y" sh -c \
	"test \"\$(readlink '$L/liballocmap.so')\" = liballocmap.so.0 && readlink '$L/liballocmap.so.0' | grep -q '^liballocmap.so.0\.[0-9]*\.[0-9]*$' && test -f '$L/liballocmap.so.0'"
cat >"$work/tool.c" <<'C'
#include <allocmap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
	char *p = malloc(40);
	struct allocmap_info i;
	struct allocmap_symbol s;
	if (allocmap_query(p + 3, &i) != 0 || i.base != p || allocmap_symbolize((const void *)allocmap_walk, &s) != 0)
		return 1;
	printf("%s %zu %s\n", allocmap_kind_name(i.kind), i.requested, s.name);
	return 0;
}
C
if have pkg-config; then
	flags=$(PKG_CONFIG_PATH=$L/pkgconfig pkg-config --cflags --libs allocmap)
	check "pkg-config builds a program against the installed tree" cc -std=c11 "$work/tool.c" -o "$work/tool" $flags
	check "it needs liballocmap.so.0" sh -c "readelf -d '$work/tool' | grep -q 'Shared library: \[liballocmap.so.0\]'"
	check "it runs with no LD_LIBRARY_PATH, on the installed library" sh -c \
		"env -u LD_LIBRARY_PATH -u LD_PRELOAD '$work/tool' >'$work/out' && test \"\$(cat '$work/out')\" = 'heap 40 allocmap_walk' && env -u LD_LIBRARY_PATH ldd '$work/tool' | grep -q '$L/liballocmap.so.0'"
fi
finish
