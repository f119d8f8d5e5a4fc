# migrate — a SQLite loadable extension for schema migrations.
#
#   make            build migrate.so and sqlite-migrate, the command-line
#                   program (doc/cli.md)
#   make test       run the Tcl suite (installs missing Debian packages first)
#   make demo       build, then walk through sql/demo on a scratch database
#   make install    install migrate.so where `.load migrate` finds it, the
#                   header, static library and pkg-config file for compiling it in,
#                   and sqlite-migrate in $(PREFIX)/bin
#   make static     libmigrate.a (SQLITE_CORE), and a program with it compiled in
#   make cross      the musl and Windows builds, each run by test/cross.test
#                   (the Windows one under wine); installs what they need
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
# No -D flags: ext/platform.h defines what each system needs, ext/version.h
# holds the version (made from VERSION, below).
WARN     = -std=c11 -Wall -Wextra -Werror
CLI     ?= sqlite-migrate
# What the system loads: SQLite appends .so, .dylib or .dll to a name
# given without one (".load migrate"). make SYSTEM=... overrides the guess.
ifeq ($(OS),Windows_NT)
SYSTEM  ?= windows
else ifeq ($(shell uname -s 2>/dev/null),Darwin)
SYSTEM  ?= macos
else
SYSTEM  ?= unix
endif
ifeq ($(SYSTEM),windows)
LIB      = migrate.dll
CLI      = sqlite-migrate.exe
SHARED   = -shared
PIC      =
else ifeq ($(SYSTEM),macos)
LIB      = migrate.dylib
SHARED   = -dynamiclib
PIC      = -fPIC -fvisibility=hidden
else
LIB      = migrate.so
SHARED   = -shared
# Only the entry point is exported: SQLite loads extensions so that later
# libraries see their symbols, and ours must not collide with anyone's.
PIC      = -fPIC -fvisibility=hidden
endif
# migrate_debug() reports the commit when built inside a git checkout
# ("unknown" without git, or when built without the Makefile).
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DEFS     = -DMIGRATE_COMMIT='"$(COMMIT)"'
SRC      = $(sort $(wildcard ext/*.c))
HDR      = $(wildcard ext/*.h) ext/version.h
# `.load migrate` (no path) makes SQLite dlopen("migrate.so"), which searches
# LD_LIBRARY_PATH, the ld.so cache and the default directories. The cache only
# lists lib*.so names, so the file must sit in a default directory: /usr/lib.
# Elsewhere (LIBDIR=/usr/local/lib) load it by path, or set LD_LIBRARY_PATH.
LIBDIR  ?= /usr/lib
INCLUDEDIR   ?= /usr/include
# The program goes where programs installed by hand go.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
TCLSH   ?= tclsh
PYTHON  ?= /usr/bin/python3
FUZZ_TIME    ?= 60
FUZZ_TARGETS  = format name apply normalize lint
# make crashtest: how many kills, and the rows of the big tables.
KILLS   ?= 2000
ROWS    ?= 100000

all: $(LIB) $(CLI)

$(LIB): $(SRC) $(HDR)
	$(CC) $(WARN) $(DEFS) $(CFLAGS) $(PIC) $(SHARED) -o $@ $(SRC)

# sqlite-migrate (doc/cli.md): cli/*.c with the extension compiled in (the
# objects of libmigrate.a), linked with the system's SQLite. It registers
# migrate on its own connection, so nothing is loaded at run time.
CLISRC   = $(sort $(wildcard cli/*.c))
$(CLI): $(CLISRC) cli/cli.h include/sqlite3_migrate.h libmigrate.a
	$(CC) $(WARN) $(CFLAGS) -Iinclude -o $@ $(CLISRC) libmigrate.a -lsqlite3

# The one place the version is written is VERSION; the header is made from
# it (and committed, so a build without make needs nothing else).
ext/version.h: VERSION
	printf '/* version.h — made by the Makefile from the VERSION file (test/version.test\n** checks that they agree): edit VERSION, not this file. */\n#ifndef MIGRATE_VERSION\n#define MIGRATE_VERSION "%s"\n#endif\n' "$$(cat VERSION)" > $@

# Compiled into the application (doc/embedding.md): SQLITE_CORE makes every
# call a direct call into the SQLite the program links, and the program
# registers sqlite3_migrate_init with sqlite3_auto_extension().
STATICDIR = test/tmp/static
static: libmigrate.a test/tmp/smoke-static

libmigrate.a: $(SRC) $(HDR)
	rm -rf $(STATICDIR) && mkdir -p $(STATICDIR)
	cd $(STATICDIR) && $(CC) $(WARN) $(DEFS) $(CFLAGS) -DSQLITE_CORE -c $(addprefix $(CURDIR)/,$(SRC))
	rm -f $@ && ar rcs $@ $(STATICDIR)/*.o

test/tmp/smoke-static: test/smoke.c include/sqlite3_migrate.h libmigrate.a
	$(CC) $(WARN) $(CFLAGS) -Iinclude -DSMOKE_EMBEDDED -o $@ test/smoke.c libmigrate.a -lsqlite3

migrate.pc: VERSION
	printf 'prefix=%s\nlibdir=%s\nincludedir=%s\n\nName: migrate\nDescription: schema migrations inside SQLite (compiled in: sqlite3_migrate_init)\nVersion: %s\nRequires: sqlite3\nLibs: -L$${libdir} -lmigrate\nCflags: -I$${includedir}\n' \
	  "$(patsubst %/,%,$(dir $(LIBDIR)))" "$(LIBDIR)" "$(INCLUDEDIR)" "$$(cat VERSION)" > $@

deps:
	@sh test/deps.sh test

demo-deps:
	@sh test/deps.sh demo

valgrind-deps:
	@sh test/deps.sh valgrind

test: deps $(LIB) $(CLI)
	@$(TCLSH) test/all.tcl

demo: demo-deps $(LIB)
	@sh sql/demo.sh

# migrate.pc names the directories it is installed for: made again each time.
install: $(LIB) libmigrate.a $(CLI)
	rm -f migrate.pc && $(MAKE) -s migrate.pc LIBDIR=$(LIBDIR) INCLUDEDIR=$(INCLUDEDIR)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/$(CLI)
	install -m 0644 $(LIB) $(DESTDIR)$(LIBDIR)/$(LIB)
	install -m 0644 libmigrate.a $(DESTDIR)$(LIBDIR)/libmigrate.a
	install -m 0644 include/sqlite3_migrate.h $(DESTDIR)$(INCLUDEDIR)/sqlite3_migrate.h
	install -m 0644 migrate.pc $(DESTDIR)$(PKGCONFIGDIR)/migrate.pc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/$(CLI)
	rm -f $(DESTDIR)$(LIBDIR)/$(LIB) $(DESTDIR)$(LIBDIR)/libmigrate.a \
	  $(DESTDIR)$(INCLUDEDIR)/sqlite3_migrate.h $(DESTDIR)$(PKGCONFIGDIR)/migrate.pc

# migrate.so and sqlite-migrate first: install.test runs `make install`, which
# must not compile under the sanitizer preload (the compiler itself would be reported).
sanitize: deps $(LIB) $(CLI)
	$(CC) $(WARN) $(DEFS) -DMIGRATE_SANITIZERS='"address,undefined"' -O1 -g \
	  -fsanitize=address,undefined -fno-omit-frame-pointer \
	  $(PIC) -shared -o migrate-asan.so $(SRC)
	$(CC) $(WARN) $(DEFS) -DMIGRATE_SANITIZERS='"address,undefined"' -O1 -g \
	  -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -DSQLITE_CORE -Iinclude -o sqlite-migrate-asan $(CLISRC) $(SRC) -lsqlite3
	@MIGRATE_LIB=./migrate-asan.so MIGRATE_CLI=./sqlite-migrate-asan \
	  LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(TCLSH) test/all.tcl

valgrind: valgrind-deps $(LIB) $(CLI)
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

# The musl and Windows builds (test/cross.sh: the compilers, wine, and
# SQLite's amalgamation for the programs they run), then test/cross.test.
cross:
	@sh test/cross.sh

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
	rm -f $(LIB) $(CLI) migrate-asan.so sqlite-migrate-asan libmigrate.a migrate.pc
	rm -rf test/tmp demo.tmp bench/tmp dist

.PHONY: all static cross deps demo-deps valgrind-deps test demo install uninstall sanitize valgrind faulttest stress fuzz crashtest bench python npm test-python-noload clean
