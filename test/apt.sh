# apt.sh — sourced by test/deps.sh and test/fuzz/deps.sh: collect the Debian
# packages a check() finds missing, then install them (as root) or print the
# command that will (otherwise). The sourcing script defines check(), which
# resets $missing and calls need PACKAGE for each one lacking.

missing=""
need() { # need PACKAGE: add PACKAGE to the list once
  case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac
}
have() { command -v "$1" >/dev/null 2>&1; }

# have_tcl_package NAME: tclsh can load package NAME. The script goes in as
# a file, not on standard input: tclsh reading standard input reports an
# error and carries on, so `echo 'package require X' | tclsh` exits 0 even
# when X is missing.
have_tcl_package() {
  have tclsh || return 1
  script=$(mktemp) || return 1
  printf 'package require %s\n' "$1" > "$script"
  tclsh "$script" >/dev/null 2>&1
  rc=$?
  rm -f "$script"
  return $rc
}

# install_missing LABEL: run check; install what it lists; check again.
install_missing() {
  check
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages; install them as root with:" >&2
    if have sudo; then
      echo "  sudo apt-get install -y$missing" >&2
    else
      echo "  su -c 'apt-get install -y$missing'" >&2
    fi
    return 1
  fi
  echo "$1: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || return 1
  # $missing is a list of package names: split it on purpose.
  # shellcheck disable=SC2086
  apt-get install -y -qq $missing >/dev/null || return 1
  check
  if [ -n "$missing" ]; then
    echo "$1: still missing after install:$missing" >&2
    return 1
  fi
}
