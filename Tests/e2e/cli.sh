#!/usr/bin/env bash
# End-to-end tests of the real binaries: rnn-vocab and rnn-encode.
# Usage: bash Tests/e2e/cli.sh BIN_DIR     (e.g. .build/release)
#
# Table-driven: each case is one line
#   t DESCRIPTION STATUS STDERR_WORDS STDIN STDOUT_CHECK COMMAND
# STATUS        expected exit status of COMMAND (run by bash -o pipefail -c,
#               in a temporary folder that holds the test data, with BIN_DIR
#               first on PATH).
# STDERR_WORDS  words that must all appear on stderr, separated by '|';
#               '' checks nothing; NONE requires an empty stderr.
# STDIN         a file in the test folder, or '-' for /dev/null.
# STDOUT_CHECK  '-' anything; 'empty'; '=FILE' byte-identical to FILE;
#               '~TEXT' stdout contains TEXT; '!CODE' shell code that must
#               succeed, with $OUT and $ERR naming the stdout and stderr files.
# Prints ok/FAIL per case (with the command, the stderr and a diff on
# failure) and ends with "N passed, M failed"; exits 1 when any failed.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ $# -ne 1 ] || [ ! -x "$1/rnn-vocab" ] || [ ! -x "$1/rnn-encode" ]; then
    echo "usage: bash Tests/e2e/cli.sh BIN_DIR (a folder with rnn-vocab and rnn-encode)" >&2
    exit 2
fi
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2

source "$HERE/lib.sh"

# ---- Test data (all made here) ---------------------------------------------
: > empty.txt
printf 'x' > one.txt
printf 'ab\xffcd' > invalid.txt                    # 0xFF at byte offset 2
printf 'abc\n' > abc.txt
printf 'abxc\n' > abxc.txt
printf 'hello world\n' > a.txt
printf 'second file: \xc3\xa9\n' > b.txt
printf '漢字かな交じり文。中文测试，日本語のテキスト。\n한국어 텍스트\n' > cjk.txt
printf 'family: 👨‍👩‍👧‍👦 rainbow 🏳️‍🌈 flags 🇫🇷🇯🇵 skin 👍🏽\n' > emoji.txt
printf 'cafe\xcc\x81 vs caf\xc3\xa9, Z\xcd\x91\xcd\xab\xcd\x83\n' > combining.txt
printf 'line one\r\nline two\r\n\r\nend\r' > crlf.txt
printf 'a\0b\0\0c\n\0' > nul.txt
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 3)' > binary.bin
mkdir adir
# ~20 MB of text that compresses poorly, so its tokens file is large too.
python3 - <<'PY'
import random
random.seed(1)
alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n"
table = bytes(alphabet[i % len(alphabet)] for i in range(256))
with open("big.txt", "wb") as f:
    f.write(random.randbytes(20_000_000).translate(table))
