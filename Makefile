# migrate — a SQLite loadable extension for schema migrations.
#
#   make            build migrate.so
#   make test       run the Tcl suite (installs missing Debian packages first)
#   make demo       build, then walk through sql/demo on a scratch database
#   make install    install migrate.so where `.load migrate` finds it
#   make sanitize   the suite under ASan + UBSan
#   make valgrind   the suite under valgrind memcheck
#   make bench      performance ratios against the sqlite3 shell (BENCH_QUICK=1: fast)
#   make faulttest  every allocation, I/O and file call failed in turn (test/fault)
#   make stress     concurrency.test with 200 rounds instead of 24
#   make fuzz       each libFuzzer target of test/fuzz/ for FUZZ_TIME seconds
#   make crashtest  SIGKILL during migrations, backups and restores (KILLS=2000)
#   make python     the Python package, a wheel, in dist/ (packaging/python)
#   make npm        the npm package, a tarball, in dist/ (packaging/npm)
#   make test-python-noload  the wheel on a CPython that cannot load extensions

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
# Only the entry point is exported: SQLite loads extensions so that later
# libraries see their symbols, and ours must not collide with anyone's.
PIC      = -fPIC -fvisibility=hidden
# What migrate_version() and migrate_debug() report: the VERSION file, and
# the commit when built inside a git checkout ("unknown" without git).
VERSION := $(shell cat VERSION)
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DEFS     = -DMIGRATE_VERSION='"$(VERSION)"' -DMIGRATE_COMMIT='"$(COMMIT)"'
SRC      = $(sort $(wildcard ext/*.c))
HDR      = $(wildcard ext/*.h)
LIB      = migrate.so
# `.load migrate` (no path) makes SQLite dlopen("migrate.so"), which searches
# LD_LIBRARY_PATH, the ld.so cache and the default directories. The cache only
# lists lib*.so names, so the file must sit in a default directory: /usr/lib.
# Elsewhere (LIBDIR=/usr/local/lib) load it by path, or set LD_LIBRARY_PATH.
LIBDIR  ?= /usr/lib
TCLSH   ?= tclsh
PYTHON  ?= /usr/bin/python3
FUZZ_TIME    ?= 60
FUZZ_TARGETS  = format name apply normalize lint
# make crashtest: how many kills, and the rows of the big tables.
KILLS   ?= 2000
ROWS    ?= 100000

all: $(LIB)

$(LIB): $(SRC) $(HDR) VERSION
	$(CC) $(WARN) $(DEFS) $(CFLAGS) $(PIC) -shared -o $@ $(SRC)

deps:
	@sh test/deps.sh test

demo-deps:
	@sh test/deps.sh demo

valgrind-deps:
	@sh test/deps.sh valgrind

test: deps $(LIB)
	@$(TCLSH) test/all.tcl

demo: demo-deps $(LIB)
	@sh sql/demo.sh

install: $(LIB)
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0644 $(LIB) $(DESTDIR)$(LIBDIR)/$(LIB)

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(LIB)

# migrate.so first: install.test runs `make install`, which must not compile
# under the sanitizer preload (the compiler itself would be reported).
sanitize: deps $(LIB)
	$(CC) $(WARN) $(DEFS) -DMIGRATE_SANITIZERS='"address,undefined"' -O1 -g \
	  -fsanitize=address,undefined -fno-omit-frame-pointer \
	  $(PIC) -shared -o migrate-asan.so $(SRC)
	@MIGRATE_LIB=./migrate-asan.so \
	  LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(TCLSH) test/all.tcl

valgrind: valgrind-deps $(LIB)
	@MIGRATE_VALGRIND=1 $(TCLSH) test/all.tcl

# Fault injection: test/fault/fault.c against a build whose file calls can
# be failed (-DMIGRATE_FAULT_HOOKS exports migrate_fault_fileops; migrate.so
# exports nothing but its entry point). Plain, then under ASan + UBSan.
# FAULTARGS narrows it: FAULTARGS="-s apply -k malloc", "-stride 10".
FAULTWORK ?= $(shell [ -d /dev/shm ] && echo /dev/shm/migrate-fault-$$PPID || echo test/tmp/fault)
FAULTARGS ?=
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer
faulttest: deps
	@mkdir -p test/tmp
	$(CC) $(WARN) $(DEFS) $(CFLAGS) $(PIC) -DMIGRATE_FAULT_HOOKS -shared -o test/tmp/migrate-fault.so $(SRC)
	$(CC) $(WARN) $(CFLAGS) -Iext -o test/tmp/faulthost test/fault/fault.c -lsqlite3 -ldl
	test/tmp/faulthost test/tmp/migrate-fault.so $(FAULTWORK) $(FAULTARGS); \
	  rc=$$?; rm -rf $(FAULTWORK); exit $$rc
	$(CC) $(WARN) $(DEFS) -DMIGRATE_SANITIZERS='"address,undefined"' -O1 -g $(SANFLAGS) $(PIC) \
	  -DMIGRATE_FAULT_HOOKS -shared -o test/tmp/migrate-fault-asan.so $(SRC)
	$(CC) $(WARN) -O1 -g $(SANFLAGS) -Iext -o test/tmp/faulthost-asan test/fault/fault.c -lsqlite3 -ldl
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  test/tmp/faulthost-asan test/tmp/migrate-fault-asan.so $(FAULTWORK) $(FAULTARGS); \
	  rc=$$?; rm -rf $(FAULTWORK); exit $$rc

stress: deps $(LIB)
	@MIGRATE_CONC_ROUNDS=200 $(TCLSH) test/all.tcl test/concurrency.test

# clang -fsanitize=fuzzer,address,undefined; installs clang if it is missing.
fuzz:
	@sh test/fuzz/deps.sh
	@sh test/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_TARGETS)

crashtest: deps $(LIB)
	@CRASH_KILLS=$(KILLS) CRASH_ROWS=$(ROWS) $(TCLSH) test/crash.test

bench: deps $(LIB)
	@sh bench/deps.sh
	@$(PYTHON) bench/run.py

# The packages Python and Node users install, versioned by the VERSION
# file, holding migrate.so as built here: for this platform only.
python: $(LIB)
	@$(PYTHON) packaging/python/build_wheel.py $(LIB) dist

npm: $(LIB)
	@sh packaging/npm/pack.sh $(LIB) dist

# The wheel installed with pip into a venv of a CPython built from source
# with its default options, which cannot load extensions the usual way. The
# build takes minutes the first time (test/python-noload.sh, cached in
# test/cache/), so it is not part of `make test`; .ci/run runs it.
test-python-noload: deps $(LIB)
	@sh test/deps.sh python-noload
	@sh test/python-noload.sh >/dev/null
	@$(TCLSH) test/all.tcl test/packages-noload.tcl

clean:
	rm -f $(LIB) migrate-asan.so
	rm -rf test/tmp demo.tmp bench/tmp dist

.PHONY: all deps demo-deps valgrind-deps test demo install uninstall sanitize valgrind faulttest stress fuzz crashtest bench python npm test-python-noload clean
