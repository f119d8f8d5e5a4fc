#!/bin/sh
# deps.sh demo|test|valgrind — install what `make demo`, `make test` or
# `make valgrind` needs that a fresh Debian machine lacks. Silent when nothing is missing. As root it
# installs the missing packages; otherwise it prints the command to run and
# fails. The demo needs only the build and the sqlite3 shell; the suite needs
# Tcl with SQLite's and the Thread package, Python, strace and the rest.

. test/apt.sh

what=${1:-test}
case $what in
  demo|test|valgrind) ;;
  *) echo "usage: sh test/deps.sh demo|test|valgrind" >&2; exit 2 ;;
esac

check() {
  missing=""
  # The build: a C compiler and SQLite's headers (sqlite3ext.h).
  have cc || need gcc
  have make || need make
  [ -f /usr/include/sqlite3ext.h ] || need libsqlite3-dev
  # The demo runs each step in the sqlite3 shell.
  have sqlite3 || need sqlite3
  [ "$what" = demo ] && return 0
  have tclsh || need tcl
  have_tcl_package sqlite3 || need libsqlite3-tcl
  # concurrency.test runs writers in threads.
  have_tcl_package Thread || need tcl-thread
  # Python's sqlite3 module loads the extension in python*.test.
  [ -x /usr/bin/python3 ] || need python3
  # security.test counts the opens of each migration file with strace.
  have strace || need strace
  # load.test and fault.test read exported symbols with nm.
  have nm || need binutils
  # hostile.test drops capabilities with setpriv.
  have setpriv || need util-linux
  [ "$what" = valgrind ] || return 0
  have valgrind || need valgrind
}

install_missing "$what deps"
