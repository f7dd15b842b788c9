#!/usr/bin/env bash
# The page of `rnn-ckpt export --format html` in a real browser: headless
# Chromium, driven by Tests/e2e/export_page.py (through browser.py's
# DevTools client). It trains tiny models (seconds each: LSTM, GRU and RNN,
# one and two layers, one-hot and embedded input) on a text of several
# scripts, exports each as a page and as npz, and checks in the browser: no
# console error; the page's probabilities of a held-out text against
# `rnn-ckpt eval --per-char`, its logits against `rnn-ckpt eval --logits`
# (1e-4) and Tests/e2e/npz_forward.py;
# its argmax text against `rnn-sample --argmax` (a near-tie of the top two
# logits is printed, not failed); seeded samples reproducible; the form
# streams text into the output; the heading; multi-script characters. Then
# the command's bad inputs: a stripped checkpoint exports; an unwritable
# path is a one-line error with nothing written; an unknown format is a
# usage error; a terminal is refused without --force. And a 2×128 LSTM's
# page stays under 2 MB.
# Usage: bash Tests/e2e/export_page.sh BIN_DIR      (e.g. .build/release)
# Needs chromium (make deps-browser); numpy for the logits (else skipped). Prints `ok`/`FAIL`/`note`
# lines, the largest logit difference, and `N passed, M failed`; exits 1 if
# any failed.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/rnn-ckpt" ] || [ ! -x "$1/rnn-train" ] || [ ! -x "$1/rnn-sample" ]; then
    echo "usage: bash Tests/e2e/export_page.sh BIN_DIR (a folder with rnn-train, rnn-sample, rnn-ckpt)" >&2
    exit 2
fi
if ! command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1; then
    echo "export_page.sh: chromium is not installed (make deps-browser, or apt-get install chromium)" >&2
    exit 1
fi
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-export-page.XXXXXX")
trap 'rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2

