#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each on a scratch copy of its seed
# corpus (the committed corpus never grows). Crashing inputs are kept in
# .build-fuzz/findings/<target>/; the exit status is 1 if any target found one.
# Usage: bash Fuzz/run.sh BIN SECONDS [TARGET...]   (`make fuzz` builds BIN first)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=$1
SECONDS_EACH=$2
shift 2
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(tensorfile vocab utf8)

# Let ASan and libFuzzer report crashes; the Swift runtime's own backtracer
# would race them (and trips ASan reading memory).
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=0}

work=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0
summary=""
for t in "${TARGETS[@]}"; do
  findings=.build-fuzz/findings/$t
  mkdir -p "$work/$t" "$findings"
  cp Fuzz/corpus/$t/* "$work/$t/"
  echo "== fuzz-$t: ${SECONDS_EACH}s on a copy of Fuzz/corpus/$t ($(ls Fuzz/corpus/$t | wc -l) seeds)"
  log=$work/$t.log
  dict=()
  [ -f Fuzz/dict/$t.dict ] && dict=(-dict=Fuzz/dict/$t.dict)
  TMPDIR=$work "$BIN/fuzz-$t" "$work/$t" "${dict[@]}" -max_total_time="$SECONDS_EACH" -timeout=60 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ $rc -ne 0 ]; then
    status=1
    # The report: from the first error line to the end.
    grep -n -m1 -E 'ERROR|Fatal error|deadly signal|runtime error' "$log" | cut -d: -f1 |
      { read -r first && tail -n +"$first" "$log" | head -60 || tail -40 "$log"; }
    echo "fuzz-$t: FAILED (exit $rc); the input is in $findings/ — reproduce with: $BIN/fuzz-$t FILE"
  fi
  line="fuzz-$t: ${execs:-?} executions in ${SECONDS_EACH}s (${rate:-?}/s), ${cov:-cov: ?}, corpus $(ls "$work/$t" | wc -l) files, exit $rc"
  echo "$line"
  summary+="$line"$'\n'
done
echo "== fuzz summary"
printf '%s' "$summary"
exit $status
