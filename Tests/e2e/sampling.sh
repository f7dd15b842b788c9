#!/usr/bin/env bash
# End-to-end tests of rnn-sample's beam search (--beam), samples made
# together (--count, --batch), the line filter (--lines), and rnn-ckpt eval
# --per-char, through the real binaries; log-probabilities and per-character
# probabilities are checked against an independent NumPy forward pass
# (Tests/e2e/npz_forward.py).
# Usage: bash Tests/e2e/sampling.sh BIN_DIR     (e.g. .build/release)
# Cases use the table-driven runner `t` (see lib.sh and cli.sh's header).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/rnn-sample" ] || [ ! -x "$1/rnn-ckpt" ] || [ ! -x "$1/rnn-train" ]; then
    echo "usage: bash Tests/e2e/sampling.sh BIN_DIR (a folder with rnn-sample, rnn-ckpt, rnn-train)" >&2
    exit 2
fi
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-sampling.XXXXXX")
trap 'rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2
source "$HERE/lib.sh"
FWD="python3 '$HERE/npz_forward.py'"

# ---- A small model of a small text ------------------------------------------
python3 - <<'PY'
import random
rng = random.Random(3)
words = "the quick brown fox jumps over a lazy dog and seven wizards hex one jolly bard café über".split()
lines = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) for _ in range(900)]
open("corpus.txt", "w").write("\n".join(lines) + "\n")
open("held.txt", "w").write("\n".join(lines[:40]) + "\n")
PY
rnn-train corpus.txt -o cv --rnn-size 48 --batch-size 16 --seq-length 32 --max-iterations 120 --eval-val-every 120 --learning-rate 5e-3 -q --threads 1 || exit 2
C=$(rnn-ckpt best cv)
rnn-ckpt export --format npz "$C" -o m.npz || exit 2
# Python helpers: the log-probability rnn-sample printed against NumPy's.
cat > lp.sh <<EOF
# usage: bash lp.sh PRIME T STDOUT STDERR: the first beam's log-probability
# (stderr) equals NumPy's for the text (stdout) to 1e-4
got=\$(sed -n 's/.*beam result 1: log-probability \([-0-9.]*\) nats.*/\1/p' "\$4")
want=\$($FWD m.npz --logprob "\$1" "\$3" "\$2")
python3 -c "import sys; g, w = float('\$got'), float('\$want'); print('rnn-sample', g, 'numpy', w); sys.exit(abs(g - w) > 1e-4)"
EOF

# ---- Beam search --------------------------------------------------------------
t "--beam 1 is --argmax, with a prime"               0 NONE - '!cmp $OUT <(rnn-sample '"$C"' --argmax --prime "the " -n 200)' \
  "rnn-sample $C --beam 1 --prime 'the ' -n 200"
t "--beam 1 is --argmax, without a prime"            0 NONE - '!cmp $OUT <(rnn-sample '"$C"' --argmax -n 200)' \
  "rnn-sample $C --beam 1 -n 200"
t "--beam 1 --stop is --argmax --stop"               0 NONE - '!cmp $OUT <(rnn-sample '"$C"' --argmax --prime "a" --stop "x" -n 300)' \
  "rnn-sample $C --beam 1 --prime 'a' --stop 'x' -n 300"
t "--beam 8: its log-probability is NumPy's"         0 "beam result 1: log-probability" - '!bash lp.sh "the " 1 $OUT $ERR' \
  "rnn-sample $C --beam 8 --prime 'the ' -n 60 --verbose"
t "--beam 5 -t 0.6: the temperature scales the scores" 0 "beam result 1" - '!bash lp.sh "over " 0.6 $OUT $ERR' \
  "rnn-sample $C --beam 5 --prime 'over ' -n 40 -t 0.6 --verbose"
t "--beam 8 is at least as probable as --beam 1"     0 "" - empty \
  "a=\$(rnn-sample $C --beam 1 --prime 'jolly ' -n 50 --verbose 2>&1 >/dev/null | sed -n 's/.*log-probability \([-0-9.]*\).*/\1/p'); b=\$(rnn-sample $C --beam 8 --prime 'jolly ' -n 50 --verbose 2>&1 >/dev/null | sed -n 's/.*log-probability \([-0-9.]*\).*/\1/p'); python3 -c \"import sys; sys.exit(not \$b >= \$a - 1e-9)\" || { echo \$a \$b >&2; exit 1; }"
t "--beam 4 --count 3: three, most probable first"  0 "beam result 3" - '!test $(grep -c "^=$" $OUT) = 2 && python3 -c "import re,sys; v=[float(x) for x in re.findall(r\"log-probability ([-0-9.]+)\", open(\"$ERR\").read())]; sys.exit(not (len(v)==3 and v[0]>=v[1]>=v[2]))"' \
  "rnn-sample $C --beam 4 --count 3 --prime 'the ' -n 30 --separator '\n=\n' --verbose"
