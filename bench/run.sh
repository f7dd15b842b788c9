#!/usr/bin/env bash
# bench/run.sh BIN_DIR [--quick] — charrnn's benchmark (`make bench`, `make bench-quick`).
#
# Measures rnn-encode throughput and rnn-train chars/s and peak RSS on
# tiny-shakespeare, and the same training (and batch-1 sampling) figures from
# the PyTorch reference bench/torch_ref.py when ${PYTHON:-python3} can import
# torch. Ours and PyTorch's runs alternate (ours, torch, ours, torch) and the
# best of each is kept. Also: the machine's SGEMM peak (bench/sgemm.c) and the
# share of it that training LSTM 2×512 (and 2×128) reaches, and, last, the
# validation loss each side reaches in QUALITY_SECONDS of training LSTM 2×128
# with char-rnn's defaults (once each). Prints a Markdown section for
# bench/results.md and also writes it to bench/out/last.md. See bench/README.md.
set -euo pipefail

usage() { echo "usage: bash bench/run.sh BIN_DIR [--quick]" >&2; exit 64; }
[ $# -ge 1 ] || usage
BIN=$1; shift
QUICK=0
for a in "$@"; do case $a in --quick) QUICK=1 ;; *) usage ;; esac; done
[ -x "$BIN/rnn-train" ] || { echo "bench: no rnn-train in $BIN — run 'make build' first" >&2; exit 1; }
BIN=$(cd "$BIN" && pwd)
cd "$(dirname "$0")/.."                      # repository root

TINY=data/tinyshakespeare/input.txt          # training corpus
BIG=data/shakespeare/input.txt               # encode corpus (5 MB)
[ -f "$TINY" ] || { echo "bench: $TINY missing — run 'make $TINY'" >&2; exit 1; }
PYTHON=${PYTHON:-python3}
B=50; T=50                                    # batch, sequence length
NCORES=$(nproc 2>/dev/null || grep -c '^processor' /proc/cpuinfo)
if [ "$NCORES" -gt 1 ]; then THREADS="1 $NCORES"; else THREADS=1; fi

# *_ITERS: training iterations in all, of which the first *_WARM are not timed
# (SMALL: H=128, BIG: H=512); SAMPLE_N: characters PyTorch samples (ours 10x).
if [ $QUICK = 1 ]; then
  REPEATS=1; ENC_RUNS=1; THREADS=$NCORES
  SMALL_ITERS=15; SMALL_WARM=3; BIG_ITERS=6; BIG_WARM=2; SAMPLE_N=1000
else
  REPEATS=${BENCH_REPEATS:-2}; ENC_RUNS=3
  SMALL_ITERS=65; SMALL_WARM=5; BIG_ITERS=23; BIG_WARM=3; SAMPLE_N=3000
fi
CONFIGS="lstm:128 lstm:512 gru:128 rnn:128"
# Seconds of training for the validation-loss race (0: leave it out).
if [ $QUICK = 1 ]; then QUALITY_SECONDS=${BENCH_QUALITY_SECONDS:-20}
else QUALITY_SECONDS=${BENCH_QUALITY_SECONDS:-300}; fi
SGEMM_N=2048                                  # M = N = K of the SGEMM peak

TMP=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
START_ALL=$(date +%s)
now() { date +%s.%N; }
# Work on copies, so that a rebuild in the same tree during the run (another
# `make build`) cannot mix two versions of the tools in one table.
mkdir "$TMP/bin"
for t in rnn-vocab rnn-encode rnn-train rnn-sample rnn-ckpt; do
  if [ -x "$BIN/$t" ]; then cp "$BIN/$t" "$TMP/bin/"; fi
done
SRC_BIN=$BIN; BIN=$TMP/bin
log() { echo "  $*" >&2; }

# --- peak RSS: GNU time if it works, else a tiny Python wrapper -------------
if [ "${BENCH_RSS:-}" != python ] && /usr/bin/time -v -o "$TMP/probe" true >/dev/null 2>&1; then
  RSS_TOOL="/usr/bin/time -v"
  rss_run() { local out=$1; shift; /usr/bin/time -v -o "$out" "$@"; }
else
  PY_RSS=$(command -v python3 || echo "$PYTHON")
  RSS_TOOL="bench/peakrss.py"
  rss_run() { local out=$1; shift; "$PY_RSS" bench/peakrss.py -o "$out" "$@"; }
