#!/usr/bin/env bash
# End-to-end tests of what a char-rnn user meets in the first hour, through
# the real binaries: text straight into rnn-train, folders where a
# checkpoint is expected, checkpoints that remember their data, char-rnn's
# option spellings, negative numbers, subcommand typos, --version, the
# messages at a terminal (run under script(1)), Ctrl-C, progress and ETA.
# Usage: bash Tests/e2e/firsthour.sh BIN_DIR     (e.g. .build/release)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/rnn-train" ] || [ ! -x "$1/rnn-sample" ] || [ ! -x "$1/rnn-ckpt" ]; then
    echo "usage: bash Tests/e2e/firsthour.sh BIN_DIR (a folder with the five tools)" >&2
    exit 2
fi
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-firsthour.XXXXXX")
trap 'rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2
source "$HERE/lib.sh"
command -v script >/dev/null || { echo "firsthour.sh needs script(1) (bsdutils)" >&2; exit 2; }

# onterm CMD: run CMD with stdin, stdout and stderr on a terminal (script's
# pty); what it prints, stderr included, is the case's stdout.
onterm() { script -qec "$1" /dev/null; }
export -f onterm

# ---- Test data --------------------------------------------------------------
python3 - <<'PY'
import random
random.seed(7)
words = "to be or not that is the question whether tis nobler in mind suffer slings arrows".split()
text = " ".join(random.choice(words) for _ in range(5000)) + "\n"
open("shakes.txt", "w").write(text)
open("other.txt", "w").write(text[::-1])
open("binary.bin", "wb").write(bytes(range(256)) * 40)
PY
# complete TOOL WORD...: what bash completion (as make install installs it)
# offers for the last word.
cat > complete.sh <<'SH'
shopt -s extglob
tool=$1; shift
source <("$tool" --generate-completion-script bash)
COMP_WORDS=("$tool" "$@"); COMP_CWORD=$#; COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
"_$tool" "$tool" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
SH
mkdir -p dd && cp shakes.txt dd/input.txt && printf '\xff\xfe' >> dd/input.txt
S="--rnn-size 16 --num-layers 1 --batch-size 4 --seq-length 16"
rnn-train shakes.txt -o cv $S --max-iterations 6 --eval-val-every 3 -q
BEST=$(rnn-ckpt best cv)
echo --temperature > want-temperature

# ---- Text straight into rnn-train ------------------------------------------
t "rnn-train FILE.txt encodes it on the fly"          0 "vocab size: 20 (characters)|saved a/" - empty "rnn-train shakes.txt -o a $S --max-iterations 2"
t "cat FILE.txt | rnn-train"                          0 "vocab size: 20 (characters)" shakes.txt empty "rnn-train -o b $S --max-iterations 2"
t "text and its tokens train the same"                0 NONE - empty "rnn-encode shakes.txt -o shakes.tokens && rnn-train shakes.tokens -o c $S --max-iterations 4 -q && rnn-train shakes.txt -o d $S --max-iterations 4 -q && cmp <(rnn-sample c -n 100 -q) <(rnn-sample d -n 100 -q)"
t "rnn-encode given a tokens file says so"             1 "is already a tokens file or a checkpoint, not text|rnn-encode --decode shakes.tokens" - empty "rnn-encode shakes.tokens"
t "--bytes: raw bytes, any file"                      0 "(bytes)" - empty "rnn-train binary.bin --bytes -o e $S --max-iterations 2"
t "invalid UTF-8: the hint names --bytes, which exists" 1 "invalid UTF-8|--bytes" - empty "rnn-train --data-dir dd -o f $S --max-iterations 2"
t "--data-dir with --bytes"                           0 "encoding dd/input.txt into dd/input.bytes.tokens" - empty "rnn-train --data-dir dd --bytes -o g $S --max-iterations 2"
t "--bytes on a tokens file of characters"            1 "--bytes applies to text" - empty "rnn-train shakes.tokens --bytes -o h $S"
t "--data-dir given a file"                           1 "--data-dir wants a folder|rnn-train shakes.txt" - empty "rnn-train --data-dir shakes.txt"
t "rnn-sample given text"                             1 "looks like text, not a checkpoint|rnn-train shakes.txt" - empty "rnn-sample shakes.txt"

