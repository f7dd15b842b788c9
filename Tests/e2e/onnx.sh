#!/usr/bin/env bash
# `rnn-ckpt export --format onnx` checked by onnx and onnxruntime (PyPI).
# It trains tiny models (seconds each) on a text of several scripts: LSTM,
# GRU and RNN, 1 and 3 layers, one-hot and embedded input (12 models),
# and a 2-layer LSTM of bytes (--bytes), exports each, and
# Tests/e2e/onnx_check.py checks the file with
# onnx.checker and runs it in onnxruntime: logits of two texts as one batch,
# in two calls with the state carried, against `rnn-ckpt eval --logits` to
# 1e-5; eval's logits against npz_forward.py's NumPy forward pass; greedy
# decoding against `rnn-sample --argmax`. Then the Python example of
# rnn-ckpt(1) (taken from the page) against rnn-sample --argmax, and the
# command's bad inputs: a stripped checkpoint exports; an unknown format,
# an unwritable path, a checkpoint of an unknown version and a terminal
# (without --force) each get a one-line error, and nothing is written.
# Usage: bash Tests/e2e/onnx.sh BIN_DIR      (e.g. .build/release)
# Python: $CHARRNN_PYTHON, else .venv/bin/python (make deps-python). Without
# onnx and onnxruntime it prints a SKIP line and exits 0, unless
# CHARRNN_REQUIRE_ONNX=1 (as CI sets), when it fails.
# Prints `ok`/`FAIL`/`note` lines and `N passed, M failed`; exits 1 if any failed.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/rnn-ckpt" ] || [ ! -x "$1/rnn-train" ] || [ ! -x "$1/rnn-sample" ]; then
    echo "usage: bash Tests/e2e/onnx.sh BIN_DIR (a folder with rnn-train, rnn-sample, rnn-ckpt)" >&2
    exit 2
fi
PY=${CHARRNN_PYTHON:-$ROOT/.venv/bin/python}
if ! "$PY" -c 'import onnx, onnxruntime, numpy' 2>/dev/null; then
    if [ "${CHARRNN_REQUIRE_ONNX:-0}" = 1 ]; then
        echo "FAIL onnx: $PY cannot import onnx, onnxruntime and numpy (make deps-python)"
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "SKIP onnx: the ONNX tests did not run: $PY cannot import onnx, onnxruntime and numpy (run make deps-python)"
    exit 0
fi
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-onnx.XXXXXX")
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2
echo "onnx: $("$PY" -c 'import onnx, onnxruntime; print("onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__)')"

