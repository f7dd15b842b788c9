#!/usr/bin/env bash
# End-to-end tests of rnn-sample and rnn-ckpt through the real binaries, and
# NumPy interop: an exported .npz run by an independent NumPy forward
# (Tests/e2e/npz_forward.py) must give rnn-ckpt eval's loss.
# Usage: bash Tests/e2e/sample.sh BIN_DIR     (e.g. .build/release)
# Cases use the table-driven runner `t` (see lib.sh and cli.sh's header).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/rnn-sample" ] || [ ! -x "$1/rnn-ckpt" ] || [ ! -x "$1/rnn-train" ]; then
    echo "usage: bash Tests/e2e/sample.sh BIN_DIR (a folder with rnn-sample, rnn-ckpt, rnn-train, rnn-encode, rnn-vocab)" >&2
    exit 2
fi
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-sample.XXXXXX")
trap 'rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2
source "$HERE/lib.sh"
FWD="python3 '$HERE/npz_forward.py'"
skipped=0

# ---- Test data --------------------------------------------------------------
# A ~30 KB corpus with 2-, 3- and 4-byte UTF-8 characters, and a held-out
# text from the same words (so every character is in the vocabulary).
python3 - <<'PY'
import random
words = "the quick brown fox jumps over a lazy dog while seven wizards hex one jolly bard café naïve über 漢字 😀".split()
def text(seed, size):
    rng = random.Random(seed)
    lines, n = [], 0
    while n < size:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(4, 12)))
        lines.append(line)
        n += len(line.encode()) + 1
    return "\n".join(lines) + "\n"
open("corpus.txt", "w").write(text(7, 30000))
open("heldout.txt", "w").write(text(11, 3000))
PY
rnn-encode -o corpus.tokens corpus.txt
rnn-encode --bytes -o bytes.tokens corpus.txt
rnn-vocab corpus.txt > corpus.vocab
rnn-vocab --bytes corpus.txt > bytes.vocab
# Tiny models, one thread and fixed seeds, so every run trains the same ones.
SMALL="--rnn-size 16 --num-layers 2 --batch-size 4 --seq-length 16 --max-iterations 150 --eval-val-every 50 --learning-rate 1e-2 --threads 1 --seed 123 -q"
rnn-train corpus.tokens -o cv_lstm $SMALL
rnn-train corpus.tokens -o cv_gru --model gru $SMALL
rnn-train corpus.tokens -o cv_rnn --model rnn $SMALL
rnn-train corpus.tokens -o cv_emb --embedding-size 8 $SMALL
rnn-train bytes.tokens -o cv_byte $SMALL
# A better-trained one for sampling.
rnn-train corpus.tokens -o cv_pin --rnn-size 32 --num-layers 1 --batch-size 8 --seq-length 32 --max-iterations 300 \
    --eval-val-every 300 --learning-rate 5e-3 --threads 1 --seed 123 -q
# Big enough (over 4 MB of weights) for rnn-sample to split its products over --threads.
rnn-train corpus.tokens -o cv_big --rnn-size 512 --num-layers 1 --batch-size 2 --seq-length 8 --max-iterations 2 \
    --eval-val-every 2 --threads 1 --seed 123 -q
LSTM=$(rnn-ckpt best cv_lstm); GRU=$(rnn-ckpt best cv_gru); RNN=$(rnn-ckpt best cv_rnn)
EMB=$(rnn-ckpt best cv_emb); BYTE=$(rnn-ckpt best cv_byte); PIN=$(rnn-ckpt best cv_pin); BIG=$(rnn-ckpt best cv_big)
for v in LSTM GRU RNN EMB BYTE PIN BIG; do [ -f "${!v}" ] || echo "setup: no $v checkpoint" >&2; done

