#!/usr/bin/env bash
# Runs the examples of the man pages, as jq does with its manual.
# Usage: bash Tests/e2e/man.sh BIN_DIR        (e.g. .build/release)
#
# For every page man/*.[1-9]:
#  - `mandoc -T lint -W warning` must print nothing;
#  - every `.Dl` line between `.Sh EXAMPLES` and the next `.Sh` is one shell
#    command. The page's commands run in order, each with bash, in one fresh
#    directory per page, with PATH starting with BIN_DIR (then .venv/bin,
#    made by make deps-python, whose python3 has onnxruntime), stdin /dev/null and
#    stdout discarded; each must exit 0 within $MAN_TEST_TIMEOUT seconds
#    (default 300). Section 1 and 8 pages must have at least one.
# Before a page's examples run, its directory holds the fixtures made by
# make_fixtures below (input.txt, new.txt, vocab.tsv, input.tokens), and
# each literal block (.Bd ... .Ed) directly after a comment line
# `.\" man.sh file: NAME` is saved there as NAME.
# Roff escapes understood in those lines: \e \- \(aq \(dq \& \(ti \(ha and
# "\ "; any other escape fails the example, and so does a bare double quote
# (mdoc would eat it, so the page would show a different command).
# Prints `ok PAGE: COMMAND` or `FAIL PAGE: COMMAND` (with its stderr) per
# check, then `N passed, M failed`; exits 1 if any failed, 64 on bad usage.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: bash Tests/e2e/man.sh BIN_DIR   (the folder with rnn-vocab, rnn-encode, ...)" >&2
    exit 64
fi
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
limit=${MAN_TEST_TIMEOUT:-300}
# The Python of make deps-python (onnxruntime, for rnn-ckpt(1)'s ONNX example).
venv_path=""
[ -x "$root/.venv/bin/python3" ] && venv_path="$root/.venv/bin:"

if ! command -v mandoc >/dev/null 2>&1; then
    echo "man.sh: mandoc is not installed (apt-get install mandoc, or make deps)" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-man.XXXXXX")
trap 'rm -rf "$work"' EXIT

passed=0
failed=0

ok() { echo "ok $1: $2"; passed=$((passed + 1)); }

