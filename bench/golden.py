#!/usr/bin/env python3
# Golden fixtures from PyTorch for Tests/CharRNNTests/GoldenTests.swift: one
# JSON file per case (LSTM/GRU/RNN, one-hot or embedding input) with PyTorch's
# weights, inputs, logits, loss, final states and parameter gradients.
#
# Needs PyTorch (CPU is enough) and nothing else. Regenerate with:
#
#     /work/venv/bin/python bench/golden.py Tests/CharRNNTests/Fixtures
#
# (any python3 with torch installed will do; run from the repository root).
# The output is deterministic for a given PyTorch version: weights, states and
# tokens come from fixed torch seeds, and every number is float64.
#
# The model is exactly the checkpoint's (charrnn-files(5)):
# nn.Embedding (optional) + nn.LSTM/GRU/RNN(batch_first=True) + nn.Linear,
# with one-hot input over the vocabulary when there is no embedding.
#
# Fixture layout (all arrays are nested JSON lists, row-major, unless "flat"):
#   "config":  {"model", "rnn_size", "num_layers", "embedding_size", "dropout",
#               "vocab_size", "batch", "seq_length", "seed", "torch"}
#   "params":  {PyTorch name: {"shape": [...], "data": flat row-major list}},
#              in checkpoint order (encoder.weight, rnn.*_l0, ..., decoder.*)
#   "inputs", "targets": (B, T) token ids -- batch-major, as batch_first
#              PyTorch takes them. Swift's arrays are time-major: index t*B + b
#              holds inputs[b][t].
#   "h0", "c0": (L, B, H) initial states ("c0": null unless LSTM)
#   "logits":  (B, T, V)
#   "loss":    mean cross-entropy over all B*T positions, in nats
#   "hT", "cT": (L, B, H) final states ("cT": null unless LSTM)
#   "grads":   {PyTorch name: flat row-major list} of d loss / d parameter
# Every float is written with repr(), which round-trips float64 exactly.
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

CASES = [
    # name, model, layers, embedding, seed
    ("lstm", "lstm", 2, 0, 101),
    ("gru", "gru", 2, 0, 102),
    ("rnn", "rnn", 2, 0, 103),
    ("lstm_embedding", "lstm", 1, 3, 104),
]
V, H, B, T = 7, 5, 2, 4
WEIGHT_RANGE = 0.5  # uniform(-0.5, 0.5): larger than training's 0.08 so every path matters


class CharModel(nn.Module):
    def __init__(self, model, vocab, hidden, layers, embedding):
        super().__init__()
        self.vocab = vocab
        if embedding > 0:
            self.encoder = nn.Embedding(vocab, embedding)
        cell = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[model]
        self.rnn = cell(embedding if embedding > 0 else vocab, hidden, num_layers=layers, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)
        self.embedding = embedding

    def forward(self, tokens, state):
        if self.embedding > 0:
            x = self.encoder(tokens)
        else:
            x = F.one_hot(tokens, self.vocab).to(torch.float64)
        out, final = self.rnn(x, state)
        return self.decoder(out), final


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def nested(t):
    return t.detach().tolist()


def make_case(name, model, layers, embedding, seed):
    torch.manual_seed(seed)
    net = CharModel(model, V, H, layers, embedding).to(torch.float64)
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-WEIGHT_RANGE, WEIGHT_RANGE)
    inputs = torch.randint(0, V, (B, T))
    targets = torch.randint(0, V, (B, T))
    h0 = torch.rand(layers, B, H, dtype=torch.float64) - 0.5
    c0 = torch.rand(layers, B, H, dtype=torch.float64) - 0.5 if model == "lstm" else None
    state = (h0, c0) if model == "lstm" else h0

    logits, final = net(inputs, state)
    loss = F.cross_entropy(logits.reshape(B * T, V), targets.reshape(B * T))
    net.zero_grad()
    loss.backward()
    hT, cT = final if model == "lstm" else (final, None)

    names = [n for n, _ in net.named_parameters()]
    expected = (["encoder.weight"] if embedding > 0 else []) + [
        f"rnn.{kind}_l{k}" for k in range(layers)
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ] + ["decoder.weight", "decoder.bias"]
    assert names == expected, names

    return {
        "config": {
            "model": model, "rnn_size": H, "num_layers": layers, "embedding_size": embedding,
            "dropout": 0.0, "vocab_size": V, "batch": B, "seq_length": T, "seed": seed,
            "torch": torch.__version__,
        },
        "params": {n: {"shape": list(p.shape), "data": flat(p)} for n, p in net.named_parameters()},
        "inputs": nested(inputs),
        "targets": nested(targets),
        "h0": nested(h0),
        "c0": nested(c0) if c0 is not None else None,
        "logits": nested(logits),
        "loss": float(loss.item()),
        "hT": nested(hT),
        "cT": nested(cT) if cT is not None else None,
        "grads": {n: flat(p.grad) for n, p in net.named_parameters()},
    }


def write_json(path, case):
    # One top-level key (and one parameter) per line: small, diffable, exact.
    dump = lambda v: json.dumps(v, allow_nan=False)
    lines = ["{"]
    keys = list(case.keys())
    for i, key in enumerate(keys):
        end = "," if i + 1 < len(keys) else ""
        value = case[key]
        if key in ("params", "grads"):
            lines.append(f"  {dump(key)}: {{")
            names = list(value.keys())
            for j, n in enumerate(names):
                lines.append(f"    {dump(n)}: {dump(value[n])}" + ("," if j + 1 < len(names) else ""))
            lines.append("  }" + end)
        else:
            lines.append(f"  {dump(key)}: {dump(value)}{end}")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # well-formed
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return len(text)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: golden.py OUTPUT_FOLDER  (e.g. Tests/CharRNNTests/Fixtures)")
    torch.use_deterministic_algorithms(True)
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    for case in CASES:
        path = os.path.join(folder, f"golden_{case[0]}.json")
        size = write_json(path, make_case(*case))
        print(f"{path}: {size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