passed=0
failed=0
ok() { echo "ok onnx: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL onnx: $1"; [ $# -ge 2 ] && sed 's/^/    /' "$2" | head -20; failed=$((failed + 1)); }
# Runs onnx_check.py and counts its ok/FAIL lines.
run_check() {
    "$PY" "$HERE/onnx_check.py" "$@" >check.out 2>&1
    local rc=$?
    cat check.out
    passed=$((passed + $(grep -c '^ok ' check.out)))
    failed=$((failed + $(grep -c '^FAIL ' check.out)))
    if [ $rc -ne 0 ] && ! grep -q '^FAIL ' check.out; then fail "onnx_check.py $1 exited $rc" check.out; fi
}

# ---- Texts of several scripts: a corpus and two held-out texts of one length
python3 "$HERE/multiscript.py" 18 400 >corpus.txt
python3 "$HERE/multiscript.py" 81 12 250 >text1.txt
python3 "$HERE/multiscript.py" 82 12 250 >text2.txt
PRIME='the café 漢字 😀 Ωμέγα '
N=120

# ---- Every cell, 1 and 3 layers, one-hot and embedded ------------------------
for cell in lstm gru rnn; do
    for layers in 1 3; do
        for emb in 0 8; do
            name=$cell$layers$([ $emb -gt 0 ] && echo e)
            if ! rnn-train corpus.txt -o "$name" --model $cell --num-layers $layers --embedding-size $emb --rnn-size 16 \
                    --batch-size 8 --seq-length 16 --max-iterations 40 --eval-val-every 40 -q --threads 1 2>"$name.err"; then
                fail "$name: training" "$name.err"; continue
            fi
            ckpt=$(rnn-ckpt best "$name")
            if ! rnn-ckpt export "$ckpt" --format onnx -o "$name.onnx" 2>"$name.err" || [ -s "$name.err" ]; then
                fail "$name: rnn-ckpt export --format onnx (quietly)" "$name.err"; continue
            fi
            rnn-ckpt vocab "$ckpt" >"$name.vocab" &&
                rnn-ckpt export "$ckpt" --format npz -o "$name.npz" &&
                rnn-ckpt eval -q "$ckpt" text1.txt --logits "$name.1.npy" >/dev/null &&
                rnn-ckpt eval -q --per-char "$ckpt" text2.txt --logits "$name.2.npy" >/dev/null &&
                rnn-sample "$ckpt" --argmax --prime "$PRIME" -n $N >"$name.argmax" || { fail "$name: reference files"; continue; }
            run_check "$name.onnx" "$name.vocab" text1.txt "$name.1.npy" text2.txt "$name.2.npy" \
                --npz "$name.npz" --argmax "$PRIME" $N "$name.argmax"
        done
    done
done

# ---- A byte model (--bytes): ids are byte values ----------------------------
if rnn-train corpus.txt --bytes -o bytes2 --model lstm --num-layers 2 --rnn-size 16 --batch-size 8 --seq-length 16 \
        --max-iterations 40 --eval-val-every 40 -q --threads 1 2>bytes.err; then
    ckpt=$(rnn-ckpt best bytes2)
    # Texts of one length in bytes: ASCII only.
    LC_ALL=C tr -cd 'a-z .\n' <text1.txt | head -c 200 >b1.txt
    LC_ALL=C tr -cd 'a-z .\n' <text2.txt | head -c 200 >b2.txt
    if [ "$(wc -c <b1.txt)" -eq "$(wc -c <b2.txt)" ] && rnn-ckpt export "$ckpt" --format onnx -o bytes2.onnx &&
            rnn-ckpt vocab "$ckpt" >bytes2.vocab && rnn-ckpt eval -q "$ckpt" b1.txt --logits bytes2.1.npy >/dev/null &&
            rnn-ckpt eval -q "$ckpt" b2.txt --logits bytes2.2.npy >/dev/null &&
            rnn-sample "$ckpt" --argmax --prime "$PRIME" -n $N >bytes2.argmax; then
        run_check bytes2.onnx bytes2.vocab b1.txt bytes2.1.npy b2.txt bytes2.2.npy --argmax "$PRIME" $N bytes2.argmax
    else
        fail "bytes2: export and reference files"
    fi
else
    fail "bytes2: training" bytes.err
fi

# ---- The Python example of rnn-ckpt(1) ----------------------------------------
# The literal block after `.\" man.sh file: onnx_sample.py`, unescaped as man.sh does.
awk '/^\.\\" man\.sh file: onnx_sample\.py/ { mark = 1; next }
     mark && /^\.Bd/ { inside = 1; next }
     inside && /^\.Ed/ { exit }
     inside { print }' "$ROOT/man/rnn-ckpt.1" | sed -e 's/\\e/\\/g' -e 's/\\&//g' >onnx_sample.py
if [ ! -s onnx_sample.py ]; then
    fail "rnn-ckpt(1) has no literal block marked 'man.sh file: onnx_sample.py'"
else
    for name in lstm3e gru1; do
        if "$PY" onnx_sample.py "$name.onnx" "$PRIME" $N 0 >"$name.example" 2>"$name.err" &&
                [ "$(cat "$name.example")" = "$(cat "$name.argmax")" ]; then
            ok "$name: the Python example of rnn-ckpt(1) at temperature 0 writes rnn-sample --argmax's text"
        else
            fail "$name: the Python example of rnn-ckpt(1) at temperature 0 against rnn-sample --argmax" "$name.err"
            diff <(cat "$name.example") <(cat "$name.argmax") | head -5
        fi
    done
    if "$PY" onnx_sample.py lstm1.onnx 'the ' 50 0.8 >sampled.txt 2>sample.err && [ "$(wc -m <sampled.txt)" -eq 51 ]; then
        ok "the Python example samples 50 characters at temperature 0.8"
    else
        fail "the Python example at temperature 0.8 ($(wc -m <sampled.txt) characters)" sample.err
    fi
fi

# ---- Bad input ------------------------------------------------------------
ckpt=$(rnn-ckpt best lstm1)
rnn-ckpt strip "$ckpt" -o stripped.ckpt || exit 2
rnn-ckpt eval -q stripped.ckpt text1.txt --logits stripped.1.npy >/dev/null || exit 2
rnn-ckpt eval -q stripped.ckpt text2.txt --logits stripped.2.npy >/dev/null || exit 2
if rnn-ckpt export stripped.ckpt --format onnx -o stripped.onnx 2>stripped.err; then
    ok "a stripped checkpoint exports"
    run_check stripped.onnx lstm1.vocab text1.txt stripped.1.npy text2.txt stripped.2.npy
else
    fail "a stripped checkpoint exports" stripped.err
fi

# One line on stderr, the exit status $1, nothing on stdout.
one_line_error() {  # STATUS WHAT COMMAND...
    local want=$1 what=$2
    shift 2
    "$@" >out.bin 2>err.txt
    local rc=$?
    if [ $rc -eq "$want" ] && [ "$(wc -l <err.txt)" -eq 1 ] && [ ! -s out.bin ]; then
        ok "$what: exit $rc, one line: $(cat err.txt)"
    else
        fail "$what: exit $rc (want $want), $(wc -l <err.txt) lines on stderr, $(wc -c <out.bin) bytes on stdout" err.txt
    fi
}
one_line_error 64 "an unknown format" rnn-ckpt export "$ckpt" --format onnnx -o x.onnx
[ -e x.onnx ] && fail "an unknown format left x.onnx"
one_line_error 1 "a missing folder" rnn-ckpt export "$ckpt" --format onnx -o no/such/dir/m.onnx
mkdir ro && chmod a-w ro
if [ "$(id -u)" = 0 ] && touch ro/probe 2>/dev/null; then
    rm -f ro/probe
    echo "note onnx: running as root: a read-only folder is writable, its case is left out"
else
    one_line_error 1 "a read-only folder" rnn-ckpt export "$ckpt" --format onnx -o ro/m.onnx
    if [ -n "$(ls -A ro)" ]; then fail "the read-only folder holds $(ls -A ro)"; else ok "nothing written in the read-only folder"; fi
fi
# A directory as the output file: refused, the directory untouched.
mkdir adir
one_line_error 1 "a directory as the output" rnn-ckpt export "$ckpt" --format onnx -o adir
# An unknown checkpoint version: the format tag of a decompressed copy
# changed from charrnn.checkpoint.v1 to .v9 (same length, so the header
# still parses).
rnn-ckpt export "$ckpt" --format safetensors -o plain.safetensors || exit 2
python3 - <<'PY'
data = open("plain.safetensors", "rb").read()
assert data.count(b"charrnn.checkpoint.v1") == 1
open("future.ckpt", "wb").write(data.replace(b"charrnn.checkpoint.v1", b"charrnn.checkpoint.v9"))
PY
for format in onnx html npz; do
    one_line_error 1 "--format $format: a checkpoint of an unknown version" rnn-ckpt export future.ckpt --format $format -o future.$format
    grep -q "unknown format 'charrnn.checkpoint.v9'" err.txt && ok "--format $format: the error names the version" ||
        fail "--format $format: the error names the version" err.txt
    [ -e future.$format ] && fail "--format $format: an unknown version left future.$format"
done
# Nothing half-written: no temporary file is left in the folder.
left=$(ls -A | grep '\.tmp\.' || true)
[ -z "$left" ] && ok "no temporary files left" || fail "temporary files left: $left"
# A terminal (through script(1)) is refused without --force.
if command -v script >/dev/null 2>&1; then
    script -qec "rnn-ckpt export '$ckpt' --format onnx" /dev/null </dev/null >tty.out 2>&1
    rc=$?
    if [ $rc -ne 0 ] && grep -q "force" tty.out && [ "$(tr -d '\r' <tty.out | grep -c .)" -eq 1 ]; then
        ok "a terminal is refused without --force: $(tr -d '\r' <tty.out)"
    else
        fail "a terminal is refused without --force (exit $rc)" tty.out
    fi
fi

echo "onnx: $passed passed, $failed failed"
[ $failed -eq 0 ]
