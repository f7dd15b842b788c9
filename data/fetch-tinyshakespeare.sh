#!/usr/bin/env bash
# Fetches char-rnn's tiny-shakespeare (1,115,394 bytes) into
# data/tinyshakespeare/input.txt, checked by sha256.
set -euo pipefail
url=$1 want_sha=$2
cd "$(dirname "$0")"
mkdir -p tinyshakespeare
out=tinyshakespeare/input.txt
if ! curl -fsSL --max-time 60 -o "$out.tmp" "$url"; then
  rm -f "$out.tmp"
  echo "make: error: could not download tiny-shakespeare from $url (offline?) — copy the file to data/$out by hand" >&2
  exit 1
fi
got=$(sha256sum "$out.tmp" | cut -d' ' -f1)
if [ "$got" != "$want_sha" ]; then
  rm -f "$out.tmp"
  echo "make: error: downloaded tiny-shakespeare has sha256 $got, expected $want_sha" >&2; exit 1
fi
mv "$out.tmp" "$out"
