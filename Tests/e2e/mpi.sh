#!/usr/bin/env bash
# End-to-end tests of multi-process training (mpirun -np N rnn-train) through
# the real binaries and Open MPI's real mpirun: the same losses as one
# process with the same global batch (LSTM, GRU, dropout), resuming with
# another number of processes, rank 0 alone writing, uneven batches, stdin,
# processes that disagree, signals, and a rank that dies. Without mpirun
# only the cases that need no MPI run and the rest is reported as skipped
# (make deps-mpi installs Open MPI).
# Usage: bash Tests/e2e/mpi.sh BIN_DIR     (e.g. .build/release)
# Cases use the table-driven runner `t` (see lib.sh and cli.sh's header).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/rnn-train" ] || [ ! -x "$1/rnn-ckpt" ] || [ ! -x "$1/rnn-encode" ]; then
    echo "usage: bash Tests/e2e/mpi.sh BIN_DIR (a folder with rnn-train, rnn-ckpt, rnn-encode)" >&2
    exit 2
fi
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-mpi.XXXXXX")
# Background jobs of the signal cases are ended whatever happens.
trap 'pkill -KILL -f "rnn-train corpus.tokens -o (sig|int|dead) " 2>/dev/null; rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG CHARRNN_MPI CHARRNN_LIBMPI OMPI_COMM_WORLD_SIZE PMI_SIZE PMIX_SIZE MPI_LOCALNRANKS
cd "$T" || exit 2
source "$HERE/lib.sh"

python3 - <<'PY'
import random
random.seed(8)
words = "to be or not that is the question whether tis nobler in mind suffer slings arrows of outrageous fortune".split()
open("corpus.txt", "w").write(" ".join(random.choice(words) for _ in range(40000)) + "\n")
open("other.txt", "w").write(" ".join(random.choice(words) for _ in range(40000)) + "\n")
PY
rnn-encode -o corpus.tokens corpus.txt
rnn-encode --vocab <(rnn-vocab corpus.txt) -o other.tokens other.txt

# ---- Without MPI (always run) ------------------------------------------------------
t "rnn-train does not link libmpi (it is loaded only under mpirun)" 0 "" - empty "! ldd '$BIN/rnn-train' | grep -i mpi"
t "OMPI_COMM_WORLD_SIZE without a loadable libmpi: one-line error"  1 "running under mpirun but Open MPI's library could not be loaded|CHARRNN_LIBMPI" - empty \
  "OMPI_COMM_WORLD_SIZE=2 CHARRNN_LIBMPI=$T/no-libmpi.so rnn-train corpus.tokens -o cvx --max-iterations 2"
t "  ... and nothing written"                                1 "" - empty "test -e cvx"
t "another MPI launcher's variables: refused, not trained N times"  1 "not Open MPI's (PMI_SIZE=2)|CHARRNN_MPI=1" - empty \
  "PMI_SIZE=2 rnn-train corpus.tokens -o cvx --max-iterations 2"
t "PMI_SIZE=1 is a single process: trains"                   0 "" - empty "PMI_SIZE=1 rnn-train corpus.tokens -o cv1 --max-iterations 2 -q && ls cv1/*.ckpt >/dev/null"

if ! command -v mpirun >/dev/null 2>&1; then
    echo "SKIP - the multi-process cases: mpirun is not installed (make deps-mpi installs Open MPI)"
    echo "$passed passed, $failed failed, multi-process cases skipped"
    [ "$failed" -eq 0 ]
    exit
fi

MPI="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && MPI="$MPI --allow-run-as-root"
export OMPI_MCA_btl_vader_single_copy_mechanism=none   # containers may forbid cross-memory attach
COMMON="--batch-size 50 --seq-length 50 --threads 1 --max-iterations 30 --eval-val-every 15 -q"

# Relative difference of the train losses of two --metrics files (and the
# validation losses), at most 1e-4 per iteration; both must have N lines.
cat > same.py <<'PY'
import json, sys
a, b, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def losses(path, key):
    return {j["iteration"]: j[key] for j in map(json.loads, open(path)) if j.get(key) is not None}
for key, count in (("train_loss", n), ("val_loss", None)):
    x, y = losses(a, key), losses(b, key)
    assert x.keys() == y.keys(), (key, sorted(x), sorted(y))
    assert count is None or len(x) == count, (key, len(x))
    worst = max(abs(x[i] - y[i]) / abs(y[i]) for i in x)
    assert worst <= 1e-4, (key, worst)
    print(key, len(x), "iterations, worst relative difference", worst)
PY

