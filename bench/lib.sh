# Shared by bench/run.sh and bench/mpi.sh (source it after setting B and T).

# chars/s over the iterations after the warm-up, from --metrics JSON lines
# (one per iteration; "seconds" is the time since training started).
# Usage: metrics_cps WARMUP_ITERATIONS FILE
metrics_cps() {
  awk -v w="$1" -v bt=$((B * T)) '
    /"train_loss":null/ { next }
    { match($0, /"iteration":[0-9]+/); it = substr($0, RSTART + 12, RLENGTH - 12) + 0
      match($0, /"seconds":[0-9.eE+-]+/); s = substr($0, RSTART + 10, RLENGTH - 10) + 0
      if (it == w) s0 = s
      if (it > last) { last = it; s1 = s } }
    END { if (last > w && s1 > s0) printf "%.0f", (last - w) * bt / (s1 - s0) }' "$2"
}
