#!/bin/sh
# python-noload.sh — build, once, a CPython that cannot load SQLite
# extensions, for test/packages-noload.tcl: the Python of pyenv and of most
# builds made from CPython's source, where sqlite3.Connection has no
# enable_load_extension. The source is Debian's own python3.11 source package,
# fetched with apt-get from the Debian mirror this machine uses, its signature
# checked against Debian's keyring, through a private source list (the
# machine's apt configuration is not changed). CPython is configured with its
# default options: without --enable-loadable-sqlite-extensions, its sqlite3
# module leaves extension loading out. Built into test/cache/ (ignored by
# git); a second run finds it there and does nothing.
#
#   sh test/python-noload.sh      prints the path of the built python3
set -eu
cd "$(dirname "$0")/.."
cache=$PWD/test/cache/python-noload
python=$cache/install/bin/python3
if [ -x "$python" ] && [ -f "$cache/built" ]; then
  echo "$python"; exit 0
fi
. /etc/os-release
mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' \
  /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}
rm -rf "$cache" && mkdir -p "$cache/apt/lists/partial" "$cache/apt/parts" "$cache/apt/cache"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$VERSION_CODENAME" \
  > "$cache/apt/sources.list"
apt() {
  apt-get -q -o Dir::Etc::SourceList="$cache/apt/sources.list" \
    -o Dir::Etc::SourceParts="$cache/apt/parts" \
    -o Dir::State::Lists="$cache/apt/lists" -o Dir::Cache="$cache/apt/cache" "$@"
}
echo "python-noload: fetching Debian's python3.11 source package" >&2
apt update >"$cache/apt.log" 2>&1 || { cat "$cache/apt.log" >&2; exit 1; }
(cd "$cache" && apt source --download-only python3.11) >>"$cache/apt.log" 2>&1 ||
  { cat "$cache/apt.log" >&2; exit 1; }
orig=$(ls "$cache"/python3.11_*.orig.tar.* | head -n 1)
mkdir -p "$cache/src"
tar -xf "$orig" -C "$cache/src" --strip-components=1
echo "python-noload: building $(basename "$orig") with CPython's default options" >&2
start=$(date +%s)
(cd "$cache/src" && ./configure --prefix="$cache/install" &&
   make -j2 && make install) >"$cache/build.log" 2>&1 ||
  { tail -n 40 "$cache/build.log" >&2; exit 1; }
echo "python-noload: built in $(( $(date +%s) - start )) s" >&2
touch "$cache/built"
echo "$python"
