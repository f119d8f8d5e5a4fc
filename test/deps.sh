#!/bin/sh
# deps.sh — install what `make test` and `make demo` need that a fresh Debian
# machine lacks. Silent when nothing is missing. As root it installs the
# missing packages; otherwise it prints the command to run and fails.

. test/apt.sh

check() {
  missing=""
  have cc || need gcc
  have make || need make
  if have tclsh; then
    echo 'package require sqlite3' | tclsh >/dev/null 2>&1 || need libsqlite3-tcl
    echo 'package require Thread' | tclsh >/dev/null 2>&1 || need tcl-thread
  else
    need tcl
    need libsqlite3-tcl
    need tcl-thread
  fi
  [ -f /usr/include/sqlite3.h ] || need libsqlite3-dev
  have sqlite3 || need sqlite3
  [ -x /usr/bin/python3 ] || need python3
  # security.test counts the opens of each migration file with strace.
  have strace || need strace
}

install_missing deps
