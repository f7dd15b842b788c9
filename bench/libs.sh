#!/usr/bin/env bash
# bench/libs.sh BIN_DIR — `make bench-libs`: the CPU kernel libraries Debian
# offers (libxsmm, BLIS, oneDNN) against charrnn's own kernels and OpenBLAS,
# on the work of rnn-train's CPU backend (see bench/libs.cpp), and, for
# oneDNN's fused LSTM, against a whole rnn-train iteration on the same
# model. Needs libxsmm-dev, libblis-dev and libdnnl-dev (make deps-libs); a
# library that is missing is left out with a note. Prints a Markdown section
# for bench/results.md (also in bench/out/libs.md).
set -euo pipefail
[ $# -eq 1 ] && [ -x "$1/rnn-train" ] || { echo "usage: bash bench/libs.sh BIN_DIR (with rnn-train)" >&2; exit 64; }
BIN=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
TMP=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-libs.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
CC=${CC:-clang}; CXX=${CXX:-clang++}
NCORES=$(nproc)
log() { echo "  $*" >&2; }
notes=()

# Ours (kernels.c and its per-instruction-set files, as SwiftPM builds them),
# libxsmm and OpenBLAS in one binary; BLIS and oneDNN each in their own
# (BLIS exports the same BLAS symbols as OpenBLAS).
ok_ours=0 ok_blis=0 ok_dnnl=0
for f in kernels kernels_avx2 kernels_avx512 kernels_portable; do
  $CC -O2 -c "Sources/CSupport/$f.c" -ISources/CSupport/include -ISources/CSupport -fno-math-errno \
      -mprefer-vector-width=512 -Wno-psabi -o "$TMP/$f.o"
done
if $CXX -O2 -std=c++17 -DWITH_OURS bench/libs.cpp "$TMP"/kernels*.o -ISources/CSupport/include -o "$TMP/ours" \
     -lxsmm -lopenblas -lpthread -ldl -lm 2> "$TMP/err"; then ok_ours=1
else notes+=("ours/libxsmm/OpenBLAS: build failed ($(head -1 "$TMP/err"))"); fi
# blis.h includes omp.h (Debian's BLIS is the OpenMP build): g++ has it.
if g++ -O2 -DWITH_BLIS bench/libs.cpp -I/usr/include/x86_64-linux-gnu -fopenmp -o "$TMP/blis" -lblis 2> "$TMP/err"; then ok_blis=1
else notes+=("BLIS: not built ($(head -1 "$TMP/err"); apt-get install libblis-dev)"); fi
if $CXX -O2 -std=c++17 -DWITH_DNNL bench/libs.cpp -o "$TMP/dnnl" -ldnnl 2> "$TMP/err"; then ok_dnnl=1
else notes+=("oneDNN: not built ($(head -1 "$TMP/err"); apt-get install libdnnl-dev)"); fi

: > "$TMP/all.jsonl"
# One thread each: OMP for BLIS and oneDNN, OpenBLAS's own.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 BLIS_NUM_THREADS=1
[ $ok_ours = 1 ] && { echo "products: ours, libxsmm, OpenBLAS" >&2; "$TMP/ours" >> "$TMP/all.jsonl"; }
[ $ok_blis = 1 ] && { echo "products: BLIS" >&2; "$TMP/blis" >> "$TMP/all.jsonl"; }

# oneDNN's fused LSTM against rnn-train on the same model and batch.
source bench/lib.sh 2>/dev/null || true
B=50; T=50
"$BIN/rnn-encode" -o "$TMP/tiny.tokens" data/tinyshakespeare/input.txt
ours_iter() {  # H threads -> chars/s of rnn-train (iterations after the warm-up)
  local h=$1 th=$2 n=13 w=3
  [ "$h" -lt 512 ] && { n=45; w=5; }
  rm -rf "$TMP/cv" "$TMP/m.jsonl"
  "$BIN/rnn-train" "$TMP/tiny.tokens" -o "$TMP/cv" -q --rnn-size "$h" --num-layers 2 --threads "$th" \
    --max-iterations $n --eval-val-every 100000 --train-frac 0.999 --val-frac 0.001 --metrics "$TMP/m.jsonl"
  metrics_cps $w "$TMP/m.jsonl"
}
declare -A DNNL=() OURS=()
for th in $(printf '1\n%s\n' "$NCORES" | sort -nu); do
  for round in 1 2; do
    if [ $ok_dnnl = 1 ]; then
      echo "LSTM training step, $th thread(s), round $round: oneDNN" >&2
      OMP_NUM_THREADS=$th "$TMP/dnnl" "$th" > "$TMP/d.jsonl"
      while read -r line; do
        h=$(sed -n 's/.*"rnn_size": \([0-9]*\).*/\1/p' <<< "$line"); c=$(sed -n 's/.*"chars_per_sec": \([0-9]*\).*/\1/p' <<< "$line")
        DNNL_VER=$(sed -n 's/.*"library": "\([^"]*\)".*/\1/p' <<< "$line")
        k="$h:$th"; [ -z "${DNNL[$k]:-}" ] || [ "$c" -gt "${DNNL[$k]}" ] && DNNL[$k]=$c
      done < "$TMP/d.jsonl"
    fi
    for h in 128 512; do
      echo "LSTM training step, $th thread(s), round $round: rnn-train H=$h" >&2
      c=$(ours_iter $h $th); k="$h:$th"
      [ -z "${OURS[$k]:-}" ] || [ "${c:-0}" -gt "${OURS[$k]}" ] && OURS[$k]=$c
    done
  done
done

mkdir -p bench/out
{
  echo "## $(date '+%Y-%m-%d %H:%M %Z') — kernel libraries (make bench-libs)"
  echo
  echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $NCORES cores;" \
       "$(printf 'a\n' | "$BIN/rnn-vocab" --verbose 2>&1 >/dev/null | sed -n 's/.*OpenBLAS kernels: //p' | head -1)"
  echo "- build: commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); one thread per library for the products (best of 15 rounds)"
  for n in "${notes[@]}"; do echo "- $n"; done
  echo
  echo "One step's product (µs, GFLOP/s), M rows × N × K as the backend calls it (25 rows: a thread's share of a batch of 50):"
  echo
  echo "| product | library | µs | GFLOP/s |"
  echo "|---|---|---:|---:|"
  python3 - "$TMP/all.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
order = []
for r in rows:
    key = (r["shape"], r["what"])
    if key not in order: order.append(key)
for key in order:
    for r in sorted((r for r in rows if (r["shape"], r["what"]) == key), key=lambda r: r["us"]):
        print(f"| {key[1]} {key[0]} | {r['library']} | {r['us']:.1f} | {r['gflops']:.1f} |")
PY
  if [ $ok_dnnl = 1 ]; then
    echo
    echo "A training step of a 2-layer LSTM, batch 50 × 50 steps, one-hot input of 65 (chars/s, best of 2):" \
         "$DNNL_VER's fused LSTM forward and backward (weights reordered every step; no decoder, softmax or optimiser)" \
         "against a whole rnn-train iteration (all of those included):"
    echo
    echo "| model | threads | oneDNN | rnn-train | rnn-train/oneDNN |"
    echo "|---|---:|---:|---:|---:|"
    for k in $(printf '%s\n' "${!DNNL[@]}" | sort -t: -k1,1n -k2,2n); do
      h=${k%:*}; th=${k#*:}
      echo "| LSTM 2×$h | $th | ${DNNL[$k]} | ${OURS[$k]:-—} | $(awk -v a="${OURS[$k]:-0}" -v b="${DNNL[$k]}" 'BEGIN { printf "%.2f", a / b }') |"
    done
  fi
  echo
} | tee bench/out/libs.md