fail() {  # PAGE WHAT [FILE-WITH-DETAILS]
    echo "FAIL $1: $2"
    if [ $# -ge 3 ] && [ -s "$3" ]; then sed 's/^/    /' "$3"; fi
    failed=$((failed + 1))
}

# Roff to plain text, on stdin. \e becomes \x01 first so that the other
# rules never see a backslash it produced; a backslash left over after the
# known escapes is an unknown escape, reported as "\x02".
unroff() {
    sed -e 's/\\e/\x01/g' \
        -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' -e 's/\\(ti/~/g' \
        -e 's/\\(ha/^/g' -e 's/\\ / /g' -e 's/\\&//g' \
        -e '/\\/s/^/\x02/' -e 's/\x01/\\/g'
}

# The .Dl lines of the EXAMPLES section of page $1, raw, one per line.
examples_of() {
    awk '/^\.Sh[ \t]/ { inside = ($0 ~ /^\.Sh[ \t]+"?EXAMPLES"?[ \t]*$/); next }
         inside && /^\.Dl[ \t]/ { sub(/^\.Dl[ \t]+/, ""); print }' "$1"
}

# Names of the literal blocks page $1 asks to be saved as files.
files_of() {
    sed -n 's/^\.\\" man\.sh file: *\([^ ]*\) *$/\1/p' "$1"
}

# The literal block of page $1 marked with file name $2, raw.
file_block() {
    MARK=".\\\" man.sh file: $2" awk '
        !armed && !inblock && $0 == ENVIRON["MARK"] { armed = 1; next }
        armed && /^\.Bd/ { armed = 0; inblock = 1; next }
        armed { armed = 0 }
        inblock && /^\.Ed/ { inblock = 0; exit }
        inblock { print }' "$1"
}

# The fixtures every page's examples may use, made in directory $1.
make_fixtures() {
    local dir=$1 i
    {
        for i in $(seq 1 24); do
            printf 'The quick brown fox jumps over the lazy dog. (%d)\n' "$i"
            printf 'Did the naïve café owner really serve crème brûlée to Zoë?\n'
            printf 'Sphinx of black quartz, judge my vow — voilà, déjà vu!\n'
            printf 'Pack my box with five dozen liquor jugs; it costs 15 dollars.\n'
        done
    } >"$dir/input.txt"
    printf 'Zoë paid 15 € for crème brûlée?\nThe fox paid nothing.\n' >"$dir/new.txt"
    "$bin/rnn-vocab" -o "$dir/vocab.tsv" "$dir/input.txt" &&
        "$bin/rnn-encode" -o "$dir/input.tokens" "$dir/input.txt"
}

shopt -s nullglob
pages=("$root"/man/*.[1-9])
if [ ${#pages[@]} -eq 0 ]; then
    echo "man.sh: no man pages in $root/man" >&2
    exit 1
fi

n=0
for page in "${pages[@]}"; do
    name=$(basename "$page")
    n=$((n + 1))
    dir="$work/$n-$name"
    mkdir -p "$dir"
    err="$work/$n.err"

    # (a) lint
    mandoc -T lint -W warning "$page" >"$err" 2>&1 || true
    if [ -s "$err" ]; then
        fail "$name" "mandoc -T lint -W warning" "$err"
    else
        ok "$name" "mandoc -T lint -W warning"
    fi

    # (b) examples
    mapfile -t raw < <(examples_of "$page")
    case "$name" in
    *.1 | *.8)
        if [ ${#raw[@]} -eq 0 ]; then
            fail "$name" "no .Dl command in an EXAMPLES section"
            continue
        fi ;;
    esac
    [ ${#raw[@]} -eq 0 ] && continue

    if ! make_fixtures "$dir" >"$err" 2>&1; then
        fail "$name" "(making the fixtures input.txt, new.txt, vocab.tsv, input.tokens)" "$err"
        continue
    fi
    setup_ok=1
    while IFS= read -r file; do
        [ -n "$file" ] || continue
        file_block "$page" "$file" | unroff >"$dir/$file"
        if [ ! -s "$dir/$file" ] || grep -q $'^\x02' "$dir/$file"; then
            grep $'^\x02' "$dir/$file" | tr -d '\002' >"$err" || true
            fail "$name" "(saving the literal block $file: missing, empty, or an unknown roff escape)" "$err"
            setup_ok=0
        fi
    done < <(files_of "$page")
    [ "$setup_ok" = 1 ] || continue

    for line in "${raw[@]}"; do
        command=$(printf '%s\n' "$line" | unroff)
        if [[ "$command" == $'\x02'* ]]; then
            fail "$name" "${command#$'\x02'}  (unknown roff escape in .Dl line)"
            continue
        fi
        if [[ "$line" == *'"'* ]]; then
            fail "$name" "$command  (write a double quote as \\(dq in .Dl lines)"
            continue
        fi
        status=0
        (cd "$dir" && PATH="$bin:$venv_path$PATH" timeout "$limit" bash -c "$command") \
            </dev/null >/dev/null 2>"$err" || status=$?
        if [ "$status" -eq 0 ]; then
            ok "$name" "$command"
        else
            [ "$status" -eq 124 ] && echo "(timed out after $limit s)" >>"$err"
            echo "(exit status $status)" >>"$err"
            fail "$name" "$command" "$err"
        fi
    done
done

# Each page's OPTIONS (rnn-ckpt: each command's section) against --help:
# the same option names, and every default --help shows (options.py).
err="$work/options.err"
if python3 "$root/Tests/e2e/options.py" "$bin" "$root/man" >"$err" 2>&1; then
    ok "options" "man pages and --help list the same options and defaults"
else
    fail "options" "man pages and --help disagree" "$err"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
