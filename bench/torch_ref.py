#!/usr/bin/env python3
"""PyTorch reference for the charrnn benchmark (bench/run.sh).

The same model and training step as rnn-train's defaults, written plainly in
PyTorch, so that its speed and memory can be compared with ours:
one-hot input -> nn.LSTM / nn.GRU / nn.RNN (batch_first) -> nn.Linear,
mean cross-entropy, RMSprop(lr 2e-3, alpha 0.95, eps 1e-8), every gradient
element clamped to +-5, hidden state carried (detached) from one minibatch
to the next, data laid out as char-rnn's loader does. It builds its own
vocabulary from the text file. Weights are random (uniform +-0.08, LSTM
forget-gate input bias 1, as char-rnn and rnn-train initialise them).

The train and sample modes measure speed only. The timed mode measures what
is learnt in a fixed time: char-rnn's whole schedule (train/val split,
learning-rate decay per epoch, hidden state reset at each epoch) for
--seconds of training, then the validation loss, as rnn-train --max-seconds
does with its defaults.

Run:
  python3 bench/torch_ref.py train data/tinyshakespeare/input.txt \
      --model lstm --rnn-size 128 --num-layers 2 --iters 60 --threads 2
  python3 bench/torch_ref.py sample data/tinyshakespeare/input.txt -n 2000
  python3 bench/torch_ref.py timed data/tinyshakespeare/input.txt \
      --seconds 300 --threads 2 --seed 123

Each prints one JSON line on stdout:
  train:  chars_per_sec, ms_per_iter, peak_rss_mb, ... (warm-up excluded)
  sample: chars_per_sec, peak_rss_mb, ...
  timed:  val_loss, iterations, epochs, seconds, chars_per_sec, ...
  gemm:   gflops of torch.mm on --size square float32 matrices (PyTorch's
          own BLAS, for comparison with bench/sgemm.c; FILE is ignored)
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CharModel(nn.Module):
    def __init__(self, kind, vocab_size, hidden, layers):
        super().__init__()
        cell = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        self.kind = kind
        self.vocab_size = vocab_size
        self.rnn = cell(vocab_size, hidden, num_layers=layers, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab_size)
        for p in self.parameters():
            nn.init.uniform_(p, -0.08, 0.08)
        if kind == "lstm":
            # Forget-gate input bias 1 (gate order i, f, g, o), the recurrent
            # one left random: char-rnn's and rnn-train's initialisation.
            with torch.no_grad():
                for k in range(layers):
                    getattr(self.rnn, f"bias_ih_l{k}")[hidden:2 * hidden] = 1.0

    def forward(self, x, state):
        one_hot = F.one_hot(x, self.vocab_size).float()
        out, state = self.rnn(one_hot, state)
        return self.decoder(out), state


def detach(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def load_text(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    return torch.tensor([index[c] for c in text], dtype=torch.long), len(chars)


def layout(tokens, B, T):
    """char-rnn's layout: truncate to a multiple of B*T, targets shifted by
    one (the last wrapping to the first), B parallel streams as rows;
    minibatch i is columns [i*T, (i+1)*T). Returns x, y, nbatches."""
    n = (len(tokens) // (B * T)) * (B * T)
    x = tokens[:n]
    y = torch.cat([tokens[1:n], tokens[:1]])
    return x.view(B, -1), y.view(B, -1), n // (B * T)


def train(args):
    tokens, V = load_text(args.file)
    B, T = args.batch_size, args.seq_length
    x, y, nb = layout(tokens, B, T)

    model = CharModel(args.model, V, args.rnn_size, args.num_layers)
    opt = torch.optim.RMSprop(model.parameters(), lr=2e-3, alpha=0.95, eps=1e-8)
    state = None

    def step(i):
        nonlocal state
        j = i % nb
        if j == 0:
            state = None  # new epoch: fresh hidden state
        xb, yb = x[:, j * T:(j + 1) * T], y[:, j * T:(j + 1) * T]
        logits, state = model(xb, detach(state))
        loss = F.cross_entropy(logits.reshape(-1, V), yb.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for p in model.parameters():
            p.grad.clamp_(-5.0, 5.0)
        opt.step()
        return loss.item()

    for i in range(args.warmup):
        step(i)
    start = time.perf_counter()
    for i in range(args.warmup, args.warmup + args.iters):
        loss = step(i)
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "mode": "train", "model": args.model, "rnn_size": args.rnn_size,
        "num_layers": args.num_layers, "batch_size": B, "seq_length": T,
        "threads": torch.get_num_threads(), "warmup": args.warmup,
        "iters": args.iters, "seconds": round(elapsed, 4),
        "ms_per_iter": round(1000 * elapsed / args.iters, 3),
        "chars_per_sec": round(args.iters * B * T / elapsed, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1), "last_loss": round(loss, 4),
        "torch": torch.__version__,
    }))


def split(nb, train_frac, val_frac):
    """Train and validation minibatch counts, as Loader.swift (and char-rnn)
    split them: train first, then validation, then test."""
    ntrain = math.floor(nb * train_frac)
    if train_frac + val_frac >= 1:
        nval = nb - ntrain
    else:
        nval = math.floor(nb * val_frac)
    return ntrain, nval


def timed(args):
    """Train with rnn-train's default schedule for --seconds (the clock is
    checked before every iteration, as rnn-train --max-seconds does),
    validating every --eval-every iterations inside that time, as
    rnn-train --eval-val-every does, and once more at the end (outside it).
    Validation: the mean loss over the validation minibatches from a zero
    state. Reports the last and the best validation loss."""
    tokens, V = load_text(args.file)
    B, T = args.batch_size, args.seq_length
    x, y, nb = layout(tokens, B, T)
    ntrain, nval = split(nb, args.train_frac, args.val_frac)
    if ntrain < 1 or nval < 1:
        raise SystemExit(f"torch_ref.py: {nb} minibatches: too few for train {ntrain}, val {nval}")
    model = CharModel(args.model, V, args.rnn_size, args.num_layers)
    lr = args.learning_rate
    opt = torch.optim.RMSprop(model.parameters(), lr=lr, alpha=args.decay_rate, eps=1e-8)
    max_iters = math.floor(args.max_epochs * ntrain)
    state = None
    it = 0
    last_loss = None

    def validate():
        model.eval()
        total = 0.0
        with torch.no_grad():
            vstate = None
            for j in range(ntrain, ntrain + nval):
                xb, yb = x[:, j * T:(j + 1) * T], y[:, j * T:(j + 1) * T]
                logits, vstate = model(xb, vstate)
                total += F.cross_entropy(logits.reshape(-1, V), yb.reshape(-1)).item()
        model.train()
        return total / nval

    best, best_epochs = None, None
    start = time.perf_counter()
    while it < max_iters:
        if time.perf_counter() - start >= args.seconds:
            break
        j = it % ntrain
        if j == 0:
            state = None  # new epoch: fresh hidden state
        xb, yb = x[:, j * T:(j + 1) * T], y[:, j * T:(j + 1) * T]
        logits, state = model(xb, detach(state))
        loss = F.cross_entropy(logits.reshape(-1, V), yb.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for p in model.parameters():
            p.grad.clamp_(-args.grad_clip, args.grad_clip)
        opt.step()
        it += 1
        # char-rnn: at the end of each epoch, once epoch >= decay_after.
        if it % ntrain == 0 and it / ntrain >= args.learning_rate_decay_after:
            lr *= args.learning_rate_decay
            for g in opt.param_groups:
                g["lr"] = lr
        last_loss = loss.item()
        if args.eval_every > 0 and it % args.eval_every == 0:
            v = validate()
            if best is None or v < best:
                best, best_epochs = v, it / ntrain
    elapsed = time.perf_counter() - start
    # The last validation: not counted in the time above.
    val_loss = validate()
    if best is None or val_loss < best:
        best, best_epochs = val_loss, it / ntrain
    print(json.dumps({
        "mode": "timed", "model": args.model, "rnn_size": args.rnn_size,
        "num_layers": args.num_layers, "batch_size": B, "seq_length": T,
        "threads": torch.get_num_threads(), "ntrain": ntrain, "nval": nval,
        "val_loss": round(val_loss, 6), "best_val_loss": round(best, 6),
        "best_epochs": round(best_epochs, 4), "iterations": it,
        "epochs": round(it / ntrain, 4), "seconds": round(elapsed, 3),
        "chars_per_sec": round(it * B * T / elapsed, 1) if elapsed > 0 else None,
        "last_train_loss": None if last_loss is None else round(last_loss, 4),
        "learning_rate": lr, "seed": args.seed,
        "peak_rss_mb": round(peak_rss_mb(), 1), "torch": torch.__version__,
    }))


@torch.no_grad()
def gemm(args):
    """GFLOP/s of torch.mm, M = N = K = --size: one warm-up, best of --iters."""
    n = args.size
    gen = torch.Generator().manual_seed(args.seed)
    a = torch.rand(n, n, generator=gen) - 0.5
    b = torch.rand(n, n, generator=gen) - 0.5
    torch.mm(a, b)
    best = float("inf")
    for _ in range(args.iters):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({
        "mode": "gemm", "size": n, "threads": torch.get_num_threads(),
        "repeats": args.iters, "seconds": round(best, 5),
        "gflops": round(2.0 * n ** 3 / best / 1e9, 1), "torch": torch.__version__,
    }))


@torch.no_grad()
def sample(args):
    tokens, V = load_text(args.file)
    model = CharModel(args.model, V, args.rnn_size, args.num_layers).eval()
    gen = torch.Generator().manual_seed(args.seed)
    K = args.count  # streams drawn together, as the rows of one batch
    x = tokens[:1].view(1, 1).repeat(K, 1)  # prime with the text's first character
    state = None
    out = []

    def one():
        nonlocal x, state
        logits, state = model(x, state)
        probs = F.softmax(logits[:, -1] / args.temperature, dim=-1)
        x = torch.multinomial(probs, 1, generator=gen).view(K, 1)
        out.append(x)

    for _ in range(args.warmup):
        one()
    start = time.perf_counter()
    for _ in range(args.n):
        one()
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "mode": "sample", "model": args.model, "rnn_size": args.rnn_size,
        "num_layers": args.num_layers, "threads": torch.get_num_threads(),
        "count": K, "chars": args.n * K, "seconds": round(elapsed, 4),
        "chars_per_sec": round(args.n * K / elapsed, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1), "torch": torch.__version__,
    }))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["train", "sample", "timed", "gemm"])
    ap.add_argument("file", help="UTF-8 text file (its own vocabulary is built)")
    ap.add_argument("--model", choices=["lstm", "gru", "rnn"], default="lstm")
    ap.add_argument("--rnn-size", type=int, default=128)
    ap.add_argument("--num-layers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--seq-length", type=int, default=50)
    ap.add_argument("--iters", type=int, default=50, help="timed iterations (train)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed iterations or characters first")
    ap.add_argument("-n", type=int, default=2000, help="characters to sample (sample)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--count", type=int, default=1, help="streams sampled together as one batch (sample)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=123)
    # timed mode: char-rnn's (and rnn-train's) defaults
    ap.add_argument("--size", type=int, default=2048, help="M = N = K (gemm)")
    ap.add_argument("--seconds", type=float, default=300, help="seconds of training (timed)")
    ap.add_argument("--eval-every", type=int, default=1000, help="validate every N iterations (timed; 0: at the end only)")
    ap.add_argument("--max-epochs", type=float, default=50)
    ap.add_argument("--train-frac", type=float, default=0.95)
    ap.add_argument("--val-frac", type=float, default=0.05)
    ap.add_argument("--learning-rate", type=float, default=2e-3)
    ap.add_argument("--learning-rate-decay", type=float, default=0.97)
    ap.add_argument("--learning-rate-decay-after", type=float, default=10)
    ap.add_argument("--decay-rate", type=float, default=0.95, help="RMSprop alpha")
    ap.add_argument("--grad-clip", type=float, default=5.0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    {"train": train, "sample": sample, "timed": timed, "gemm": gemm}[args.mode](args)


if __name__ == "__main__":
    main()