# ---- A folder wherever a checkpoint is expected ----------------------------
t "rnn-sample FOLDER: its best, named on stderr"      0 "using $BEST|best val_loss" - "!cmp -s \$OUT <(rnn-sample $BEST -n 50 -q)" "rnn-sample cv -n 50"
t "rnn-ckpt info FOLDER"                              0 "using $BEST" - "~file:        $BEST" "rnn-ckpt info cv"
t "rnn-ckpt eval FOLDER"                              0 "using $BEST" - "~bits/char" "rnn-ckpt eval cv shakes.txt"
t "--init-from FOLDER: its best, and says so"         0 "using $BEST|starting from the weights of $BEST|dropout" - empty "rnn-train shakes.txt --init-from cv -o i --max-iterations 2"
t "--resume FOLDER: the newest"                       0 "the newest in cv|resuming at iteration 6" - empty "cp -rp cv cvr && rnn-train shakes.txt --resume cvr -o cvr --max-iterations 8"
t "an empty folder"                                   1 "holds no checkpoint|rnn-train" - empty "mkdir -p none && rnn-sample none"

# ---- Checkpoints remember their data ---------------------------------------
t "info shows the data"                               0 "" - "~$T/shakes.txt (" "rnn-ckpt info $BEST"
t "--resume on other data warns, names --init-from"   0 "is not the data|--init-from" - empty "cp -rp cv cvo && rnn-train other.txt --resume cvo -o cvo --max-iterations 8"
t "--resume on the same data: no warning"             0 "resuming" - "!! grep -q 'not the data' \$ERR" "cp -rp cv cvs && rnn-train shakes.txt --resume cvs -o cvs --max-iterations 8"
t "--resume with nothing given reads the file again"  0 "training on the data|$T/shakes.txt|resuming" - empty "cp -rp cv cvn && rnn-train --resume cvn -o cvn --max-iterations 8 < /dev/null"
t "continue command after stdin says what to pipe"    0 "continue with: … | rnn-train --resume|pipe in the same data" shakes.txt empty "rnn-train -o j $S --max-iterations 1000000 --max-seconds 1"
t "continue command names the file"                   0 "continue with: rnn-train --resume j2/" - empty "rnn-train shakes.txt -o j2 $S --max-iterations 1000000 --max-seconds 1 2>&1 >/dev/null | grep -v '^[0-9]' | grep 'shakes.txt\$' >&2"
t "ls keeps other data apart"                         0 "" - "!grep -c '^# trained on' \$OUT | grep -qx 2" "rnn-ckpt ls cv cvo"
t "best among the newest data, and says so"           0 "left out|other data" - "~cvo/" "rnn-ckpt best cv cvo"

t "--init-from on text with new symbols names --unknown" 1 "not in the vocabulary|--unknown skip" - empty "printf 'xyz QQQ\\n' > new.txt; cat shakes.txt new.txt > mixed.txt; rnn-train mixed.txt --init-from cv -o u"
t "... and --unknown skip trains on the rest"         0 "" - empty "rnn-train mixed.txt --init-from cv -o u --unknown skip --max-iterations 2 -q"

# ---- Finished runs, limits, progress ---------------------------------------
t "resuming a finished run says so and how to extend" 1 "already complete|--max-iterations 12" - empty "rnn-train shakes.txt --resume cv --max-iterations 6"
t "... also by epochs"                                1 "already complete|--max-epochs" - empty "rnn-train shakes.txt -o k $S --max-epochs 1 -q && rnn-train shakes.txt --resume k"
t "the header says when the run stops"                0 "training for |or 1s (--max-seconds), whichever comes first" - empty "rnn-train shakes.txt -o l $S --max-iterations 1000000 --max-seconds 1"
t "piped progress: elapsed time and an ETA within --max-seconds" 0 "elapsed, ETA" - "!grep -E 'ETA ([0-9]+)s' \$ERR | tail -n 1 | grep -Eq 'ETA [0-2]s'" "rnn-train shakes.txt -o m $S --max-iterations 100000 --max-seconds 2"
t "done: 1 iteration (singular)"                      0 "done: 1 iteration;" - empty "rnn-train shakes.txt -o n $S --max-iterations 1"

