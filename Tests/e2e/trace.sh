#!/usr/bin/env bash
# End-to-end tests of rnn-ckpt trace (TSV, npz, --find) and of the training
# advice (rnn-train after each validation, rnn-ckpt info, rnn-ckpt plot's
# marks), through the real binaries. The page itself: Tests/e2e/browser.sh.
# Usage: bash Tests/e2e/trace.sh BIN_DIR     (e.g. .build/release)
# Cases use the table-driven runner `t` (see lib.sh and cli.sh's header).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/rnn-ckpt" ] || [ ! -x "$1/rnn-train" ]; then
    echo "usage: bash Tests/e2e/trace.sh BIN_DIR (a folder with rnn-ckpt and rnn-train)" >&2
    exit 2
fi
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-trace.XXXXXX")
trap 'rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2
source "$HERE/lib.sh"

# ---- Nested brackets: a model has to count them -------------------------------
python3 - <<'PY'
import random
r = random.Random(5)
def expr(d):
    out = []
    for _ in range(r.randint(1, 4)):
        if d < 4 and r.random() < 0.45:
            out.append("(" + expr(d + 1) + ")")
        else:
            out.append(r.choice("abcxyz"))
    return "".join(out)
text = "\n".join(expr(0) for _ in range(3000)) + "\n"
open("br.txt", "w").write(text)
open("probe.txt", "w").write(text[:4000])
# Depth at each character: the brackets themselves count as inside.
d, depth = 0, []
for ch in text[:4000]:
    if ch == "(":
        d += 1
    depth.append(d)
    if ch == ")":
        d -= 1
open("depth.txt", "w").write("\n".join(map(str, depth)) + "\n")
PY
rnn-train br.txt -o cv --rnn-size 32 --num-layers 1 --batch-size 20 --seq-length 50 --max-iterations 300 --eval-val-every 300 \
    --learning-rate 5e-3 -q --threads 2 || exit 2
C=$(rnn-ckpt best cv)
rnn-train br.txt -o gru --model gru --rnn-size 8 --batch-size 20 --seq-length 50 --max-iterations 5 -q || exit 2
G=$(rnn-ckpt best gru)
# Inside a balanced pair of brackets (up to four deep).
IN='\((?:[^()]|\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))*\)'

