#!/bin/sh
# deps.sh — what `make bench` needs beyond `make test`'s packages: sha256sum
# (coreutils), /usr/bin/time (package time) for peak memory, valgrind for
# BENCH_CALLGRIND=1 and, when npm is there, the peer tool dbmate, installed
# into bench/node_modules only (never a dependency of the extension).
cd "$(dirname "$0")" || exit 1
command -v sha256sum >/dev/null 2>&1 || { echo "bench: sha256sum missing (coreutils)" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "bench: installing time (peak memory)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1; } \
      || { echo "bench: cannot install time (/usr/bin/time)" >&2; exit 1; }
  else
    echo "bench: /usr/bin/time missing: sudo apt-get install time" >&2; exit 1
  fi
fi
if [ "${BENCH_CALLGRIND:-0}" != 0 ] && ! command -v valgrind >/dev/null 2>&1; then
  echo "bench: installing valgrind (BENCH_CALLGRIND)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null 2>&1 \
    || { echo "bench: cannot install valgrind" >&2; exit 1; }
fi
if [ ! -x node_modules/@dbmate/linux-x64/bin/dbmate ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "bench: installing dbmate into bench/node_modules" >&2
    npm install --no-audit --no-fund --no-package-lock --silent >/dev/null 2>&1 \
      || echo "bench: npm install dbmate failed; its row is skipped" >&2
  else
    echo "bench: npm not found; the dbmate row is skipped" >&2
  fi
fi
exit 0
