#!/usr/bin/env python3
"""multiscript.py SEED LINES [CHARS]: prints a made-up text of LINES lines
of words in several scripts (Latin with accents, Han, Greek, Cyrillic, an
emoji), the same for the same SEED; with CHARS, only its first CHARS
characters. The export tests (export_page.sh, onnx.sh) train and check on it."""
import random
import sys

WORDS = ("naïve café 漢字 😀 Ωμέγα résumé Москва 東京 ☃ the cat sat on a mat and said "
         "hello to the dog who was here ok no yes").split()


def text(seed, lines):
    rng = random.Random(seed)
    return "\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))) + rng.choice([".", "!", "?", ","])
                     for _ in range(lines)) + "\n"


if __name__ == "__main__":
    out = text(int(sys.argv[1]), int(sys.argv[2]))
    if len(sys.argv) > 3:
        out = out[:int(sys.argv[3])]
    sys.stdout.buffer.write(out.encode("utf-8"))