t "trace: a row per character, the last layer by default" 0 "" - '!python3 -c "
rows = [l.split(\"\t\") for l in open(\"$OUT\").read().split(\"\n\")[:-1]]
head = rows[0]
assert head[:2] == [\"position\", \"symbol\"] and head[2:34] == [f\"h1:{i}\" for i in range(32)], head[:6]
assert head[34:] == [\"next_probability\", \"top1\", \"p1\", \"top2\", \"p2\", \"top3\", \"p3\"], head[34:]
assert len(rows) == 4001 and rows[-1][34] == \"\" and all(len(r) == len(head) for r in rows)
assert all(-1 <= float(x) <= 1 for r in rows[1:] for x in r[2:34])
"' "rnn-ckpt trace -q $C probe.txt"
t "trace --format npz: every layer's states, as the TSV's" 0 "" - '!python3 -c "
import numpy as np
z = np.load(\"x.npz\")
assert z[\"h1\"].shape == (4000, 32) and z[\"c1\"].shape == (4000, 32) and z[\"ids\"].shape == (4000,)
assert z[\"top_ids\"].shape == (4000, 3) and np.isnan(z[\"next_probability\"][-1])
rows = [l.split(\"\t\") for l in open(\"$OUT\").read().split(\"\n\")[1:-1]]
tsv = np.array([[float(x) for x in r[2:4]] for r in rows])
assert np.abs(tsv - np.stack([z[\"h1\"][:, 7], z[\"c1\"][:, 3]], 1)).max() < 1e-6
vocab = [chr(v) for v in z[\"vocab\"]]
assert \"\".join(vocab[i] for i in z[\"ids\"]) == open(\"probe.txt\").read()
"' "rnn-ckpt trace -q $C probe.txt --format npz -o x.npz && rnn-ckpt trace -q $C probe.txt --neurons 1:7,c1:3"
t "trace --find: the best neuron follows the nesting depth (|r| >= 0.5)" 0 "neurons that follow" - '!python3 -c "
import subprocess
rank = [l.split(\"\t\") for l in open(\"$OUT\").read().split(\"\n\")[1:-1]]
assert rank[0][0] == \"1\" and abs(float(rank[0][2])) >= abs(float(rank[-1][2]))
best = rank[0][1]
out = subprocess.run([\"rnn-ckpt\", \"trace\", \"-q\", \"'"$C"'\", \"probe.txt\", \"--neurons\", best], capture_output=True, text=True, check=True).stdout
a = [float(l.split(\"\t\")[2]) for l in out.split(\"\n\")[1:-1]]
d = [float(x) for x in open(\"depth.txt\").read().split()]
n = len(a); ma = sum(a) / n; md = sum(d) / n
r = sum((x - ma) * (y - md) for x, y in zip(a, d)) / (sum((x - ma) ** 2 for x in a) * sum((y - md) ** 2 for y in d)) ** 0.5
print(best, \"correlation with depth\", r)
assert abs(r) >= 0.5, r
"' "rnn-ckpt trace $C probe.txt --find '$IN'"
t "trace --html: one page"                            0 "" - '!grep -q "<script" p.html && ! grep -qi "src=.http" p.html' \
  "rnn-ckpt trace -q $C probe.txt --find '$IN' --html p.html"
t "trace --neurons 2:0 on a 1-layer model"           1 "--neurons: '2:0' is not LAYER:INDEX with a layer from 1 to 1" - empty "rnn-ckpt trace $C probe.txt --neurons 2:0"
t "trace --neurons 1:99"                              1 "the index must be from 0 to 31" - empty "rnn-ckpt trace $C probe.txt --neurons 1:99"
t "trace --neurons c1:0 on a GRU"                     1 "only LSTM models have" - empty "rnn-ckpt trace $G probe.txt --neurons c1:0"
t "trace --find with a bad expression"                1 "--find: '(ab' is not a regular expression" - empty "rnn-ckpt trace $C probe.txt --find '(ab'"
t "trace of an empty text"                            1 "has no character the model knows" - empty "rnn-ckpt trace $C /dev/null"
t "trace --format npz to a terminal is refused"       1 "" - '~refusing to write binary data to a terminal' "script -qec 'rnn-ckpt trace $C probe.txt --format npz' /dev/null"
t "trace --top 30: usage error"                       64 "--top must be from 0 to 20" - empty "rnn-ckpt trace $C probe.txt --top 30"

# ---- Advice --------------------------------------------------------------------
head -c 3000 br.txt > small.txt
t "rnn-train: a model too large for its data gets advice" 0 "fit: mean train_loss|advice: |will overfit quickly — try --dropout 0.5" - empty \
  "rnn-train small.txt -o big --rnn-size 128 --batch-size 4 --seq-length 20 --max-iterations 20 --eval-val-every 10"
t "rnn-train: every option the advice names exists" 0 "" - empty \
  "for o in \$(rnn-train small.txt -o big2 --rnn-size 128 --batch-size 4 --seq-length 20 --max-iterations 20 --eval-val-every 10 2>&1 | grep advice: | grep -o -- '--[a-z-]*' | sort -u); do rnn-train --help | grep -q -- \"\$o\" || { echo \"unknown \$o\" >&2; exit 1; }; done"
t "rnn-train: a model too small for its data"        0 "this model will underfit — try a larger --rnn-size (now 32)" - empty "rnn-ckpt info $C >&2"
t "rnn-ckpt info --json: the advice"                 0 "" - '!python3 -c "import json; j = json.load(open(\"$OUT\")); assert j[\"training_characters\"] > 0 and len(j[\"advice\"]) == 1, j"' "rnn-ckpt info --json $C"
t "rnn-ckpt plot: the best validation is marked"     0 "" - '~class="best"' "rnn-ckpt plot big"
t "rnn-ckpt plot --ascii: the legend says @ is the best" 0 "" - '~@ best val' "rnn-ckpt plot --ascii big"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