t "--beam 6 --stop: every result ends at the stop"   0 "" - '!test "$(tail -c 2 $OUT)" = "d "' \
  "rnn-sample $C --beam 6 --prime 'the ' -n 300 --stop 'd '"
t "--beam 3 --echo-prime"                            0 "" - '~the lazy' "rnn-sample $C --beam 3 --prime 'the lazy' -n 20 --echo-prime"
t "--beam 0: usage error"                            64 "--beam must be from 1 to 4096 (got 0)" - empty "rnn-sample $C --beam 0"
t "--beam 100000: usage error"                       64 "--beam must be from 1 to 4096" - empty "rnn-sample $C --beam 100000"
t "--beam -2: usage error (a negative value)"        64 "--beam must be from 1 to 4096 (got -2)" - empty "rnn-sample $C --beam -2"
t "--beam 2 --count 3: asks for more than it keeps"  64 "--count 3 asks for more continuations than --beam 2 keeps" - empty "rnn-sample $C --beam 2 --count 3"
t "--beam with --top-k: usage error"                 64 "--beam does not go with --top-k" - empty "rnn-sample $C --beam 2 --top-k 3"
t "--beam with --argmax: usage error"                64 "--beam does not go with --argmax" - empty "rnn-sample $C --beam 2 --argmax"
t "--beam wider than the vocabulary works"           0 "" - '!test -s $OUT' "rnn-sample $C --beam 300 --prime 'a' -n 12"

# ---- Many samples at once -------------------------------------------------------
rnn-sample "$C" -n 300 --count 1 > one.txt
rnn-sample "$C" -n 300 --count 8 --separator '\n=====\n' > eight.txt
t "--count 64: sample 1 is the one --count 1 makes"  0 "" - '!python3 -c "import sys; s=open(\"$OUT\").read().split(\"\n=====\n\"); sys.exit(not (len(s)==64 and s[0]==open(\"one.txt\").read()))"' \
  "rnn-sample $C -n 300 --count 64 --separator '\n=====\n'"
t "--count 64: samples 1-8 are --count 8's"          0 "" - '!python3 -c "import sys; s=open(\"$OUT\").read().split(\"\n=====\n\"); e=open(\"eight.txt\").read().split(\"\n=====\n\"); sys.exit(not (s[:8]==e and len(set(s))==64))"' \
  "rnn-sample $C -n 300 --count 64 --separator '\n=====\n'"
t "--count 8 --batch 3: the same samples"            0 "" - =eight.txt "rnn-sample $C -n 300 --count 8 --batch 3 --separator '\n=====\n'"
t "--count 8 --threads 1: the same samples"          0 "" - =eight.txt "rnn-sample $C -n 300 --count 8 --threads 1 --separator '\n=====\n'"
t "--count 16 --top-p 0.9 --prime: sample 1 alone"   0 "" - '!python3 -c "import sys; s=open(\"$OUT\").read().split(\"\n=====\n\"); sys.exit(not s[0]==open(\"p1.txt\").read())"' \
  "rnn-sample $C -n 200 --top-p 0.9 --prime 'the ' > p1.txt && rnn-sample $C -n 200 --count 16 --top-p 0.9 --prime 'the ' --separator '\n=====\n'"
t "--count 6 --stop: each sample ends on its own"    0 "" - '!python3 -c "import sys; s=open(\"$OUT\").read().split(\"|\"); sys.exit(not (len(s)==6 and all(x.endswith(\"x\") or len(x)==400 for x in s)))"' \
  "rnn-sample $C -n 400 --count 6 --stop x --separator '|'"
t "--count 3 --echo-prime: each sample has it"       0 "" - '!test $(grep -c "^jolly" $OUT) = 3' "rnn-sample $C -n 30 --count 3 --prime jolly --echo-prime --separator '\n'"
t "--batch 0: usage error"                           64 "--batch must be from 1 to 4096 (got 0)" - empty "rnn-sample $C --batch 0"
t "--count 64 | head: stops cleanly"                 0 NONE - '!test $(wc -l < $OUT) = 3' "rnn-sample $C -n 2000 --count 64 | head -3"

# ---- The line filter --------------------------------------------------------------
printf 'the quick\nover a\n\nfox' > prompts.txt
printf 'the quick\n' > first.txt
t "--lines: one line out per line in"               0 NONE prompts.txt '!test $(wc -l < $OUT) = 4 && python3 -c "import sys; sys.exit(not all(len(l) <= 30 for l in open(\"$OUT\").read().split(\"\n\")))"' \
  "rnn-sample $C --lines -n 30"
t "--lines: line 1 alone is line 1 among others"    0 NONE first.txt '!test "$(cat $OUT)" = "$(rnn-sample '"$C"' --lines -n 30 < prompts.txt | head -1)"' \
  "rnn-sample $C --lines -n 30"
t "--lines: lines arriving one by one, the same"    0 NONE - '!cmp $OUT <(rnn-sample '"$C"' --lines -n 30 < prompts.txt)' \
  "(printf 'the quick\n'; sleep 0.3; printf 'over a\n'; sleep 0.3; printf '\nfox') | rnn-sample $C --lines -n 30"
