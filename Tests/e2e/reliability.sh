#!/usr/bin/env bash
# Reliability, end to end through the real binaries: hostile corpora
# (empty, tiny, invalid UTF-8, NUL, a vocabulary of every assigned
# scalar), malformed vocab, tokens and checkpoint files, options out of
# range, bad paths, kill -9 while checkpoints are written, SIGPIPE on
# every tool's stdout, and constant memory while sampling.
# Every failure must be one line on stderr that starts `rnn-NAME: error:`,
# a non-zero status, empty stdout, and nothing written (no output file, no
# temporary file) — the `f` cases below check all of that.
# Usage: bash Tests/e2e/reliability.sh BIN_DIR     (e.g. .build/release)
# Cases use the table-driven runner `t` (see lib.sh and cli.sh's header).
# Bigger checks (a 1 GB corpus, 10 million sampled characters) are in big.sh.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in rnn-vocab rnn-encode rnn-train rnn-sample rnn-ckpt; do
    if [ $# -ne 1 ] || [ ! -x "$1/$tool" ]; then
        echo "usage: bash Tests/e2e/reliability.sh BIN_DIR (a folder with the five rnn-* tools)" >&2
        exit 2
    fi
done
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-rel.XXXXXX")
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2
source "$HERE/lib.sh"
skipped=0
started=$SECONDS

# ---- Helpers ------------------------------------------------------------------
# The stdout check of a failure: stdout empty, stderr exactly one line that
# starts with "TOOL: error: ", and no temporary file left in the test folder.
one_error() {
    echo "!test ! -s \"\$OUT\" && test \"\$(wc -l < \"\$ERR\")\" -eq 1 && grep -q '^$1: error: ' \"\$ERR\" && ! ls -A | grep -q '\\.tmp\\.'"
}
# f DESCRIPTION STATUS TOOL STDERR_WORDS COMMAND — a failing case. COMMAND
# gets $W, a fresh empty folder for anything it would write (-o $W/x...);
# after the run $W must still be empty.
f() {
    local w="w$((number + 1))"
    mkdir -p "$w"
    t "$1" "$2" "$4" - "$(one_error "$3") && test -z \"\$(ls -A $w)\"" "W=$w; $5"
}
# Peak resident memory (KB) of a command, stdout to /dev/null.
peak_kb() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$T/.peak" "$@" > /dev/null && cat "$T/.peak"
    else
        python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r.returncode)' "$@"
    fi
}
info() { echo "     info: $*"; }