# ---- char-rnn's spellings, numbers, typos, --version -----------------------
for c in "rnn-train -rnn_size 512|--rnn-size" "rnn-train -data_dir data/tiny|--data-dir" "rnn-train -gpuid -1|--device opencl" \
         "rnn-train -opencl 1|--device opencl" "rnn-train -init_from cv/x.t7|--init-from" "rnn-train -max_epochs 5|--max-epochs" \
         "rnn-train -learning_rate 1e-3|--learning-rate" "rnn-train -checkpoint_dir cv|--checkpoint-dir" \
         "rnn-train -eval_val_every 100|--eval-val-every" "rnn-train -input_h5 x.h5|rnn-train input.txt" \
         "rnn-sample cv -primetext ROMEO|--prime" "rnn-sample cv -sample 0|--argmax" "rnn-sample cv -temperature 0.5|--temperature" \
         "rnn-sample cv -length 100|--length" "rnn-sample cv -gpuid 0|--device opencl" "rnn-sample cv -start_text hi|--prime"; do
    t "char-rnn: ${c%%|*}" 64 "char-rnn's option|${c#*|}" - empty "${c%%|*}"
done
t "--temp: the option it abbreviates"                 64 "did you mean --temperature?" - empty "rnn-sample cv --temp 0.5"
t "--rnn_size: our spelling"                          64 "--rnn-size" - empty "rnn-train --rnn_size 64"
t "-t -1: the range, not a missing value"             64 "--temperature must be a positive number" - empty "rnn-sample cv -t -1"
t "-n -5"                                             64 "--length must be at least 1 (got -5)" - empty "rnn-sample cv -n -5"
t "--seed -1"                                         64 "--seed must be 0 or more (got -1)" - empty "rnn-sample cv --seed -1"
t "--rnn-size -5"                                     64 "--rnn-size must be at least 1 (got -5)" - empty "rnn-train --rnn-size -5"
t "--temperature -0.5 (two words)"                    64 "--temperature must be a positive number" - empty "rnn-sample cv --temperature -0.5"
t "rnn-ckpt inf: the closest subcommand and the list" 64 "unknown subcommand 'inf'|did you mean 'info'|info, ls, best" - empty "rnn-ckpt inf cv"
for tool in rnn-vocab rnn-encode rnn-train rnn-sample rnn-ckpt; do
    t "$tool --version"                               0 NONE - "~$tool (charrnn) " "$tool --version"
done

t "bash completion: rnn-sample --tem"                0 NONE - "=$T/want-temperature" "bash complete.sh rnn-sample cv --tem"
t "bash completion: rnn-ckpt subcommands"             0 NONE - "~export" "bash complete.sh rnn-ckpt ex"
t "bash completion: --model values"                   0 NONE - "~gru" "bash complete.sh rnn-train --model ''"
for shell in zsh fish; do
    t "$shell completion script"                      0 NONE - "~--temperature" "rnn-sample --generate-completion-script $shell"
done

# ---- At a terminal ----------------------------------------------------------
t "rnn-train at a terminal with no data: a message, no wait" 1 "" - "~no training data" "onterm 'timeout 10 rnn-train -o o'"
t "rnn-encode at a terminal says it reads the terminal" 0 "" - "~reading text from the terminal" "onterm 'timeout 2 rnn-encode -o x.tokens' || true"
t "a sample at a terminal ends with a newline"        0 "" - "!grep -aq '^END' \$OUT" "onterm 'rnn-sample cv -n 17 -q; printf END'"
t "…but not in a pipe"                                0 NONE - "!test \$(wc -c < \$OUT) -eq 17" "rnn-sample cv -n 17 -q"
t "plot to a terminal draws characters"               0 "" - "~iteration" "onterm 'rnn-ckpt plot cv'"
t "plot to a pipe writes SVG"                         0 NONE - "~<svg" "rnn-ckpt plot cv"

# ---- Ctrl-C -----------------------------------------------------------------
t "Ctrl-C: acknowledged at once, then saved"          130 "stopping: finishing this iteration and saving|Ctrl-C again|saved p/" - empty \
  "rnn-train shakes.txt -o p --rnn-size 256 --max-iterations 100000 2>err & pid=\$!; for _ in \$(seq 100); do sleep 0.1; grep -q training err && break; done; sleep 0.5; kill -INT \$pid; sleep 0.3; cat err >&2; grep -q stopping err || exit 9; wait \$pid; s=\$?; cat err >&2; exit \$s"
t "two Ctrl-C: says it quit without saving"           130 "quit without saving" - empty \
  "rnn-train shakes.txt -o q --rnn-size 256 --max-iterations 100000 2>err2 & pid=\$!; for _ in \$(seq 100); do sleep 0.1; grep -q training err2 && break; done; sleep 0.5; kill -INT \$pid; sleep 0.05; kill -INT \$pid; wait \$pid; s=\$?; cat err2 >&2; exit \$s"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
