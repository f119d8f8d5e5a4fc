#!/bin/sh
# deps.sh — install what `make fuzz` needs that a fresh Debian machine lacks:
# clang and its libFuzzer/sanitizer runtimes, beside what test/deps.sh
# installs. Silent when nothing is missing. As root it installs the missing
# packages; otherwise it prints the command to run and fails.

CLANG=${FUZZ_CC:-clang}
missing=""
need() { # need PACKAGE: add PACKAGE to the list once
  case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac
}
have() { command -v "$1" >/dev/null 2>&1; }

# Can clang link a libFuzzer target with ASan and UBSan?
links() {
  dir=$(mktemp -d) || return 1
  printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n){ (void)d; (void)n; return 0; }' \
    > "$dir/t.c"
  "$CLANG" -fsanitize=fuzzer,address,undefined -o "$dir/t" "$dir/t.c" >/dev/null 2>&1
  rc=$?
  rm -rf "$dir"
  return $rc
}

check() {
  missing=""
  if have "$CLANG"; then
    links || need libclang-rt-dev
  else
    need clang
    need libclang-rt-dev
  fi
}

sh test/deps.sh || exit 1
check
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages; install them with:" >&2
  echo "  sudo apt-get install -y$missing" >&2
  exit 1
fi

echo "fuzz deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
# $missing is a list of package names: split it on purpose.
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null || exit 1

check
if [ -n "$missing" ]; then
  echo "fuzz deps: still missing after install:$missing" >&2
  exit 1
fi