# ---- Equivalence with one process ------------------------------------------------
for cell in lstm gru; do
  t "$cell: one process, batch 50, 30 iterations"           0 "" - empty "rnn-train corpus.tokens -o one-$cell --model $cell $COMMON --metrics one-$cell.jsonl"
  t "$cell: mpirun -np 2, global batch 50: same losses to 1e-4" 0 "" - '!python3 same.py two-'$cell'.jsonl one-'$cell'.jsonl 30' \
    "$MPI -np 2 rnn-train corpus.tokens -o two-$cell --model $cell $COMMON --metrics two-$cell.jsonl"
  t "$cell: the same checkpoints (names carry epoch and val loss)" 0 "" - empty "diff <(ls one-$cell) <(ls two-$cell)"
done
t "lstm with dropout 0.3 and 5 processes (10 streams each): same losses" 0 "" - '!python3 same.py five.jsonl one-drop.jsonl 30' \
  "rnn-train corpus.tokens -o one-drop --dropout 0.3 $COMMON --metrics one-drop.jsonl && $MPI -np 5 rnn-train corpus.tokens -o five --dropout 0.3 $COMMON --metrics five.jsonl"
t "mpirun -np 1 is an ordinary run"                           0 "" - '!python3 same.py np1.jsonl one-lstm.jsonl 30' \
  "$MPI -np 1 rnn-train corpus.tokens -o np1 $COMMON --metrics np1.jsonl"
t "the checkpoint of 2 processes equals one process's (weights to 1e-4)" 0 "" - empty \
  "python3 -c 'import sys' && rnn-ckpt export --format npz -o a.npz one-lstm/\$(ls one-lstm | tail -1) && rnn-ckpt export --format npz -o b.npz two-lstm/\$(ls two-lstm | tail -1) && python3 -c \"
import numpy as np
a, b = np.load('a.npz'), np.load('b.npz')
assert sorted(a.files) == sorted(b.files)
worst = max(float(np.max(np.abs(a[k] - b[k]))) for k in a.files)
assert worst < 1e-4, worst
\""

if rnn-ckpt devices 2>/dev/null | grep -q '^opencl:'; then
  t "OpenCL device on each of 2 processes: the CPU's losses"  0 "" - '!python3 same.py cl2.jsonl cpu1.jsonl 10' \
    "rnn-train corpus.tokens -o cpu1 --rnn-size 32 --batch-size 8 --seq-length 16 --threads 1 --max-iterations 10 --eval-val-every 5 --metrics cpu1.jsonl -q && $MPI -np 2 rnn-train corpus.tokens -o cl2 --device opencl --rnn-size 32 --batch-size 8 --seq-length 16 --threads 1 --max-iterations 10 --eval-val-every 5 --metrics cl2.jsonl -q"
else
  echo "SKIP - OpenCL under mpirun: no OpenCL device here (install pocl-opencl-icd)"
fi

# ---- Resume with another number of processes ----------------------------------------
t "2 processes for 15 iterations"                            0 "" - empty "$MPI -np 2 rnn-train corpus.tokens -o half $COMMON --max-iterations 15 --metrics r.jsonl"
t "  ... resumed by one process: the straight run's losses"  0 "" - '!python3 same.py r.jsonl one-lstm.jsonl 30' \
  "rnn-train --resume half/\$(ls half | tail -1) corpus.tokens --max-iterations 30 --metrics r.jsonl -q"
t "1 process for 15 iterations, resumed by 5"               0 "" - '!python3 same.py r5.jsonl one-lstm.jsonl 30' \
  "rnn-train corpus.tokens -o half1 $COMMON --max-iterations 15 --metrics r5.jsonl && $MPI -np 5 rnn-train --resume half1/\$(ls half1 | tail -1) corpus.tokens --max-iterations 30 --metrics r5.jsonl -q"

# ---- Rank 0 reports and writes ----------------------------------------------------
t "progress once (rank 0), stdout empty"                     0 "processes: 2 (MPI), 25 of the 50 streams and 1 thread each" - empty \
  "$MPI -np 2 rnn-train corpus.tokens -o log --batch-size 50 --threads 1 --max-iterations 4 --eval-val-every 100 2> log.err; cat log.err >&2; test \$(grep -c '^3/4 ' log.err) = 1 && test \$(grep -c 'validation at 4/4' log.err) = 1"
t "--metrics - : one JSON line per iteration on stdout"      0 "" - '!test $(grep -c "\"val_loss\":null" "$OUT") = 4 && test $(wc -l < "$OUT") = 5' \
  "$MPI -np 2 rnn-train corpus.tokens -o met --batch-size 50 --threads 1 --max-iterations 4 --metrics - -q"
