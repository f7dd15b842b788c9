#!/usr/bin/env bash
# bench/mpi.sh BIN_DIR [--quick] — multi-process scaling (`make bench-mpi`).
#
# Trains on tiny-shakespeare (batch 50, seq 50, RMSprop) with one process of
# one thread, then `mpirun -np 2` with one thread per process (25 streams
# each), and for comparison one process with 2 threads; reports chars/s, the
# speed-up and the efficiency of 2 processes (speed-up / 2), and the bytes
# the gradient allreduce moves per iteration. Best of BENCH_REPEATS (2) runs
# each, alternating. Prints a Markdown section (also bench/out/mpi.md).
set -euo pipefail

usage() { echo "usage: bash bench/mpi.sh BIN_DIR [--quick]" >&2; exit 64; }
[ $# -ge 1 ] || usage
BIN=$1; shift
QUICK=0
for a in "$@"; do case $a in --quick) QUICK=1 ;; *) usage ;; esac; done
[ -x "$BIN/rnn-train" ] || { echo "bench-mpi: no rnn-train in $BIN — run 'make build' first" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "bench-mpi: mpirun not found — run 'make deps-mpi' (Open MPI)" >&2; exit 1; }
BIN=$(cd "$BIN" && pwd)
cd "$(dirname "$0")/.."
TINY=data/tinyshakespeare/input.txt
[ -f "$TINY" ] || { echo "bench-mpi: $TINY missing — run 'make $TINY'" >&2; exit 1; }
B=50; T=50
if [ $QUICK = 1 ]; then REPEATS=1; SMALL_ITERS=15; SMALL_WARM=3; BIG_ITERS=6; BIG_WARM=2
else REPEATS=${BENCH_REPEATS:-2}; SMALL_ITERS=65; SMALL_WARM=5; BIG_ITERS=23; BIG_WARM=3; fi
MPI="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && MPI="$MPI --allow-run-as-root"
export OMPI_MCA_btl_vader_single_copy_mechanism=none

TMP=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-bench-mpi.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/bin"; cp "$BIN"/rnn-train "$BIN"/rnn-encode "$BIN"/rnn-vocab "$TMP/bin/"; BIN=$TMP/bin
"$BIN/rnn-encode" -o "$TMP/tiny.tokens" "$TINY"
log() { echo "bench-mpi: $*" >&2; }

source bench/lib.sh   # metrics_cps (the working folder is the repository root)

run() {  # how(1p1t|2p1t|1p2t) size iters warm
  local how=$1 h=$2 n=$3 w=$4 launch="" th=1
  case $how in 2p1t) launch="$MPI -np 2" ;; 1p2t) th=2 ;; esac
  rm -rf "$TMP/cv" "$TMP/m.jsonl"
  if ! $launch "$BIN/rnn-train" "$TMP/tiny.tokens" -o "$TMP/cv" -q --seed 123 --model lstm --rnn-size "$h" \
       --num-layers 2 --batch-size $B --seq-length $T --threads "$th" --max-iterations "$n" \
       --eval-val-every $((n + 1000)) --train-frac 0.999 --val-frac 0.001 --metrics "$TMP/m.jsonl" 2>"$TMP/err"; then
    log "rnn-train ($how, $h) failed: $(tail -3 "$TMP/err")"; echo 0; return
  fi
  metrics_cps "$w" "$TMP/m.jsonl"
}

declare -A BEST
for rep in $(seq "$REPEATS"); do
  for h in 128 512; do
    if [ "$h" = 128 ]; then n=$SMALL_ITERS; w=$SMALL_WARM; else n=$BIG_ITERS; w=$BIG_WARM; fi
    for how in 1p1t 2p1t 1p2t; do
      c=$(run "$how" "$h" "$n" "$w"); c=${c:-0}
      k="$how:$h"
      if [ "${BEST[$k]:-0}" -lt "$c" ]; then BEST[$k]=$c; fi
      log "run $rep: LSTM 2x$h $how: $c chars/s"
    done
  done
done

params() {  # parameters of a 2-layer LSTM of H units over V symbols
  local h=$1 v=$2
  echo $(( 4*h*(v+h+2) + 4*h*(2*h+2) + v*h + v ))
}
V=$("$BIN/rnn-vocab" "$TINY" 2>/dev/null | grep -vc '^#')   # the model's vocabulary size
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
out=$(mktemp)
{
  echo "### make bench-mpi — $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
  echo "$cpu, $(nproc) cores; Open MPI $(mpirun --version 2>/dev/null | head -1 | awk '{print $NF}'), shared memory (one node); LSTM, batch $B × seq $T, best of $REPEATS."
  echo
  echo "| model | 1 process × 1 thread | 2 processes × 1 thread | speed-up | efficiency | 1 process × 2 threads | allreduce per iteration |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for h in 128 512; do
    one=${BEST[1p1t:$h]:-0}; two=${BEST[2p1t:$h]:-0}; thr=${BEST[1p2t:$h]:-0}
    p=$(params "$h" "$V")
    awk -v h="$h" -v one="$one" -v two="$two" -v thr="$thr" -v p="$p" 'BEGIN {
      s = one > 0 ? two / one : 0
      printf "| LSTM 2×%d | %.1fk | %.1fk | %.2f× | %.0f%% | %.1fk | %.2f MB (%d floats) |\n", h, one/1000, two/1000, s, 50*s, thr/1000, 4*p/1e6, p }'
  done
  echo
  echo "Efficiency = chars/s of 2 processes ÷ (2 × chars/s of 1). A ring allreduce sends and receives (N−1)/N × 2 × that size per process per iteration; at 10 Gb/s (1.25 GB/s) between two nodes the 2×512 gradients take about $(awk -v p="$(params 512 "$V")" 'BEGIN { printf "%.1f", 4*p/1.25e6 }') ms per iteration."
} > "$out"
cat "$out"
mkdir -p bench/out && cp "$out" bench/out/mpi.md
