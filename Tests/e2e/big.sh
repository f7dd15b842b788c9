#!/usr/bin/env bash
# Big inputs, end to end (make test-big): a 1 GB byte-mode corpus through
# rnn-encode --bytes, --decode and the first 3 iterations of rnn-train,
# each under 1.5 GB of peak resident memory; and rnn-sample of 10 million
# characters in the same memory as 10 thousand. Prints the figures.
# Needs about 2 GB free in ${TMPDIR:-/tmp}; takes about a minute on 2 cores.
# Usage: bash Tests/e2e/big.sh BIN_DIR     (e.g. .build/release)
# Cases use the table-driven runner `t` (see lib.sh and cli.sh's header).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in rnn-encode rnn-train rnn-sample; do
    if [ $# -ne 1 ] || [ ! -x "$1/$tool" ]; then
        echo "usage: bash Tests/e2e/big.sh BIN_DIR (a folder with rnn-encode, rnn-train and rnn-sample)" >&2
        exit 2
    fi
done
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-big.XXXXXX")
trap 'rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2
source "$HERE/lib.sh"
started=$SECONDS
LIMIT_KB=$((1536 * 1024))           # 1.5 GB
SIZE=${BIG_BYTES:-1073741824}       # 1 GB

free_kb=$(df -Pk "$T" | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt $((SIZE / 1024 * 2)) ]; then
    echo "big.sh needs about $((SIZE / 1024 / 1024 * 2)) MB free in $T; there are $((free_kb / 1024)) MB" >&2
    exit 1
fi

# Peak resident memory in KB of COMMAND (its stdout to OUTFILE), into FILE.peak.
# peak NAME OUTFILE COMMAND...
peak() {
    local name=$1 out=$2
    shift 2
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$name.peak" "$@" > "$out"
    else
        python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "wb"))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r.returncode)' "$out" "$@" > "$name.peak"
    fi
}
export -f peak
mb() { echo "$(( $(cat "$1.peak" 2>/dev/null || echo 0) / 1024 )) MB"; }
under() { echo "test -s $1.peak && test \$(cat $1.peak) -lt $LIMIT_KB"; }

# ---- A 1 GB corpus: words from a 5 MB random text, rotated, streamed to disk ------
python3 - "$SIZE" <<'PY'
import random, sys
total = int(sys.argv[1])
rng = random.Random(1)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 10))) for _ in range(5000)]
chunk = " ".join(rng.choice(words) + ("\n" if rng.random() < 0.08 else "") for _ in range(800000)).encode()
with open("big.txt", "wb") as f:
    n = 0
    while n < total:
        k = rng.randrange(len(chunk))
        piece = (chunk[k:] + chunk[:k])[: total - n]
        f.write(piece)
        n += len(piece)
PY
echo "corpus: $(stat -c %s big.txt) bytes"

# ---- Cases -------------------------------------------------------------------------
s=$SECONDS
t "rnn-encode --bytes of 1 GB works" 0 NONE - empty "peak encode /dev/null rnn-encode --bytes big.txt -o big.tokens && gzip -t big.tokens"
encode_s=$((SECONDS - s))
echo "     info: rnn-encode --bytes: peak RSS $(mb encode), $encode_s s, tokens file $(stat -c %s big.tokens 2>/dev/null) bytes"
t "rnn-encode --bytes of 1 GB: peak RSS under 1.5 GB ($(mb encode))" 0 NONE - empty "$(under encode)"
s=$SECONDS
t "rnn-encode --decode gives the 1 GB back" 0 NONE - empty "peak decode decoded.txt rnn-encode --decode big.tokens && cmp decoded.txt big.txt && rm decoded.txt"
echo "     info: rnn-encode --decode: peak RSS $(mb decode), $((SECONDS - s)) s"
t "rnn-encode --decode of 1 GB: peak RSS under 1.5 GB ($(mb decode))" 0 NONE - empty "$(under decode)"
s=$SECONDS
# The validation share is tiny: 5% of 2 million minibatches would take hours.
TRAIN="--rnn-size 32 --num-layers 1 --batch-size 16 --seq-length 32 --max-iterations 3 --train-frac 0.999999 --val-frac 0.000001 -q"
t "rnn-train on 1 GB: the first 3 iterations" 0 NONE - empty "peak train /dev/null rnn-train big.tokens -o cv $TRAIN && gzip -t cv/*.ckpt"
echo "     info: rnn-train (3 iterations, 1x32 LSTM, batch 16x32): peak RSS $(mb train), $((SECONDS - s)) s"
t "rnn-train on 1 GB: peak RSS under 1.5 GB ($(mb train))" 0 NONE - empty "$(under train)"

# ---- Sampling 10 million characters: constant memory -----------------------------------
CK=$(ls cv/*.ckpt 2>/dev/null | head -n 1)
s=$SECONDS
t "rnn-sample -n 10000" 0 NONE - empty "peak small /dev/null rnn-sample '$CK' -n 10000 --seed 1"
t "rnn-sample -n 10000000" 0 NONE - empty "peak large /dev/null rnn-sample '$CK' -n 10000000 --seed 1"
echo "     info: rnn-sample peak RSS: $(cat small.peak 2>/dev/null) KB for 10 thousand characters, $(cat large.peak 2>/dev/null) KB for 10 million ($((SECONDS - s)) s)"
t "rnn-sample: 10 million characters within 4 MB of 10 thousand" 0 NONE - empty "test -s small.peak && test -s large.peak && test \$(( \$(cat large.peak) - \$(cat small.peak) )) -le 4096"

echo "($((SECONDS - started)) s)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