PY
rnn-encode big.txt > big.tokens || echo "setup: rnn-encode big.txt failed" >&2
head -c 1000000 big.tokens > truncated.tokens
rnn-encode cjk.txt > cjk.tokens || echo "setup: rnn-encode cjk.txt failed" >&2
python3 - <<'PY'
data = bytearray(open("cjk.tokens", "rb").read())
data[-8] ^= 1                                      # the gzip trailer's CRC32
open("crc.tokens", "wb").write(data)
PY
rnn-vocab abc.txt > abc.vocab || echo "setup: rnn-vocab abc.txt failed" >&2
printf '# charrnn vocab v1 unit=char\n0\t1\ta\n1\t1\tb\n1\t1\tb\n' > dup.vocab
printf '# charrnn vocab v1 unit=char\n0\t1\ta\n1 1 b\n' > malformed.vocab
printf '# charrnn vocab v1 unit=char\n0\t1\tx\n' > one.expected
printf '# charrnn vocab v1 unit=char\n0\t1\t\\n\n1\t1\ta\n2\t1\tb\n3\t1\tc\n' > abc.expected
printf 'abc\n' > skip.expected
printf 'abac\n' > replace.expected
printf '# charrnn vocab v1 unit=byte\n0\t4\t\\x00\n1\t1\t\\n\n2\t1\ta\n3\t1\tb\n4\t1\tc\n' > nul.bytes.expected
printf '# charrnn vocab v1 unit=byte\n0\t1\ta\n1\t1\tb\n2\t1\tc\n3\t1\td\n4\t1\t\\xFF\n' > invalid.bytes.expected
cat a.txt b.txt > ab.expected
printf '# charrnn vocab v1 unit=char\n0\t2\t\\n\n1\t3\t \n2\t1\t:\n3\t1\tc\n4\t2\td\n5\t3\te\n6\t1\tf\n7\t1\th\n8\t1\ti\n9\t4\tl\n10\t1\tn\n11\t3\to\n12\t1\tr\n13\t1\ts\n14\t1\tw\n15\t1\t\xc3\xa9\n' > ab.vocab.expected
printf 'OLD\n' > old.txt
mkdir out.ok out.err out.keep out.sig out.vocab out.decode
cp old.txt out.keep/x.tokens
printf 'x.tokens\n' > out.ok.expected
printf 'x.tokens\nOLD\n' > out.keep.expected