passed=0
failed=0
ok() { echo "ok export_page: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL export_page: $1"; [ $# -ge 2 ] && sed 's/^/    /' "$2" | head -20; failed=$((failed + 1)); }

# ---- A text of several scripts, and a held-out text of the same words -------
python3 "$HERE/multiscript.py" 18 400 >corpus.txt
python3 "$HERE/multiscript.py" 81 6 >heldout.txt
PRIME='the café 漢字 😀 Ωμέγα '
N=200

# ---- Each model: export, reference files, the browser's checks --------------
models=(
    "lstm1 --model lstm --num-layers 1"
    "lstm2e --model lstm --num-layers 2 --embedding-size 8"
    "gru2 --model gru --num-layers 2"
    "gru1e --model gru --num-layers 1 --embedding-size 8"
    "rnn1 --model rnn --num-layers 1"
    "rnn2e --model rnn --num-layers 2 --embedding-size 8"
)
worst=0
for spec in "${models[@]}"; do
    read -r name flags <<<"$spec"
    # shellcheck disable=SC2086
    if ! rnn-train corpus.txt -o "$name" --rnn-size 16 $flags --batch-size 8 --seq-length 16 --max-iterations 30 \
            --eval-val-every 30 -q --threads 1 2>"$name.err"; then
        fail "$name: training" "$name.err"; continue
    fi
    ckpt=$(rnn-ckpt best "$name")
    if ! rnn-ckpt export "$ckpt" --format html -o "$name.html" 2>"$name.err"; then
        fail "$name: rnn-ckpt export --format html" "$name.err"; continue
    fi
    rnn-ckpt export "$ckpt" --format npz -o "$name.npz" || exit 2
    rnn-ckpt eval --per-char --top 0 -q "$ckpt" heldout.txt --logits "$name.eval.npy" >"$name.tsv" || exit 2
    rnn-sample "$ckpt" --argmax --prime "$PRIME" -n $N >"$name.argmax" || exit 2
    rnn-sample "$ckpt" --argmax -n $N >"$name.free" || exit 2
    rnn-sample "$ckpt" --prime "$PRIME" -n 300 -t 1.0 --seed 7 >"$name.seeded" || exit 2
    rnn-ckpt info --json "$ckpt" >"$name.info.json" || exit 2
    NAME=$name CKPT=$ckpt PRIME=$PRIME N=$N python3 - <<'PY' || exit 2
import json, os
name, ckpt = os.environ["NAME"], os.environ["CKPT"]
info = json.load(open(f"{name}.info.json"))
def find(o, key):
    if isinstance(o, dict):
        if key in o:
            return o[key]
        for v in o.values():
            r = find(v, key)
            if r is not None:
                return r
    return None
val = find(info, "val_loss")
json.dump({"label": name, "page": f"{name}.html", "npz": f"{name}.npz", "heldout": "heldout.txt", "perchar": f"{name}.tsv",
           "eval_logits": f"{name}.eval.npy",
           "prime": os.environ["PRIME"], "argmax": f"{name}.argmax", "argmax_free": f"{name}.free", "seeded": f"{name}.seeded",
           "n": int(os.environ["N"]), "name": os.path.basename(ckpt), "model": f"{info['num_layers']}×{info['rnn_size']} {info['model'].upper()}"
                    + (f", embedding {info['embedding_size']}" if info["embedding_size"] else ", one-hot input"),
           "val_loss": f"{val:.4f}", "multiscript": ["ï", "é", "漢", "😀", "Ω", "М"], "unknown": "€"},
          open(f"{name}.spec.json", "w"), ensure_ascii=False)
PY
    python3 "$HERE/export_page.py" "$name.spec.json" >"$name.out" 2>&1
    status=$?
    grep -v '^[0-9]* passed, [0-9]* failed$' "$name.out" | grep -v '^logit-difference '
    p=$(grep -c '^ok ' "$name.out"); f=$(grep -c '^FAIL ' "$name.out")
    passed=$((passed + p)); failed=$((failed + f))
    if [ $status -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); echo "FAIL export_page $name: export_page.py crashed"; fi
    d=$(sed -n 's/^logit-difference [^ ]* //p' "$name.out")
    [ -n "$d" ] && worst=$(python3 -c "print(max(float('$worst'), float('$d')))")
done
python3 -c 'import numpy' 2>/dev/null && echo "largest logit difference (page against npz_forward.py): $worst"

# ---- The command's edge cases -------------------------------------------------
ckpt=$(rnn-ckpt best lstm2e)
# A stripped checkpoint: the same weights in the page.
if rnn-ckpt strip "$ckpt" -o stripped.ckpt 2>err && rnn-ckpt export stripped.ckpt --format html -o stripped.html 2>>err \
   && python3 - lstm2e.html stripped.html <<'PY'
import re, sys
w = [re.search(r'"weights":"([^"]*)"', open(p, encoding="utf-8").read()).group(1) for p in sys.argv[1:]]
sys.exit(0 if w[0] == w[1] and len(w[0]) > 100 else 1)
PY
then ok "a stripped checkpoint exports, with the same weights"
else fail "a stripped checkpoint exports, with the same weights" err; fi

# An unwritable path: one line on stderr, status 1, nothing written.
rnn-ckpt export "$ckpt" --format html -o /nonexistent/x.html >out 2>err
st=$?
if [ $st -eq 1 ] && [ "$(wc -l <err)" -eq 1 ] && grep -q '^rnn-ckpt: error: ' err && [ ! -e /nonexistent/x.html ] && [ ! -s out ]; then
    ok "-o /nonexistent/x.html: exit 1, one line ($(cat err))"
else fail "-o /nonexistent/x.html: exit 1 (got $st), one line on stderr, nothing written" err; fi
# A target that cannot be replaced (a folder): nothing half-written beside it.
mkdir -p dest/page.html
before=$(ls -A dest | wc -l)
rnn-ckpt export "$ckpt" --format html -o dest/page.html >out 2>err
st=$?
if [ $st -eq 1 ] && [ "$(wc -l <err)" -eq 1 ] && [ "$(ls -A dest | wc -l)" -eq "$before" ] && [ -z "$(ls -A dest/page.html)" ]; then
    ok "-o onto a folder: exit 1, one line, no temporary file left"
else fail "-o onto a folder: exit 1 (got $st), one line, no temporary file left ($(ls -A dest))" err; fi
# An unknown format: a usage error.
rnn-ckpt export "$ckpt" --format htm -o x.html >out 2>err
st=$?
if [ $st -eq 64 ] && [ ! -e x.html ] && grep -q "html" err; then ok "--format htm: usage error (64), naming html"
else fail "--format htm: usage error 64 (got $st)" err; fi
# A terminal: refused unless --force (a pseudo-terminal on stdout).
cat >ptyrun.py <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
sys.stdout.write(f"{len(out)} {out[:300].decode(errors='replace')!r}\n")
sys.exit(os.waitstatus_to_exitcode(st))
PY
python3 ptyrun.py rnn-ckpt export "$ckpt" --format html >pty.out 2>&1
st=$?
if [ $st -eq 1 ] && grep -q "refusing to write an HTML page to a terminal" pty.out; then ok "a terminal is refused (exit 1)"
else fail "a terminal is refused (got $st)" pty.out; fi
python3 ptyrun.py rnn-ckpt export "$ckpt" --format html --force >pty.out 2>&1
st=$?
if [ $st -eq 0 ] && grep -q "DOCTYPE" pty.out; then ok "--force writes the page to a terminal"
else fail "--force writes the page to a terminal (got $st)" pty.out; fi

# ---- A 2×128 LSTM's page: under 2 MB -----------------------------------------
if rnn-train corpus.txt -o big --rnn-size 128 --num-layers 2 --batch-size 8 --seq-length 16 --max-iterations 1 \
        --eval-val-every 1 -q --threads 1 2>err && rnn-ckpt export "$(rnn-ckpt best big)" --format html -o big.html 2>>err; then
    size=$(wc -c <big.html)
    if [ "$size" -lt 2000000 ]; then ok "a 2×128 LSTM's page is $size bytes (under 2 MB)"
    else fail "a 2×128 LSTM's page is $size bytes (2 MB or more)"; fi
else fail "a 2×128 LSTM: training and export" err; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
