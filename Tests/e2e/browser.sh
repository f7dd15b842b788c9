#!/usr/bin/env bash
# The page of `rnn-ckpt trace --html` in a real browser: headless Chromium,
# driven through the DevTools protocol by Tests/e2e/browser.py (Python's
# standard library only). It trains a tiny model (seconds) on a text full of
# quotes, nested brackets, `</script><b>`, ampersands and accents, writes the
# page and the trace TSV of the same neurons, and checks in the browser: no
# console error; the text shown exactly, one span per character, nothing
# made of it; the picker ordered by |correlation| with --find's matches;
# each neuron's colours, after choosing it in the picker, against the TSV;
# a screenshot's pixels against the TSV; the surprise view; the tooltip.
# Then the same for a byte model's page (the text shown whole).
# Usage: bash Tests/e2e/browser.sh BIN_DIR      (e.g. .build/release)
# Needs chromium (make deps-browser). Prints `ok`/`FAIL` lines and
# `N passed, M failed`; exits 1 if any failed.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/rnn-ckpt" ] || [ ! -x "$1/rnn-train" ]; then
    echo "usage: bash Tests/e2e/browser.sh BIN_DIR (a folder with rnn-train, rnn-ckpt)" >&2
    exit 2
fi
if ! command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1; then
    echo "browser.sh: chromium is not installed (make deps-browser, or apt-get install chromium)" >&2
    exit 1
fi
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-browser.XXXXXX")
trap 'rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2

# ---- A tiny model of a text that could break a page -------------------------
python3 - <<'PY'
import random
rng = random.Random(16)
words = "the cat said was here naïve café who what why ok no".split()
def quote():
    return '"' + " ".join(rng.choice(words) for _ in range(rng.randint(1, 4))) + '"'
def nest(d):
    if d == 0:
        return rng.choice(words)
    o, c = rng.choice(["()", "[]", "{}"])
    return o + rng.choice(words) + " " + nest(d - 1) + c
lines = []
for i in range(260):
    k = i % 5
    if k == 0:
        lines.append(f"she said {quote()} and {nest(rng.randint(1, 3))} & left.")
    elif k == 1:
        lines.append(f"if (a[{i}] < b) {{ x = {quote()}; }} // it's 'single'")
    elif k == 2:
        lines.append("</script><b>bold?</b> <!-- not a comment --> \\ & &amp; " + quote())
    elif k == 3:
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(2, 8))))
    else:
        lines.append(f"he asked {quote()}, {quote()}?\t{nest(2)}")
open("text.txt", "w").write("\n".join(lines) + "\n")
PY
rnn-train text.txt -o cv --rnn-size 24 --num-layers 2 --batch-size 8 --seq-length 32 --max-iterations 60 \
    --eval-val-every 30 --learning-rate 5e-3 -q --threads 1 || exit 2
# Two hidden states and two cell states, one of each layer.
NEURONS=2:0,1:5,c1:2,c2:3
FIND='"[^"]*"'
rnn-ckpt trace cv text.txt --neurons "$NEURONS" --top 3 -q -o trace.tsv || exit 2
rnn-ckpt trace cv text.txt --neurons "$NEURONS" --top 3 --find "$FIND" -q --html page.html || exit 2

python3 "$HERE/browser.py" check page.html trace.tsv text.txt "$FIND" >check.out 2>&1
status=$?
grep -v '^[0-9]* passed, [0-9]* failed$' check.out

# ---- A byte model: the page joins each UTF-8 character's bytes ---------------
byte_status=0
rnn-train text.txt -o cvb --bytes --rnn-size 16 --num-layers 1 --batch-size 8 --seq-length 32 --max-iterations 10 \
    --eval-val-every 10 -q --threads 1 || exit 2
rnn-ckpt trace cvb text.txt -q --html bytes.html || exit 2
python3 "$HERE/browser.py" text bytes.html text.txt >bytes.out 2>&1 || byte_status=1
cat bytes.out

passed=$(( $(grep -c '^ok ' check.out) + $(grep -c '^ok ' bytes.out) ))
failed=$(( $(grep -c '^FAIL ' check.out) + $(grep -c '^FAIL ' bytes.out) ))
if [ $status -ne 0 ] && [ $failed -eq 0 ] || [ $byte_status -ne 0 ] && [ $failed -eq 0 ]; then
    failed=1   # a crash of browser.py before its checks
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