# ---- Test data ------------------------------------------------------------------
python3 - <<'PY'
import random
random.seed(5)
words = "the quick brown fox jumps over a lazy dog while seven wizards hex one jolly bard".split()
text = " ".join(random.choice(words) for _ in range(6000)) + "\n"
open("corpus.txt", "w").write(text)
open("kill.txt", "w").write(text[:4200])           # 65 minibatches of 4x16
open("held.txt", "w").write(text[-500:])
open("t32.txt", "w").write(text[:32])               # exactly 2 minibatches of 2x8
open("t16.txt", "w").write(text[:16])               # exactly 1
open("nul.txt", "wb").write(b"ab\0c\0\0abc\n\0" * 200)
PY
printf 'x' > one.txt
: > empty.txt
printf 'abc\n' > abc.txt
# Invalid UTF-8, each kind at byte offset 4 (after "the ").
printf 'the \x80 fox\n' > u-stray.txt               # a continuation byte alone
printf 'the \xc0\xaf fox\n' > u-overlong2.txt        # '/' as 2 bytes
printf 'the \xe0\x80\xaf fox\n' > u-overlong3.txt    # '/' as 3 bytes
printf 'the \xed\xa0\x80 fox\n' > u-surrogate.txt    # U+D800
printf 'the \xf5\x80\x80\x80 fox\n' > u-f5.txt       # past U+10FFFF
printf 'the \xf4\x90\x80\x80 fox\n' > u-f490.txt     # U+110000
printf 'the \xe2\x82' > u-cut3.txt                   # 3-byte sequence cut by EOF
printf 'the \xf0\x9f\x98' > u-cut4.txt               # 4-byte sequence cut by EOF
mkdir adir ro && chmod 555 ro
rnn-encode -o corpus.tokens corpus.txt
rnn-encode -o kill.tokens kill.txt
rnn-encode -o t32.tokens t32.txt
rnn-encode -o t16.tokens t16.txt
rnn-encode -o one.tokens one.txt
rnn-encode -o nul.tokens nul.txt
TINY="--rnn-size 16 --num-layers 1 --batch-size 4 --seq-length 16 --threads 1 -q"
rnn-train corpus.tokens -o cv $TINY --max-iterations 20 --eval-val-every 20
rnn-train nul.tokens -o cvnul $TINY --max-iterations 5
CK=$(ls cv/*.ckpt | head -n 1)
NULCK=$(ls cvnul/*.ckpt | head -n 1)
[ -f "$CK" ] && [ -f "$NULCK" ] || echo "setup: training the small models failed" >&2
cp "$CK" good.ckpt

# Broken tokens and checkpoint files, made with Python's gzip/json/struct.
python3 - "$CK" <<'PY'
import gzip, json, struct, sys

def st(header, data=b"", length=None):
    h = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h) if length is None else length) + h + data
def gz(b): return gzip.compress(b, mtime=0)
def put(name, b): open(name, "wb").write(b)

# Tokens files, vocab "\n a b c" (4 symbols).
vocab = "# charrnn vocab v1 unit=char\n0\t1\t\\n\n1\t1\ta\n2\t1\tb\n3\t1\tc\n"
meta = {"format": "charrnn.tokens.v1", "vocab": vocab}
def tok(ids, dtype="U8", meta=meta):
    fmt = {"U8": "B", "U16": "H", "U32": "I"}[dtype]
    data = struct.pack("<%d%s" % (len(ids), fmt), *ids)
    return st({"__metadata__": meta, "tokens": {"dtype": dtype, "shape": [len(ids)], "data_offsets": [0, len(data)]}}, data)
def t1(shape, offsets, data=b"\1\2\3\0", dtype="U8"):
    return gz(st({"__metadata__": meta, "tokens": {"dtype": dtype, "shape": shape, "data_offsets": offsets}}, data))
put("ok.tokens", gz(tok([1, 2, 3, 0])))
put("id-eq-size.tokens", gz(tok([1, 2, 4, 0])))                # 4 == vocab size
put("id-255.tokens", gz(tok([1, 255])))
put("id-u32max.tokens", gz(tok([1, 2, 0xFFFFFFFF], "U32")))
put("id-plain.tokens", tok([1, 2, 3, 7]))                       # uncompressed safetensors
put("gzip-text.tokens", gz(b"hello, this is gzip but not safetensors\n" * 10))
put("hdr-2e63.tokens", gz(st({"__metadata__": meta}, b"", 1 << 63)))
put("hdr-2e63-plain.tokens", st({"__metadata__": meta}, b"", 1 << 63))
put("hdr-2e64m1.tokens", gz(st({"__metadata__": meta}, b"", (1 << 64) - 1)))
put("hdr-past-end.tokens", gz(st({"__metadata__": meta}, b"", 5000)))
put("hdr-not-json.tokens", gz(st(b'{"tokens": [1, 2,')))
put("hdr-array.tokens", gz(st(b"[1,2,3]")))
put("shape-neg.tokens", t1([-1], [0, 4]))
put("shape-overflow.tokens", t1([1 << 62, 1 << 62], [0, 4]))
put("shape-2e70.tokens", t1([1 << 70], [0, 4]))
put("shape-float.tokens", t1([4.0], [0, 4]))
put("shape-2d.tokens", t1([2, 2], [0, 4]))
put("shape-vs-offsets.tokens", t1([4], [0, 5]))
put("offsets-past-end.tokens", t1([1000000], [0, 1000000]))
put("offsets-2e62.tokens", t1([4], [1 << 62, (1 << 62) + 4]))
put("offsets-2e40.tokens", t1([1 << 40], [0, 1 << 40]))
put("offsets-neg.tokens", t1([4], [-4, 0]))
put("offsets-reversed.tokens", t1([0], [4, 0]))
entry = b'"tokens":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}'
put("dup-name.tokens", gz(st(b'{"__metadata__":' + json.dumps(meta).encode() + b"," + entry + b"," + entry + b"}", b"\1\2\3\0")))
put("dtype-f32.tokens", gz(st({"__metadata__": meta, "tokens": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4)))
put("dtype-q7.tokens", gz(st({"__metadata__": meta, "tokens": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4)))
put("v9.tokens", gz(tok([1, 2], meta={"format": "charrnn.tokens.v9", "vocab": vocab})))
put("no-vocab.tokens", gz(tok([1, 2], meta={"format": "charrnn.tokens.v1"})))
put("bad-vocab.tokens", gz(tok([1, 2], meta={"format": "charrnn.tokens.v1", "vocab": vocab.replace("\ta\n", "\tab\n")})))
put("meta-not-string.tokens", gz(tok([1, 2], meta={"format": "charrnn.tokens.v1", "vocab": vocab, "n": 3})))
put("trailing.tokens", gz(tok([1, 2]) + b"junk"))
put("zero.tokens", gz(tok([])))

# Checkpoints: a real one, edited.
raw = gzip.decompress(open(sys.argv[1], "rb").read())
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
def write(name, header, data, compress=True):
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    b = struct.pack("<Q", len(h)) + h + data
    put(name, gz(b) if compress else b)
def copy(): return json.loads(json.dumps(header))
def without(name):
    """The header and data without one tensor (the others' offsets shifted)."""
    out, chunks, pos = {"__metadata__": header["__metadata__"]}, [], 0
    for k, v in sorted(((k, v) for k, v in header.items() if k != "__metadata__"), key=lambda kv: kv[1]["data_offsets"][0]):
        if k == name: continue
        a, b = v["data_offsets"]
        chunks.append(data[a:b])
        out[k] = dict(v, data_offsets=[pos, pos + b - a])
        pos += b - a
    return out, b"".join(chunks)
def meta_set(**kv):
    h = copy()
    for k, v in kv.items():
        if v is None: del h["__metadata__"][k]
        else: h["__metadata__"][k] = v
    return h
cfg = json.loads(header["__metadata__"]["config"])
write("c-missing.ckpt", *without("decoder.bias"))
write("c-missing-plain.ckpt", *without("rnn.weight_ih_l0"), compress=False)
h = copy(); a, b = h["rnn.weight_hh_l0"]["shape"]; h["rnn.weight_hh_l0"]["shape"] = [b, a]
write("c-shape.ckpt", h, data)
h = copy(); h["decoder.bias"]["dtype"] = "I32"
write("c-dtype.ckpt", h, data)
write("c-v9.ckpt", meta_set(format="charrnn.checkpoint.v9"), data)
write("c-no-format.ckpt", meta_set(format=None), data)
write("c-no-config.ckpt", meta_set(config=None), data)
write("c-config-neg.ckpt", meta_set(config=json.dumps(dict(cfg, rnn_size=-16))), data)
write("c-config-vocab.ckpt", meta_set(config=json.dumps(dict(cfg, vocab_size=cfg["vocab_size"] + 1))), data)
write("c-config-huge.ckpt", meta_set(config=json.dumps(dict(cfg, rnn_size=100000))), data)
write("c-config-overflow.ckpt", meta_set(config=json.dumps(dict(cfg, rnn_size=1 << 40, num_layers=1 << 20))), data)
write("c-bad-vocab.ckpt", meta_set(vocab="# charrnn vocab v1 unit=char\n0\t1\ta\n0\t1\tb\n"), data)
write("c-progress.ckpt", meta_set(progress="{not json"), data)
h = copy(); h["decoder.bias"]["data_offsets"] = [len(data), len(data) + h["decoder.bias"]["data_offsets"][1] - h["decoder.bias"]["data_offsets"][0]]
write("c-offsets.ckpt", h, data)
put("c-hdr-2e63.ckpt", gz(st(header, data, 1 << 63)))
put("c-gzip-text.ckpt", gz(b"not a checkpoint\n" * 100))
# A long loss history, for a big SVG.
write("longhist.ckpt", meta_set(history=json.dumps({"train": [[i, 3 - i * 1e-5] for i in range(1, 30001)],
                                                   "val": [[i, 3.1 - i * 1e-5] for i in range(100, 30001, 100)]})), data)
PY

# The vocabulary of every assigned scalar (not surrogates, unassigned or private use).
python3 - <<'PY'
import unicodedata
s = "".join(chr(c) for c in range(0x20, 0x110000) if unicodedata.category(chr(c)) not in ("Cs", "Cn", "Co")) + "\n"
open("all.txt", "w", encoding="utf-8").write(s)
open("all.count", "w").write("%d %s\n" % (len(s), unicodedata.unidata_version))
PY
read -r ALLN ALLUNI < all.count
info "the all-scalars corpus: $ALLN symbols (Python's Unicode $ALLUNI)"

# ---- Corpora ------------------------------------------------------------------------
#  description                                                   status tool words / command
f "rnn-train: a tokens file with 0 tokens"                       1 rnn-train "zero.tokens has 0 characters|too few" "rnn-train zero.tokens -o \$W/cv"
f "rnn-train: a 1-character corpus"                             1 rnn-train "one.tokens has 1 characters|too few" "rnn-train one.tokens -o \$W/cv"
f "rnn-train: exactly one minibatch (needs one train + one val)" 1 rnn-train "t16.tokens has 16 characters|too few|about 32 characters" "rnn-train t16.tokens -o \$W/cv --rnn-size 8 --num-layers 1 --batch-size 2 --seq-length 8"
t "rnn-train: exactly two minibatches train"                     0 NONE - empty "rnn-train t32.tokens -o cv32 --rnn-size 8 --num-layers 1 --batch-size 2 --seq-length 8 --max-iterations 2 -q && gzip -t cv32/*.ckpt"
f "rnn-ckpt eval: an empty text"                                 1 rnn-ckpt "empty.txt has 0 known characters" "rnn-ckpt eval good.ckpt empty.txt"
f "rnn-ckpt eval: 1 character"                                   1 rnn-ckpt "one.txt has 1 known characters|at least 2" "rnn-ckpt eval good.ckpt one.txt"
f "rnn-ckpt eval: a tokens file with 0 tokens"                   1 rnn-ckpt "zero.tokens has 0 known characters" "rnn-ckpt eval good.ckpt zero.tokens"
f "rnn-encode: empty text with --vocab"                          1 rnn-encode "empty.txt is empty" "rnn-vocab abc.txt > \$W.vocab && rnn-encode --vocab \$W.vocab -o \$W/x.tokens empty.txt"
t "rnn-encode --decode: a tokens file with 0 tokens is empty text" 0 NONE - empty "rnn-encode --decode zero.tokens"

# ---- Invalid UTF-8: every reader of text names the byte offset and the kind ---------------
for kind in stray:"0x80, a stray continuation" overlong2:"0xC0, an overlong" overlong3:"0xE0, an invalid sequence" \
            surrogate:"0xED, an invalid sequence" f5:"0xF5, a byte that never appears" f490:"0xF4, an invalid sequence" \
            cut3:"0xE2, a sequence cut off by the end" cut4:"0xF0, a sequence cut off by the end"; do
    file=u-${kind%%:*}.txt what=${kind#*:}
    f "rnn-vocab: invalid UTF-8 ($file)"             1 rnn-vocab  "$file: invalid UTF-8 at byte offset 4|$what|--bytes" "rnn-vocab -o \$W/x.vocab $file"
    f "rnn-encode: invalid UTF-8 ($file)"            1 rnn-encode "$file: invalid UTF-8 at byte offset 4|$what|--bytes" "rnn-encode -o \$W/x.tokens $file"
    f "rnn-sample --prime-file: invalid UTF-8 ($file)" 1 rnn-sample "$file: invalid UTF-8 at byte offset 4|$what" "rnn-sample good.ckpt --prime-file $file -n 5"
    f "rnn-ckpt eval: invalid UTF-8 ($file)"         1 rnn-ckpt   "$file: invalid UTF-8 at byte offset 4|$what" "rnn-ckpt eval good.ckpt $file"
done
t "--bytes reads every invalid file: a round trip"              0 NONE - empty "for f in u-*.txt; do rnn-encode --bytes \$f | rnn-encode --decode | cmp - \$f || exit 1; done"

# ---- NUL bytes: U+0000 is a valid scalar ------------------------------------------------------
t "rnn-vocab: U+0000 is a symbol, written \\u{0000}"            0 NONE nul.txt '!grep -qF "\u{0000}" "$OUT"' "rnn-vocab"
t "NUL: rnn-vocab file -> rnn-encode --vocab -> decode"          0 NONE - =nul.txt "rnn-vocab -o nul.vocab nul.txt && rnn-encode --vocab nul.vocab nul.txt | rnn-encode --decode"
t "NUL: eval of a text with NULs under a NUL-trained model"      0 NONE - '~nats/char' "rnn-ckpt eval '$NULCK' nul.txt"
t "NUL: a prime with a NUL; --echo-prime gives it back"         0 NONE - '!cmp -n 4 "$OUT" nulp.txt' "printf 'ab\\0c' > nulp.txt && rnn-sample '$NULCK' --prime-file nulp.txt --echo-prime -n 20"

# ---- A vocabulary of every assigned scalar ($ALLN symbols) -----------------------------------
t "all scalars: rnn-vocab lists each once"                       0 NONE - "!test \$(wc -l < \"\$OUT\") = \$(($ALLN + 1)) && head -n 1 \"\$OUT\" | grep -q unit=char" "rnn-vocab all.txt"
t "all scalars: rnn-encode | --decode round trip"                0 NONE - =all.txt "rnn-encode -o all.tokens all.txt && rnn-encode --decode all.tokens"
t "all scalars: the tokens are U32"                              0 NONE - empty "gzip -dc all.tokens | python3 -c 'import json, struct, sys; d = sys.stdin.buffer.read(); n = struct.unpack(\"<Q\", d[:8])[0]; h = json.loads(d[8:8 + n]); assert h[\"tokens\"][\"dtype\"] == \"U32\" and h[\"tokens\"][\"shape\"] == [$ALLN], h[\"tokens\"]'"
t "all scalars: --vocab from rnn-vocab round trip"               0 NONE - =all.txt "rnn-vocab all.txt > all.vocab && rnn-encode --vocab all.vocab all.txt | rnn-encode --decode"
ALLTRAIN="--rnn-size 8 --num-layers 1 --batch-size 2 --seq-length 8 --max-iterations 2 --train-frac 0.999 --val-frac 0.001 --threads 2 -q"
all_start=$SECONDS
TIMED=""; [ -x /usr/bin/time ] && TIMED="/usr/bin/time -f '%e s, peak RSS %M KB' -o all.time"
t "all scalars: a tiny model trains for 2 iterations"            0 NONE - empty "$TIMED rnn-train all.tokens -o cvall $ALLTRAIN && rnn-ckpt info cvall/*.ckpt > /dev/null"
info "training on $ALLN symbols (2 iterations, 1x8 LSTM, batch 2x8): $(cat all.time 2>/dev/null || echo "$((SECONDS - all_start)) s")"
ALLCK=$(ls cvall/*.ckpt 2>/dev/null | head -n 1)
t "all scalars: the model samples valid UTF-8"                   0 NONE - '!iconv -f UTF-8 -t UTF-8 "$OUT" > /dev/null && test "$(python3 -c "import sys; print(len(open(sys.argv[1], encoding=\"utf-8\").read()))" "$OUT")" = 50' "rnn-sample '$ALLCK' -n 50 --seed 3"
t "all scalars: rnn-ckpt vocab equals rnn-vocab"                 0 NONE - =all.vocab "rnn-ckpt vocab '$ALLCK'"

# ---- Malformed vocab files (rnn-encode --vocab) ------------------------------------------------
H='# charrnn vocab v1 unit=char\n'
printf '# charrnn vocab v1 unit=word\n0\t1\ta\n' > v-unit.vocab
printf "$H"'0\t1\ta\n2\t1\tb\n' > v-gap.vocab
printf "$H"'-1\t1\ta\n' > v-negid.vocab
printf "$H"'99999999999999999999\t1\ta\n' > v-bigid.vocab
printf "$H"'0\tmany\ta\n' > v-count.vocab
printf "$H"'0\t1\tab\n' > v-two.vocab
printf "$H"'0\t1\t\n' > v-nosym.vocab
printf "$H"'0\t1\t\\u{D800}\n' > v-surrogate.vocab
printf "$H"'0\t1\t\\u{110000}\n' > v-toobig.vocab
printf "$H"'0\t1\t\\q\n' > v-escape.vocab
printf "$H"'0\t1\ta\n1\t1\ta\n' > v-dupsym.vocab
printf "$H" > v-header-only.vocab
printf "$H"'0\t1\t\xff\n' > v-not-utf8.vocab
printf '0\t1\ta\n' > v-no-header.vocab
printf '# charrnn vocab v1 unit=byte\n0\t1\t\\xZZ\n' > v-hex.vocab
printf '# charrnn vocab v1 unit=byte\n0\t1\t\xc3\xa9\n' > v-byte-char.vocab
printf '# charrnn vocab v1 unit=char\r\n0\t1\t\\n\r\n1\t1\ta\r\n2\t1\tb\r\n3\t1\tc\r\n' > v-crlf.vocab
f "vocab: unknown unit"                          1 rnn-encode "v-unit.vocab: line 1: unknown unit 'word'" "rnn-encode --vocab v-unit.vocab -o \$W/x abc.txt"
f "vocab: a gap in the ids"                      1 rnn-encode "v-gap.vocab: line 3: id 2 is out of range" "rnn-encode --vocab v-gap.vocab -o \$W/x abc.txt"
f "vocab: a negative id"                         1 rnn-encode "v-negid.vocab: line 2: '-1' is not an id" "rnn-encode --vocab v-negid.vocab -o \$W/x abc.txt"
f "vocab: an id past Int64"                      1 rnn-encode "v-bigid.vocab: line 2|is not an id" "rnn-encode --vocab v-bigid.vocab -o \$W/x abc.txt"
f "vocab: a count that is not a number"          1 rnn-encode "v-count.vocab: line 2: 'many' is not a count" "rnn-encode --vocab v-count.vocab -o \$W/x abc.txt"
f "vocab: two characters as one symbol"          1 rnn-encode "v-two.vocab: line 2: 'ab' is not exactly one character" "rnn-encode --vocab v-two.vocab -o \$W/x abc.txt"
f "vocab: an empty symbol"                       1 rnn-encode "v-nosym.vocab: line 2|not exactly one character" "rnn-encode --vocab v-nosym.vocab -o \$W/x abc.txt"
f "vocab: an escaped surrogate"                  1 rnn-encode "v-surrogate.vocab: line 2|D800" "rnn-encode --vocab v-surrogate.vocab -o \$W/x abc.txt"
f "vocab: an escape past U+10FFFF"               1 rnn-encode "v-toobig.vocab: line 2|110000" "rnn-encode --vocab v-toobig.vocab -o \$W/x abc.txt"
f "vocab: an unknown escape"                     1 rnn-encode "v-escape.vocab: line 2|'\\q'" "rnn-encode --vocab v-escape.vocab -o \$W/x abc.txt"
f "vocab: a duplicate symbol"                    1 rnn-encode "v-dupsym.vocab: line 3: duplicate symbol 'a'" "rnn-encode --vocab v-dupsym.vocab -o \$W/x abc.txt"
f "vocab: a header and no symbols"               1 rnn-encode "v-header-only.vocab lists no symbols" "rnn-encode --vocab v-header-only.vocab -o \$W/x abc.txt"
f "vocab: an empty file"                         1 rnn-encode "empty.txt is not a charrnn vocab file" "rnn-encode --vocab empty.txt -o \$W/x abc.txt"
f "vocab: not UTF-8"                             1 rnn-encode "v-not-utf8.vocab is not UTF-8 text" "rnn-encode --vocab v-not-utf8.vocab -o \$W/x abc.txt"
f "vocab: no header line"                        1 rnn-encode "v-no-header.vocab is not a charrnn vocab file" "rnn-encode --vocab v-no-header.vocab -o \$W/x abc.txt"
f "vocab: a bad \\xHH escape (byte unit)"        1 rnn-encode "v-hex.vocab: line 2|not exactly one byte" "rnn-encode --bytes --vocab v-hex.vocab -o \$W/x abc.txt"
f "vocab: a non-ASCII character in a byte vocab" 1 rnn-encode "v-byte-char.vocab: line 2|not exactly one byte" "rnn-encode --bytes --vocab v-byte-char.vocab -o \$W/x abc.txt"
f "vocab: a tokens file given as the vocab"      1 rnn-encode "ok.tokens is not UTF-8 text" "rnn-encode --vocab ok.tokens -o \$W/x abc.txt"
t "vocab: CRLF line ends still read"             0 NONE - =abc.txt "rnn-encode --vocab v-crlf.vocab abc.txt | rnn-encode --decode"

# ---- Malformed tokens files: rnn-encode --decode, rnn-train, rnn-ckpt eval -----------------------
tokens_case() {  # FILE WORDS [WORDS FOR EVAL]
    f "rnn-encode --decode: $1"  1 rnn-encode "$1|$2" "rnn-encode --decode -o \$W/x.txt $1"
    f "rnn-train: $1"            1 rnn-train  "$1|$2" "rnn-train $1 -o \$W/cv --rnn-size 8 --num-layers 1 --batch-size 1 --seq-length 1"
    f "rnn-ckpt eval: $1"        1 rnn-ckpt   "$1|${3:-$2}" "rnn-ckpt eval good.ckpt $1"
}
tokens_case id-eq-size.tokens        "token 4 at position 2 is outside the vocabulary (size 4)"
tokens_case id-255.tokens            "token 255 at position 1 is outside the vocabulary"
tokens_case id-u32max.tokens         "token 4294967295 at position 2 is outside the vocabulary"
tokens_case id-plain.tokens          "token 7 at position 3 is outside the vocabulary"
tokens_case gzip-text.tokens         "is not a charrnn tensor file"
tokens_case hdr-2e63.tokens          "header length 9223372036854775808 is out of range"
tokens_case hdr-2e63-plain.tokens    "header length 9223372036854775808 is out of range"
tokens_case hdr-2e64m1.tokens        "header length 18446744073709551615 is out of range"
tokens_case hdr-past-end.tokens      "header length 5000 is larger than the data"
tokens_case hdr-not-json.tokens      "not valid JSON"
tokens_case hdr-array.tokens         "not a charrnn tensor file"
tokens_case shape-neg.tokens         "invalid shape dimension -1"
tokens_case shape-overflow.tokens    "shape overflows"
tokens_case shape-2e70.tokens        "invalid shape dimension 1180591620717411303424"
tokens_case shape-float.tokens       "invalid shape dimension 4.0"
tokens_case shape-2d.tokens          "must be a 1-D U8/U16/U32 tensor"
tokens_case shape-vs-offsets.tokens  "needs 4 bytes but its offsets hold 5"
tokens_case offsets-past-end.tokens  "lies past the end of the data"
tokens_case offsets-2e62.tokens      "lies past the end of the data"
tokens_case offsets-2e40.tokens      "lies past the end of the data"
tokens_case offsets-neg.tokens       "invalid data_offsets"
tokens_case offsets-reversed.tokens  "invalid data_offsets"
tokens_case dup-name.tokens          "names 'tokens' twice"
tokens_case dtype-f32.tokens         "must be a 1-D U8/U16/U32 tensor, found F32"
tokens_case dtype-q7.tokens          "dtype Q7, which charrnn does not read"
tokens_case v9.tokens                "unknown format 'charrnn.tokens.v9'"
tokens_case no-vocab.tokens          "has no vocab"
tokens_case bad-vocab.tokens         "(embedded vocab): line 3: 'ab' is not exactly one character"
tokens_case meta-not-string.tokens   "metadata value 'n' is not a string"
tokens_case trailing.tokens          "unexpected data after the last tensor"
t "a good crafted tokens file decodes"          0 NONE - '!test "$(cat "$OUT")" = "abc"' "rnn-encode --decode ok.tokens"

# ---- Malformed checkpoints: rnn-sample, rnn-ckpt info/eval, rnn-train --resume/--init-from --------
ckpt_case() {  # FILE WORDS [data: rnn-ckpt info reads only the header]
    f "rnn-sample: $1"              1 rnn-sample "$1|$2" "rnn-sample $1 -n 5"
    [ "${3:-}" = data ] || f "rnn-ckpt info: $1" 1 rnn-ckpt "$1|$2" "rnn-ckpt info $1"
    f "rnn-ckpt eval: $1"           1 rnn-ckpt   "$1|$2" "rnn-ckpt eval $1 held.txt"
    f "rnn-train --resume: $1"      1 rnn-train  "$1|$2" "rnn-train corpus.tokens --resume $1 -o \$W/cv --max-iterations 30"
    f "rnn-train --init-from: $1"   1 rnn-train  "$1|$2" "rnn-train corpus.tokens --init-from $1 -o \$W/cv --max-iterations 30"
}
ckpt_case c-missing.ckpt           "missing 'decoder.bias'"
ckpt_case c-missing-plain.ckpt     "missing 'rnn.weight_ih_l0'"
ckpt_case c-shape.ckpt             "'rnn.weight_hh_l0'|[16, 64]|[64, 16]"
ckpt_case c-dtype.ckpt             "'decoder.bias'|I32"
ckpt_case c-v9.ckpt                "unknown format 'charrnn.checkpoint.v9'"
ckpt_case c-no-format.ckpt         "has no charrnn format tag"
ckpt_case c-no-config.ckpt         "'config' metadata"
ckpt_case c-config-neg.ckpt        "'rnn_size'"
ckpt_case c-config-vocab.ckpt      "29"
ckpt_case c-config-huge.ckpt       "rnn.weight_ih_l0"
ckpt_case c-config-overflow.ckpt   "c-config-overflow.ckpt"
ckpt_case c-bad-vocab.ckpt         "(embedded vocab): line 3: duplicate id 0"
ckpt_case c-progress.ckpt          "'progress' metadata"
ckpt_case c-offsets.ckpt           "'decoder.bias' lies past the end of the data" data
ckpt_case c-hdr-2e63.ckpt          "header length 9223372036854775808 is out of range"
ckpt_case c-gzip-text.ckpt         "is not a charrnn tensor file"
f "rnn-encode --decode: a v9 checkpoint"        1 rnn-encode "c-v9.ckpt has unknown format 'charrnn.checkpoint.v9'" "rnn-encode --decode -o \$W/x c-v9.ckpt"
f "rnn-ckpt vocab: a checkpoint missing a weight" 1 rnn-ckpt "missing 'decoder.bias'" "rnn-ckpt vocab c-missing.ckpt"
f "rnn-ckpt export: a checkpoint with a wrong shape" 1 rnn-ckpt "'rnn.weight_hh_l0'" "rnn-ckpt export --format npz -o \$W/x.npz c-shape.ckpt"
f "rnn-ckpt strip: a checkpoint past the end"   1 rnn-ckpt "lies past the end" "rnn-ckpt strip -o \$W/x.ckpt c-offsets.ckpt"
# Folders of checkpoints with broken headers (c-offsets is broken in its
# data only, which ls does not read; overflow and dtype have cases of their own).
mkdir mixed mixed2 mixed3 && cp c-*.ckpt good.ckpt mixed/ && rm mixed/c-offsets.ckpt mixed/c-config-overflow.ckpt mixed/c-dtype.ckpt
cp good.ckpt c-config-overflow.ckpt mixed2/ && cp good.ckpt c-dtype.ckpt mixed3/
ls_check() {  # FOLDER: header and one row (good.ckpt); one warning line per c-* file
    echo "!test \$(grep -c . \"\$OUT\") = 2 && grep -q $1/good.ckpt \"\$OUT\" && n=\$(ls $1 | grep -c '^c-') && test \$(wc -l < \"\$ERR\") = \$n && test \$(grep -c '^rnn-ckpt: warning: skipping a checkpoint: $1/c-' \"\$ERR\") = \$n"
}
t "rnn-ckpt ls: each broken checkpoint skipped with a one-line warning" 0 "" - "$(ls_check mixed)" "rnn-ckpt ls mixed"
t "rnn-ckpt ls: overflowing config sizes: skipped, no crash" 0 "" - "$(ls_check mixed2)" "rnn-ckpt ls mixed2"
t "rnn-ckpt ls: a weight with the wrong dtype: skipped" 0 "" - "$(ls_check mixed3)" "rnn-ckpt ls mixed3"
t "rnn-ckpt best: the one good checkpoint among broken ones" 0 "" - '~mixed/good.ckpt' "rnn-ckpt best mixed"

# ---- Options out of range: exit 64, one line -------------------------------------------------------
usage() {  # TOOL OPTIONS WORDS
    local cmd="$1 corpus.tokens -o \$W/cv $2"
    case $1 in
        rnn-sample) cmd="rnn-sample good.ckpt $2" ;;
        rnn-ckpt) cmd="rnn-ckpt $2" ;;
        rnn-vocab) cmd="rnn-vocab -o \$W/x $2 abc.txt" ;;
        rnn-encode) cmd="rnn-encode -o \$W/x $2 abc.txt" ;;
    esac
    f "$1 $2: usage error" 64 "$1" "$3" "$cmd"
}
usage rnn-train "--rnn-size=-1"                     "--rnn-size must be at least 1"
usage rnn-train "--num-layers 0"                    "--num-layers must be at least 1"
usage rnn-train "--num-layers=-1"                   "--num-layers must be at least 1"
usage rnn-train "--seq-length 0"                    "--seq-length must be at least 1"
usage rnn-train "--seq-length=-8"                   "--seq-length must be at least 1"
usage rnn-train "--batch-size 0"                    "--batch-size must be at least 1"
usage rnn-train "--embedding-size=-1"               "--embedding-size must be 0 or more"
usage rnn-train "--dropout=-0.1"                    "--dropout must be in [0, 1)"
usage rnn-train "--dropout 1.5"                     "--dropout must be in [0, 1)"
usage rnn-train "--dropout nan"                     "--dropout must be in [0, 1)"
usage rnn-train "--learning-rate inf"               "--learning-rate must be a positive number"
usage rnn-train "--learning-rate=-inf"              "--learning-rate must be a positive number"
usage rnn-train "--learning-rate 0"                 "--learning-rate must be a positive number"
usage rnn-train "--learning-rate=-0.01"             "--learning-rate must be a positive number"
usage rnn-train "--train-frac 0.6 --val-frac 0.5"   "--train-frac plus --val-frac must be at most 1"
usage rnn-train "--val-frac 1"                      "--val-frac must be in (0, 1)"
usage rnn-train "--train-frac 0"                    "--train-frac must be in (0, 1]"
usage rnn-train "--train-frac nan"                  "--train-frac must be in (0, 1]"
usage rnn-train "--grad-clip inf"                   "--grad-clip must be a positive number"
usage rnn-train "--decay-rate 1"                    "--decay-rate must be in (0, 1)"
usage rnn-train "--learning-rate-decay 0"           "--learning-rate-decay must be in (0, 1]"
usage rnn-train "--max-epochs 0"                    "--max-epochs must be a positive number"
usage rnn-train "--max-iterations=-1"               "--max-iterations must be at least 1"
usage rnn-train "--max-seconds nan"                 "--max-seconds must be positive"
usage rnn-train "--eval-val-every 0"                "--eval-val-every must be at least 1"
usage rnn-train "--print-every=-1"                  "--print-every must be at least 1"
usage rnn-train "--sample-every 0"                  "--sample-every must be at least 1"
usage rnn-train "--keep 0"                          "--keep must be at least 1"
usage rnn-train "--seed=-1"                         "--seed must be 0 or more (got -1) — see"
usage rnn-train "--rnn-size 99999999999999999999"   "is invalid for '--rnn-size"
usage rnn-sample "--top-p 1.5"                      "--top-p must be in (0, 1]"
usage rnn-sample "--top-p nan"                      "--top-p must be in (0, 1]"
usage rnn-sample "--top-p=-0.5"                     "--top-p must be in (0, 1]"
usage rnn-sample "-n 0"                             "--length must be at least 1"
usage rnn-sample "--length=-5"                      "--length must be at least 1"
usage rnn-sample "-t inf"                           "--temperature must be a positive number"
usage rnn-sample "--top-k=-1"                       "--top-k must be at least 1"
usage rnn-sample "--count=-1"                       "--count must be at least 1"
usage rnn-sample "--threads=-2"                     "--threads must be at least 1"
usage rnn-ckpt "eval good.ckpt held.txt --threads 0" "--threads must be at least 1"
usage rnn-ckpt "prune cv --keep=-1"                 "--keep must be at least 1"
usage rnn-vocab "--min-count=-1"                    "--min-count must be at least 1"
# Sizes too big for memory or for 64-bit arithmetic: a clear error, not a crash.
too_big() {  # OPTIONS WORDS
    f "rnn-train $1: too big, a clear error" 1 rnn-train "$2" "(ulimit -v 8000000; rnn-train corpus.tokens -o \$W/cv $1 --max-iterations 1)"
}
too_big "--rnn-size 1000000000"                     "2×1000000000 LSTM|overflow 64-bit|--rnn-size"
too_big "--rnn-size 3037000500 --num-layers 2"      "overflow 64-bit|--rnn-size"
too_big "--rnn-size 100000 --num-layers 1"          "needs about|of memory|more than this machine's|--rnn-size"
too_big "--embedding-size 1000000000"               "needs about|of memory|--embedding-size"
too_big "--num-layers 100000000"                    "needs about|of memory|--num-layers"
too_big "--batch-size 4611686018427387904 --seq-length 4" "a minibatch of 4611686018427387904×4 characters is too large|--batch-size"
f "rnn-train --batch-size 1000000000: too few characters, not too big" 1 rnn-train "too few for one train and one validation minibatch" "rnn-train corpus.tokens -o \$W/cv --batch-size 1000000000"

# ---- Paths: directories, missing, unreadable, unwritable -------------------------------------------
f "rnn-ckpt info: a directory"                   1 rnn-ckpt   "adir holds no checkpoint" "rnn-ckpt info adir"
f "rnn-ckpt eval: a directory as checkpoint"     1 rnn-ckpt   "adir holds no checkpoint" "rnn-ckpt eval adir held.txt"
f "rnn-ckpt eval: a directory as text"           1 rnn-ckpt   "adir is a directory" "rnn-ckpt eval good.ckpt adir"
f "rnn-ckpt vocab: a directory"                  1 rnn-ckpt   "adir holds no checkpoint" "rnn-ckpt vocab adir"
f "rnn-ckpt strip: a directory"                  1 rnn-ckpt   "adir holds no checkpoint" "rnn-ckpt strip -o \$W/x adir"
f "rnn-sample --prime-file: a directory"         1 rnn-sample "adir is a directory" "rnn-sample good.ckpt --prime-file adir"
f "rnn-train --resume: a directory"              1 rnn-train  "adir holds no checkpoint" "rnn-train corpus.tokens --resume adir -o \$W/cv"
f "rnn-train --init-from: a directory"           1 rnn-train  "adir holds no checkpoint" "rnn-train corpus.tokens --init-from adir -o \$W/cv"
f "rnn-vocab -o: a directory"                    1 rnn-vocab  "adir is a directory" "rnn-vocab -o adir abc.txt"
f "rnn-encode --decode -o: a directory"          1 rnn-encode "adir is a directory" "rnn-encode --decode -o adir ok.tokens"
f "rnn-ckpt export -o: a directory"              1 rnn-ckpt   "adir is a directory" "rnn-ckpt export --format npz -o adir good.ckpt"
f "rnn-ckpt strip -o: a directory"               1 rnn-ckpt   "adir is a directory" "rnn-ckpt strip -o adir good.ckpt"
f "rnn-ckpt plot -o: a directory"                1 rnn-ckpt   "adir is a directory" "rnn-ckpt plot -o adir good.ckpt"
f "rnn-train -o: a file, not a folder"           1 rnn-train  "abc.txt" "rnn-train corpus.tokens -o abc.txt $TINY --max-iterations 1"
f "rnn-ckpt info: missing"                       1 rnn-ckpt   "nope.ckpt: no such file" "rnn-ckpt info nope.ckpt"
f "rnn-ckpt eval: missing text"                  1 rnn-ckpt   "nope.txt: no such file" "rnn-ckpt eval good.ckpt nope.txt"
f "rnn-ckpt eval: missing checkpoint"            1 rnn-ckpt   "nope.ckpt: no such file" "rnn-ckpt eval nope.ckpt held.txt"
f "rnn-ckpt ls: missing"                         1 rnn-ckpt   "nope: no such file or folder" "rnn-ckpt ls nope"
f "rnn-ckpt plot: missing"                       1 rnn-ckpt   "nope: no such file or folder" "rnn-ckpt plot -o \$W/x.svg nope"
f "rnn-sample --prime-file: missing"             1 rnn-sample "nope.txt: no such file" "rnn-sample good.ckpt --prime-file nope.txt"
f "rnn-train --resume: missing"                  1 rnn-train  "nope.ckpt: no such file" "rnn-train corpus.tokens --resume nope.ckpt -o \$W/cv"
f "rnn-train --init-from: missing"               1 rnn-train  "nope.ckpt: no such file" "rnn-train corpus.tokens --init-from nope.ckpt -o \$W/cv"
f "rnn-train --metrics: a missing folder"        1 rnn-train  "nodir/m.jsonl" "rnn-train corpus.tokens --metrics nodir/m.jsonl -o \$W/cv $TINY --max-iterations 1"
# Unreadable and unwritable: root reads and writes anyway, so as root run
# these as uid 65534 (setpriv) when possible, else report them skipped.
AS=""
if [ "$(id -u)" = 0 ]; then
    chmod 755 "$T"
    if command -v setpriv > /dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups rnn-vocab --help > /dev/null 2>&1 \
        && setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$T/good.ckpt"; then
        AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
        info "running as root: the permission cases run as uid 65534 (setpriv)"
    fi
fi
cp abc.txt noread.txt && cp good.ckpt noread.ckpt && cp corpus.tokens noread.tokens && cp abc.txt noread.vocab
chmod 000 noread.txt noread.ckpt noread.tokens noread.vocab
if [ "$(id -u)" = 0 ] && [ -z "$AS" ]; then
    echo "SKIP - 12 permission cases: running as root (chmod 000 files stay readable) and setpriv to uid 65534 is unavailable"
    skipped=$((skipped + 12))
else
    for w in $(seq $((number + 1)) $((number + 12))); do mkdir -p "w$w"; chmod 777 "w$w"; done
    f "rnn-vocab: unreadable"                    1 rnn-vocab  "noread.txt|Permission denied" "$AS rnn-vocab noread.txt"
    f "rnn-encode: unreadable"                   1 rnn-encode "noread.txt|Permission denied" "$AS rnn-encode -o \$W/x noread.txt"
    f "rnn-encode --vocab: unreadable"           1 rnn-encode "noread.vocab|Permission denied" "$AS rnn-encode --vocab noread.vocab -o \$W/x abc.txt"
    f "rnn-encode --decode: unreadable"          1 rnn-encode "noread.tokens|Permission denied" "$AS rnn-encode --decode noread.tokens"
    f "rnn-train: unreadable tokens"             1 rnn-train  "noread.tokens|Permission denied" "$AS rnn-train noread.tokens -o \$W/cv"
    f "rnn-sample: unreadable checkpoint"        1 rnn-sample "noread.ckpt|Permission denied" "$AS rnn-sample noread.ckpt"
    f "rnn-ckpt info: unreadable"                1 rnn-ckpt   "noread.ckpt|Permission denied" "$AS rnn-ckpt info noread.ckpt"
    f "rnn-ckpt eval: unreadable text"           1 rnn-ckpt   "noread.txt|Permission denied" "$AS rnn-ckpt eval good.ckpt noread.txt"
    f "rnn-vocab -o: an unwritable folder"       1 rnn-vocab  "cannot write in ro|Permission denied" "$AS rnn-vocab -o ro/x.vocab abc.txt"
    f "rnn-encode -o: an unwritable folder"      1 rnn-encode "cannot write in ro|Permission denied" "$AS rnn-encode -o ro/x.tokens abc.txt"
    f "rnn-train -o: an unwritable folder"       1 rnn-train  "ro|Permission denied" "$AS rnn-train corpus.tokens -o ro $TINY --max-iterations 1"
    f "rnn-ckpt strip -o: an unwritable folder"  1 rnn-ckpt   "cannot write in ro|Permission denied" "$AS rnn-ckpt strip -o ro/x.ckpt good.ckpt"
fi
t "nothing was written into the read-only folder" 0 NONE - empty "test -z \"\$(ls -A ro)\""

# ---- SIGPIPE: a closed stdout ends every tool quietly, status 0 ------------------------------------
mkdir many && python3 -c 'import os; [os.link("good.ckpt", "many/c%d.ckpt" % i) for i in range(2000)]'
pipe() {  # DESCRIPTION COMMAND (its stdout is more than a pipe buffer)
    t "SIGPIPE: $1 | head -c 1" 0 NONE - '!test "$(wc -c < "$OUT")" = 1' "$2 | head -c 1; exit \${PIPESTATUS[0]}"
}
pipe "rnn-vocab (char mode, $ALLN lines)"  "rnn-vocab all.txt"
pipe "rnn-encode --decode (U32 tokens)"      "rnn-encode --decode all.tokens"
pipe "rnn-sample"                            "rnn-sample good.ckpt -n 1000000"
pipe "rnn-sample --count"                    "rnn-sample good.ckpt -n 100 --count 100000"
pipe "rnn-ckpt ls (2000 checkpoints)"        "rnn-ckpt ls many"
pipe "rnn-ckpt ls --json"                    "rnn-ckpt ls --json many"
pipe "rnn-ckpt plot (a long history)"        "rnn-ckpt plot longhist.ckpt"
pipe "rnn-ckpt vocab ($ALLN symbols)"       "rnn-ckpt vocab '$ALLCK'"
pipe "rnn-ckpt export --format safetensors" "rnn-ckpt export --format safetensors '$ALLCK'"
pipe "rnn-ckpt export --format npz"         "rnn-ckpt export --format npz '$ALLCK'"
pipe "rnn-ckpt strip"                       "rnn-ckpt strip '$ALLCK'"

# ---- Sampling keeps constant memory ----------------------------------------------------------------
small=$(peak_kb rnn-sample good.ckpt -n 10000 --seed 1)
large=$(peak_kb rnn-sample good.ckpt -n 1000000 --seed 1)
t "rnn-sample -n 1000000 peaks within 4 MB of -n 10000 ($small KB vs $large KB)" 0 NONE - empty "test -n '$small' && test -n '$large' && test \$(( $large - $small )) -le 4096"

# ---- kill -9 at random moments while checkpoints are written ---------------------------------------
# A 2x256 LSTM writes a 6 MB checkpoint (gzip, fsync, rename) every
# iteration; each run is killed after a random delay. Afterwards every
# final-named file must be complete, the iterations saved must run 1..k
# (only the one being written may be missing), and the only stray file
# allowed is that one's temporary file.
KILLRUNS=${KILLRUNS:-50}
KILLMODEL="--rnn-size 256 --num-layers 2 --batch-size 4 --seq-length 16 --eval-val-every 1 --max-iterations 1000 --threads 1 -q"
kill_loop() {
    local i pid ms
    RANDOM=$$
    for i in $(seq 1 "$KILLRUNS"); do
        ms=$((100 + RANDOM % 800))
        echo "$i $ms" >> kill.delays
        rnn-train kill.tokens -o kill/$i $KILLMODEL 2>> kill.stderr &
        pid=$!
        sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
        kill -KILL $pid 2>/dev/null
        wait $pid 2>/dev/null
    done
}
kill_start=$SECONDS
mkdir kill && { kill_loop; } 2>/dev/null
kill_seconds=$((SECONDS - kill_start))
python3 - "$KILLRUNS" > kill.report <<'PY'
import os, re, sys, json, subprocess
runs = int(sys.argv[1])
midwrite = complete = files = 0
problems = []
for i in range(1, runs + 1):
    d = "kill/%d" % i
    names = sorted(os.listdir(d)) if os.path.isdir(d) else []
    finals = [n for n in names if re.fullmatch(r"lm_lstm_epoch\d+\.\d\d_\d+\.\d{4}\.ckpt", n)]
    temps = [n for n in names if re.fullmatch(r"\.lm_lstm_epoch.*\.ckpt\.tmp\..*", n)]
    other = [n for n in names if n not in finals and n not in temps and n != ".lm_lstm.lock"]
    files += len(finals)
    if other: problems.append("%s: unexpected files %s" % (d, other))
    if len(temps) > 1: problems.append("%s: %d temporary files %s" % (d, len(temps), temps))
    midwrite += len(temps) == 1
    iterations = []
    for n in finals:
        p = os.path.join(d, n)
        if subprocess.run(["gzip", "-t", p], capture_output=True).returncode != 0:
            problems.append("%s: gzip -t fails" % p); continue
        r = subprocess.run(["rnn-ckpt", "info", "--json", p], capture_output=True, text=True)
        if r.returncode != 0:
            problems.append("%s: rnn-ckpt info fails: %s" % (p, r.stderr.strip())); continue
        iterations.append(json.loads(r.stdout)["iteration"])
    if sorted(iterations) != list(range(1, len(iterations) + 1)):
        problems.append("%s: iterations saved %s, expected 1..%d with none missing" % (d, sorted(iterations), len(iterations)))
    complete += len(iterations)
print("runs %d, final files %d, all complete %d, killed mid-write %d" % (runs, files, complete, midwrite))
for p in problems: print("PROBLEM " + p)
PY
info "kill -9 loop: $kill_seconds s; $(head -n 1 kill.report)"
t "kill -9: every final-named checkpoint loads, iterations 1..k, at most one temp file per run" 0 "" - empty "! grep PROBLEM kill.report >&2"
t "kill -9: the loop hit a checkpoint write at least once" 0 NONE - empty "grep -Eq 'killed mid-write [1-9]' kill.report"
t "kill -9: the loop took at most 60 s ($kill_seconds s)" 0 NONE - empty "test $kill_seconds -le 60"
t "kill -9: no error message from any killed run" 0 NONE - empty "test ! -s kill.stderr || { cat kill.stderr >&2; exit 1; }"

[ "$skipped" -gt 0 ] && echo "$skipped skipped"
echo "($((SECONDS - started)) s)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
