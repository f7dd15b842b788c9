#!/usr/bin/env bash
# Regenerates the seed corpus in Fuzz/corpus/ with the charrnn tools.
# Usage: bash Fuzz/make-seeds.sh [BIN]   (BIN: folder with the tools,
# default .build/release; build it first with `make build`).
# The seeds are committed; run this only to refresh them. File names avoid
# the .tokens/.ckpt extensions, which .gitignore ignores.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release}
C=Fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$C"
mkdir -p "$C/tensorfile" "$C/vocab" "$C/utf8"

# Texts. Short, so the seeds stay small.
printf 'To be, or not to be, that is the question:\nWhether tis nobler in the mind to suffer\nThe slings and arrows of outrageous fortune,\nOr to take arms against a sea of troubles\n' > "$tmp/en.txt"
printf '漢字かな交じり文。中文测试，日本語のテキスト。\n한국어 텍스트\nfamily: 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 skin 👍🏽\ncafe\xcc\x81 caf\xc3\xa9 Z\xcd\x91\xcd\xab\n' > "$tmp/intl.txt"
printf 'tab\there\\back\x7fdel\xe2\x80\x8bzwsp\xe2\x80\xa8ls\xc2\xa0nbsp\x01soh\xee\x80\x80pua\r\nnul\x00end\r\n' > "$tmp/controls.txt"
# More than 256 distinct symbols: U16 token ids.
python3 -c 'import sys; sys.stdout.write("".join(chr(c) for c in range(0x4E00, 0x4E00 + 300)) + "\n")' > "$tmp/u16.txt"

# Tensor files: tokens (char and byte units, U8 and U16), gzip and plain.
"$BIN/rnn-encode" -o "$tmp/en.tok" "$tmp/en.txt"
"$BIN/rnn-encode" -o "$tmp/intl.tok" "$tmp/intl.txt"
"$BIN/rnn-encode" --bytes -o "$tmp/bytes.tok" "$tmp/controls.txt"
"$BIN/rnn-encode" -o "$tmp/u16.tok" "$tmp/u16.txt"
for t in en intl bytes u16; do
  cp "$tmp/$t.tok" "$C/tensorfile/tokens-$t.gz"
  gzip -dc "$tmp/$t.tok" > "$C/tensorfile/tokens-$t.safetensors"
done

# Checkpoints: tiny LSTM (with RMSprop state), GRU with an embedding (Adam),
# and a stripped RNN; gzip and plain.
train() { "$BIN/rnn-train" "$tmp/en.tok" -o "$tmp/cv-$1" --savefile "$1" --rnn-size 4 --num-layers 1 \
            --batch-size 2 --seq-length 4 --max-iterations 1 --quiet "${@:2}" >/dev/null; ls "$tmp/cv-$1"/*.ckpt | head -1; }
lstm=$(train lstm)
gru=$(train gru --model gru --embedding-size 3 --optimizer adam --num-layers 2)
rnn=$(train rnn --model rnn)
"$BIN/rnn-ckpt" strip "$rnn" -o "$tmp/rnn-stripped.ckpt"
cp "$lstm" "$C/tensorfile/ckpt-lstm.gz";  gzip -dc "$lstm" > "$C/tensorfile/ckpt-lstm.safetensors"
cp "$gru" "$C/tensorfile/ckpt-gru-embed.gz"; gzip -dc "$gru" > "$C/tensorfile/ckpt-gru-embed.safetensors"
gzip -dc "$tmp/rnn-stripped.ckpt" > "$C/tensorfile/ckpt-rnn-stripped.safetensors"
# The same files in the harness's "header JSON, zero byte, data" framing
# (see FuzzTensorFile.swift): mutations of the JSON keep the file consistent.
for f in ckpt-lstm ckpt-gru-embed ckpt-rnn-stripped tokens-en tokens-u16; do
  python3 -c 'import struct, sys
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]
sys.stdout.buffer.write(b[8:8 + n].rstrip(b" ") + b"\0" + b[8 + n:])' "$C/tensorfile/$f.safetensors" > "$C/tensorfile/$f.framed"
done
# The smallest tensor file: an empty header padded to 8 bytes.
printf '\x08\x00\x00\x00\x00\x00\x00\x00{}      ' > "$C/tensorfile/empty.safetensors"

# Vocab files: char and byte units, escapes, CRLF line ends, a comment.
"$BIN/rnn-vocab" "$tmp/en.txt" > "$C/vocab/en-char.tsv"
"$BIN/rnn-vocab" "$tmp/intl.txt" > "$C/vocab/intl-char.tsv"
"$BIN/rnn-vocab" "$tmp/controls.txt" > "$C/vocab/controls-char.tsv"
"$BIN/rnn-vocab" --bytes "$tmp/controls.txt" > "$C/vocab/controls-byte.tsv"
"$BIN/rnn-vocab" --bytes "$tmp/intl.txt" > "$C/vocab/intl-byte.tsv"
sed 's/$/\r/' "$C/vocab/en-char.tsv" > "$C/vocab/en-char-crlf.tsv"
printf '# charrnn vocab v1 unit=char\n# a comment\n1\t2\t\\u{10FFFF}\n0\t1\t\\n\n' > "$C/vocab/comment-unordered.tsv"

# UTF-8 samples: valid text, and each kind of invalid sequence.
cp "$tmp/en.txt" "$C/utf8/ascii.txt"
cp "$tmp/intl.txt" "$C/utf8/cjk-emoji-combining.txt"
cp "$tmp/controls.txt" "$C/utf8/controls-nul-crlf.txt"
printf '\xf4\x8f\xbf\xbf \xef\xbf\xbf \xed\x9f\xbf \xee\x80\x80 \xf0\x90\x80\x80 \xdf\xbf \xc2\x80' > "$C/utf8/boundaries.txt"
printf 'stray \x80 continuation' > "$C/utf8/bad-stray.bin"
printf 'overlong \xc0\xaf slash' > "$C/utf8/bad-overlong2.bin"
printf 'overlong \xe0\x80\xaf slash' > "$C/utf8/bad-overlong3.bin"
printf 'surrogate \xed\xa0\x80 half' > "$C/utf8/bad-surrogate.bin"
printf 'too big \xf4\x90\x80\x80' > "$C/utf8/bad-too-big.bin"
printf 'never \xf5\xff bytes' > "$C/utf8/bad-f5-ff.bin"
printf 'cut off \xe2\x82' > "$C/utf8/bad-cut-off.bin"
printf 'bad continuation \xe2\x28\xa1 here' > "$C/utf8/bad-continuation.bin"
printf 'latin-1 caf\xe9\n' > "$C/utf8/bad-latin1.bin"

ls -l "$C"/*
du -sh "$C"
