#!/bin/sh
# run.sh SECONDS TARGET... — build each libFuzzer target of test/fuzz/ with
# ASan and UBSan and run it for SECONDS on its committed corpus. New inputs
# go to test/tmp/fuzz/corpus-TARGET (test/fuzz/corpus/TARGET is only read);
# a crash, leak, undefined behaviour, timeout or broken invariant is saved
# as test/tmp/fuzz/TARGET-crash-... and fails the run. One line per target:
#
#   fuzz format: 812345 executions in 60 s, 37 new corpus items, ok
#
# and a last line counting the targets: "fuzz: 3 passed, 0 failed".
#
# Run from the project root (make fuzz does).

set -u
secs=$1
shift
CLANG=${FUZZ_CC:-clang}
out=test/tmp/fuzz
mkdir -p "$out"
failed=""

for t in "$@"; do
  bin=$out/fuzz_$t
  # -O1 keeps the sanitizers' reports readable and the runs quick.
  if ! "$CLANG" -std=c11 -Wall -Wextra -Werror -g -O1 \
       -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
       -fno-sanitize-recover=all -Iext -Itest/fuzz -o "$bin" \
       "test/fuzz/fuzz_$t.c" test/fuzz/fuzz_init.c ext/*.c -lsqlite3; then
    echo "fuzz $t: does not build"
    failed="$failed $t"
    continue
  fi
  mkdir -p "$out/corpus-$t"
  dict=""
  [ -f "test/fuzz/$t.dict" ] && dict="-dict=test/fuzz/$t.dict"
  log=$out/$t.log
  rm -f "$out/$t"-*
  start=$(date +%s)
  # shellcheck disable=SC2086
  # Scratch folders under test/tmp, even those a crash leaves behind.
  mkdir -p "$out/tmp"
  TMPDIR=$PWD/$out/tmp \
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$bin" $dict -max_total_time="$secs" -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$out/$t-" "$out/corpus-$t" "test/fuzz/corpus/$t" \
    >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  added=$(sed -n 's/^stat::new_units_added: *//p' "$log")
  if [ $rc -eq 0 ]; then
    verdict=ok
  else
    verdict="FAILED (exit $rc): $(grep -m1 -E 'ERROR|invariant failed|SUMMARY' "$log")"
    failed="$failed $t"
  fi
  echo "fuzz $t: ${execs:-0} executions in $((end-start)) s, ${added:-0} new corpus items, $verdict"
  if [ $rc -ne 0 ]; then
    ls "$out/$t"-* 2>/dev/null | sed 's/^/  input: /'
    echo "  log: $log"
  fi
done

nfail=$(echo $failed | wc -w)
echo "fuzz: $(($# - nfail)) passed, $nfail failed"
if [ -n "$failed" ]; then
  echo "fuzz: failed:$failed"
  exit 1
fi
