#!/usr/bin/env python3
"""browser.py: drives headless Chromium through the DevTools protocol (a
websocket written here with the standard library only) to check the page
that `rnn-ckpt trace --html` writes. Run by Tests/e2e/browser.sh.

  browser.py check PAGE TSV TEXT REGEX    checks, prints ok/FAIL lines, exits 1 on a failure
  browser.py text PAGE TEXT               checks that the page shows TEXT exactly, without console errors
  browser.py measure PAGE [SCREENSHOT]    prints how long the page takes to render

PAGE is the page of a model traced over TEXT with --find REGEX and the
neurons of TSV (`rnn-ckpt trace --neurons ... --top 3` over the same TEXT).
The colours are computed here the way the page is documented to compute
them: value a in -1..1 (a cell state divided by its largest |value|), red
(255, 255(1-a), 255(1-a)) for a >= 0, blue (255(1+a), 255(1+a), 255) below;
surprise b bits as a = min(b, 8) / 8. The page quantises values to 1/45,
hence the tolerance."""
import base64
import http.client
import json
import math
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"


class Browser:
    """One headless Chromium with one page, spoken to over CDP."""

    def __init__(self, width=1200, height=900):
        self.profile = tempfile.mkdtemp(prefix="charrnn-chromium.")
        self.log = open(os.path.join(self.profile, "stderr.log"), "wb")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
             "--force-color-profile=srgb", "--force-device-scale-factor=1", "--hide-scrollbars",
             f"--window-size={width},{height}", f"--user-data-dir={self.profile}",
             "--remote-debugging-port=0", "--remote-allow-origins=*", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while True:
            if os.path.exists(port_file):
                lines = open(port_file).read().split("\n")
                if len(lines) >= 2 and lines[0].strip():
                    port = int(lines[0])
                    break
            if self.proc.poll() is not None or time.time() > deadline:
                self.close()
                raise RuntimeError("chromium did not start: " + open(os.path.join(self.profile, "stderr.log"), errors="replace").read()[-2000:])
            time.sleep(0.1)
        self.port = port
        for _ in range(100):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/json/list")
            targets = json.loads(conn.getresponse().read())
            conn.close()
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                break
            time.sleep(0.1)
        url = pages[0]["webSocketDebuggerUrl"]
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        path = url.split(str(port), 1)[1]
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("websocket handshake failed")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("websocket handshake refused: " + head.decode(errors="replace"))
        self.next_id = 0
        self.events = []
        self.warned = set()

    # -- websocket frames (RFC 6455): the client masks what it sends.
    def _send(self, text):
        data = text.encode()
        header = bytearray([0x81])
        if len(data) < 126:
            header.append(0x80 | len(data))
        elif len(data) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        mask = os.urandom(4)
        header += mask
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
        self.sock.sendall(bytes(header) + masked)

    def _fill(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the connection")
            self.buffer += chunk

    def _frame(self):
        """One whole frame from the buffer: (fin, opcode, payload). Nothing
        is taken from the buffer until the frame is all there, so a timeout
        while waiting loses nothing."""
        self._fill(2)
        b0, b1 = self.buffer[0], self.buffer[1]
        length, at = b1 & 0x7F, 2
        if length == 126:
            self._fill(4)
            length, at = struct.unpack(">H", self.buffer[2:4])[0], 4
        elif length == 127:
            self._fill(10)
            length, at = struct.unpack(">Q", self.buffer[2:10])[0], 10
        masked = b1 & 0x80
        self._fill(at + (4 if masked else 0) + length)
        if masked:
            mask = self.buffer[at:at + 4]
            at += 4
            payload = bytes(b ^ mask[i & 3] for i, b in enumerate(self.buffer[at:at + length]))
        else:
            payload = self.buffer[at:at + length]
        self.buffer = self.buffer[at + length:]
        return b0 & 0x80, b0 & 0x0F, payload

    def _receive(self):
        message = b""
        while True:
            fin, opcode, payload = self._frame()
            if opcode in (0x9, 0xA):   # ping, pong
                continue
            if opcode == 0x8:
                raise RuntimeError("chromium closed the websocket")
            message += payload
            if fin:
                return json.loads(message)

    def call(self, method, **params):
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            m = self._receive()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i, e in enumerate(self.events):
                if e["method"] == method:
                    return self.events.pop(i)
            self.events.append(self._receive())
        raise RuntimeError(f"no {method} within {timeout} s")

    def js(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression[:80]}...: {r['exceptionDetails'].get('exception', {}).get('description', r['exceptionDetails'])}")
        return r["result"].get("value")

    def open(self, path, timeout=120, ready="window.traceReady === true"):
        """Loads the page and waits until `ready` (JavaScript) is true; seconds taken."""
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Log.enable")
        start = time.time()
        self.call("Page.navigate", url="file://" + os.path.abspath(path))
        self.wait_event("Page.loadEventFired", timeout)
        while not self.js(ready):
            if time.time() - start > timeout:
                raise RuntimeError(f"the page never got ready ({ready})")
            time.sleep(0.05)
        # Until the frame after the layout is painted.
        self.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        return time.time() - start

    def problems(self):
        """Console errors, uncaught exceptions and error log entries so far."""
        while True:   # drain what is already there
            self.sock.settimeout(0.2)
            try:
                self.events.append(self._receive())
            except (socket.timeout, TimeoutError):
                break
            finally:
                self.sock.settimeout(120)
        out, warnings = [], []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                line = f"console.{p['type']}: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                (warnings if p["type"] == "warning" else out).append(line)
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                line = f"log {p['entry']['level']}: {p['entry'].get('text')} {p['entry'].get('url', '')}"
                (warnings if p["entry"]["level"] == "warning" else out).append(line)
        for w in warnings:
            if w not in self.warned:
                self.warned.add(w)
                print(f"note: chromium warned: {w}")
        return out

    def screenshot(self, height=None):
        """A PNG of the viewport, or of its top `height` CSS pixels."""
        clip = {"clip": {"x": 0, "y": 0, "width": self.js("innerWidth"), "height": height, "scale": 1}} if height else {}
        return base64.b64decode(self.call("Page.captureScreenshot", format="png", **clip)["data"])

    def close(self):
        try:
            self.sock.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def decode_png(data):
    """(width, height, channels, rows of bytes) of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, f"unsupported PNG (depth {depth}, colour {colour})"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    channels = 3 if colour == 2 else 4
    stride = width * channels
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def rgb(a):
    a = max(-1.0, min(1.0, a))
    if a >= 0:
        return (255, round(255 * (1 - a)), round(255 * (1 - a)))
    return (round(255 * (1 + a)), round(255 * (1 + a)), 255)


def parse_rgb(s):
    m = re.match(r"rgba?\((\d+), (\d+), (\d+)", s)
    return tuple(int(x) for x in m.groups())


def close_to(c, e, tol):
    return all(abs(x - y) <= tol for x, y in zip(c, e))


def read_tsv(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    header = lines[0].split("\t")
    rows = [l.split("\t") for l in lines[1:] if l]
    return header, rows


def check(page, tsv, text_path, regex):
    passed = failed = 0

    def result(ok, what, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok browser: {what}")
        else:
            failed += 1
            print(f"FAIL browser: {what}" + (f"\n    {detail}" if detail else ""))
        sys.stdout.flush()

    header, rows = read_tsv(tsv)
    n = len(rows)
    neuron_cols = header[2:header.index("next_probability")]
    columns = {name: [float(r[2 + j]) for r in rows] for j, name in enumerate(neuron_cols)}
    nextp = [float(r[header.index("next_probability")]) if r[header.index("next_probability")] else None for r in rows]
    K = (len(header) - header.index("next_probability") - 1) // 2
    text = open(text_path, encoding="utf-8", newline="").read()

    # Self-contained: nothing to fetch, and the text cannot end a script.
    html = open(page, encoding="utf-8").read()
    outside = [p for p in ("http://", "https://", "<link", "@import", "url(", " src=", "<iframe", "<img") if p in html]
    result(not outside, "the page refers to nothing outside it", f"found {outside}")
    result(html.count("<script") == 2 and html.count("</script>") == 2,
           "exactly two script elements (the data and the code)", f"{html.count('<script')} opening, {html.count('</script>')} closing")

    # What the page should rank: |Pearson r| of each neuron with the 0/1 feature.
    feature = [0.0] * n
    for m in re.finditer(regex, text):
        for t in range(m.start(), m.end()):
            feature[t] = 1.0

    def pearson(x, y):
        mx, my = sum(x) / len(x), sum(y) / len(y)
        sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
        sxx = sum((a - mx) ** 2 for a in x)
        syy = sum((b - my) ** 2 for b in y)
        return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0
    expected_r = {name: pearson(col, feature) for name, col in columns.items()}

    b = Browser()
    try:
        seconds = b.open(page)
        result(True, f"the page loaded and rendered {n} characters in {seconds:.2f} s")
        result(not b.problems(), "no console errors, exceptions or failed loads", "; ".join(b.problems()))

        # The text, exactly, as one span per character; no markup from it.
        shown = b.js("document.getElementById('text').textContent")
        result(shown == text, "the page shows the text exactly (quotes, brackets, </script><b> and all)",
               f"differs from position {next((i for i, (x, y) in enumerate(zip(shown or '', text)) if x != y), min(len(shown or ''), len(text)))}")
        counts = b.js("[document.querySelectorAll('#text span').length, document.querySelectorAll('b').length, document.scripts.length]")
        result(counts == [n, 0, 2], "one span per character, no element made from the text", f"spans, <b>, scripts: {counts}")
        title = b.js("document.querySelector('h1').textContent")
        result("val_loss" in (title or ""), "the heading names the model and its val loss", repr(title))

        # The picker: every neuron, best |r| first, each with its r.
        options = b.js("Array.from(document.querySelectorAll('#picker option')).map(o => o.textContent)")
        names = [o.split()[0] for o in options]
        result(sorted(names) == sorted(neuron_cols), "the picker lists the chosen neurons", f"{names} vs {neuron_cols}")
        best = sorted(neuron_cols, key=lambda c: -abs(expected_r[c]))
        shown_r = {o.split()[0]: float(o.split("r = ")[1].replace("\u2212", "-")) for o in options if "r = " in o}
        r_ok = all(abs(shown_r.get(c, 9) - expected_r[c]) < 2e-3 for c in neuron_cols)
        result(r_ok, "each option shows the neuron's correlation with the matches",
               "; ".join(f"{c}: page {shown_r.get(c)} expected {expected_r[c]:.4f}" for c in neuron_cols))
        order_ok = all(abs(abs(shown_r[names[i]]) - abs(expected_r[best[i]])) < 2e-3 for i in range(len(names)))
        result(order_ok and b.js("document.getElementById('picker').selectedIndex") == 0,
               "ordered best first, the best selected", f"page {names}, expected {best}")

        def colours(positions):
            return [parse_rgb(c) for c in b.js(
                f"(() => {{ const s = document.querySelectorAll('#text span'); return {json.dumps(positions)}.map(t => getComputedStyle(s[t]).backgroundColor); }})()")]

        def expected_neuron(name, t):
            col = columns[name]
            scale = max(abs(v) for v in col) if name.startswith("c") else 1.0
            return rgb(col[t] / (scale or 1.0))

        positions = sorted(set(list(range(0, n, max(1, n // 40))) + [n - 1]))
        tol = 4   # quantised to 1/45: at most 255/90 off, and rounding
        # The selected neuron, as the page opened.
        first = names[0]
        got = colours(positions)
        bad = [(t, got[i], expected_neuron(first, t)) for i, t in enumerate(positions) if not close_to(got[i], expected_neuron(first, t), tol)]
        result(not bad, f"the colours of {first} (the selected neuron) match the trace TSV at {len(positions)} characters", f"(position, page, expected): {bad[:5]}")

        # Through the picker: each other neuron (a hidden and a cell state at least).
        for name in names[1:]:
            b.js(f"(() => {{ const p = document.getElementById('picker'); p.value = String({names.index(name)}); p.dispatchEvent(new Event('change')); }})()")
            now = colours(positions)
            bad = [(t, now[i], expected_neuron(name, t)) for i, t in enumerate(positions) if not close_to(now[i], expected_neuron(name, t), tol)]
            changed = sum(1 for i in range(len(positions)) if now[i] != got[i])
            result(not bad and changed > 0, f"choosing {name} in the picker recolours the text as the TSV says ({changed} of {len(positions)} sampled changed)",
                   f"(position, page, expected): {bad[:5]}")
            got = now
            if name.startswith("c"):
                note = b.js("document.getElementById('note').textContent")
                scale = max(abs(v) for v in columns[name])
                result("scaled by its largest |value|" in note and f"{scale:.3f}" in note,
                       f"the page says how {name}, a cell state, is scaled ({scale:.3f})", note)

        # The screenshot: the pixels of space characters (no glyph) at the top
        # of the text are the background the TSV says, for the neuron shown.
        name = names[-1]
        b.js("window.scrollTo(0, 0)")
        b.call("Input.dispatchMouseEvent", type="mouseMoved", x=1, y=1)
        spaces = b.js("""(() => {
            const s = document.querySelectorAll('#text span'), top = document.querySelector('header').getBoundingClientRect().bottom, out = [];
            for (let t = 0; t < s.length && out.length < 30; t++) {
              if (s[t].textContent !== ' ') continue;
              const r = s[t].getBoundingClientRect();
              if (r.top < top + 2 || r.bottom > innerHeight - 2 || r.width < 4) continue;
              out.push([t, r.left, r.top, r.width, r.height]);
            }
            return out; })()""")
        width, height, channels, image = decode_png(b.screenshot(math.ceil(max([y + h for _, _, y, _, h in spaces] + [1])) + 2))
        bad, sampled = [], 0
        for t, x, y, w, h in spaces:
            x0, x1 = int(math.ceil(x + 1.5)), int(math.floor(x + w - 1.5))
            y0, y1 = int(math.ceil(y + 2)), int(math.floor(y + h - 2))
            if x1 <= x0 or y1 <= y0:
                continue
            pixels = [image[yy][xx * channels:xx * channels + 3] for yy in range(y0, y1) for xx in range(x0, x1)]
            mean = tuple(sum(p[k] for p in pixels) / len(pixels) for k in range(3))
            sampled += 1
            e = expected_neuron(name, t)
            if not close_to(mean, e, 6):
                bad.append((t, tuple(round(v) for v in mean), e))
        result(sampled >= 5 and not bad, f"a screenshot's pixels at {sampled} spaces have the colours the TSV gives for {name}",
               f"(position, screenshot, expected): {bad[:5]}")

        # The surprise view: -log2 of the probability given each character.
        b.js("document.querySelector('input[name=view][value=surprise]').click()")
        got = colours(positions)

        def expected_surprise(t):
            if t == 0:
                return (0xDD, 0xDD, 0xDD)
            return rgb(min(8.0, -math.log2(nextp[t - 1])) / 8)
        bad = [(t, got[i], expected_surprise(t)) for i, t in enumerate(positions) if not close_to(got[i], expected_surprise(t), tol)]
        result(not bad, "the surprise view colours each character by -log2 p from the TSV (the first grey)", f"(position, page, expected): {bad[:5]}")

        # Hover: the tooltip gives the predictions for the character and after it.
        t = min(n - 2, max(1, n // 3))
        while t < n - 1 and rows[t][1] in (" ", "\\n", "\\t"):
            t += 1
        rect = b.js(f"(() => {{ const s = document.querySelectorAll('#text span')[{t}]; s.scrollIntoView({{block: 'center'}}); const r = s.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }})()")
        b.call("Input.dispatchMouseEvent", type="mouseMoved", x=rect[0], y=rect[1])
        tip = b.js("(() => { const e = document.getElementById('tip'); return e.hidden ? '' : e.innerText; })()") or ""
        name_of = lambda s: "\u2423" if s == " " else s
        lines = tip.split("\n")
        want_before = [name_of(rows[t - 1][header.index("top1") + 2 * k]) for k in range(K)]
        want_after = [name_of(rows[t][header.index("top1") + 2 * k]) for k in range(K)]
        before = next((l for l in lines if l.startswith("predicted for it:")), "")
        after = next((l for l in lines if l.startswith("expected after it:")), "")
        bits = -math.log2(nextp[t - 1])
        ok = (tip.startswith(f"#{t} ") and all(w in before.split("\t") for w in want_before)
              and all(w in after.split("\t") for w in want_after) and f"{bits:.2f} bits" in tip)
        result(ok, f"hovering over character {t} shows its surprise ({bits:.2f} bits), the top {K} predicted for it and after it",
               f"tooltip {tip!r}; expected before {want_before}, after {want_after}")
        result(not b.problems(), "still no console errors after the interaction", "; ".join(b.problems()))
    finally:
        b.close()
    print(f"{passed} passed, {failed} failed")
    return failed == 0


def check_text(page, text_path):
    """A page's text is shown exactly, without console errors (a byte model:
    one span per byte, each UTF-8 character whole on its first byte)."""
    text = open(text_path, encoding="utf-8", newline="").read()
    ok = True
    b = Browser()
    try:
        b.open(page)
        shown = b.js("document.getElementById('text').textContent")
        spans = b.js("document.querySelectorAll('#text span').length")
        size = len(text.encode()) if b.js("JSON.parse(document.getElementById('data').textContent).unit") == "byte" else len(text)
        for good, what, detail in [
                (not b.problems(), f"{page}: no console errors", "; ".join(b.problems())),
                (shown == text, f"{page}: the text shown exactly", f"{shown[:200]!r}"),
                (spans == size, f"{page}: one span per symbol ({size})", f"{spans} spans")]:
            print(("ok" if good else "FAIL") + f" browser: {what}" + ("" if good else f"\n    {detail}"))
            ok = ok and good
    finally:
        b.close()
    return ok


def measure(page, shot=None):
    b = Browser()
    try:
        seconds = b.open(page)
        timings = b.js("window.traceTimings")
        count = b.js("document.querySelectorAll('#text span').length")
        neurons = b.js("document.querySelectorAll('#picker option').length")
        switch = b.js("""(() => { const t = performance.now(), p = document.getElementById('picker');
            p.value = String(Math.min(1, p.options.length - 1)); p.dispatchEvent(new Event('change'));
            void document.getElementById('text').offsetHeight; return performance.now() - t; })()""")
        surprise = b.js("""(() => { const t = performance.now();
            document.querySelector('input[name=view][value=surprise]').click();
            void document.getElementById('text').offsetHeight; return performance.now() - t; })()""")
        print(f"page {os.path.getsize(page) / 1e6:.1f} MB, {count} characters, {neurons} neurons")
        print(f"load to first paint: {seconds:.2f} s (parse {timings['parse']:.0f} ms, spans {timings['build']:.0f} ms, "
              f"colour + layout total {timings['total']:.0f} ms in the script)")
        print(f"switch neuron: {switch:.0f} ms; switch to surprise: {surprise:.0f} ms (with style and layout)")
        problems = b.problems()
        print("console problems: " + ("; ".join(problems) if problems else "none"))
        if shot:
            b.js("document.querySelector('input[name=view][value=neuron]').click()")
            open(shot, "wb").write(b.screenshot())
    finally:
        b.close()


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "check":
        sys.exit(0 if check(*sys.argv[2:]) else 1)
    if len(sys.argv) == 4 and sys.argv[1] == "text":
        sys.exit(0 if check_text(*sys.argv[2:]) else 1)
    if len(sys.argv) in (3, 4) and sys.argv[1] == "measure":
        measure(*sys.argv[2:])
        sys.exit(0)
    print(__doc__, file=sys.stderr)
    sys.exit(64)
