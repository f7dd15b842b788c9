#!/usr/bin/env bash
# End-to-end tests of rnn-train through the real binary: training, the
# pipeline from rnn-encode, bad input and options, signals and resume,
# divergence, --data-dir caching, metrics, --keep, determinism.
# Usage: bash Tests/e2e/train.sh BIN_DIR     (e.g. .build/release)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/rnn-train" ]; then
    echo "usage: bash Tests/e2e/train.sh BIN_DIR (a folder with rnn-train)" >&2
    exit 2
fi
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-train.XXXXXX")
trap 'rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2
source "$HERE/lib.sh"

# ---- Test data --------------------------------------------------------------
python3 - <<'PY'
import random
random.seed(5)
words = "the quick brown fox jumps over a lazy dog while seven wizards hex one jolly bard".split()
text = " ".join(random.choice(words) for _ in range(6000)) + "\n"
open("corpus.txt", "w").write(text)
open("other.txt", "w").write(text.replace("q", "Q") + "ÆØÅ\n")
open("small.txt", "w").write(text[:100])
PY
rnn-encode -o corpus.tokens corpus.txt
rnn-encode -o other.tokens other.txt
rnn-encode -o small.tokens small.txt
mkdir -p dd && cp corpus.txt dd/input.txt
SMALL="--rnn-size 16 --num-layers 1 --batch-size 4 --seq-length 16"
rnn-train corpus.tokens -o ref $SMALL --max-iterations 5 -q
REF=$(ls ref/*.ckpt | head -n 1)

# ---- Cases ------------------------------------------------------------------
t "trains and writes a checkpoint"                    0 NONE - empty "rnn-train corpus.tokens -o cv $SMALL --max-iterations 10 -q && ls cv/lm_lstm_epoch*.ckpt >/dev/null"
t "checkpoint name: lm_<savefile>_epoch<E.EE>_<loss>" 0 NONE - '!ls cv | grep -Eq "^lm_lstm_epoch[0-9]+\.[0-9]{2}_[0-9]+\.[0-9]{4}\.ckpt$"' "true"
t "start-up report: vocab, parameters, split"         0 "vocab size: 28|parameters|minibatches of 4×16: train|val" - empty "rnn-train corpus.tokens -o cv1 $SMALL --max-iterations 2"
t "log lines: iteration, epoch, loss, chars/s"        0 "2/2 (epoch|train_loss = |chars/s|validation at 2/2|saved cv1b/" - empty "rnn-train corpus.tokens -o cv1b $SMALL --max-iterations 2"
t "reads tokens from a pipe"                          0 NONE - empty "rnn-encode < corpus.txt | rnn-train -o cv2 $SMALL --max-iterations 3 -q && ls cv2/*.ckpt >/dev/null"
t "gru and rnn models, savefile"                      0 NONE - empty "rnn-train corpus.tokens -o cv3 $SMALL --model gru --max-iterations 3 -q && rnn-train corpus.tokens -o cv3 $SMALL --model rnn --savefile plain --max-iterations 3 -q && ls cv3/lm_gru_* cv3/lm_plain_* >/dev/null"
t "embedding and dropout"                             0 NONE - empty "rnn-train corpus.tokens -o cv4 $SMALL --embedding-size 8 --dropout 0.3 --optimizer adam --max-iterations 3 -q"
t "corpus too small for one minibatch"                1 "too few for one train and one validation minibatch|smaller --batch-size or --seq-length" - empty "rnn-train small.tokens -o cvs"
t "too small: nothing written"                        0 NONE - empty "rnn-train small.tokens -o cvs 2>/dev/null; test ! -e cvs"
t "a text file trains directly"                       0 "vocab size: 28 (characters)|saved cvtext/" - empty "rnn-train corpus.txt -o cvtext $SMALL --max-iterations 2"
t "a checkpoint given as tokens"                      1 "is a checkpoint, not a tokens file" - empty "rnn-train '$REF' -o cvx"
t "a missing tokens file"                             1 "nope.tokens: no such file" - empty "rnn-train nope.tokens -o cvx"
t "a folder given as tokens"                          1 "is a directory" - empty "rnn-train dd -o cvx"
t "empty stdin"                                       1 "stdin is empty" - empty ": | rnn-train -o cvx"
t "nothing given, nothing piped in"                   1 "no training data|rnn-train input.txt|--data-dir" - empty "rnn-train -o cvx < /dev/null"
t "--dropout 1 is a usage error"                      64 "rnn-train: error: --dropout must be in [0, 1)" - empty "rnn-train corpus.tokens --dropout 1"
t "--rnn-size 0 is a usage error"                     64 "--rnn-size must be at least 1" - empty "rnn-train corpus.tokens --rnn-size 0"
t "--learning-rate nan is a usage error"              64 "--learning-rate must be a positive number" - empty "rnn-train corpus.tokens --learning-rate nan"
t "fractions over 1 are a usage error"                64 "--train-frac plus --val-frac must be at most 1" - empty "rnn-train corpus.tokens --train-frac 0.9 --val-frac 0.2"
t "unknown model is a usage error"                    64 "--model must be lstm, gru or rnn" - empty "rnn-train corpus.tokens --model transformer"
t "negative batch size is a usage error"              64 "--batch-size must be at least 1" - empty "rnn-train corpus.tokens --batch-size=-3"
t "an unavailable device is an error, no fallback"    1 "no OpenCL platform found|pocl-opencl-icd" - empty "OCL_ICD_VENDORS='$T/no-icd' OCL_ICD_FILENAMES= rnn-train corpus.tokens -o cvnd --device opencl"
t "an unavailable device: nothing written"            0 NONE - empty "test ! -e cvnd"
t "an unknown device name is a usage error"           64 "--device must be cpu, opencl, opencl:N or opencl:P.D" - empty "rnn-train corpus.tokens --device gpu"
t "a diverging run stops and says what to do"         1 "training stopped|lower --learning-rate" - empty "rnn-train corpus.tokens -o cvd $SMALL --learning-rate 100 --max-iterations 300 -q"
t "--init-from with another vocabulary"               1 "differs from|only in the data: 'Q'|'Æ'|only in the checkpoint: 'q'" - empty "rnn-train other.tokens -o cvi --init-from '$REF'"
t "--init-from with the same vocabulary"              0 NONE - empty "rnn-train corpus.tokens -o cvi --batch-size 4 --seq-length 16 --init-from '$REF' --max-iterations 3 -q"
t "--resume cannot change the model"                  1 "--rnn-size cannot change the model" - empty "rnn-train corpus.tokens --resume '$REF' --rnn-size 64"
t "--resume cannot change the batch size"             1 "--batch-size cannot change on --resume" - empty "rnn-train corpus.tokens --resume '$REF' --batch-size 8"
t "--resume continues from the saved iteration"       0 "resuming at iteration 5" - empty "rnn-train corpus.tokens --resume '$REF' --max-iterations 8 -o cvr 2>&1 >/dev/null | grep -v '^[0-9]' >&2; ls cvr/*.ckpt >/dev/null"
t "--data-dir encodes input.txt and caches it"        0 "encoding dd/input.txt into dd/input.tokens" - empty "rnn-train --data-dir dd -o cvdd $SMALL --max-iterations 2 && test -s dd/input.tokens"
t "--data-dir reuses a fresh cache"                   0 "" - '!! grep -q encoding "$ERR"' "rnn-train --data-dir dd -o cvdd $SMALL --max-iterations 2"
t "--data-dir re-encodes when input.txt is newer"     0 "encoding dd/input.txt" - empty "sleep 1; touch dd/input.txt; rnn-train --data-dir dd -o cvdd $SMALL --max-iterations 2"
t "--metrics - writes JSON lines to stdout"           0 NONE - '!python3 -c "import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; assert len(rows)==5, rows; assert rows[0][\"iteration\"]==1 and rows[0][\"train_loss\"]>0; assert rows[-1][\"val_loss\"]>0; assert all(set(r)>={\"iteration\",\"epoch\",\"train_loss\",\"val_loss\",\"learning_rate\",\"chars_per_sec\",\"seconds\"} for r in rows)" "$OUT"' "rnn-train corpus.tokens -o cvm $SMALL --max-iterations 4 --metrics - -q"
t "--keep 1 keeps the best and the latest"            0 NONE - '!test $(ls cvk | wc -l) -le 2 && test $(ls cvk | wc -l) -ge 1' "rnn-train corpus.tokens -o cvk $SMALL --max-iterations 40 --eval-val-every 5 --keep 1 -q"
t "without --keep every validation is kept"           0 NONE - '!test $(ls cvk2 | wc -l) -ge 4' "rnn-train corpus.tokens -o cvk2 $SMALL --max-iterations 40 --eval-val-every 5 -q"
t "--sample-every shows a sample on stderr"           0 "sample at iteration 4:" - empty "rnn-train corpus.tokens -o cvsm $SMALL --max-iterations 4 --sample-every 4 --sample-length 30"
t "--max-seconds stops cleanly with a checkpoint"     0 "stopped after --max-seconds|--resume" - empty "rnn-train corpus.tokens -o cvt $SMALL --max-epochs 1000000 --max-seconds 1 --eval-val-every 100000000 2>&1 | grep -v '^[0-9]' >&2; ls cvt/*.ckpt >/dev/null"
t "same seed, same checkpoint bytes"                  0 NONE - empty "rnn-train corpus.tokens -o det $SMALL --dropout 0.2 --max-iterations 6 -q && mv det/*.ckpt a.ckpt && rnn-train corpus.tokens -o det $SMALL --dropout 0.2 --max-iterations 6 -q && cmp a.ckpt det/*.ckpt"
t "another seed, other weights"                       0 NONE - empty "rm -rf det && rnn-train corpus.tokens -o det $SMALL --dropout 0.2 --max-iterations 6 --seed 9 -q && ! cmp -s a.ckpt det/*.ckpt"
t "1 and 2 threads give a usable run"                 0 NONE - empty "rnn-train corpus.tokens -o thr $SMALL --max-iterations 3 --threads 1 -q && rnn-train corpus.tokens -o thr2 $SMALL --max-iterations 3 --threads 2 -q"
t "--threads 0 is a usage error"                      64 "--threads must be at least 1" - empty "rnn-train corpus.tokens --threads 0"
# The CPU's kernel paths (CHARRNN_KERNELS): each one this machine runs
# trains to the default plan's losses (to 1e-5); the plan is printed with
# --verbose; an unknown name is refused with the list.
KSMALL="--rnn-size 32 --num-layers 2 --batch-size 5 --seq-length 16 --max-iterations 4 --eval-val-every 4"
rnn-train corpus.tokens -o kdef $KSMALL --metrics kdef.jsonl -q
rnn-train corpus.tokens -o kdef $KSMALL --embedding-size 16 --model gru --metrics kdefe.jsonl -q
t "rnn-ckpt devices --kernels lists the paths"        0 NONE - '!grep -qx openblas "$OUT" && grep -qx openblas-step "$OUT" && grep -qx portable "$OUT" && grep -q "^portable-" "$OUT"' "rnn-ckpt devices --kernels"
for k in $(rnn-ckpt devices --kernels); do
    t "CHARRNN_KERNELS=$k: the default plan's losses"  0 NONE - "!python3 '$HERE/same_losses.py' kdef.jsonl k-$k.jsonl 1e-5 && python3 '$HERE/same_losses.py' kdefe.jsonl ke-$k.jsonl 1e-5" "CHARRNN_KERNELS=$k rnn-train corpus.tokens -o k-$k $KSMALL --metrics k-$k.jsonl -q && CHARRNN_KERNELS=$k rnn-train corpus.tokens -o k-$k $KSMALL --embedding-size 16 --model gru --metrics ke-$k.jsonl -q"
done
t "--verbose prints the kernel plan"                  0 "kernels for|layer 1 forward recurrent 5×128×32|layer 2 backward input 5×32×128|µs/step" - empty "rnn-train corpus.tokens -o kv $KSMALL --threads 1 --verbose"
t "an unknown CHARRNN_KERNELS is refused"             1 "unknown kernel 'fastest' in CHARRNN_KERNELS|openblas, openblas-step" - empty "CHARRNN_KERNELS=fastest rnn-train corpus.tokens -o kx $KSMALL"
t "an unknown CHARRNN_KERNELS: nothing written"       0 NONE - empty "test ! -e kx"

# Signals: finish the step, save, say how to resume, exit 128+N; then resume.
signal_case() {
    local sig=$1 code=$2 dir=$3
    rnn-train corpus.tokens -o "$dir" $SMALL --max-epochs 1000000 --eval-val-every 100000000 --print-every 100000 2>"$dir.err" &
    local pid=$!
    for _ in $(seq 1 100); do sleep 0.1; grep -q "training for" "$dir.err" 2>/dev/null && break; done
    sleep 0.5
    kill -"$sig" $pid
    wait $pid
    echo $? > "$dir.status"
}
signal_case INT 130 sigint
signal_case TERM 143 sigterm
signal_case HUP 129 sighup
t "SIGINT: exit 130"                                  0 NONE - empty "test \$(cat sigint.status) = 130"
t "SIGINT: says which file to --resume from"          0 NONE - empty "grep -q 'interrupted at iteration' sigint.err && grep -q 'rnn-train --resume sigint/lm_lstm_epoch' sigint.err"
t "SIGINT: the checkpoint is complete and no temp file is left" 0 NONE - empty "test \$(ls -A sigint | grep -v '^\\.lm_lstm\\.lock\$' | wc -l) = 1 && gzip -t sigint/*.ckpt"
t "SIGINT: --resume continues"                        0 "resuming at iteration" - empty "it=\$(grep -o 'interrupted at iteration [0-9]*' sigint.err | grep -o '[0-9]*\$'); rnn-train corpus.tokens --resume sigint/*.ckpt --max-iterations \$((it + 3)) -o sigint2 2>&1 >/dev/null | grep -v '^[0-9]' >&2"
t "SIGTERM: exit 143 with a checkpoint"               0 NONE - empty "test \$(cat sigterm.status) = 143 && ls sigterm/*.ckpt >/dev/null"
t "SIGHUP: exit 129 with a checkpoint"                0 NONE - empty "test \$(cat sighup.status) = 129 && ls sighup/*.ckpt >/dev/null"

# One run per folder and savefile.
rnn-train corpus.tokens -o locked $SMALL --max-epochs 1000000 --eval-val-every 100000000 --print-every 100000 2>locked.err &
lockpid=$!
for _ in $(seq 1 100); do sleep 0.1; grep -q "training for" locked.err 2>/dev/null && break; done
t "a second run on the same folder and savefile is refused" 1 "another rnn-train (pid $lockpid) is writing 'lstm' checkpoints in locked|--savefile" - empty "rnn-train corpus.tokens -o locked $SMALL --max-iterations 2 -q"
t "another savefile in the same folder is fine"      0 NONE - empty "rnn-train corpus.tokens -o locked $SMALL --max-iterations 2 --savefile second -q"
kill -KILL $lockpid; wait $lockpid 2>/dev/null
t "a killed run does not leave the folder locked"   0 NONE - empty "rnn-train corpus.tokens -o locked $SMALL --max-iterations 2 -q"

# A full disk: a small tmpfs (needs root and mount; reported, not passed, when unavailable).
mkdir -p full
if mount -t tmpfs -o size=200k tmpfs full 2>/dev/null; then
    trap 'umount "$T/full" 2>/dev/null; rm -rf "$T"' EXIT
    BIG="--rnn-size 64 --num-layers 1 --batch-size 4 --seq-length 16"
    t "disk full: a clear error, exit 1"              1 "the disk is full|free some space" - empty "rnn-train corpus.tokens -o full/cv $BIG --max-iterations 40 --eval-val-every 10 -q"
    t "disk full: earlier checkpoints intact, no temp file" 0 NONE - empty "test \$(ls full/cv/*.ckpt | wc -l) -ge 1 && for f in full/cv/*.ckpt; do gzip -t \$f; done && test -z \"\$(ls -A full/cv | grep -v -e '\\.ckpt\$' -e '^\\.lm_lstm\\.lock\$')\""
    t "disk full: --on-write-error continue keeps training" 1 "training goes on|last checkpoint could not be written" - empty "rm -rf full/cv; rnn-train corpus.tokens -o full/cv $BIG --max-iterations 40 --eval-val-every 10 -q --on-write-error continue"
    umount full
else
    echo "SKIP disk-full cases: cannot mount a tmpfs here (needs root)"
fi
t "--on-write-error takes stop or continue"         64 "--on-write-error must be stop or continue" - empty "rnn-train corpus.tokens --on-write-error maybe"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
