#!/usr/bin/env python3
# An independent NumPy forward pass over a checkpoint exported with
# `rnn-ckpt export --format npz`, written from PyTorch's equations, so the
# exported weights can be checked against `rnn-ckpt eval --json`.
# Usage: python3 npz_forward.py MODEL.npz TEXT_FILE [--bytes]
#   prints {"loss": L, "predictions": N, ...}: the mean cross-entropy in nats
#   of each symbol predicting the next, from a zero state.
# or:    python3 npz_forward.py MODEL.npz --argmax PRIME N
#   feeds PRIME (characters) and prints the N most likely next characters,
#   each fed back, as rnn-sample --argmax --prime PRIME -n N does.
# or:    python3 npz_forward.py MODEL.npz --logprob PRIME FILE [T]
#   prints the log-probability (nats) of FILE's characters after PRIME, with
#   the logits divided by T (default 1): what rnn-sample --beam --verbose
#   reports. Without a PRIME the first character is fed, not scored.
# or:    python3 npz_forward.py MODEL.npz --probs FILE
#   prints the probability of each character of FILE after the first, one
#   per line (rnn-ckpt eval --per-char's third column).
# Needs only numpy.
#
# Equations (PyTorch, one layer, x the input, h/c the state):
#   LSTM  gates = W_ih x + b_ih + W_hh h + b_hh, split i, f, g, o
#         c' = σ(f)c + σ(i)tanh(g);  h' = σ(o)tanh(c')
#   GRU   r = σ(W_ir x + b_ir + W_hr h + b_hr);  z = σ(W_iz x + b_iz + W_hz h + b_hz)
#         n = tanh(W_in x + b_in + r ∘ (W_hn h + b_hn));  h' = (1 − z) n + z h
#   RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
# The first layer's input is encoder.weight[id] when present, else one-hot.
import json
import sys

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class Model:
    """The exported weights (float64) and a step function from PyTorch's equations."""

    def __init__(self, path):
        z = np.load(path)
        self.w = {k: z[k].astype(np.float64) for k in z.files if k != "vocab"}
        self.vocab = [int(v) for v in z["vocab"]]
        self.ids_of = {s: i for i, s in enumerate(self.vocab)}
        w = self.w
        self.V = len(self.vocab)
        self.layers = 0
        while f"rnn.weight_ih_l{self.layers}" in w:
            self.layers += 1
        self.H = w["rnn.weight_hh_l0"].shape[1]
        self.cell = {4: "lstm", 3: "gru", 1: "rnn"}[w["rnn.weight_hh_l0"].shape[0] // self.H]
        assert w["decoder.weight"].shape == (self.V, self.H), w["decoder.weight"].shape
        if "encoder.weight" not in w:
            assert w["rnn.weight_ih_l0"].shape[1] == self.V
        self.reset()

    def reset(self):
        self.h = [np.zeros(self.H) for _ in range(self.layers)]
        self.c = [np.zeros(self.H) for _ in range(self.layers)]

    def step(self, token):
        """Feeds one id; returns the logits for the next."""
        w, H = self.w, self.H
        if "encoder.weight" in w:
            x = w["encoder.weight"][token]
        else:
            x = np.zeros(self.V)
            x[token] = 1.0
        for k in range(self.layers):
            gi = w[f"rnn.weight_ih_l{k}"] @ x + w[f"rnn.bias_ih_l{k}"]
            gh = w[f"rnn.weight_hh_l{k}"] @ self.h[k] + w[f"rnn.bias_hh_l{k}"]
            if self.cell == "lstm":
                g = gi + gh
                i, f, gg, o = g[:H], g[H:2 * H], g[2 * H:3 * H], g[3 * H:]
                self.c[k] = sigmoid(f) * self.c[k] + sigmoid(i) * np.tanh(gg)
                self.h[k] = sigmoid(o) * np.tanh(self.c[k])
            elif self.cell == "gru":
                r = sigmoid(gi[:H] + gh[:H])
                z = sigmoid(gi[H:2 * H] + gh[H:2 * H])
                n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
                self.h[k] = (1 - z) * n + z * self.h[k]
            else:
                self.h[k] = np.tanh(gi + gh)
            x = self.h[k]
        return w["decoder.weight"] @ x + w["decoder.bias"]


def cross_entropy(model, ids):
    total = 0.0
    for t in range(len(ids) - 1):
        logits = model.step(ids[t])
        m = logits.max()
        total += m + np.log(np.exp(logits - m).sum()) - logits[ids[t + 1]]
    return total / (len(ids) - 1)


def main():
    args = sys.argv[1:]
    if len(args) == 4 and args[1] == "--argmax":
        model = Model(args[0])
        logits = None
        for ch in args[2]:
            logits = model.step(model.ids_of[ord(ch)])
        out = []
        for _ in range(int(args[3])):
            nxt = int(np.argmax(logits))  # ties: the lowest id, as rnn-sample
            out.append(chr(model.vocab[nxt]))
            logits = model.step(nxt)
        sys.stdout.buffer.write("".join(out).encode("utf-8"))
        return
    if len(args) in (4, 5) and args[1] == "--logprob":
        model = Model(args[0])
        text = open(args[3], "rb").read().decode("utf-8")
        T = float(args[4]) if len(args) == 5 else 1.0
        ids = [model.ids_of[ord(ch)] for ch in args[2] + text]
        start = len(args[2]) or 1
        total = 0.0
        logits = None
        for t, i in enumerate(ids):
            if t >= start:
                z = logits / T
                m = z.max()
                total += z[i] - m - np.log(np.exp(z - m).sum())
            logits = model.step(i)
        print(f"{total:.9f}")
        return
    if len(args) == 3 and args[1] == "--probs":
        model = Model(args[0])
        ids = [model.ids_of[ord(ch)] for ch in open(args[2], "rb").read().decode("utf-8")]
        for t in range(len(ids) - 1):
            logits = model.step(ids[t])
            p = np.exp(logits - logits.max())
            print(f"{p[ids[t + 1]] / p.sum():.9f}")
        return
    if len(args) not in (2, 3) or (len(args) == 3 and args[2] != "--bytes"):
        sys.exit("usage: npz_forward.py MODEL.npz TEXT_FILE [--bytes] | MODEL.npz --argmax PRIME N")
    model = Model(args[0])
    raw = open(args[1], "rb").read()
    symbols = list(raw) if len(args) == 3 else [ord(ch) for ch in raw.decode("utf-8")]
    ids = [model.ids_of[s] for s in symbols]  # the text must be in the vocabulary
    loss = cross_entropy(model, ids)
    print(json.dumps({"loss": loss, "predictions": len(ids) - 1, "model": model.cell, "layers": model.layers}))


if __name__ == "__main__":
    main()
