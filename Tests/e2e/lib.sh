# Shared by the end-to-end suites: the table-driven case runner `t`.
# Source it after setting T (the test folder, also the working folder).
# Each case: t DESCRIPTION STATUS STDERR_WORDS STDIN STDOUT_CHECK COMMAND
# (see cli.sh's header for the meaning of each column).

passed=0
failed=0
number=0

t() {
    local desc=$1 status=$2 words=$3 stdin=$4 check=$5 cmd=$6
    number=$((number + 1))
    local out="$T/.out.$number" err="$T/.err.$number" problems=""
    local input=/dev/null
    [ "$stdin" != "-" ] && input="$T/$stdin"
    (cd "$T" && timeout 120 bash -o pipefail -c "$cmd") <"$input" >"$out" 2>"$err"
    local got=$?
    [ "$got" = "$status" ] || problems+="  exit status: expected $status, got $got"$'\n'
    if [ "$words" = NONE ]; then
        [ -s "$err" ] && problems+="  stderr should be empty"$'\n'
    elif [ -n "$words" ]; then
        local word
        IFS='|' read -r -a list <<<"$words"
        for word in "${list[@]}"; do
            grep -qF -- "$word" "$err" || problems+="  stderr lacks: $word"$'\n'
        done
    fi
    local diffs=""
    case "$check" in
        -) ;;
        empty) [ -s "$out" ] && problems+="  stdout should be empty"$'\n' && diffs=$(head -c 600 "$out" | cat -v) ;;
        =*)
            if ! cmp -s "${check#=}" "$out"; then
                problems+="  stdout differs from ${check#=}"$'\n'
                diffs=$(diff -u --label expected --label actual <(cat -v "${check#=}") <(cat -v "$out") | head -40)
            fi ;;
        '~'*)
            grep -qaF -- "${check#\~}" "$out" || { problems+="  stdout lacks: ${check#\~}"$'\n'; diffs=$(head -c 600 "$out" | cat -v); } ;;
        '!'*)
            if ! (cd "$T" && OUT="$out" ERR="$err" bash -c "${check#!}") >"$T/.check" 2>&1; then
                problems+="  check failed: ${check#!}"$'\n'
                diffs=$(cat "$T/.check"; echo "--- stdout:"; head -c 600 "$out" | cat -v)
            fi ;;
        *) problems+="  bad check in the test table: $check"$'\n' ;;
    esac
    if [ -z "$problems" ]; then
        passed=$((passed + 1))
        echo "ok   $number - $desc"
    else
        failed=$((failed + 1))
        echo "FAIL $number - $desc"
        echo "  command: $cmd   (stdin: $stdin)"
        printf '%s' "$problems"
        if [ -s "$err" ]; then echo "  stderr:"; head -c 1500 "$err" | sed 's/^/    /'; fi
        if [ -n "$diffs" ]; then echo "  details:"; printf '%s\n' "$diffs" | sed 's/^/    /'; fi
    fi
}

