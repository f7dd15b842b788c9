#!/usr/bin/env python3
# Checks one model exported by `rnn-ckpt export --format onnx` with the
# PyPI packages onnx and onnxruntime (make deps-python puts them in .venv).
# Usage: python onnx_check.py MODEL.onnx VOCAB.tsv TEXT1 LOGITS1.npy TEXT2 LOGITS2.npy
#            [--npz MODEL.npz] [--argmax PRIME N EXPECTED_FILE]
#   VOCAB.tsv     what `rnn-ckpt vocab` printed for the checkpoint
#   LOGITSi.npy   what `rnn-ckpt eval --logits` wrote for TEXTi (same length)
#   --npz         also compares eval's logits of TEXT1 with npz_forward.py's
#                 float64 NumPy forward pass of the npz export
#   --argmax      greedy decoding after PRIME through onnxruntime, one token
#                 per call with the state fed back, against EXPECTED_FILE
#                 (`rnn-sample --argmax --prime PRIME -n N`); a difference at
#                 a near-tie of the top two logits (< 1e-4 apart) is noted,
#                 not failed
# Checks: onnx.checker.check_model (full_check); opset >= 14; the metadata
# (vocab equal to VOCAB.tsv, config, symbols, unit); the inputs and outputs;
# onnxruntime's logits of TEXT1 and TEXT2 as one batch of two rows, in two
# calls with the state carried between them, against eval's to 1e-5; the
# same text alone (batch 1) against the batch row.
# Prints `ok`/`FAIL`/`note` lines and the largest difference; exits 1 on any
# failure, 2 on bad usage.
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-5
failures = 0


def ok(what):
    print(f"ok onnx: {what}")


def fail(what):
    global failures
    failures += 1
    print(f"FAIL onnx: {what}")


def check(cond, what):
    (ok if cond else fail)(what)
    return cond