t "--lines --batch 1: the same lines"               0 NONE prompts.txt '!cmp $OUT <(rnn-sample '"$C"' --lines -n 30 < prompts.txt)' \
  "rnn-sample $C --lines -n 30 --batch 1"
t "--lines --argmax: a line is a prime after a newline" 0 NONE first.txt '!test "$(cat $OUT)" = "$(rnn-sample '"$C"' --argmax --prime "$(printf "\nthe quick")" -n 30 | head -1)"' \
  "rnn-sample $C --lines --argmax -n 30"
t "--lines --beam 3: the beam's best per line"      0 NONE first.txt '!test "$(cat $OUT)" = "$(rnn-sample '"$C"' --beam 3 --prime "$(printf "\nthe quick")" -n 30 --stop "\\n" | head -1)"' \
  "rnn-sample $C --lines --beam 3 -n 30"
t "--lines --stop '\\n' --echo-prime"               0 NONE prompts.txt '!test $(wc -l < $OUT) = 4 && grep -q "^over a" $OUT' \
  "rnn-sample $C --lines -n 60 --stop '\n' --echo-prime"
t "--lines: empty input, no output"                 0 NONE - empty "rnn-sample $C --lines < /dev/null"
t "--lines: an invalid UTF-8 line (after line 1)"   1 "line 2 of standard input: invalid UTF-8" - '!test $(wc -l < $OUT) = 1' \
  "printf 'the\n\xff\xfe\nfox\n' | rnn-sample $C --lines -n 10"
t "--lines: unknown characters"                     1 "line 1 of standard input: the prime has characters not in the vocabulary" - empty \
  "printf 'the Zebra\n' | rnn-sample $C --lines -n 10"
t "--lines --unknown skip: unknown characters left out" 0 NONE - '!test $(wc -l < $OUT) = 2' \
  "printf 'the Zebra\nQQQ\n' | rnn-sample $C --lines -n 10 --unknown skip"
t "--lines with --prime: usage error"               64 "--lines takes its primes from standard input" - empty "rnn-sample $C --lines --prime x"
t "--lines with --count: usage error"               64 "--lines writes one completion per line" - empty "rnn-sample $C --lines --count 2"
t "--lines with --separator: usage error"            64 "--lines writes one output line per input line; drop --separator" - empty "rnn-sample $C --lines --separator x"
t "--lines: a closed pipe stops it cleanly"         0 NONE - '!test $(wc -l < $OUT) = 3' "{ yes 'the fox' || true; } | rnn-sample $C --lines -n 5 | head -3"

# ---- Scores per character ---------------------------------------------------------
t "eval --per-char: a row per character, NumPy's probabilities" 0 "loss" - '!python3 -c "
import subprocess, sys
rows = [l.split(\"\t\") for l in open(\"$OUT\").read().splitlines()]
assert rows[0] == [\"position\", \"symbol\", \"probability\", \"bits\", \"top1\", \"p1\", \"top2\", \"p2\", \"top3\", \"p3\"], rows[0]
want = [float(x) for x in subprocess.run([\"python3\", \"'"$HERE"'/npz_forward.py\", \"m.npz\", \"--probs\", \"held.txt\"], capture_output=True, text=True, check=True).stdout.split()]
got = [float(r[2]) for r in rows[1:]]
assert len(got) == len(want) == len(open(\"held.txt\").read()) - 1, (len(got), len(want))
bad = max(abs(a - b) for a, b in zip(got, want)); assert bad < 1e-4, bad
assert all(float(r[5]) >= float(r[7]) >= float(r[9]) for r in rows[1:])
assert rows[9][0] == \"9\" and any(r[1] == \"\\\\n\" for r in rows)
"' "rnn-ckpt eval --per-char $C held.txt"
t "eval --per-char: mean bits = eval's bits/char"  0 "" - '!python3 -c "
import re, sys
rows = [l.split(\"\t\") for l in open(\"$OUT\").read().splitlines()[1:]]
mean = sum(float(r[3]) for r in rows) / len(rows)
want = float(re.search(r\"([0-9.]+) bits/char\", open(\"$ERR\").read()).group(1))
sys.exit(abs(mean - want) > 1e-3)"' "rnn-ckpt eval --per-char $C held.txt"
t "eval --per-char --top 0: four columns"          0 "" - '!test "$(awk -F"\t" "{print NF}" $OUT | sort -u)" = 4' "rnn-ckpt eval --per-char --top 0 -q $C held.txt"
t "eval --per-char with --json: usage error"       64 "give --per-char or --json, not both" - empty "rnn-ckpt eval --per-char --json $C held.txt"
t "eval --per-char | head: stops cleanly"          0 "" - '!test $(wc -l < $OUT) = 2' "rnn-ckpt eval --per-char -q $C corpus.txt | head -2"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
