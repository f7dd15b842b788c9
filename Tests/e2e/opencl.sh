#!/usr/bin/env bash
# End-to-end tests of --device opencl through the real binaries: rnn-ckpt
# devices, training, sampling and evaluation on the first OpenCL device
# against the CPU, resuming across devices, and the errors for a missing
# driver or device. Without an OpenCL device only the error cases run and
# the rest is reported as skipped (install pocl-opencl-icd to run them).
# Usage: bash Tests/e2e/opencl.sh BIN_DIR     (e.g. .build/release)
# Cases use the table-driven runner `t` (see lib.sh and cli.sh's header).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/rnn-train" ] || [ ! -x "$1/rnn-sample" ] || [ ! -x "$1/rnn-ckpt" ]; then
    echo "usage: bash Tests/e2e/opencl.sh BIN_DIR (a folder with rnn-train, rnn-sample, rnn-ckpt, rnn-encode)" >&2
    exit 2
fi
BIN=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/charrnn-opencl.XXXXXX")
trap 'rm -rf "$T"' EXIT
export PATH="$BIN:$PATH" LC_ALL=C.UTF-8
unset OPENBLAS_CORETYPE CHARRNN_DEBUG
cd "$T" || exit 2
source "$HERE/lib.sh"
skipped=0

python3 - <<'PY'
import random
random.seed(5)
words = "the quick brown fox jumps over a lazy dog while seven wizards hex one jolly bard".split()
open("corpus.txt", "w").write(" ".join(random.choice(words) for _ in range(6000)) + "\n")
PY
rnn-encode -o corpus.tokens corpus.txt
rnn-train corpus.tokens -o ref --rnn-size 16 --num-layers 1 --batch-size 4 --seq-length 16 --max-iterations 5 -q
REF=$(ls ref/*.ckpt | head -n 1)
NOICD="OCL_ICD_VENDORS=$T/no-icd OCL_ICD_FILENAMES="   # an ICD loader that finds no driver
mkdir -p no-icd

# ---- Errors: no driver, no such device, bad names (always run) ---------------
t "no OpenCL driver: rnn-train says what to install"    1 "no OpenCL platform found|pocl-opencl-icd|clinfo -l" - empty "$NOICD rnn-train corpus.tokens -o cvx --device opencl"
t "no OpenCL driver: nothing written"                    0 NONE - empty "test ! -e cvx"
t "no OpenCL driver: rnn-sample"                         1 "no OpenCL platform found" - empty "$NOICD rnn-sample '$REF' --device opencl"
t "no OpenCL driver: rnn-ckpt eval"                      1 "no OpenCL platform found" - empty "$NOICD rnn-ckpt eval '$REF' corpus.txt --device opencl"
t "no OpenCL driver: devices lists the cpu and warns"    0 "warning: no OpenCL platform found" - '!test $(wc -l < "$OUT") = 2 && grep -q "^cpu " "$OUT"' "$NOICD rnn-ckpt devices"
t "--device gpu is a usage error"                        64 "--device must be cpu, opencl, opencl:N or opencl:P.D (got 'gpu')" - empty "rnn-train corpus.tokens --device gpu"
t "--device opencl:x is a usage error"                   64 "--device must be" - empty "rnn-sample '$REF' --device opencl:x"
t "--device opencl:1.2.3 is a usage error"               64 "--device must be" - empty "rnn-ckpt eval '$REF' corpus.txt --device opencl:1.2.3"

if ! rnn-ckpt devices 2>/dev/null | grep -q '^opencl:'; then
    echo "SKIP - the OpenCL device cases: no OpenCL device here ('rnn-ckpt devices' lists none); install pocl-opencl-icd to run them"
    skipped=1
    echo "$passed passed, $failed failed, OpenCL device cases skipped"
    [ "$failed" -eq 0 ]
    exit
fi

# ---- With a device -------------------------------------------------------------
NDEV=$(rnn-ckpt devices --json | grep -c '"device":"opencl:')
t "devices: cpu first, then opencl:P.D = opencl:N"       0 NONE - '!grep -q "^cpu " "$OUT" && grep -q "^opencl:0.0 = opencl:0 " "$OUT" && grep -q -- "(--device opencl)" "$OUT"' "rnn-ckpt devices"
t "devices --json: one record per device"                0 NONE - '!python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert r[0][\"device\"]==\"cpu\"; assert all(x[\"compute_units\"]>0 and x[\"global_memory\"]>0 for x in r[1:]); assert sum(x[\"default_opencl\"] for x in r[1:])==1" "$OUT"' "rnn-ckpt devices --json"
t "a device index out of range"                          1 "opencl:$NDEV: no such OpenCL device|rnn-ckpt devices" - empty "rnn-train corpus.tokens -o cvx --device opencl:$NDEV"
t "a platform out of range"                              1 "opencl:9.0: no OpenCL platform 9" - empty "rnn-sample '$REF' --device opencl:9.0"
t "a device out of range on a platform"                  1 "opencl:0.99: platform 0" - empty "rnn-ckpt eval '$REF' corpus.txt --device opencl:0.99"

S="--rnn-size 24 --num-layers 2 --batch-size 8 --seq-length 16 --dropout 0.2 --eval-val-every 10 --seed 7"
losses_agree='!python3 -c "
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]; b = [json.loads(l) for l in open(sys.argv[2])]
key = lambda r: (r[\"iteration\"], r[\"train_loss\"] is None)
assert [key(r) for r in a] == [key(r) for r in b] and len(a) > 0
for x, y in zip(a, b):
    for k in (\"train_loss\", \"val_loss\"):
        if x[k] is not None: assert abs(x[k] - y[k]) <= 1e-4 * x[k], (x, y)
" '
for m in lstm gru rnn; do
    t "$m: opencl trains, losses as the cpu's (1e-4)"    0 "" - "$losses_agree cpu_$m.json ocl_$m.json" "rnn-train corpus.tokens -o cpu_$m --model $m $S --max-iterations 20 --metrics cpu_$m.json -q && rnn-train corpus.tokens -o ocl_$m --model $m $S --max-iterations 20 --metrics ocl_$m.json -q --device opencl"
done
t "embedding + adam on opencl:0.0, as the cpu"          0 "" - "$losses_agree cpu_e.json ocl_e.json" "rnn-train corpus.tokens -o cpu_e $S --embedding-size 8 --optimizer adam --max-iterations 20 --metrics cpu_e.json -q && rnn-train corpus.tokens -o ocl_e $S --embedding-size 8 --optimizer adam --max-iterations 20 --metrics ocl_e.json -q --device opencl:0.0"
t "the log names the device"                             0 "device: opencl:" - empty "rnn-train corpus.tokens -o ocl_log $S --max-iterations 2 --device opencl"
t "opencl: same seed, same checkpoint bytes"             0 NONE - empty "rnn-train corpus.tokens -o det $S --max-iterations 6 -q --device opencl && mv det/*.ckpt det1.ckpt && rnn-train corpus.tokens -o det $S --max-iterations 6 -q --device opencl && cmp det1.ckpt det/*.ckpt"
t "opencl: a diverging run stops, nothing written"     1 "training stopped|lower --learning-rate|no checkpoint was written" - empty "rnn-train corpus.tokens -o cvd --rnn-size 16 --num-layers 1 --batch-size 4 --seq-length 16 --learning-rate 100 --max-iterations 300 -q --device opencl"
t "opencl: SIGINT saves and says how to resume"         0 NONE - empty "rnn-train corpus.tokens -o sig $S --max-epochs 1000 --eval-val-every 100000 --print-every 1 --device opencl 2>sig.err & p=\$!; for i in \$(seq 300); do sleep 0.1; grep -q '^[0-9]*/' sig.err && break; done; kill -INT \$p; wait \$p; test \$? = 130 && grep -q 'rnn-train --resume sig/lm_lstm_epoch' sig.err && gzip -t sig/*.ckpt"
t "opencl: --sample-every shows a sample"               0 "sample at iteration 3:" - empty "rnn-train corpus.tokens -o smp $S --max-iterations 3 --sample-every 3 --sample-length 20 --device opencl"
tensors_of='import json, struct, sys; d = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", d[:8])[0]; h = json.loads(d[8:8 + n]); h.pop("__metadata__"); print(sorted((k, v["dtype"], v["shape"]) for k, v in h.items()))'
t "an opencl checkpoint has the cpu's tensors"           0 NONE - empty "rnn-ckpt export --format safetensors \$(ls cpu_lstm/*.ckpt | head -1) -o c.st && rnn-ckpt export --format safetensors \$(ls ocl_lstm/*.ckpt | head -1) -o o.st && cmp <(python3 -c '$tensors_of' c.st) <(python3 -c '$tensors_of' o.st) && python3 -c '$tensors_of' c.st | grep -q rnn.weight_hh_l1"

# Resume across devices: cpu 10 then opencl to 20 (and the other way) gives
# the losses of a straight run.
rnn-train corpus.tokens -o straight $S --max-iterations 20 -q --metrics all.json
tail -n +12 all.json > straight.json   # after iteration 10 and its validation
t "cpu checkpoint resumes on opencl"                     0 "resuming at iteration 10" - "$losses_agree straight.json resumed1.json" "rnn-train corpus.tokens -o half1 $S --max-iterations 10 -q && rnn-train corpus.tokens --resume half1/*.ckpt -o rest1 --max-iterations 20 --device opencl --metrics resumed1.json 2>&1 >/dev/null | grep -v '^[0-9]' >&2"
t "opencl checkpoint resumes on cpu"                     0 "resuming at iteration 10" - "$losses_agree straight.json resumed2.json" "rnn-train corpus.tokens -o half2 $S --max-iterations 10 -q --device opencl && rnn-train corpus.tokens --resume half2/*.ckpt -o rest2 --max-iterations 20 --metrics resumed2.json 2>&1 >/dev/null | grep -v '^[0-9]' >&2"

# Sampling and evaluation.
rnn-train corpus.tokens -o pin --rnn-size 32 --num-layers 1 --batch-size 8 --seq-length 32 --max-iterations 200 --eval-val-every 200 --learning-rate 5e-3 --seed 123 -q
PIN=$(rnn-ckpt best pin)
t "argmax sample on opencl = on cpu"                     0 NONE - "=argmax.cpu" "rnn-sample '$PIN' --argmax -n 200 --prime 'the ' > argmax.cpu && rnn-sample '$PIN' --argmax -n 200 --prime 'the ' --device opencl"
t "seeded sample on opencl = on cpu"                     0 NONE - "=seeded.cpu" "rnn-sample '$PIN' -n 300 --seed 9 -t 0.9 > seeded.cpu && rnn-sample '$PIN' -n 300 --seed 9 -t 0.9 --device opencl"
t "gru and embedding models sample the same"            0 NONE - "=gru.cpu" "rnn-sample \$(ls ocl_gru/*.ckpt | tail -1) -n 100 --seed 3 > gru.cpu && rnn-sample \$(ls ocl_e/*.ckpt | tail -1) -n 100 --seed 3 >> gru.cpu && { rnn-sample \$(ls ocl_gru/*.ckpt | tail -1) -n 100 --seed 3 --device opencl && rnn-sample \$(ls ocl_e/*.ckpt | tail -1) -n 100 --seed 3 --device opencl; }"
t "--verbose names the device and the speed"             0 "device: opencl:|chars/s" - '~' "rnn-sample '$PIN' -n 50 --device opencl --verbose"
t "eval on opencl = on cpu (1e-5)"                       0 NONE - '!python3 -c "import json,sys; a=json.load(open(\"eval.cpu\")); b=json.load(open(sys.argv[1])); assert abs(a[\"loss\"]-b[\"loss\"]) <= 1e-5*a[\"loss\"] and a[\"predictions\"]==b[\"predictions\"], (a,b)" "$OUT"' "rnn-ckpt eval '$PIN' corpus.txt --json > eval.cpu && rnn-ckpt eval '$PIN' corpus.txt --json --device opencl"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