# Hand-made models, for byte-exact expectations that do not depend on how
# training rounds: a trained checkpoint's layout with every weight replaced
# by Python's random.Random(2024).uniform(-S, S) (tensors in name order; S
# by kind: weight_ih, weight_hh, biases, decoder, encoder). The recurrent
# weights are small, so the state forgets small differences (rounding),
# and the pinned argmax texts were checked against npz_forward.py in
# float64, also with the weights perturbed by 1e-6: the same, and the two
# best logits never closer than 0.04.
handmade() {  # SRC DST S_IH S_HH S_BIAS S_DECODER S_ENCODER
    python3 - "$@" <<'PY2'
import gzip, json, random, struct, sys
src, dst = sys.argv[1], sys.argv[2]
scales = dict(zip(["weight_ih", "weight_hh", "bias", "decoder", "encoder"], map(float, sys.argv[3:8])))
data = bytearray(gzip.decompress(open(src, "rb").read()))
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
rng = random.Random(2024)
for name in sorted(k for k in header if k.startswith(("rnn.", "decoder.", "encoder."))):
    s = next(v for k, v in scales.items() if k in name)
    a, b = header[name]["data_offsets"]
    data[8 + n + a:8 + n + b] = struct.pack("<%df" % ((b - a) // 4), *(rng.uniform(-s, s) for _ in range((b - a) // 4)))
open(dst, "wb").write(gzip.compress(bytes(data), mtime=0))
PY2
}
handmade "$LSTM" hand_lstm.ckpt 3 0.2 1 2 1
handmade "$GRU" hand_gru.ckpt 3 0.4 1 2 1
handmade "$RNN" hand_rnn.ckpt 2 0.4 1 2 1
# rnn-sample hand_MODEL.ckpt --argmax --prime 'the ' -n 120
printf ' \némüü sü üfmüypmrémüüypmrémüüypmrémüüypmrémüüypmrémüüypmrémüüypmrémüüypmrémüüypmrémüüypmrémüüypmrémüüypmrémüüypmrémüüyp' > hand_lstm.expected
printf 'ooooo   ttéjjdvp\n\nccccffrggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg' > hand_gru.expected
printf 'tgtukwcozüxiküwcozüxiküwcozüxiküwcozüxiküwcozüxiküwcozüxiküwcozüxiküwcozüxiküwcozüxiküwcozüxiküwcozüxiküwcozüxiküwcozüxi' > hand_rnn.expected
# rnn-sample hand_lstm.ckpt --seed 7 -n 80
printf 'vjé字漢ï ajnuuvvll r\nc\nyumr\n pkmc é字字vjïü😀üfriu\nxxttrx\néum\nusü uüïrü字gmujymmturml ' > hand_lstm_seed7.expected

# Broken and wrong files.
size=$(stat -c %s "$LSTM")
head -c $((size / 2)) "$LSTM" > truncated.ckpt
python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[len(d) // 2] ^= 0x40; open("corrupt.ckpt", "wb").write(d)' "$LSTM"
printf 'the \xff quick\n' > invalid.txt
printf 'the QUICK fox ÆØ jumps\n' > unknown.txt
printf 'QUICKÆØ' > allunknown.txt
printf 'the jolly' > prime.txt
printf 'the caf\xc3' > byteprime.bin                  # half of an é
mkdir empty
# Folders for prune: the worst checkpoint made the newest.
cp -r cv_rnn prune1 && cp -r cv_rnn prune2
for d in prune1 prune2; do touch "$(rnn-ckpt ls --json $d | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["path"])')"; done
rnn-ckpt strip "$LSTM" -o stripped.ckpt
# Checks used below.
utf8_len() { echo "python3 -c 'import sys; n = len(open(sys.argv[1], \"rb\").read().decode(\"utf-8\")); assert n == $1, n' \"\$OUT\""; }
one_line='test $(wc -l < "$ERR") -eq 1'

# ---- rnn-sample ---------------------------------------------------------------
#  description                                              status words  stdin  stdout check   command
t "argmax, hand-made lstm: pinned text"                     0 NONE - =hand_lstm.expected "rnn-sample hand_lstm.ckpt --argmax --prime 'the ' -n 120"
t "argmax, hand-made gru: pinned text"                      0 NONE - =hand_gru.expected "rnn-sample hand_gru.ckpt --argmax --prime 'the ' -n 120"
t "argmax, hand-made rnn: pinned text"                      0 NONE - =hand_rnn.expected "rnn-sample hand_rnn.ckpt --argmax --prime 'the ' -n 120"
t "argmax, hand-made lstm: --threads 2 the same"            0 NONE - =hand_lstm.expected "rnn-sample hand_lstm.ckpt --argmax --prime 'the ' -n 120 --threads 2"
t "--seed 7, hand-made lstm: pinned sample"                 0 NONE - =hand_lstm_seed7.expected "rnn-sample hand_lstm.ckpt --seed 7 -n 80"
t "argmax: 3 runs and --threads 1/2 agree, 200 chars"       0 NONE - "!$(utf8_len 200)" "a=\$(rnn-sample '$PIN' --argmax -n 200 | md5sum); for o in '' '--threads 1' '--threads 2'; do [ \"\$(rnn-sample '$PIN' --argmax -n 200 \$o | md5sum)\" = \"\$a\" ] || exit 1; done; rnn-sample '$PIN' --argmax -n 200"
t "a big model: --threads 1, 2, 4 give the same bytes"      0 NONE - empty "for o in '--seed 3' '--argmax --prime the'; do a=\$(rnn-sample '$BIG' -n 200 \$o --threads 1 | md5sum); for n in 2 4; do [ \"\$(rnn-sample '$BIG' -n 200 \$o --threads \$n | md5sum)\" = \"\$a\" ] || { echo \"\$o --threads \$n differs\" >&2; exit 1; }; done; done"
t "argmax without a prime: the seed does not matter"        0 NONE - empty "cmp <(rnn-sample '$PIN' --argmax -n 100 --seed 1) <(rnn-sample '$PIN' --argmax -n 100 --seed 99)"
t "argmax without a prime starts with a newline"            0 NONE - '!test "$(head -c 1 "$OUT" | od -An -c | tr -d " ")" = "\n"' "rnn-sample '$PIN' --argmax -n 10"
t "same seed, same bytes"                                   0 NONE - empty "cmp <(rnn-sample '$PIN' -n 300 --seed 5) <(rnn-sample '$PIN' -n 300 --seed 5)"
t "another seed, other bytes"                               0 NONE - empty "! cmp -s <(rnn-sample '$PIN' -n 300 --seed 5) <(rnn-sample '$PIN' -n 300 --seed 6)"
t "--top-k 1 equals --argmax with a prime"                  0 NONE - empty "cmp <(rnn-sample '$PIN' --top-k 1 --seed 3 --prime 'jolly ' -n 150) <(rnn-sample '$PIN' --argmax --prime 'jolly ' -n 150)"
t "--stop ends the sample with STRING, before -n"           0 NONE - '!python3 -c "import sys; s = open(sys.argv[1], \"rb\").read().decode(); assert s.endswith(\"fox\") and s.count(\"fox\") == 1 and len(s) < 2000, s" "$OUT"' "rnn-sample '$PIN' --stop fox -n 2000 --seed 2"
t "--stop '\\n' ends at the first newline"                  0 NONE - '!python3 -c "import sys; s = open(sys.argv[1], \"rb\").read().decode(); assert s.endswith(\"\\n\") and s.count(\"\\n\") == 1, s" "$OUT"' "rnn-sample '$PIN' --stop '\\n' -n 2000 --seed 2 --prime 'the '"
t "--count 3: three samples, a blank line between"          0 NONE - '!python3 -c "import sys; s = open(sys.argv[1]).read(); one = open(\"one.out\").read(); sep = \"\\n\" if one.endswith(\"\\n\") else \"\\n\\n\"; assert s == sep.join([one] * 3), (s, one)" "$OUT"' "rnn-sample '$PIN' --argmax --prime 'the ' -n 40 > one.out && rnn-sample '$PIN' --argmax --prime 'the ' -n 40 --count 3"
t "--count 3 --separator: three samples of -n chars"        0 NONE - '!python3 -c "import sys; parts = open(sys.argv[1]).read().split(\"\\n==\\n\"); assert [len(p) for p in parts] == [40] * 3, parts" "$OUT"' "rnn-sample '$PIN' -n 40 --count 3 --seed 4 --separator '\\n==\\n'"
t "--prime-file - reads the prime from stdin"               0 NONE prime.txt empty "cmp <(rnn-sample '$PIN' --argmax --prime-file - -n 60 < prime.txt) <(rnn-sample '$PIN' --argmax --prime 'the jolly' -n 60)"
t "--echo-prime prints the prime, then the sample"          0 NONE - '!test "$(cat "$OUT")" = "the jolly$(cat noecho.out)"' "rnn-sample '$PIN' --argmax --prime 'the jolly' -n 60 > noecho.out && rnn-sample '$PIN' --argmax --prime-file prime.txt -n 60 --echo-prime"
t "| head -c 1: quiet, status 0"                            0 NONE - '!test "$(wc -c < "$OUT")" = 1' "rnn-sample '$PIN' -n 1000000 | head -c 1; exit \${PIPESTATUS[0]}"
t "--count 1000 | head -n 2: quiet, status 0"               0 NONE - '!test "$(wc -l < "$OUT")" = 2' "rnn-sample '$PIN' -n 1000 --count 1000 | head -n 2; exit \${PIPESTATUS[0]}"
t "-n N gives N characters without a prime"                 0 NONE - empty "for s in 1 2 3 4 5; do n=\$(rnn-sample '$PIN' -n 77 --seed \$s | python3 -c 'import sys; print(len(sys.stdin.buffer.read().decode()))'); [ \"\$n\" = 77 ] || { echo \"seed \$s: \$n\" >&2; exit 1; }; done"
t "characters: valid UTF-8 even at -t 3"                    0 NONE - '!iconv -f UTF-8 -t UTF-8 "$OUT" > /dev/null && python3 -c "import sys; s = open(sys.argv[1], \"rb\").read().decode(); assert len(s) == 3000 and sum(ord(c) > 127 for c in s) > 50" "$OUT"' "rnn-sample '$LSTM' -n 3000 -t 3 --seed 1"
t "bytes: -n N writes N raw bytes, not always UTF-8"        0 NONE - '!test "$(wc -c < "$OUT")" = 3000 && ! iconv -f UTF-8 -t UTF-8 "$OUT" > /dev/null 2>&1' "rnn-sample '$BYTE' -n 3000 -t 3 --seed 1"
t "bytes: a prime of raw bytes (not UTF-8) works"         0 NONE - '!test "$(wc -c < "$OUT")" = 38 && test "$(head -c 8 "$OUT" | od -An -tx1 | tr -d " ")" = 74686520636166c3' "rnn-sample '$BYTE' --prime-file byteprime.bin --echo-prime -n 30 --seed 1"
t "rnn-sample \"\$(rnn-ckpt best DIR)\""                     0 NONE - '!test "$(wc -c < "$OUT")" -ge 20' "rnn-sample \"\$(rnn-ckpt best cv_gru)\" -n 20"
t "embedding model samples"                                 0 NONE - "!$(utf8_len 50)" "rnn-sample '$EMB' -n 50 -t 0.7"
t "a tiny temperature (-t 1e-40) acts as --argmax"         0 NONE - empty "cmp <(rnn-sample '$PIN' -t 1e-40 --seed 1 --prime 'the ' -n 60) <(rnn-sample '$PIN' --argmax --prime 'the ' -n 60)"
t "--length 0 is a usage error"                             64 "--length must be at least 1" - empty "rnn-sample '$PIN' --length 0"
t "-t 0 is a usage error that mentions --argmax"            64 "--temperature must be > 0|--argmax" - empty "rnn-sample '$PIN' -t 0"
t "-t -1 is a usage error"                                  64 "rnn-sample: error:" - empty "rnn-sample '$PIN' -t -1"
t "--temperature=-1 is a usage error"                       64 "--temperature must be a positive number" - empty "rnn-sample '$PIN' --temperature=-1"
t "-t nan is a usage error"                                 64 "--temperature must be a positive number" - empty "rnn-sample '$PIN' -t nan"
t "--top-p 0 is a usage error"                              64 "--top-p must be in (0, 1]" - empty "rnn-sample '$PIN' --top-p 0"
t "--top-k 0 is a usage error"                              64 "--top-k must be at least 1" - empty "rnn-sample '$PIN' --top-k 0"
t "--count 0 is a usage error"                              64 "--count must be at least 1" - empty "rnn-sample '$PIN' --count 0"
t "--prime and --prime-file together"                       64 "not both" - empty "rnn-sample '$PIN' --prime a --prime-file prime.txt"
t "--device opencl without a driver: an error, no fallback" 1 "no OpenCL platform found|pocl-opencl-icd" - empty "OCL_ICD_VENDORS='$T/no-icd' OCL_ICD_FILENAMES= rnn-sample '$PIN' --device opencl"
t "an unknown device name is a usage error"                 64 "--device must be cpu, opencl, opencl:N or opencl:P.D" - empty "rnn-sample '$PIN' --device cuda"
t "a prime of unknown characters only"                      1 "no character of the prime is in the vocabulary|'Æ'|'Q'" - empty "rnn-sample '$PIN' --prime 'QÆØ'"
t "a prime with some unknown characters"                    1 "not in the vocabulary|'Æ'|--unknown skip" - empty "rnn-sample '$PIN' --prime 'the ÆØ quick'"
t "--unknown skip drops them"                               0 NONE - empty "cmp <(rnn-sample '$PIN' --argmax --prime 'tÆhe Ø' --unknown skip -n 50) <(rnn-sample '$PIN' --argmax --prime 'the ' -n 50)"
t "invalid UTF-8 in the prime: the offset, no --bytes hint" 1 "byteprime.bin: invalid UTF-8 at byte offset 7" - '!! grep -q -- --bytes "$ERR"' "rnn-sample '$PIN' --prime-file byteprime.bin"
t "a missing checkpoint: one line"                          1 "nope.ckpt: no such file" - "!$one_line" "rnn-sample nope.ckpt"
t "a truncated checkpoint: one line"                        1 "truncated.ckpt|truncated" - "!$one_line" "rnn-sample truncated.ckpt"
t "a corrupted checkpoint: one line"                        1 "corrupt.ckpt|corrupt" - "!$one_line" "rnn-sample corrupt.ckpt"
t "a tokens file: one line"                                 1 "corpus.tokens is a tokens file, not a checkpoint" - "!$one_line" "rnn-sample corpus.tokens"
t "a text file: one line"                                   1 "corpus.txt looks like text, not a checkpoint|rnn-train corpus.txt" - "!$one_line" "rnn-sample corpus.txt"
t "a folder: its best checkpoint, named"                    0 "using cv_lstm/" - "!test \"\$(cat \$OUT)\" = \"\$(rnn-sample \$(rnn-ckpt best cv_lstm) -n 30 -q)\"" "rnn-sample cv_lstm -n 30"

# ---- rnn-ckpt -------------------------------------------------------------------
json_check() { echo "!python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); $1' \"\$OUT\""; }
t "info: model, progress, optimizer"                        0 NONE - '!grep -q "2×16 LSTM" "$OUT" && grep -q "iteration 150" "$OUT" && grep -q "rmsprop state present" "$OUT" && grep -q "vocab:       34 characters" "$OUT"' "rnn-ckpt info '$LSTM'"
t "info --json"                                             0 NONE - "$(json_check 'assert (r["model"], r["rnn_size"], r["num_layers"], r["iteration"], r["optimizer_state"], r["vocab_size"], r["unit"]) == ("gru", 16, 2, 150, True, 34, "char"), r')" "rnn-ckpt info --json '$GRU'"
t "info --json: embedding and byte unit"                    0 NONE - "$(json_check 'assert r["embedding_size"] == 8 and r["model"] == "lstm"; b = json.load(open("b.json")); assert b["unit"] == "byte" and b["vocab_size"] == len(open("bytes.vocab").read().splitlines()) - 1, b')" "rnn-ckpt info --json '$BYTE' > b.json && rnn-ckpt info --json '$EMB'"
t "info on a tokens file"                                   1 "is a tokens file, not a checkpoint" - empty "rnn-ckpt info corpus.tokens"
t "ls: two folders sorted by val loss"                      0 NONE - '!python3 -c "import sys; rows = open(sys.argv[1]).read().splitlines(); assert rows[0].split()[0] == \"val_loss\"; losses = [float(r.split()[0]) for r in rows[1:]]; assert losses == sorted(losses) and len(losses) == 6, rows; assert sum(\"cv_lstm/\" in r for r in rows) == 3 and sum(\"cv_gru/\" in r for r in rows) == 3" "$OUT"' "rnn-ckpt ls cv_lstm cv_gru"
t "ls --json: one record a line, sorted"                    0 NONE - '!python3 -c "import json, sys; rs = [json.loads(l) for l in open(sys.argv[1])]; v = [r[\"val_loss\"] for r in rs]; assert len(rs) == 6 and v == sorted(v) and {r[\"model\"] for r in rs} == {\"lstm\", \"gru\"}, rs" "$OUT"' "rnn-ckpt ls --json cv_lstm cv_gru"
t "ls: a .ckpt that is not a checkpoint is skipped, warned" 0 "warning: skipping|junk/bad.ckpt" - '!! grep -q bad.ckpt "$OUT" && test $(wc -l < "$OUT") = 4' "mkdir -p junk && cp cv_gru/*.ckpt junk/ && cp corpus.txt junk/bad.ckpt && rnn-ckpt ls junk"
t "best: the lowest val loss"                               0 NONE - '!test "$(cat "$OUT")" = "$(rnn-ckpt ls --json cv_lstm cv_gru cv_rnn | python3 -c "import json, sys; print(min((json.loads(l) for l in sys.stdin), key=lambda r: r[\"val_loss\"])[\"path\"])")"' "rnn-ckpt best cv_lstm cv_gru cv_rnn"
t "best on an empty folder"                                 1 "empty holds no checkpoint" - empty "rnn-ckpt best empty"
t "best on a missing folder"                                1 "nope: no such file or folder" - empty "rnn-ckpt best nope"
t "vocab equals rnn-vocab of the corpus"                    0 NONE - =corpus.vocab "rnn-ckpt vocab '$LSTM'"
t "vocab of a byte model equals rnn-vocab --bytes"          0 NONE - =bytes.vocab "rnn-ckpt vocab '$BYTE'"
t "vocab feeds rnn-encode --vocab: the same tokens"         0 NONE - empty "rnn-ckpt vocab '$LSTM' > ck.vocab && rnn-encode --vocab ck.vocab corpus.txt | cmp - corpus.tokens"
t "eval: text and tokens file give the same numbers"        0 NONE - '!cmp "$OUT" text.eval' "rnn-ckpt eval '$LSTM' corpus.txt --json > text.eval && rnn-ckpt eval '$LSTM' corpus.tokens --json"
t "eval: stdin, text summary"                               0 NONE - '~nats/char' "rnn-ckpt eval '$LSTM' < heldout.txt"
t "eval: n characters, n-1 predictions"                     0 NONE - "$(json_check 'n = len(open("heldout.txt").read()); assert r["characters"] == n and r["predictions"] == n - 1 and r["skipped"] == 0 and r["loss"] > 0, r')" "rnn-ckpt eval '$GRU' heldout.txt --json"
t "eval: unknown characters are named and skipped"          0 "skipped 7 characters not in the vocabulary|'Æ'|'Q'" - "$(json_check 'assert r["skipped"] == 7 and r["characters"] == 16, r')" "rnn-ckpt eval '$LSTM' unknown.txt --json"
t "eval: the unknown-character warning is stable"           0 "" - empty "for i in 1 2 3 4 5; do rnn-ckpt eval '$LSTM' unknown.txt 2>&1 >/dev/null; done | sort -u > warnings.txt; test \$(wc -l < warnings.txt) = 1 || { cat warnings.txt >&2; exit 1; }"
t "eval: only unknown characters"                           1 "0 known characters" - empty "rnn-ckpt eval '$LSTM' allunknown.txt"
t "eval: byte tokens under a character model"             1 "bytes.tokens|bytes|characters" - empty "rnn-ckpt eval '$LSTM' bytes.tokens"
t "eval: character tokens under a byte model"             1 "corpus.tokens|bytes|characters" - empty "rnn-ckpt eval '$BYTE' corpus.tokens"
t "eval: invalid UTF-8 names the offset, no --bytes hint"  1 "invalid.txt: invalid UTF-8 at byte offset 4" - '!! grep -q -- --bytes "$ERR"' "rnn-ckpt eval '$LSTM' invalid.txt"
t "eval: a big model, --threads 1 and 4 agree"             0 NONE - "$(json_check 'b = json.load(open("big1.eval")); assert abs(r["loss"] - b["loss"]) <= 1e-9 * b["loss"] and r["predictions"] == b["predictions"], (r, b)')" "head -n 12 heldout.txt > h12.txt && rnn-ckpt eval '$BIG' h12.txt --json --threads 1 > big1.eval && rnn-ckpt eval '$BIG' h12.txt --json --threads 4"
t "export safetensors: length, JSON header, data"           0 NONE - '!python3 -c "
import json, struct, sys
d = open(sys.argv[1], \"rb\").read()
n = struct.unpack(\"<Q\", d[:8])[0]
h = json.loads(d[8:8 + n])
assert h[\"__metadata__\"][\"format\"] == \"charrnn.checkpoint.v1\", h[\"__metadata__\"]
assert h[\"decoder.weight\"][\"dtype\"] == \"F32\" and h[\"decoder.weight\"][\"shape\"] == [34, 16]
assert max(v[\"data_offsets\"][1] for k, v in h.items() if k != \"__metadata__\") == len(d) - 8 - n
" "$OUT" && zcat '"'$LSTM'"' | cmp - "$OUT"' "rnn-ckpt export --format safetensors '$LSTM'"
t "export npz: a zip of .npy with PyTorch's names"          0 NONE - '!python3 -c "
import sys, zipfile
names = sorted(zipfile.ZipFile(sys.argv[1]).namelist())
want = sorted([\"encoder.weight.npy\", \"decoder.weight.npy\", \"decoder.bias.npy\", \"vocab.npy\"] + [\"rnn.%s_l%d.npy\" % (w, k) for w in (\"weight_ih\", \"weight_hh\", \"bias_ih\", \"bias_hh\") for k in (0, 1)])
assert names == want, names
assert zipfile.ZipFile(sys.argv[1]).testzip() is None
" "$OUT"' "rnn-ckpt export --format npz '$EMB'"
t "export --format foo is a usage error"                    64 "--format must be safetensors, npz, onnx or html" - empty "rnn-ckpt export --format foo '$LSTM'"
t "strip: a smaller file without optimizer state"           0 NONE - "$(json_check 'assert r["optimizer_state"] is False, r'); test \$(stat -c %s stripped.ckpt) -lt \$(stat -c %s '$LSTM')" "rnn-ckpt info --json stripped.ckpt"
t "strip: info says sampling only"                          0 NONE - '~none (stripped; sampling only)' "rnn-ckpt info stripped.ckpt"
t "strip: the same argmax sample"                           0 NONE - empty "cmp <(rnn-sample stripped.ckpt --argmax --prime 'the ' -n 200) <(rnn-sample '$LSTM' --argmax --prime 'the ' -n 200)"
t "strip: the same eval"                                    0 NONE - empty "cmp <(rnn-ckpt eval stripped.ckpt heldout.txt --json) <(rnn-ckpt eval '$LSTM' heldout.txt --json)"
t "strip to stdout equals -o"                               0 NONE - =stripped.ckpt "rnn-ckpt strip '$LSTM'"
t "strip: --resume refuses it"                              1 "no optimiser state|--init-from" - empty "rnn-train corpus.tokens --resume stripped.ckpt -o resumed --max-iterations 200 -q"
t "plot -o x.svg: an SVG with curves and a legend"          0 NONE - empty "rnn-ckpt plot cv_lstm cv_gru -o x.svg && grep -q '<svg' x.svg && test \$(grep -c '<polyline' x.svg) -ge 2 && grep -q 'cv_lstm/lstm (2×16 lstm)' x.svg && grep -q 'cv_gru/gru (2×16 gru)' x.svg && grep -q '</svg>' x.svg"
t "plot --ascii"                                            0 NONE - '!grep -q "iteration" "$OUT" && grep -q "train .* val  cv_rnn/rnn (2×16 rnn)" "$OUT"' "rnn-ckpt plot --ascii cv_rnn"
t "plot of an empty folder"                                 1 "no checkpoint found in empty" - empty "rnn-ckpt plot empty"
t "prune --keep 1 --dry-run lists, deletes nothing"         0 NONE - '!test "$(cat "$OUT")" = "would remove $(cat mid.path)" && test $(ls prune1 | wc -l) = 3' "rnn-ckpt ls --json prune1 | sed -n 2p | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"path\"])' > mid.path && rnn-ckpt prune prune1 --keep 1 --dry-run"
t "prune --keep 1: the best and the newest remain"          0 NONE - '~removed prune2/' "best=\$(rnn-ckpt best prune2); newest=\$(ls -t prune2/*.ckpt | head -n 1); rnn-ckpt prune prune2 --keep 1 && test \$(ls prune2 | wc -l) = 2 && test -f \"\$best\" && test -f \"\$newest\" && test \"\$best\" != \"\$newest\""
t "prune --keep 0 is a usage error"                         64 "--keep must be at least 1" - empty "rnn-ckpt prune prune1 --keep 0"
t "an unknown subcommand is a usage error"                  64 "frob" - empty "rnn-ckpt frob"
t "export: binary refused on a terminal"                    1 "" - '~refusing to write binary data to a terminal' "script -qec \"rnn-ckpt export --format npz '$LSTM'\" /dev/null"
t "strip: binary refused on a terminal"                     1 "" - '~refusing to write binary data to a terminal' "script -qec \"rnn-ckpt strip '$LSTM'\" /dev/null"
t "strip -o FILE with a terminal on stdout"                 0 "" - empty "script -qec \"rnn-ckpt strip '$LSTM' -o tty.ckpt\" /dev/null && cmp tty.ckpt stripped.ckpt"

# ---- NumPy interop: the .npz run by npz_forward.py gives eval's loss -------------
if python3 -c 'import numpy' 2>/dev/null; then
    interop() {  # NAME CHECKPOINT [--bytes]
        t "numpy forward of the exported $1 = eval's loss" 0 NONE - '!python3 -c "
import json
a, b = json.load(open(\"'$1'.np.json\")), json.load(open(\"'$1'.eval.json\"))
assert a[\"predictions\"] == b[\"predictions\"], (a, b)
assert abs(a[\"loss\"] - b[\"loss\"]) <= 1e-4 * abs(b[\"loss\"]), (a, b)
print(a, b)"' "rnn-ckpt export --format npz '$2' -o $1.npz && $FWD $1.npz heldout.txt ${3:-} > $1.np.json && rnn-ckpt eval '$2' heldout.txt --json > $1.eval.json"
    }
    interop lstm "$LSTM"
    interop gru "$GRU"
    interop rnn "$RNN"
    interop embedding "$EMB"
    interop bytes "$BYTE" --bytes
    for m in lstm gru rnn; do
        t "numpy argmax of the hand-made $m = the pinned text" 0 NONE - =hand_$m.expected "rnn-ckpt export --format npz hand_$m.ckpt -o hand_$m.npz && $FWD hand_$m.npz --argmax 'the ' 120"
    done
else
    echo "SKIP - numpy interop (8 cases): python3 cannot import numpy"
    skipped=8
fi

[ "$skipped" -gt 0 ] && echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
