#!/usr/bin/env python3
"""export_page.py: checks the page of `rnn-ckpt export --format html` in
headless Chromium (Tests/e2e/browser.py's Browser). Run by
Tests/e2e/export_page.sh.

  export_page.py SPEC.json     checks, prints ok/FAIL/note lines, exits 1 on a failure

SPEC names the page and what it is checked against:
  page          the page
  npz           the same checkpoint exported with --format npz (the logits,
                from Tests/e2e/npz_forward.py's float64 forward pass; skipped
                without numpy)
  heldout       a text of known characters the model was not trained on
  perchar       `rnn-ckpt eval --per-char --top 0` of heldout (the CPU's
                probability of each character after the first)
  eval_logits   `rnn-ckpt eval --logits` of heldout (.npy: the CPU's logits
                after each character but the last; needs numpy)
  prime         a prime (multi-script)
  argmax        `rnn-sample --argmax --prime PRIME -n N` (a file)
  argmax_free   `rnn-sample --argmax -n N` without a prime (a file)
  n             N
  name, model, val_loss   the checkpoint's file name, description, val loss (4 decimals)
  multiscript   characters of the vocabulary to look for in the page
  unknown       a character not in the vocabulary
The page's probabilities must match the TSV's to 1e-4. An argmax text may
part from rnn-sample's only where the page's top two logits are within
1e-3 (float32 against float64 sums): that is printed as a note.
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from browser import Browser          # noqa: E402
try:
    from npz_forward import Model    # noqa: E402  (needs numpy)
except ImportError:
    Model = None

PROB_TOL = 1e-4
LOGIT_TOL = 1e-3
TIE = 1e-3


def main(spec_path):
    spec = json.load(open(spec_path, encoding="utf-8"))
    label = spec["label"]
    passed = failed = 0

    def result(ok, what, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok export_page {label}: {what}")
        else:
            failed += 1
            print(f"FAIL export_page {label}: {what}" + (f"\n    {detail}" if detail else ""))
        sys.stdout.flush()

    page = spec["page"]
    html = open(page, encoding="utf-8").read()
    outside = [p for p in ("http://", "https://", "<link", "@import", "url(", " src=", "<iframe", "<img", "@font-face") if p in html]
    result(not outside, f"the page ({os.path.getsize(page)} bytes) refers to nothing outside it", f"found {outside}")
    result(html.count("<script") == 2 and html.count("</script>") == 2,
           "exactly two script elements (the data and the code)", f"{html.count('<script')} opening, {html.count('</script>')} closing")

    heldout = open(spec["heldout"], encoding="utf-8", newline="").read()
    rows = [l.split("\t") for l in open(spec["perchar"], encoding="utf-8").read().split("\n")[1:] if l]
    cpu_probs = [float(r[2]) for r in rows]
    ref_logits = None
    if Model is not None:
        model = Model(spec["npz"])
        ref_logits = [list(model.step(model.ids_of[ord(ch)])) for ch in heldout]
    prime, n = spec["prime"], int(spec["n"])
    expected = open(spec["argmax"], encoding="utf-8", newline="").read()
    expected_free = open(spec["argmax_free"], encoding="utf-8", newline="").read()

    b = Browser()
    try:
        seconds = b.open(page, ready="window.charrnnReady === true")
        result(True, f"the page loaded in {seconds:.2f} s")
        result(not b.problems(), "no console errors, exceptions or failed loads", "; ".join(b.problems()))

        # The heading: the checkpoint's name, its description, its val loss.
        title = b.js("document.getElementById('title').textContent")
        line = b.js("document.getElementById('model').textContent")
        want = f"val loss {spec['val_loss']}"
        result(title == spec["name"] and spec["model"] in line and want in line,
               f"the page names the checkpoint, the model ({spec['model']}) and its {want}", f"title {title!r}, line {line!r}")

        # Probabilities of the held-out text against rnn-ckpt eval --per-char.
        probs = b.js(f"charrnn.probs({json.dumps(heldout)})")
        diffs = [abs(a - c) for a, c in zip(probs, cpu_probs)]
        worst = max(diffs) if diffs else 0.0
        result(len(probs) == len(cpu_probs) and worst <= PROB_TOL,
               f"the page's probability of each of {len(probs)} held-out characters matches rnn-ckpt eval --per-char (largest difference {worst:.2e})",
               f"{len(probs)} vs {len(cpu_probs)} values; worst at {diffs.index(worst) if diffs else '-'}")
        # Logits against the float64 forward pass of the npz export.
        if ref_logits is None:
            print(f"note export_page {label}: numpy is not installed: the logits are not checked against npz_forward.py")
        else:
            logits = b.js(f"charrnn.logits({json.dumps(heldout)})")
            worst_logit = max((abs(a - r) for row, ref in zip(logits, ref_logits) for a, r in zip(row, ref)), default=0.0)
            result(len(logits) == len(ref_logits) and worst_logit <= LOGIT_TOL,
                   f"the page's logits at {len(logits)} positions match npz_forward.py's (largest difference {worst_logit:.2e})")
            print(f"logit-difference {label} {worst_logit:.3e}")
            # And against rnn-ckpt eval's own logits (float32, the CPU's sums).
            import numpy as np
            cpu_logits = np.load(spec["eval_logits"])
            page_logits = np.array(logits[:len(heldout) - 1])
            same_shape = page_logits.shape == cpu_logits.shape
            worst_eval = float(np.abs(page_logits - cpu_logits).max()) if same_shape else float("inf")
            result(same_shape and worst_eval <= PROB_TOL,
                   f"the page's logits at {cpu_logits.shape[0]} positions match rnn-ckpt eval --logits to 1e-4 (largest difference {worst_eval:.2e})",
                   f"shapes {page_logits.shape} and {cpu_logits.shape}")

        # Argmax against rnn-sample, with and without a prime.
        for what, p, want_text in (("with a prime", prime, expected), ("without a prime (a newline first)", "", expected_free)):
            got = b.js(f"charrnn.argmax({json.dumps(p)}, {n})")
            if got == want_text:
                result(True, f"argmax {what}: the page's {n} characters are rnn-sample --argmax's")
                continue
            k = next((i for i, (x, y) in enumerate(zip(got, want_text)) if x != y), min(len(got), len(want_text)))
            gap = None
            if k < min(len(got), len(want_text)):
                context = (p + got[:k]) if p else got[:k]
                if context:
                    row = b.js(f"(() => {{ const z = charrnn.logits({json.dumps(context)}); return z[z.length - 1]; }})()")
                    top = sorted(row, reverse=True)
                    gap = top[0] - top[1]
            if gap is not None and gap < TIE:
                print(f"note export_page {label}: argmax {what} parts from rnn-sample at character {k} "
                      f"({got[k]!r} vs {want_text[k]!r}), a near-tie of the top two logits ({gap:.2e} apart)")
                passed += 1
            else:
                result(False, f"argmax {what}: the page's text is rnn-sample --argmax's",
                       f"parts at {k}: page {got[max(0, k - 20):k + 20]!r}, rnn-sample {want_text[max(0, k - 20):k + 20]!r}, top-two gap {gap}")

        # Seeded samples: the same seed the same text, another seed another.
        s1 = b.js(f"charrnn.sample({json.dumps(prime)}, 300, 1.0, 7)")
        s2 = b.js(f"charrnn.sample({json.dumps(prime)}, 300, 1.0, 7)")
        s3 = b.js(f"charrnn.sample({json.dumps(prime)}, 300, 1.0, 8)")
        result(len(s1) == 300 and s1 == s2 and s1 != s3, "a seeded sample is the same twice and differs for another seed",
               f"{s1[:40]!r} / {s2[:40]!r} / {s3[:40]!r}")
        if "seeded" in spec:
            same = s1 == open(spec["seeded"], encoding="utf-8", newline="").read()
            print(f"note export_page {label}: seed 7 " + ("gives rnn-sample's text exactly" if same else "gives other text than rnn-sample's (allowed)"))
        free = b.js("charrnn.sample('', 50, 0.5, 3)")
        result(len(free) == 50, "a sample without a prime (the first character uniform)", repr(free))

        # The form: type a prime, press the button, the text streams in.
        b.js(f"""(() => {{ const p = document.getElementById('prime'); p.focus(); p.value = ''; }})()""")
        b.call("Input.insertText", text=prime)
        b.js("document.getElementById('length').value = '3000'; document.getElementById('seed').value = '5';"
             "document.getElementById('temperature').value = '0.9'; document.getElementById('argmax').checked = false;")
        b.js("document.getElementById('go').click()")
        lengths, start = [], time.time()
        while time.time() - start < 60:
            state = b.js("charrnn.state")
            lengths.append(len(b.js("document.getElementById('output').textContent")))
            if state["done"]:
                break
            time.sleep(0.02)
        shown = b.js("document.getElementById('output').textContent")
        partial = sorted(set(l for l in lengths[:-1] if len(prime) < l < len(prime) + 3000))
        result(len(partial) >= 2, f"the text streams in ({len(partial)} partial lengths seen before the end)", f"lengths {lengths[:20]}")
        want_text = prime + b.js(f"charrnn.sample({json.dumps(prime)}, 3000, 0.9, 5)")
        result(shown == want_text, "the form's output is the prime and the seeded sample (charrnn.sample with the same seed)",
               f"{shown[:80]!r} vs {want_text[:80]!r}")
        status = b.js("document.getElementById('status').textContent")
        result(status.startswith("done: 3000 characters") and "seed 5" in status, "the status line says it is done, with the seed", status)
        b.js("document.getElementById('argmax').checked = true; document.getElementById('length').value = '100';")
        b.js("document.getElementById('go').click()")
        start = time.time()
        while not b.js("charrnn.state.done") and time.time() - start < 30:
            time.sleep(0.02)
        shown = b.js("document.getElementById('output').textContent")
        result(shown == prime + b.js(f"charrnn.argmax({json.dumps(prime)}, 100)"), "the form with argmax gives charrnn.argmax's text", repr(shown[:80]))

        # Multi-script characters: in the vocabulary shown and in the output.
        symbols = b.js("document.getElementById('symbols').textContent")
        missing = [c for c in spec["multiscript"] if c not in symbols or c not in b.js("charrnn.vocab")]
        result(not missing and all(c in shown for c in prime), "multi-script characters are in the vocabulary shown and the output",
               f"missing {missing}")

        # A prime with a character the model never saw: an error in the page, nothing sampled.
        b.js(f"document.getElementById('prime').value = {json.dumps(prime + spec['unknown'])}; document.getElementById('go').click()")
        time.sleep(0.1)
        status = b.js("document.getElementById('status').textContent")
        cls = b.js("document.getElementById('status').className")
        result(cls == "error" and "vocabulary" in status and spec["unknown"] in status,
               "an unknown character in the prime is an error shown in the page", f"{cls}: {status}")
        b.js("document.getElementById('prime').value = 'x'; document.getElementById('length').value = '0'; document.getElementById('go').click()")
        result(b.js("document.getElementById('status').className") == "error", "a length of 0 is refused in the page",
               b.js("document.getElementById('status').textContent"))
        result(not b.problems(), "still no console errors after the interaction", "; ".join(b.problems()))
    finally:
        b.close()
    print(f"{passed} passed, {failed} failed")
    return failed == 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    sys.exit(0 if main(sys.argv[1]) else 1)
