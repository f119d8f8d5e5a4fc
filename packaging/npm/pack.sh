#!/bin/sh
# pack.sh LIB OUTDIR — the npm package: a tarball made by `npm pack` in
# OUTDIR, holding LIB (migrate.so) under lib/<platform>-<arch>/ as Node
# names them, versioned by the VERSION file. package.json's os, cpu and libc
# fields name this platform only, so npm refuses to install it on another.
# Prints the tarball's path.
set -eu
lib=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=$(cat "$root/VERSION")
command -v node >/dev/null 2>&1 || { echo "pack.sh: node is missing" >&2; exit 1; }
os=$(node -p process.platform)
cpu=$(node -p process.arch)
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/lib/$os-$cpu"
cp "$lib" "$stage/lib/$os-$cpu/migrate.so"
cp "$here/index.d.ts" "$here/README.md" "$stage/"
sed -e "s/@VERSION@/$version/g" -e "s/@OS@/$os/g" -e "s/@CPU@/$cpu/g" \
  "$here/package.json.in" > "$stage/package.json"
sed -e "s/@VERSION@/$version/g" "$here/index.js" > "$stage/index.js"
tgz=$(cd "$stage" && npm pack --silent --pack-destination "$out")
echo "$out/$tgz"
