#!/bin/sh
# deps.sh — install what `make test` and `make demo` need that a fresh Debian
# machine lacks. Silent when nothing is missing. As root it installs the
# missing packages; otherwise it prints the command to run and fails.

missing=""
need() { # need PACKAGE: add PACKAGE to the list once
  case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac
}
have() { command -v "$1" >/dev/null 2>&1; }

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

check
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages; install them with:" >&2
  echo "  sudo apt-get install -y$missing" >&2
  exit 1
fi

echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
# $missing is a list of package names: split it on purpose.
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null || exit 1

check
if [ -n "$missing" ]; then
  echo "deps: still missing after install:$missing" >&2
  exit 1
fi