fi
rss_mb() { awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1"; }
json_field() { sed -n "s/.*\"$1\": *\([-0-9.eE+]*\).*/\1/p" | head -1; }

# --- results: rows in order, best value kept per side ----------------------
ROWS=(); declare -A OURS=() TORCH=() BETTER=() LAST=()   # LAST: a row's own last column
declare -A PLAN=(); MACHINE=""                             # the kernel plans rnn-train chose
row() { ROWS+=("$1"); BETTER[$1]=$2; }      # label, "high" or "low" is better
keep() {                                      # side label value: keep the best
  local -n side=$1; local cur=${side[$2]:-}
  [ -n "$3" ] || return 0
  if [ -z "$cur" ] || awk -v a="$3" -v b="$cur" -v d="${BETTER[$2]}" \
       'BEGIN { exit !((d == "high") ? a > b : a < b) }'; then side[$2]=$3; fi
}

# --- header -----------------------------------------------------------------
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
BLAS=$(printf 'a\n' | "$BIN/rnn-vocab" --verbose 2>&1 >/dev/null | sed -n 's/.*OpenBLAS kernels: //p' | head -1)
BUILT=$(date -r "$SRC_BIN/rnn-train" '+%Y-%m-%d %H:%M')
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || COMMIT="$COMMIT (+ local changes)"
if "$PYTHON" -c 'import torch' 2>/dev/null; then
  HAVE_TORCH=1
  TORCH_VER=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null)
else
  HAVE_TORCH=0
fi
MODE=full; [ $QUICK = 1 ] && MODE=quick
# The OpenCL device --device opencl picks, if any (rows "OpenCL" below).
OPENCL=""
if [ -x "$BIN/rnn-ckpt" ] && [ "${BENCH_OPENCL:-1}" = 1 ]; then
  OPENCL=$("$BIN/rnn-ckpt" devices 2>/dev/null | sed -n 's/^\(opencl:[0-9]*\.[0-9]*\) = opencl:[0-9]*  *\([A-Za-z]*\) .*  \(.*\) (--device opencl)$/\1 (\2: \3)/p' | head -1)
fi