def main():
    args = sys.argv[1:]
    npz = argmax = None
    if "--npz" in args:
        i = args.index("--npz")
        npz = args[i + 1]
        del args[i:i + 2]
    if "--argmax" in args:
        i = args.index("--argmax")
        argmax = (args[i + 1], int(args[i + 2]), args[i + 3])
        del args[i:i + 4]
    if len(args) != 6:
        print(__doc__ or "usage: see the header of onnx_check.py", file=sys.stderr)
        sys.exit(2)
    path, vocab_path, text1, logits1, text2, logits2 = args
    name = os.path.basename(path)

    model = onnx.load(path)
    try:
        onnx.checker.check_model(model, full_check=True)
        ok(f"{name}: onnx.checker.check_model (full_check)")
    except Exception as e:  # noqa: BLE001 - any checker complaint is a failure
        fail(f"{name}: onnx.checker.check_model: {e}")
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    check(opset >= 14, f"{name}: opset {opset} >= 14")

    meta = {p.key: p.value for p in model.metadata_props}
    check(meta.get("vocab") == open(vocab_path, encoding="utf-8").read(), f"{name}: metadata vocab equals rnn-ckpt vocab")
    config = json.loads(meta["config"])
    symbols = json.loads(meta["symbols"])
    check(config["vocab_size"] == len(symbols), f"{name}: config vocab_size {config['vocab_size']} = {len(symbols)} symbols")
    check(meta.get("unit") in ("char", "byte"), f"{name}: unit {meta.get('unit')}")
    L, H, V = config["num_layers"], config["rnn_size"], config["vocab_size"]
    lstm = config["model"] == "lstm"

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ins = [(i.name, i.type, i.shape) for i in session.get_inputs()]
    outs = [(o.name, o.type, o.shape) for o in session.get_outputs()]
    state_names = ["h0", "c0"] if lstm else ["h0"]
    want_ins = [("tokens", "tensor(int64)", ["batch", "steps"])] + [(s, "tensor(float)", [L, "batch", H]) for s in state_names]
    want_outs = [("logits", "tensor(float)", ["batch", "steps", V])] + \
        [(s[0] + "n", "tensor(float)", [L, "batch", H]) for s in state_names]
    check(ins == want_ins, f"{name}: inputs {ins}")
    check(outs == want_outs, f"{name}: outputs {outs}")

    # A char model's symbols are code points, a byte model's byte values.
    byte_unit = meta.get("unit") == "byte"
    ids_of = {c: i for i, c in enumerate(symbols)}

    def encode(text):
        return [ids_of[c] for c in (text.encode("utf-8") if byte_unit else map(ord, text))]

    def decode(i):
        return bytes([symbols[i]]) if byte_unit else chr(symbols[i]).encode("utf-8")

    texts = [open(t, encoding="utf-8").read() for t in (text1, text2)]
    ids = [encode(t) for t in texts]
    want = [np.load(logits1), np.load(logits2)]
    n = len(ids[0])
    if len(ids[1]) != n or want[0].shape != (n - 1, V) or want[1].shape != (n - 1, V):
        fail(f"{name}: bad test data: texts of {len(ids[0])} and {len(ids[1])} ids, logits {want[0].shape} {want[1].shape}")
        return

    def run(tokens, state):
        feeds = {"tokens": np.asarray(tokens, np.int64)}
        feeds.update(state)
        result = session.run(None, feeds)
        return result[0], dict(zip(state_names, result[1:]))

    # Both texts as one batch, in two calls with the state carried.
    batch = np.array([row[:n - 1] for row in ids])
    cut = (n - 1) // 2
    zero = {s: np.zeros((L, 2, H), np.float32) for s in state_names}
    first, state = run(batch[:, :cut], zero)
    second, _ = run(batch[:, cut:], state)
    got = np.concatenate([first, second], axis=1)
    worst = max(float(np.abs(got[r] - want[r]).max()) for r in range(2))
    check(worst <= TOLERANCE, f"{name}: logits of 2 texts x {n - 1} characters (batch 2, two calls, state carried) "
          f"against rnn-ckpt eval --logits: max |diff| {worst:.2e} <= {TOLERANCE:g}")
    alone, _ = run(batch[:1], {s: np.zeros((L, 1, H), np.float32) for s in state_names})
    d = float(np.abs(alone[0] - got[0]).max())
    check(d <= TOLERANCE, f"{name}: batch of 1 in one call against the batch row: max |diff| {d:.2e}")

    if npz:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from npz_forward import Model  # noqa: E402 - the NumPy reference beside this file
        ref = Model(npz)
        ref_logits = np.array([ref.step(i) for i in ids[0][:n - 1]])
        d = float(np.abs(ref_logits - want[0]).max())
        check(d <= TOLERANCE, f"{name}: rnn-ckpt eval --logits against npz_forward.py (float64): max |diff| {d:.2e}")

    if argmax:
        prime, count, expected_file = argmax
        expected = open(expected_file, "rb").read()
        state = {s: np.zeros((L, 1, H), np.float32) for s in state_names}
        logits, state = run([encode(prime)], state)
        last = logits[0, -1]
        out = b""
        for _ in range(count):
            top = int(np.argmax(last))
            piece = decode(top)
            if out + piece != expected[:len(out) + len(piece)]:
                two = np.sort(last)[-2:]
                if two[1] - two[0] < 1e-4:
                    print(f"note onnx: {name}: argmax parts from rnn-sample after {len(out)} bytes, "
                          f"a near-tie of the top two logits ({two[1] - two[0]:.2e} apart)")
                    ok(f"{name}: argmax text equal to rnn-sample's up to a near-tie")
                    break
            out += piece
            logits, state = run([[top]], state)
            last = logits[0, -1]
        else:
            check(out == expected, f"{name}: argmax text of {count} symbols after the prime equals rnn-sample --argmax")
    print(f"onnx: {name}: max |diff| {worst:.2e}")


main()
sys.exit(1 if failures else 0)