t "--data-dir: rank 0 writes the cache, the run trains"     0 "" - empty \
  "mkdir -p dd && cp corpus.txt dd/input.txt && $MPI -np 2 rnn-train --data-dir dd -o ddcv --batch-size 10 --threads 1 --max-iterations 3 -q && test -s dd/input.tokens && ls ddcv/*.ckpt >/dev/null"

# ---- Refusals ------------------------------------------------------------------------
t "a batch 3 processes cannot split: one error line, exit non-zero" 1 "rnn-train: error: --batch-size 50 does not split evenly over 3 processes — use a multiple of 3 (e.g. 48 or 51)" - empty \
  "$MPI -np 3 rnn-train corpus.tokens -o cv3 --batch-size 50 --threads 1 2> e3.err; s=\$?; cat e3.err >&2; test \$(grep -c 'does not split' e3.err) = 1; exit \$s"
t "  ... and nothing written"                                1 "" - empty "test -e cv3"
t "stdin under mpirun: say to give a file"                   1 "only rank 0 gets stdin|give a text or tokens file" - empty \
  "$MPI -np 2 rnn-train -o cvs --threads 1 < corpus.tokens"
t "a rank with another corpus: refused before training"      1 "1 of 2 processes start from other data, weights or options than rank 0|same tokens file" - empty \
  "$MPI -np 1 rnn-train corpus.tokens -o cvd --threads 1 : -np 1 rnn-train other.tokens -o cvd --threads 1"
t "  ... and nothing written"                                0 "" - empty "test -z \"\$(ls cvd 2>/dev/null)\""

# ---- Signals and faults ------------------------------------------------------------------
# A long run in the background; wait for its first progress lines.
start_long() {   # folder
    rm -f "$1.err" "$1.status"
    ( setsid bash -c "$MPI -np 2 rnn-train corpus.tokens -o $1 --batch-size 50 --threads 1 --max-iterations 100000 --eval-val-every 25 2> $1.err; echo \$? > $1.status" ) &
    for _ in $(seq 300); do grep -q '^30/' "$1.err" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
wait_status() {  # folder seconds
    for _ in $(seq $(($2 * 10))); do [ -s "$1.status" ] && return 0; sleep 0.1; done
    return 1
}
ranks_of() { pgrep -f "rnn-train corpus.tokens -o $1 " | while read -r p; do [ "$(ps -o comm= "$p")" = rnn-train ] && echo "$p"; done; }
export -f start_long wait_status ranks_of
export MPI

t "SIGTERM to one rank: every rank stops, rank 0 saves"      0 "" - empty \
  "start_long sig && kill -TERM \$(ranks_of sig | tail -1) && wait_status sig 20 && cat sig.err >&2 && grep -q 'interrupted at iteration' sig.err && rnn-ckpt info \$(rnn-ckpt best sig) >/dev/null"
t "Ctrl-C (SIGINT to the job's process group): saved, resumable" 0 "" - empty \
  "start_long int && kill -INT -- -\$(ps -o pgid= \$(pgrep -f '^mpirun.*-o int ') | tr -d ' ') && wait_status int 20 && test \$(cat int.status) != 0 && grep -q 'interrupted at iteration' int.err && n=\$(sed -n 's/.*interrupted at iteration \([0-9]*\).*/\1/p' int.err | head -1) && rnn-train --resume \$(ls -t int/*.ckpt | head -1) corpus.tokens --max-iterations \$((n + 3)) --threads 1 -q"
t "a rank killed with SIGKILL: mpirun exits non-zero within 10 s" 0 "" - empty \
  "start_long dead && sleep 1.5 && kill -KILL \$(ranks_of dead | tail -1) && wait_status dead 10 && test \$(cat dead.status) != 0 && cat dead.err >&2"
t "  ... no rank is left running"                            0 "" - empty "sleep 1; test -z \"\$(ranks_of dead)\""
t "  ... every checkpoint is intact, and --resume continues" 0 "" - empty \
  "for f in dead/*.ckpt; do rnn-ckpt info \$f >/dev/null || exit 1; done; ls dead/*.ckpt >/dev/null && $MPI -np 2 rnn-train --resume \$(ls -t dead/*.ckpt | head -1) corpus.tokens --max-iterations 60 --threads 1 -q"
t "  ... no temporary file left in the folder"               0 "" - empty "test -z \"\$(ls -A dead | grep -v '\\.ckpt\$' | grep -v '^\\.lm_')\""

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