# ---- Cases ------------------------------------------------------------------
#  description                                        status words              stdin        stdout check          command
t "rnn-vocab: empty stdin"                            1 "rnn-vocab: error:|empty" empty.txt empty               'rnn-vocab'
t "rnn-vocab: empty file"                             1 "empty.txt is empty"   -            empty                 'rnn-vocab empty.txt'
t "rnn-encode: empty stdin"                           1 "rnn-encode: error:|empty" empty.txt empty              'rnn-encode'
t "rnn-encode: empty file"                            1 "empty.txt is empty"   -            empty                 'rnn-encode empty.txt'
t "rnn-encode --decode: empty file"                   1 "empty"                -            empty                 'rnn-encode --decode empty.txt'
t "rnn-vocab: 1-byte input"                           0 NONE                   one.txt      =one.expected         'rnn-vocab'
t "rnn-encode: 1-byte input round trip"               0 NONE                   one.txt      =one.txt              'rnn-encode > rt.tokens && gzip -t rt.tokens && rnn-encode --decode rt.tokens'
t "rnn-vocab: ids in code point order, counts"        0 NONE                   abc.txt      =abc.expected         'rnn-vocab'
t "rnn-vocab: invalid UTF-8 names the byte offset"    1 "invalid UTF-8 at byte offset 2|0xFF|--bytes" invalid.txt empty 'rnn-vocab'
t "rnn-encode: invalid UTF-8 names the byte offset"   1 "invalid.txt: invalid UTF-8 at byte offset 2" - empty    'rnn-encode invalid.txt'
t "rnn-vocab --bytes: invalid UTF-8 is fine"          0 NONE                   invalid.txt  =invalid.bytes.expected 'rnn-vocab --bytes'
t "rnn-encode --bytes: invalid UTF-8 round trip"      0 NONE                   invalid.txt  =invalid.txt          'rnn-encode --bytes > rt.tokens && gzip -t rt.tokens && rnn-encode --decode rt.tokens'
t "rnn-vocab: missing file"                           1 "nope.txt: no such file" -          empty                 'rnn-vocab nope.txt'
t "rnn-encode: missing file"                          1 "nope.txt: no such file" -          empty                 'rnn-encode nope.txt'
t "rnn-encode --decode: missing file"                 1 "nope.tokens: no such file" -       empty                 'rnn-encode --decode nope.tokens'
t "rnn-encode --vocab: missing vocab"                 1 "nope.vocab: no such file" abc.txt  empty                 'rnn-encode --vocab nope.vocab'
t "rnn-vocab: a directory as file"                    1 "adir is a directory"  -            empty                 'rnn-vocab adir'
t "rnn-encode: a directory as file"                   1 "adir is a directory"  -            empty                 'rnn-encode adir'
t "rnn-encode --decode: a directory as file"          1 "adir is a directory"  -            empty                 'rnn-encode --decode adir'
t "rnn-encode --vocab: a directory"                   1 "adir is a directory"  abc.txt      empty                 'rnn-encode --vocab adir'
t "rnn-encode -o: a directory"                        1 "adir is a directory"  -            empty                 'rnn-encode -o adir abc.txt'
t "rnn-encode -o: missing folder"                     1 "create the folder first" -         empty                 'rnn-encode -o nofolder/x.tokens abc.txt'
t "rnn-encode --vocab: duplicate line"                1 "dup.vocab: line 4|duplicate" abc.txt empty               'rnn-encode --vocab dup.vocab'
t "rnn-encode --vocab: malformed line"                1 "malformed.vocab: line 3|3 tab-separated fields" abc.txt empty 'rnn-encode --vocab malformed.vocab'
t "rnn-encode --vocab: not a vocab file"              1 "abc.txt is not a charrnn vocab file" abc.txt empty        'rnn-encode --vocab abc.txt'
t "unknown character: error names it and its offset"  1 "'x' (U+0078)|byte offset 2|--unknown" abxc.txt empty     'rnn-encode --vocab abc.vocab'
t "unknown character: --unknown skip"                 0 NONE                   abxc.txt     =skip.expected        'rnn-encode --vocab abc.vocab --unknown skip | rnn-encode --decode'
t "unknown character: --unknown replace:C"            0 NONE                   abxc.txt     =replace.expected     'rnn-encode --vocab abc.vocab --unknown replace:a | rnn-encode --decode'
t "unknown character: replacement not in the vocab"   1 "replacement 'z'|not in the vocabulary" abxc.txt empty    'rnn-encode --vocab abc.vocab --unknown replace:z'
t "usage: --min-count 0 is exit 64"                   64 "min-count"           abc.txt      empty                 'rnn-vocab --min-count 0'
t "usage: --min-count abc is exit 64"                 64 "min-count"           abc.txt      empty                 'rnn-vocab --min-count abc'
t "usage: --unknown bogus is exit 64"                 64 "--unknown|bogus"     abc.txt      empty                 'rnn-encode --unknown bogus'
t "usage: unknown option is exit 64"                  64 "--frobnicate"        abc.txt      empty                 'rnn-encode --frobnicate'
t "usage: --decode with two files is exit 64"         64 "--decode"            -            empty                 'rnn-encode --decode cjk.tokens cjk.tokens'
t "usage: --decode with --vocab is exit 64"           64 "--decode"            -            empty                 'rnn-encode --decode --vocab abc.vocab cjk.tokens'
t "--help is exit 0 on stdout"                        0 NONE                   -            ~--min-count          'rnn-vocab --help'
t "rnn-vocab --min-count 2"                           0 NONE                   -            !'[ "$(cat "$OUT")" = "$(printf "# charrnn vocab v1 unit=char\n0\t3\ta")" ]' 'printf "aaab\n" | rnn-vocab --min-count 2'
t "rnn-vocab --min-count above every count"           1 "no symbol occurs 9 times|--min-count" abc.txt empty     'rnn-vocab --min-count 9'
t "binary output refused on a terminal"               1 ""                     -            '~refusing to write binary data to a terminal' 'script -qec "rnn-encode abc.txt" /dev/null'
t "--force writes binary to a terminal"               0 ""                     -            !'[ "$(od -An -tx1 -N2 "$OUT" | tr -d " ")" = 1f8b ]' 'script -qec "rnn-encode --force abc.txt" /dev/null'
t "-o FILE writes binary with a terminal on stdout"   0 ""                     -            -                     'script -qec "rnn-encode -o tty.tokens abc.txt" /dev/null && rnn-encode --decode tty.tokens | cmp - abc.txt'
t "text output is fine on a terminal"                 0 ""                     -            '~unit=char'          'script -qec "rnn-vocab abc.txt" /dev/null'
t "rnn-encode | head -c 10: quiet, status 0, fast"    0 NONE                   -            !'[ "$(wc -c < "$OUT")" = 10 ] && [ "$(od -An -tx1 -N2 "$OUT" | tr -d " ")" = 1f8b ]' 'timeout 60 rnn-encode < big.txt | head -c 10; exit ${PIPESTATUS[0]}'
t "rnn-encode --decode | head -c 10: quiet, status 0" 0 NONE                   -            !'[ "$(cat "$OUT")" = "$(head -c 10 big.txt)" ]' 'timeout 60 rnn-encode --decode big.tokens | head -c 10; exit ${PIPESTATUS[0]}'
t "rnn-vocab | head -n 1: quiet, status 0"            0 NONE                   -            '~# charrnn vocab v1' 'timeout 60 rnn-vocab binary.bin --bytes | head -n 1; exit ${PIPESTATUS[0]}'
t "big round trip"                                    0 NONE                   -            =big.txt              'rnn-encode --decode big.tokens'
t "round trip: CJK"                                   0 NONE                   cjk.txt      =cjk.txt              'rnn-encode > rt.tokens && gzip -t rt.tokens && rnn-encode --decode rt.tokens'
t "round trip: emoji ZWJ sequences"                   0 NONE                   emoji.txt    =emoji.txt            'rnn-encode > rt.tokens && gzip -t rt.tokens && rnn-encode --decode rt.tokens'
t "round trip: combining marks"                       0 NONE                   combining.txt =combining.txt       'rnn-encode > rt.tokens && gzip -t rt.tokens && rnn-encode --decode rt.tokens'
t "round trip: CRLF"                                  0 NONE                   crlf.txt     =crlf.txt             'rnn-encode > rt.tokens && gzip -t rt.tokens && rnn-encode --decode rt.tokens'
t "round trip: NUL bytes as characters"               0 NONE                   nul.txt      =nul.txt              'rnn-encode > rt.tokens && gzip -t rt.tokens && rnn-encode --decode rt.tokens'
t "round trip: NUL bytes with --bytes"                0 NONE                   nul.txt      =nul.txt              'rnn-encode --bytes > rt.tokens && gzip -t rt.tokens && rnn-encode --decode rt.tokens'
t "round trip: every byte value with --bytes"         0 NONE                   binary.bin   =binary.bin           'rnn-encode --bytes > rt.tokens && gzip -t rt.tokens && rnn-encode --decode rt.tokens'
t "rnn-vocab --bytes: NUL bytes"                      0 NONE                   nul.txt      =nul.bytes.expected   'rnn-vocab --bytes'
t "emoji: each scalar is a symbol (ZWJ escaped)"      0 NONE                   emoji.txt    '~\u{200D}'           'rnn-vocab'
t "round trip: --vocab from rnn-vocab (CJK)"          0 NONE                   -            =cjk.txt              'rnn-vocab cjk.txt > cjk.vocab && rnn-encode --vocab cjk.vocab cjk.txt | rnn-encode --decode'
t "round trip: --vocab from rnn-vocab (emoji)"        0 NONE                   -            =emoji.txt            'rnn-vocab -o emoji.vocab emoji.txt && rnn-encode --vocab emoji.vocab < emoji.txt | rnn-encode --decode'
t "--vocab V gives the same tokens as the built one"  0 NONE                   -            empty                 'rnn-vocab combining.txt > c.vocab && cmp <(rnn-encode --vocab c.vocab combining.txt | gzip -dc) <(rnn-encode combining.txt | gzip -dc)'
t "round trip: --bytes --vocab from rnn-vocab --bytes" 0 NONE                  -            =binary.bin           'rnn-vocab --bytes binary.bin > bin.vocab && rnn-encode --bytes --vocab bin.vocab binary.bin | rnn-encode --decode'
t "--bytes with a unit=char vocab"                    1 "unit=char"            abc.txt      empty                 'rnn-encode --bytes --vocab abc.vocab'
t "tokens file is gzip and safetensors"               0 NONE                   -            '~charrnn.tokens.v1'  'gzip -t cjk.tokens && gzip -dc cjk.tokens'
t "-o FILE: atomic, no temporary file left"           0 NONE                   -            =out.ok.expected      'rnn-encode -o out.ok/x.tokens cjk.txt && ls -A out.ok'
t "-o FILE: after an error nothing is left"           1 "invalid UTF-8"        -            empty                 'rnn-encode -o out.err/x.tokens invalid.txt; s=$?; ls -A out.err; exit $s'
t "-o FILE: after an error the old file stays"        1 "invalid UTF-8"        -            =out.keep.expected    'rnn-encode -o out.keep/x.tokens invalid.txt; s=$?; ls -A out.keep; cat out.keep/x.tokens; exit $s'
t "rnn-vocab -o FILE: atomic"                         0 NONE                   -            !'[ "$(cat "$OUT")" = x.vocab ] && cmp out.vocab/x.vocab abc.expected' 'rnn-vocab -o out.vocab/x.vocab abc.txt && ls -A out.vocab'
t "rnn-encode --decode -o FILE: atomic"               0 NONE                   -            !'[ "$(cat "$OUT")" = x.txt ] && cmp out.decode/x.txt cjk.txt' 'rnn-encode --decode -o out.decode/x.txt cjk.tokens && ls -A out.decode'
t "SIGTERM while writing -o leaves no temporary file" 0 ""                     -            !'! grep -q tmp "$OUT"' 'rnn-encode -o out.sig/x.tokens big.txt & p=$!; sleep 0.4; kill -TERM $p; wait $p; ls -A out.sig; [ ! -e out.sig/x.tokens ] || gzip -t out.sig/x.tokens'
t "multiple input files are concatenated"             0 NONE                   -            =ab.expected          'rnn-encode a.txt b.txt | rnn-encode --decode'
t "multiple input files: - is stdin"                  0 NONE                   a.txt        =ab.expected          'rnn-encode - b.txt | rnn-encode --decode'
t "rnn-vocab: multiple files counted together"        0 NONE                   -            =ab.vocab.expected    'rnn-vocab a.txt b.txt'
t "--decode of a text file"                           1 "cjk.txt looks like text, not a tokens file" - empty           'rnn-encode --decode cjk.txt'
t "--decode of a vocab file"                          1 "abc.vocab looks like text, not a tokens file" - empty         'rnn-encode --decode abc.vocab'
t "a tokens file where text is expected"              1 "cjk.tokens is already a tokens file or a checkpoint, not text" - empty     'rnn-encode cjk.tokens'
t "a tokens file given to rnn-vocab"                  1 "cjk.tokens: invalid UTF-8 at byte offset 1" - empty     'rnn-vocab cjk.tokens'
t "--decode of a truncated tokens file"               1 "truncated.tokens|truncated" -      empty                 'rnn-encode --decode truncated.tokens'
t "--decode of a tokens file with a bad CRC"          1 "crc.tokens|CRC mismatch" -         empty                 'rnn-encode --decode crc.tokens'
t "--decode from stdin"                               0 NONE                   cjk.tokens   =cjk.txt              'rnn-encode --decode'
t "rnn-vocab --verbose: kernel line on stderr only"   0 "rnn-vocab: OpenBLAS kernels: " one.txt =one.expected      'rnn-vocab --verbose'
t "OPENBLAS_CORETYPE set by the user wins"            0 "OpenBLAS kernels: Haswell (from OPENBLAS_CORETYPE)" one.txt =one.expected 'OPENBLAS_CORETYPE=Haswell rnn-vocab --verbose'
t "rnn-encode --verbose: stdout is still the data"    0 "rnn-encode: OpenBLAS kernels: |tokens" cjk.txt =cjk.txt    'rnn-encode --verbose | rnn-encode --decode'
t "stderr of a failure never reaches stdout"          1 "rnn-encode: error:"   invalid.txt  empty                 'rnn-encode --force'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
