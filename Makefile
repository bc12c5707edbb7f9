# allocmap — top-level build. Targets: all (default), deps, check, bench,
# install, clean, fuzz, format, debug. Out-of-tree objects under build/.

PREFIX ?= /usr/local
CC ?= cc
BUILD := build
VERSION := 0.4.0
# The SONAME's number: bumped only when a binary built against an older
# header could break (include/allocmap.h: ABI).
SOMAJOR := 0

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -fPIC $(WARN) -Iinclude
LIB_CFLAGS := $(BASE_CFLAGS) -O2 -fvisibility=hidden -ftls-model=initial-exec \
	-fno-stack-protector -fno-builtin-malloc -fno-builtin-free -MMD -MP
# Link-time optimisation across the library's files: the query path runs
# through the mapping index, page index and heap index (one call chain
# inlined: 20% faster queries, bench/RESULTS.md). Fat objects, so the
# internal archive links without it.
LTO := -flto=auto -ffat-lto-objects
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
TEST_CFLAGS := $(BASE_CFLAGS) -O1 -Wno-missing-prototypes -MMD -MP
TEST_LIBS := -lcmocka -lpthread -ldl

LIB_SRCS := $(shell find src -name '*.c' | sort)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
# The internal archive (unit tests, benchmarks) leaves out the interposed
# malloc family: a test's own malloc calls must reach glibc, not start the
# whole library.
# (and the other interposed libc entries: exit, execve, the C++ operators,
# strdup...)
INTERPOSED := src/hook/interpose.o src/hook/exitcalls.o src/hook/cxxnew.o src/hook/wrappers.o src/hook/fatal.o src/hook/execcalls.o src/hook/sigactions.o
AR_OBJS := $(filter-out $(INTERPOSED:%=$(BUILD)/obj/%),$(LIB_OBJS))
SAN_OBJS := $(filter-out $(INTERPOSED:%=$(BUILD)/asan/obj/%),$(LIB_SRCS:%.c=$(BUILD)/asan/obj/%.o))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
SAN_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/asan/tests/%)
HELPER_SRCS := $(sort $(wildcard tests/preload/prog_*.c))
HELPER_BINS := $(HELPER_SRCS:tests/preload/%.c=$(BUILD)/tests/%)
# Preloaded after the library into real programs (probe_real.sh); it looks
# the API up at run time, so it does not link the library.
PROBE := $(BUILD)/tests/probe.so
LEAK_DSO := $(BUILD)/tests/leak_dso.so
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
CLI_SRCS := $(sort $(wildcard cli/*.c))
# The CLI is an ordinary program: symbolisation with elfutils' libdw,
# the run document with jansson (Debian: libdw-dev, libjansson-dev).
CLI_LIBS := $(shell pkg-config --libs libdw jansson 2>/dev/null || echo -ldw -lelf -ljansson)
# Writes live files through cli/live.c, so the CLI is tested without the library.
FIXTURE := $(BUILD)/tests/live_fixture

# The debug build (make debug, into $(BUILD)/debug/): -DAM_DEBUG runs the
# validators at every index writer's exit and every tier leave, aborting
# on a broken invariant (src/sys/debug.h; tests/preload/debug.sh). Its
# internal archive builds test_validate, which also checks the aborts.
DEBUG := $(BUILD)/debug
DEBUG_CFLAGS := $(LIB_CFLAGS) -O1 -DAM_DEBUG
DEBUG_OBJS := $(LIB_SRCS:%.c=$(DEBUG)/obj/%.o)
DEBUG_SO := $(DEBUG)/lib/liballocmap.so
DEBUG_AR := $(DEBUG)/liballocmap-internal.a
DEBUG_TESTS := $(DEBUG)/tests/test_validate

# The library, named for LD_PRELOAD; its SONAME, liballocmap.so.$(SOMAJOR),
# is a symbolic link beside it, which programs linked -lallocmap need.
SO := $(BUILD)/lib/liballocmap.so
SONAME := liballocmap.so.$(SOMAJOR)
AR_LIB := $(BUILD)/lib/liballocmap-internal.a
SAN_AR := $(BUILD)/asan/liballocmap-internal.a
CLI := $(if $(CLI_SRCS),$(BUILD)/bin/allocmap)

.PHONY: all deps check bench install clean fuzz format tests man debug
all: $(SO) $(CLI)

# The Debian packages of deps/debian-packages.txt: installed as root,
# else the apt-get command is printed. `make deps all` or `make deps check`
# runs the goals in order.
deps:
	@deps/deps.sh install
ifneq ($(filter deps,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) $(LTO) -c $< -o $@

$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) $(SAN_FLAGS) -O1 -c $< -o $@

$(SO): $(LIB_OBJS) src/exports.map
	@mkdir -p $(@D)
	$(CC) -shared -O2 $(LTO) -o $@ $(LIB_OBJS) -Wl,--version-script=src/exports.map \
		-Wl,-soname,$(SONAME) -Wl,--exclude-libs,ALL -Wl,-z,now -Wl,-z,relro -nodefaultlibs -lc -lgcc
	ln -sf liballocmap.so $(@D)/$(SONAME)

$(DEBUG)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(DEBUG_CFLAGS) -c $< -o $@

$(DEBUG_SO): $(DEBUG_OBJS) src/exports.map
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $(DEBUG_OBJS) -Wl,--version-script=src/exports.map \
		-Wl,-soname,$(SONAME) -Wl,--exclude-libs,ALL -Wl,-z,now -Wl,-z,relro -nodefaultlibs -lc -lgcc
	ln -sf liballocmap.so $(@D)/$(SONAME)

$(DEBUG_AR): $(filter-out $(INTERPOSED:%=$(DEBUG)/obj/%),$(DEBUG_OBJS))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(DEBUG)/tests/%: tests/unit/%.c $(DEBUG_AR)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -DAM_DEBUG $< -o $@ $(DEBUG_AR) $(TEST_LIBS)

debug: $(DEBUG_SO) $(DEBUG_TESTS)

$(AR_LIB): $(AR_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(SAN_AR): $(SAN_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(AR_LIB)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $< -o $@ $(AR_LIB) $(TEST_LIBS)

$(BUILD)/asan/tests/%: tests/unit/%.c $(SAN_AR)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(SAN_FLAGS) $< -o $@ $(SAN_AR) $(TEST_LIBS)

$(BUILD)/tests/prog_%: tests/preload/prog_%.c $(SO)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $< -o $@ -L$(BUILD)/lib -Wl,-rpath,$(abspath $(BUILD)/lib) -lallocmap -lpthread -ldl

# prog_mallocsem compares the malloc family with and without the library:
# it reaches the library only through LD_PRELOAD.
$(BUILD)/tests/prog_mallocsem: tests/preload/prog_mallocsem.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $< -o $@ -lpthread -ldl

# The leak programs are compared with valgrind, which must not see the
# library: they reach it only through LD_PRELOAD.
$(BUILD)/tests/prog_leak%: tests/preload/prog_leak%.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -rdynamic $< -o $@ -lpthread -ldl $(if $(findstring zlib,$@),-lz)

$(LEAK_DSO): tests/preload/leak_dso.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -shared $< -o $@

$(PROBE): tests/preload/probe.c include/allocmap.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -shared $< -o $@ -lpthread -ldl

$(BUILD)/bench/%: bench/%.c $(AR_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O2 -Wno-missing-prototypes $< -o $@ $(AR_LIB) -lpthread -lm -ldl

$(BUILD)/bin/allocmap: $(CLI_SRCS) $(wildcard cli/*.h) include/allocmap.h include/allocmap_live.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O2 $(CLI_SRCS) -o $@ $(CLI_LIBS) -lstdc++ -lm

$(FIXTURE): tests/cli/live_fixture.c cli/live.c cli/fmt.c cli/live.h include/allocmap_live.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O0 -Wno-missing-prototypes tests/cli/live_fixture.c cli/live.c cli/fmt.c -o $@ $(CLI_LIBS)

tests: $(UNIT_BINS) $(SAN_BINS) $(HELPER_BINS) $(PROBE) $(LEAK_DSO) $(SO) $(CLI) $(FIXTURE) debug

# Stops at once, before building, if a package the tests need is missing:
# one line (make's own error), naming the apt-get command. With `make deps
# check`, after deps has run.
ifneq ($(filter check,$(MAKECMDGOALS)),)
ifeq ($(filter deps,$(MAKECMDGOALS)),)
DEPS_MISSING := $(shell deps/deps.sh check 2>&1)
$(if $(DEPS_MISSING),$(error $(DEPS_MISSING)))
endif
endif
check:
	@deps/deps.sh check
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) tests/run-all.sh

# leaks.sh times tests/prog_leakbench's heap
bench: $(BENCH_BINS) $(SO) $(BUILD)/tests/prog_leakbench
	@BUILD=$(BUILD) bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/allocmap/gdb
	install -m 755 $(SO) $(DESTDIR)$(PREFIX)/lib/liballocmap.so.$(VERSION)
	ln -sf liballocmap.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/liballocmap.so
	install -m 644 include/allocmap.h $(DESTDIR)$(PREFIX)/include/
	$(if $(CLI),install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/)
	install -m 644 doc/allocmap.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 tools/gdb/allocmap.py $(DESTDIR)$(PREFIX)/share/allocmap/gdb/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' allocmap.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/allocmap.pc

# The manual page is made from the help texts (tests/preload/cli.sh checks it).
man: $(CLI)
	tools/mkman.py $(CLI) > doc/allocmap.1

fuzz:
	@$(MAKE) -C tests/fuzz BUILD=$(abspath $(BUILD))/fuzz

format:
	clang-format -i $$(find src include tests bench cli -name '*.[ch]')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
