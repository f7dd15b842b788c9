#!/usr/bin/env python3
"""same_losses.py A.jsonl B.jsonl TOL: the training losses of two runs
(rnn-train --metrics lines) agree, iteration by iteration, to a relative TOL."""
import json
import sys

def losses(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    return [(r["iteration"], r["train_loss"]) for r in rows if r.get("train_loss") is not None]

a, b, tol = losses(sys.argv[1]), losses(sys.argv[2]), float(sys.argv[3])
if len(a) != len(b) or not a:
    sys.exit(f"{len(a)} losses against {len(b)}")
for (i, x), (j, y) in zip(a, b):
    if i != j or abs(x - y) > tol * abs(x):
        sys.exit(f"iteration {i}: {x} against {y} (iteration {j})")