# --- SGEMM peak: bench/sgemm.c on OpenBLAS, with the kernels our tools use ------
# Debian's OpenBLAS may not know this CPU and fall back to generic kernels;
# our tools then set OPENBLAS_CORETYPE themselves (the header's "chosen by
# charrnn"), so sgemm gets the same core type unless the user set one.
BLAS_CORE=${BLAS%% *}
SGEMM_CORETYPE=""
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [[ "$BLAS" == *"chosen by charrnn"* ]]; then SGEMM_CORETYPE=$BLAS_CORE; fi
# Measured at the start and again before the shares are worked out, the
# higher kept (a peak: another process on a core only ever lowers it).
# PyTorch's own torch.mm (MKL in pip wheels) is shown beside it, for reading
# PyTorch's share; the shares of both sides are of the OpenBLAS peak.
declare -A PEAK=() TPEAK=()                   # threads -> GFLOP/s
SGEMM_CORE=""; SGEMM_NOTE=""; SGEMM_REPS=10
PEAK_THREADS=$(printf '1\n%s\n' "$NCORES" | sort -nu)
max_into() { local -n m=$1; if [ -n "$3" ] && awk -v a="$3" -v b="${m[$2]:-0}" 'BEGIN { exit !(a > b) }'; then m[$2]=$3; fi; }
sgemm_run() {    # threads: one JSON line from bench/sgemm.c
  if [ -n "$SGEMM_CORETYPE" ]; then OPENBLAS_CORETYPE=$SGEMM_CORETYPE "$TMP/sgemm" "$1" $SGEMM_N $SGEMM_REPS
  else "$TMP/sgemm" "$1" $SGEMM_N $SGEMM_REPS; fi
}
measure_peaks() {
  local th g
  [ -z "$SGEMM_NOTE" ] || return 0
  for th in $PEAK_THREADS; do
    if sgemm_run "$th" > "$TMP/sgemm.json" 2> "$TMP/err"; then
      g=$(json_field gflops < "$TMP/sgemm.json"); max_into PEAK "$th" "$g"
      SGEMM_CORE=$(sed -n 's/.*"core": *"\([^"]*\)".*/\1/p' "$TMP/sgemm.json")
      log "OpenBLAS sgemm, $th thread$([ "$th" = 1 ] || echo s): $g GFLOP/s, core $SGEMM_CORE"
    else
      log "sgemm failed: $(head -1 "$TMP/err")"
    fi
    if [ $HAVE_TORCH = 1 ] && "$PYTHON" bench/torch_ref.py gemm - --size $SGEMM_N --iters $SGEMM_REPS \
        --threads "$th" > "$TMP/tg.json" 2> /dev/null; then
      g=$(json_field gflops < "$TMP/tg.json"); max_into TPEAK "$th" "$g"
      log "PyTorch torch.mm, $th thread$([ "$th" = 1 ] || echo s): $g GFLOP/s"
    fi
  done
}
echo "SGEMM peak (bench/sgemm.c, $SGEMM_N³)" >&2
if ${CC:-cc} -O2 bench/sgemm.c -o "$TMP/sgemm" -lopenblas 2> "$TMP/cc.err"; then
  measure_peaks
  [ ${#PEAK[@]} -gt 0 ] || SGEMM_NOTE="not measured: bench/sgemm.c failed to run"
else
  SGEMM_NOTE="not measured: '${CC:-cc} -O2 bench/sgemm.c -lopenblas' failed"
  msg=$(grep -m1 . "$TMP/cc.err" || true); [ -z "$msg" ] || SGEMM_NOTE="$SGEMM_NOTE ($msg)"
  log "$SGEMM_NOTE"
fi

ISA=$(grep -o -w -E 'avx512f|avx2|fma' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ' ' | sed 's/ $//')
header() {
  echo "## $(date '+%Y-%m-%d %H:%M %Z') — $MODE run"
  echo
  echo "- CPU: ${CPU:-unknown}, $NCORES cores, $(uname -m) ${ISA:+with $ISA}"
  [ -z "$MACHINE" ] || echo "- charrnn's CPU kernels: $MACHINE"
  local key
  if [ ${#PLAN[@]} -gt 0 ]; then
    echo "- kernel plans (rnn-train --verbose; chosen by timing on this machine, cached in ~/.cache/charrnn):"
    printf '%s\n' "${!PLAN[@]}" | sort | while read -r key; do echo "  - $key: ${PLAN[$key]}"; done
  fi
  echo "- OpenBLAS kernels: ${BLAS:-unknown}"
  echo "- build: commit $COMMIT, rnn-train built $BUILT, target CPU ${TARGET_CPU:-unknown (not run through make)}"
  if [ $HAVE_TORCH = 1 ]; then echo "- PyTorch: $TORCH_VER ($PYTHON)"
  else echo "- PyTorch not importable with $PYTHON: ours alone (set PYTHON=/path/to/python)"; fi
  if [ -n "$OPENCL" ]; then echo "- OpenCL: $OPENCL; its rows are ours on --device opencl (H=128 only)"
  else echo "- OpenCL: no device (or BENCH_OPENCL=0), so no OpenCL rows"; fi
  echo "- batch $B, seq $T, 2 layers, one-hot input; training: $((SMALL_ITERS - SMALL_WARM)) timed iterations" \
       "after $SMALL_WARM (H=512: $((BIG_ITERS - BIG_WARM)) after $BIG_WARM); best of $REPEATS; peak RSS by $RSS_TOOL"
  if [ -n "$SGEMM_NOTE" ]; then echo "- SGEMM peak: $SGEMM_NOTE"
  else
    local p="" th
    for th in $(printf '%s\n' "${!PEAK[@]}" | sort -n); do
      p="$p${p:+, }${PEAK[$th]} GFLOP/s on $th thread$([ "$th" = 1 ] || echo s)"
    done
    p="$p; OpenBLAS kernels ${SGEMM_CORE:-unknown}"
    if [ -n "$SGEMM_CORETYPE" ]; then p="$p (OPENBLAS_CORETYPE=$SGEMM_CORETYPE, as our tools choose)"; fi
    if [ -n "$SGEMM_CORE" ] && [ -n "$BLAS_CORE" ] && [ "$SGEMM_CORE" != "$BLAS_CORE" ]; then
      p="$p — NOT the $BLAS_CORE kernels our tools use"
    fi
    echo "- SGEMM peak (bench/sgemm.c, ${SGEMM_N}³ single precision, best of $SGEMM_REPS, at start and end): $p"
    if [ ${#TPEAK[@]} -gt 0 ]; then
      p=""
      for th in $(printf '%s\n' "${!TPEAK[@]}" | sort -n); do
        p="$p${p:+, }${TPEAK[$th]} GFLOP/s on $th thread$([ "$th" = 1 ] || echo s)"
      done
      echo "- PyTorch's own torch.mm, same size: $p (for reference; shares are of the OpenBLAS peak)"
    fi
  fi
  if [ "$QUALITY_SECONDS" != 0 ]; then
    echo "- val-loss race: LSTM 2×128, rnn-train's (char-rnn's) defaults, $QUALITY_SECONDS s of training" \
         "on $NCORES thread$([ "$NCORES" = 1 ] || echo s), once each, validating every 1000 iterations (in the time)" \
         "and at the end (not timed)"
  fi
}
header >&2
echo >&2

# --- encode throughput --------------------------------------------------------
ENC_IN=$BIG; [ -f "$ENC_IN" ] || { ENC_IN=$TINY; log "note: $BIG missing, encoding $TINY instead"; }
ENC_MB=$(awk -v b="$(wc -c < "$ENC_IN")" 'BEGIN { printf "%.1f", b / 1e6 }')
ENC_ROW="encode $ENC_IN ($ENC_MB MB), MB/s"; ENC_RSS_ROW="encode, peak RSS (MB)"
row "$ENC_ROW" high; row "$ENC_RSS_ROW" low
echo "encode ($ENC_RUNS runs)" >&2
for _ in $(seq "$ENC_RUNS"); do
  t0=$(now); rss_run "$TMP/rss" "$BIN/rnn-encode" -o "$TMP/big.tokens" "$ENC_IN"; t1=$(now)
  mbs=$(awk -v m="$ENC_MB" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", m / (b - a) }')
  log "$mbs MB/s, $(rss_mb "$TMP/rss") MB"
  keep OURS "$ENC_ROW" "$mbs"; keep OURS "$ENC_RSS_ROW" "$(rss_mb "$TMP/rss")"
done
rm -f "$TMP/big.tokens"
"$BIN/rnn-encode" -o "$TMP/tiny.tokens" "$TINY"

# --- training -------------------------------------------------------------------
source bench/lib.sh   # metrics_cps (the working folder is the repository root)

ours_train() {   # model size threads iters warm [device]
  local m=$1 h=$2 th=$3 n=$4 w=$5 dev=${6:-cpu}
  rm -rf "$TMP/cv" "$TMP/m.jsonl"
  # A one-minibatch validation split, validated only at the end: it costs
  # next to nothing and is outside the timed iterations anyway (so is the
  # kernel compilation of an OpenCL device, in the first iteration).
  if ! rss_run "$TMP/rss" "$BIN/rnn-train" "$TMP/tiny.tokens" -o "$TMP/cv" -q --verbose --seed 123 \
      --model "$m" --rnn-size "$h" --num-layers 2 --batch-size $B --seq-length $T --device "$dev" \
      --threads "$th" --max-iterations "$n" --eval-val-every $((n + 1000)) \
      --train-frac 0.999 --val-frac 0.001 --metrics "$TMP/m.jsonl" 2> "$TMP/train.err"; then
    log "ours: rnn-train failed: $(grep -m1 error "$TMP/train.err")"; CPS=; RSS=; return
  fi
  CPS=$(metrics_cps "$w" "$TMP/m.jsonl"); RSS=$(rss_mb "$TMP/rss")
  # The kernel plan (rnn-train --verbose): each product's chosen kernel.
  if [ "$dev" = cpu ]; then
    local key="$(echo "$m" | tr a-z A-Z) 2×$h, $th thread$([ "$th" = 1 ] || echo s)"
    if [ -z "${PLAN[$key]:-}" ]; then
      local p; p=$(plan_summary "$TMP/train.err"); [ -z "$p" ] || PLAN[$key]=$p
    fi
    [ -n "$MACHINE" ] || MACHINE=$(sed -n 's/^rnn-train: kernels for [^:]*: //p' "$TMP/train.err" | head -1)
  fi
}

# "fwd recurrent K1, bwd recurrent K2, fwd input K3, bwd input K4" from the
# plan lines of rnn-train --verbose (the last layer's, which has them all).
plan_summary() {
  awk '/^rnn-train: layer [0-9]+ (forward|backward) (recurrent|input) / {
         d = ($4 == "forward") ? "fwd" : "bwd"; split($0, parts, ": "); split(parts[3], k, " ")
         last[d " " $5] = k[1] }
       END { n = split("fwd recurrent,bwd recurrent,fwd input,bwd input", order, ",")
             for (i = 1; i <= n; i++) if (order[i] in last) { printf "%s%s %s", sep, order[i], last[order[i]]; sep = ", " } }' "$1"
}

torch_train() {  # model size threads iters warm
  local m=$1 h=$2 th=$3 n=$4 w=$5
  if ! rss_run "$TMP/rss" "$PYTHON" bench/torch_ref.py train "$TINY" --model "$m" --rnn-size "$h" \
      --num-layers 2 --batch-size $B --seq-length $T --threads "$th" \
      --iters $((n - w)) --warmup "$w" > "$TMP/t.json"; then
    log "PyTorch: torch_ref.py failed"; CPS=; RSS=; return
  fi
  CPS=$(json_field chars_per_sec < "$TMP/t.json"); CPS=${CPS%.*}; RSS=$(rss_mb "$TMP/rss")
}

for c in $CONFIGS; do
  m=${c%%:*}; h=${c#*:}; M=$(echo "$m" | tr a-z A-Z)
  if [ "$h" -ge 512 ]; then n=$BIG_ITERS; w=$BIG_WARM; else n=$SMALL_ITERS; w=$SMALL_WARM; fi
  RSS_ROW="train $M 2×$h, peak RSS (MB)"; BETTER[$RSS_ROW]=low   # listed after the chars/s rows
  for th in $THREADS; do
    label="train $M 2×$h, $th thread$([ "$th" = 1 ] || echo s), chars/s"
    row "$label" high
    echo "$label" >&2
    for _ in $(seq "$REPEATS"); do
      ours_train "$m" "$h" "$th" "$n" "$w"
      log "ours:    ${CPS:-?} chars/s, ${RSS:-?} MB"
      keep OURS "$label" "$CPS"; keep OURS "$RSS_ROW" "$RSS"
      if [ "$m" = lstm ] && [ ! -f "$TMP/lstm$h.ckpt" ]; then
        f=$(ls "$TMP"/cv/*.ckpt 2>/dev/null | head -1 || true)
        if [ -n "$f" ]; then cp "$f" "$TMP/lstm$h.ckpt"; fi
      fi
      if [ $HAVE_TORCH = 1 ]; then
        torch_train "$m" "$h" "$th" "$n" "$w"
        log "PyTorch: ${CPS:-?} chars/s, ${RSS:-?} MB"
        keep TORCH "$label" "$CPS"; keep TORCH "$RSS_ROW" "$RSS"
      fi
    done
  done
  ROWS+=("$RSS_ROW")
  if [ -n "$OPENCL" ] && [ "$h" -lt 512 ]; then
    label="train $M 2×$h, OpenCL, chars/s"
    row "$label" high
    echo "$label" >&2
    for _ in $(seq "$REPEATS"); do
      ours_train "$m" "$h" 1 "$n" "$w" opencl
      log "ours:    ${CPS:-?} chars/s"
      keep OURS "$label" "$CPS"
    done
  fi
done

# --- sampling: batch 1, one character at a time ----------------------------------
# LSTM 2×128 on 1 thread; LSTM 2×512 on 1 and 2 threads (its weights no
# longer fit one core's cache, so rnn-sample splits the products).
for spec in 128:1 512:1 512:2; do
  h=${spec%:*}; th=${spec#*:}
  SAMPLE_ROW="sample LSTM 2×$h, batch 1, $th thread$([ "$th" = 1 ] || echo s), chars/s"
  row "$SAMPLE_ROW" high
  echo "$SAMPLE_ROW" >&2
  # Ours over more characters than PyTorch (it is much faster); H=512 fewer.
  if [ "$h" = 128 ]; then n=$((SAMPLE_N * 10)); tn=$SAMPLE_N; else n=$((SAMPLE_N * 2)); tn=$((SAMPLE_N / 2)); fi
  for _ in $(seq "$REPEATS"); do
    if [ -x "$BIN/rnn-sample" ] && [ -f "$TMP/lstm$h.ckpt" ]; then
      # After start-up, as PyTorch's figure is (rnn-sample --verbose times
      # the characters from the first one on: "N characters in S s");
      # the whole process, loading the checkpoint included, is logged too.
      t0=$(now)
      if "$BIN/rnn-sample" "$TMP/lstm$h.ckpt" -n $n --seed 123 --threads "$th" --verbose > /dev/null 2> "$TMP/err"; then
        t1=$(now); whole=$(awk -v n=$n -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
        cps=$(sed -n 's/.* characters in \([0-9.]*\) s.*/\1/p' "$TMP/err" | tail -1 |
              awk -v n=$n '$1 > 0 { printf "%.0f", n / $1 }')
        log "ours:    ${cps:-?} chars/s (whole process, loading included: $whole)"; keep OURS "$SAMPLE_ROW" "$cps"
      else
        log "ours: rnn-sample failed: $(head -1 "$TMP/err")"
      fi
    else
      log "ours:    no LSTM 2×$h checkpoint to sample from"
    fi
    if [ $HAVE_TORCH = 1 ]; then
      if "$PYTHON" bench/torch_ref.py sample "$TINY" --rnn-size "$h" -n "$tn" --warmup 50 --threads "$th" > "$TMP/t.json"; then
        cps=$(json_field chars_per_sec < "$TMP/t.json"); cps=${cps%.*}
        log "PyTorch: $cps chars/s"; keep TORCH "$SAMPLE_ROW" "$cps"
      fi
    fi
  done
done

# --- sampling many at once: rnn-sample --count 64 -n 1000 on LSTM 2×128 -------
# The 64 samples advance together as the rows of one batch (2 threads);
# PyTorch draws 64 streams as one batch too. The speed-up row divides each
# side's --count 64 rate by its own batch-1 rate (measured here, 2 threads).
BATCH_ROW="sample LSTM 2×128, --count 64 (one batch of 64), 2 threads, chars/s"
SPEEDUP_ROW="sample LSTM 2×128, --count 64 ÷ --count 1 (each side its own), speed-up"
row "$BATCH_ROW" high; row "$SPEEDUP_ROW" high
echo "$BATCH_ROW" >&2
rate() { sed -n 's/.* characters in \([0-9.]*\) s.*/\1/p' "$1" | tail -1 | awk -v n="$2" '$1 > 0 { printf "%.0f", n / $1 }'; }
for _ in $(seq "$REPEATS"); do
  if [ -f "$TMP/lstm128.ckpt" ] &&
     "$BIN/rnn-sample" "$TMP/lstm128.ckpt" -n 1000 --count 64 --seed 123 --threads 2 --verbose > /dev/null 2> "$TMP/err" &&
     "$BIN/rnn-sample" "$TMP/lstm128.ckpt" -n 20000 --seed 123 --threads 2 --verbose > /dev/null 2> "$TMP/err1"; then
    many=$(rate "$TMP/err" 64000); one=$(rate "$TMP/err1" 20000)
    log "ours:    $many chars/s (--count 1: $one)"; keep OURS "$BATCH_ROW" "$many"
    keep OURS "$SPEEDUP_ROW" "$(awk -v a="$many" -v b="$one" 'BEGIN { printf "%.2f", a / b }')"
  else
    log "ours: rnn-sample --count 64 failed: $(head -1 "$TMP/err")"
  fi
  if [ $HAVE_TORCH = 1 ] &&
     "$PYTHON" bench/torch_ref.py sample "$TINY" -n 200 --count 64 --warmup 20 --threads 2 > "$TMP/t.json" &&
     "$PYTHON" bench/torch_ref.py sample "$TINY" -n "$SAMPLE_N" --warmup 50 --threads 2 > "$TMP/t1.json"; then
    many=$(json_field chars_per_sec < "$TMP/t.json"); one=$(json_field chars_per_sec < "$TMP/t1.json")
    log "PyTorch: ${many%.*} chars/s (batch 1: ${one%.*})"; keep TORCH "$BATCH_ROW" "${many%.*}"
    keep TORCH "$SPEEDUP_ROW" "$(awk -v a="$many" -v b="$one" 'BEGIN { printf "%.2f", a / b }')"
  fi
done
LAST[$SPEEDUP_ROW]="—"

# Sampling on the OpenCL device: the rate rnn-sample --verbose reports, which
# leaves out start-up (loading, and compiling the device's kernels).
if [ -n "$OPENCL" ]; then
  CL_SAMPLE_ROW="sample LSTM 2×128, batch 1, OpenCL, chars/s (after start-up)"
  row "$CL_SAMPLE_ROW" high
  echo "$CL_SAMPLE_ROW" >&2
  for _ in $(seq "$REPEATS"); do
    if [ -f "$TMP/lstm128.ckpt" ] && "$BIN/rnn-sample" "$TMP/lstm128.ckpt" -n "$SAMPLE_N" --seed 123 --device opencl --verbose \
        > /dev/null 2> "$TMP/err"; then
      cps=$(sed -n 's/.* s, \([0-9.]*[kM]*\) chars\/s.*/\1/p' "$TMP/err" | awk '/k$/ { printf "%.0f", $0 * 1000; next } /M$/ { printf "%.0f", $0 * 1000000; next } { printf "%.0f", $0 }')
      log "ours:    $cps chars/s"; keep OURS "$CL_SAMPLE_ROW" "$cps"
    else
      log "ours: rnn-sample --device opencl failed: $(head -1 "$TMP/err")"
    fi
  done
fi

# --- share of the SGEMM peak that training reaches --------------------------------
# Training FLOPs per character, matrix products only (see bench/README.md):
# forward MACs = Σ layers 4H·H (recurrent) + 4H·H for each layer after the
# first (layer 1's input is one-hot: a row gather, no product) + V·H
# (decoder); training = 3 × forward (forward, gradient w.r.t. inputs,
# gradient w.r.t. weights), 2 FLOPs per MAC. Times chars/s ÷ the peak.
VOCAB=$("$BIN/rnn-vocab" "$TINY" 2>/dev/null | grep -vc '^#' || true)
if ! [ "${VOCAB:-0}" -gt 0 ] 2>/dev/null; then   # no rnn-vocab: distinct bytes
  VOCAB=$(od -An -v -tu1 "$TINY" | tr -s ' ' '\n' | grep . | sort -u | wc -l)
fi
if [ -z "$SGEMM_NOTE" ]; then echo "SGEMM peak again" >&2; measure_peaks; fi
flops_per_char() { awk -v h="$1" -v v="$VOCAB" -v l=2 'BEGIN { printf "%.0f", 6 * (l * 4*h*h + (l - 1) * 4*h*h + v*h) }'; }
for h in 512 128; do
  [ -z "$SGEMM_NOTE" ] || break               # no peak: no share rows (the header says why)
  fpc=$(flops_per_char $h)
  for th in $THREADS; do
    pl=$([ "$th" = 1 ] || echo s)
    label="train LSTM 2×$h, $th thread$pl, share of SGEMM peak"
    src="train LSTM 2×$h, $th thread$pl, chars/s"
    row "$label" high
    peak=${PEAK[$th]:-}
    [ -n "$peak" ] || continue
    for side in OURS TORCH; do
      declare -n S=$side
      cps=${S[$src]:-}
      if [ -n "$cps" ]; then
        S[$label]=$(awk -v f="$fpc" -v c="$cps" -v p="$peak" \
          'BEGIN { printf "%.1f%% (%.1f GFLOP/s)", 100 * f * c / (p * 1e9), f * c / 1e9 }')
      fi
      unset -n S
    done
    log "$label: ours ${OURS[$label]:-—}, PyTorch ${TORCH[$label]:-—}" \
        "($fpc FLOPs/char, V=$VOCAB, peak $peak GFLOP/s)"
  done
done

# --- validation loss after QUALITY_SECONDS of training, LSTM 2×128 defaults --------
# rnn-train's defaults are char-rnn's (RMSprop 2e-3, decay 0.95, clip 5,
# lr ×0.97 per epoch from epoch 10, train/val 0.95/0.05, state reset each
# epoch, validation every 1000 iterations); torch_ref.py timed does the
# same. All cores, once each (a race of minutes, not a best-of); the clock
# counts training and the periodic validations, not the last one. Two rows:
# the best validation loss reached in the time (the checkpoint `rnn-ckpt
# best` picks: what a user keeps) and the last one (past some epochs it
# rises again: 2×128 without dropout overfits tiny-shakespeare).
if [ "$QUALITY_SECONDS" != 0 ]; then
  Q_ROW="best val loss in $QUALITY_SECONDS s, LSTM 2×128 defaults (epoch)"
  Q_END="val loss at the end of $QUALITY_SECONDS s (epochs)"
  row "$Q_ROW" low; row "$Q_END" low
  echo "$Q_ROW, $NCORES thread$([ "$NCORES" = 1 ] || echo s)" >&2
  rm -rf "$TMP/q" "$TMP/q.jsonl"
  qv=""; tv=""; qb=""; tb=""
  if "$BIN/rnn-train" "$TMP/tiny.tokens" -o "$TMP/q" -q --seed 123 --model lstm --rnn-size 128 --num-layers 2 \
      --max-seconds "$QUALITY_SECONDS" --eval-val-every 1000 --threads "$NCORES" \
      --metrics "$TMP/q.jsonl" 2> "$TMP/err"; then
    vline=$(grep '"val_loss": *[-0-9]' "$TMP/q.jsonl" | tail -1 || true)
    tline=$(grep '"train_loss": *[-0-9]' "$TMP/q.jsonl" | tail -1 || true)
    qv=$(json_field val_loss <<< "$vline"); qe=$(json_field epoch <<< "$vline")
    qi=$(json_field iteration <<< "$tline"); qs=$(json_field seconds <<< "$tline")
    # The best validation: the lowest val_loss line (and its epoch).
    bline=$(grep '"val_loss": *[-0-9]' "$TMP/q.jsonl" | awk '{ l = $0; sub(/.*"val_loss": */, "", l); l += 0
      if (!n++ || l < m) { m = l; b = $0 } } END { print b }' || true)
    qb=$(json_field val_loss <<< "$bline"); qbe=$(json_field epoch <<< "$bline")
    if [ -n "$qv" ]; then
      OURS[$Q_END]=$(awk -v l="$qv" -v e="$qe" 'BEGIN { printf "%.4f (%.2f)", l, e }')
      OURS[$Q_ROW]=$(awk -v l="$qb" -v e="$qbe" 'BEGIN { printf "%.4f (%.2f)", l, e }')
      best=$("$BIN/rnn-ckpt" best "$TMP/q" 2>/dev/null || true)
      log "ours:    val loss $qv at the end, best $qb (epoch $qbe), $qi iterations ($qe epochs) in $qs s," \
          "$(awk -v i="${qi:-0}" -v s="${qs:-0}" -v bt=$((B * T)) 'BEGIN { if (s > 0) printf "%.0f", i * bt / s }') chars/s; ${best##*/}"
    else
      log "ours:    no val_loss in --metrics"
    fi
  else
    log "ours: rnn-train failed: $(head -1 "$TMP/err")"
  fi
  if [ $HAVE_TORCH = 1 ]; then
    if "$PYTHON" bench/torch_ref.py timed "$TINY" --model lstm --rnn-size 128 --num-layers 2 \
        --seconds "$QUALITY_SECONDS" --threads "$NCORES" --seed 123 > "$TMP/tq.json" 2> "$TMP/err"; then
      tv=$(json_field val_loss < "$TMP/tq.json"); te=$(json_field epochs < "$TMP/tq.json")
      tb=$(json_field best_val_loss < "$TMP/tq.json"); tbe=$(json_field best_epochs < "$TMP/tq.json")
      TORCH[$Q_END]=$(awk -v l="$tv" -v e="$te" 'BEGIN { printf "%.4f (%.2f)", l, e }')
      TORCH[$Q_ROW]=$(awk -v l="$tb" -v e="$tbe" 'BEGIN { printf "%.4f (%.2f)", l, e }')
      log "PyTorch: val loss $tv at the end, best $tb (epoch $tbe), $(json_field iterations < "$TMP/tq.json") iterations ($te epochs)" \
          "in $(json_field seconds < "$TMP/tq.json") s, $(json_field chars_per_sec < "$TMP/tq.json") chars/s"
    else
      log "PyTorch: torch_ref.py timed failed: $(tail -1 "$TMP/err")"
    fi
    loss_diff() { awk -v a="$1" -v b="$2" 'BEGIN { d = sprintf("%.4f", a - b);
        w = (d + 0 < 0) ? "ours lower" : (d + 0 > 0) ? "PyTorch lower" : "equal"
        printf "ours − PyTorch = %+.4f (%s)", d, w }'; }
    if [ -n "$qv" ] && [ -n "$tv" ]; then LAST[$Q_END]=$(loss_diff "$qv" "$tv"); fi
    if [ -n "$qb" ] && [ -n "$tb" ]; then LAST[$Q_ROW]=$(loss_diff "$qb" "$tb"); fi
  fi
fi

# --- table ------------------------------------------------------------------------
mkdir -p bench/out
{
  header
  echo
  if [ $HAVE_TORCH = 1 ]; then
    echo "| figure | ours | PyTorch | ours/PyTorch |"
    echo "|---|---:|---:|---:|"
  else
    echo "| figure | ours |"
    echo "|---|---:|"
  fi
  for r in "${ROWS[@]}"; do
    o=${OURS[$r]:-—}; p=${TORCH[$r]:-—}
    if [ $HAVE_TORCH = 1 ]; then
      ratio=—
      if [ -n "${LAST[$r]:-}" ]; then ratio=${LAST[$r]}
      elif [ "$o" != — ] && [ "$p" != — ]; then
        ratio=$(awk -v a="$o" -v b="$p" 'BEGIN { printf "%.2f", a / b }')
      fi
      echo "| $r | $o | $p | $ratio |"
    else
      echo "| $r | $o |"
    fi
  done
  echo
  echo "chars/s: ratio > 1 means ours is faster. Peak RSS: ratio < 1 means ours uses less memory."
  echo "Share of SGEMM peak: training's matrix-product FLOPs per second (FLOPs per character × chars/s above)" \
       "÷ the SGEMM peak on as many threads (see bench/README.md). Val loss: lower is better; in brackets the epoch of that validation."
  echo "Took $(( $(date +%s) - START_ALL )) s."
  echo
} | tee bench/out/last.md
echo "(also in bench/out/last.md; to keep it: cat bench/out/last.md >> bench/results.md)" >&2
