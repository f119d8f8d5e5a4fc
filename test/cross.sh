#!/bin/sh
# cross.sh — `make cross`: install what the musl and Windows builds need that
# a fresh Debian lacks (musl-gcc, the mingw-w64 compiler, wine, npm; for
# SHA-256's other CPUs gcc for AArch64 and 32-bit x86, qemu, clang), fetch
# SQLite's amalgamation, then run test/cross/cross.test. Kept out of `make
# test` so that one stays light on a minimal Debian. As root it installs;
# otherwise it prints the command to run and fails.

. test/apt.sh

check() {
  missing=""
  have make || need make
  have tclsh || need tcl
  have_tcl_package sqlite3 || need libsqlite3-tcl
  [ -f /usr/include/sqlite3ext.h ] || need libsqlite3-dev
  have musl-gcc || need musl-tools
  have x86_64-w64-mingw32-gcc || need gcc-mingw-w64-x86-64
  have x86_64-w64-mingw32-objdump || need binutils-mingw-w64-x86-64
  # wine runs console programs with no display; wine64 is its 64-bit half.
  have wine || need wine
  [ -x /usr/lib/wine/wine64 ] || need wine64
  have npm || need npm
  # SHA-256's code for other CPUs (cross.test, section 3): compilers for
  # AArch64 and 32-bit x86 (not gcc-multilib, which Debian will not
  # install beside the AArch64 one), qemu to run their programs, clang.
  have aarch64-linux-gnu-gcc || need gcc-aarch64-linux-gnu
  have i686-linux-gnu-gcc || need gcc-i686-linux-gnu
  have qemu-aarch64 || need qemu-user
  have clang || need clang
}

install_missing "cross deps" || exit 1

# SQLite's amalgamation (sqlite3.c, sqlite3.h, sqlite3ext.h), for programs
# built for musl and Windows, where Debian has no SQLite library to link:
# the copy the npm package better-sqlite3 ships in deps/sqlite3, pinned
# (npm checks it against the registry's integrity hash). Nothing is built.
PKG=better-sqlite3@12.9.0
amal=test/engines/amalgamation
if [ "$(cat "$amal/package.version" 2>/dev/null)" != "$PKG" ] ||
   [ ! -f "$amal/sqlite3.c" ]; then
  echo "cross deps: fetching SQLite's amalgamation ($PKG) with npm" >&2
  mkdir -p "$amal" || exit 1
  tmp=$(mktemp -d) || exit 1
  if ! (cd "$tmp" && npm pack --silent "$PKG" >/dev/null) ||
     ! tar -xzf "$tmp"/*.tgz -C "$tmp" package/deps/sqlite3; then
    rm -rf "$tmp"
    echo "cross deps: could not fetch $PKG" >&2
    exit 1
  fi
  mv "$tmp"/package/deps/sqlite3/sqlite3.c "$tmp"/package/deps/sqlite3/sqlite3.h \
     "$tmp"/package/deps/sqlite3/sqlite3ext.h "$amal"/ &&
    echo "$PKG" > "$amal/package.version"
  rc=$?
  rm -rf "$tmp"
  [ $rc -eq 0 ] || exit $rc
fi

exec tclsh test/all.tcl test/cross/cross.test
