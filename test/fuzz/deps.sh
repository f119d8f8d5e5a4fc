#!/bin/sh
# deps.sh — install what `make fuzz` needs that a fresh Debian machine lacks:
# clang and its libFuzzer/sanitizer runtimes, beside what test/deps.sh
# installs. Silent when nothing is missing. As root it installs the missing
# packages; otherwise it prints the command to run and fails.

CLANG=${FUZZ_CC:-clang}
. test/apt.sh

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
install_missing "fuzz deps"
