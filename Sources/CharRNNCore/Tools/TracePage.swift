// rnn-ckpt trace --html: one self-contained page (no network, no external
// scripts or fonts) showing the text coloured per character by a neuron's
// activation (blue -1, white 0, red +1, as in Karpathy, Johnson and
// Fei-Fei, "Visualizing and Understanding Recurrent Networks") or by the
// model's surprise, with a neuron picker and, on hover, the model's top
// predictions.
//
// The data are embedded compactly, as one JSON object in a
// <script type="application/json"> element:
//  - each chosen neuron's activations as a string of one character per
//    symbol: 91 levels from -1 to +1 in steps of 1/45 (a cell state divided
//    by its largest |value| first), written with the printable ASCII
//    characters other than `"`, `<` and `\` (so the string needs no escape
//    and can never close the script element);
//  - the symbol ids, the surprise (bits × 1000, uint16), the top ids and
//    their probabilities (× 65535, uint16) as base64 of little-endian bytes.
// That is about (neurons + 4 + 4·top) bytes a character: 100 KB of text
// and 128 neurons make a page of about 14 MB. The page builds one span per
// character once, and recolours by setting class names (one CSS class per
// level).

#if canImport(Glibc)
import Glibc
#endif

public enum TracePage {
    /// The page for `trace`, with `neurons` in its picker and, after
    /// --find, ordered by `ranking` (best first, selected) with each
    /// neuron's correlation; `title` (checkpoint, model, val loss) heads it.
    public static func html(_ trace: Trace, neurons: [Neuron], ranking: [NeuronScore]?, find: String?, title: String) -> String {
        let n = trace.count
        let V = trace.vocab.count
        let K = trace.top.first?.count ?? 0

        // The picker's order: by the ranking when there is one.
        var chosen = neurons
        var correlation: [Neuron: Double] = [:]
        if let ranking {
            var place: [Neuron: Int] = [:]
            for (i, s) in ranking.enumerated() where place[s.neuron] == nil {
                place[s.neuron] = i
                correlation[s.neuron] = s.correlation
            }
            chosen = neurons.enumerated().sorted {
                (place[$0.element] ?? Int.max, $0.offset) < (place[$1.element] ?? Int.max, $1.offset)
            }.map(\.element)
        }
        var seen = Set<Neuron>()
        chosen = chosen.filter { seen.insert($0).inserted }

        var out: [UInt8] = []
        out.reserveCapacity(n * (chosen.count + 8 + 6 * K) + 64 * 1024)
        func put(_ s: String) { out += s.utf8 }

        // Symbols: what a span shows, and a name for the tooltips.
        var glyphs: [String] = []
        var names: [String] = []
        for id in 0..<V {
            let symbol = trace.vocab.symbols[id]
            if symbol == 0x0D {
                glyphs.append("")   // a carriage return shows as nothing (HTML would make it a line break)
            } else if symbol < 0x20 && symbol != 0x09 && symbol != 0x0A || symbol == 0x7F {
                glyphs.append(String(UnicodeScalar(symbol == 0x7F ? 0x2421 : 0x2400 + symbol)!))   // a control picture
            } else if trace.vocab.unit == .char, let scalar = Unicode.Scalar(symbol) {
                glyphs.append(String(Character(scalar)))
            } else {
                glyphs.append(symbol < 0x80 ? String(UnicodeScalar(UInt8(symbol))) : "\u{FFFD}")
            }
            names.append(symbol == 0x20 ? "\u{2423}" : trace.vocab.escaped(symbol))
        }

        put("{\"n\":\(n),\"unit\":\"\(trace.vocab.unit.rawValue)\",\"model\":")
        put(jsonString(trace.config.description))
        put(",\"glyphs\":[" + glyphs.map(jsonString).joined(separator: ",") + "]")
        put(",\"names\":[" + names.map(jsonString).joined(separator: ",") + "]")
        // A byte model's text: a whole UTF-8 character on its first byte,
        // nothing on the bytes that follow.
        if trace.vocab.unit == .byte {
            put(",\"overrides\":{")
            var first = true
            var t = 0
            while t < n {
                let b = trace.vocab.symbols[Int(trace.ids[t])]
                let length = b >= 0xF0 && b < 0xF5 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 1
                if length > 1 && t + length <= n {
                    let bytes = (0..<length).map { UInt8(trace.vocab.symbols[Int(trace.ids[t + $0])]) }
                    if let ch = decodeUTF8(bytes) {
                        put((first ? "" : ",") + "\"\(t)\":" + jsonString(ch))
                        for j in 1..<length { put(",\"\(t + j)\":\"\"") }
                        first = false
                        t += length
                        continue
                    }
                }
                t += 1
            }
            put("}")
        }
        let wide = V > 256
        put(",\"idBytes\":\(wide ? 2 : 1),\"ids\":\"")
        out += base64(wide ? le16(trace.ids.map { UInt16($0) }) : trace.ids.map { UInt8($0) })
        // Surprise of symbol t: -log2 of the probability given it after t - 1.
        var surprise = [UInt16](repeating: 0xFFFF, count: n)
        var totalBits = 0.0
        for t in 1..<max(n, 1) {
            let p = Double(trace.nextProbability[t - 1])
            let bits = p > 0 ? -log2(p) : 65.5
            totalBits += bits
            surprise[t] = UInt16(min(65534, max(0, (bits * 1000).rounded())))
        }
        put("\",\"surprise\":\"")
        out += base64(le16(surprise))
        put("\",\"meanBits\":" + (n > 1 ? fixed(totalBits / Double(n - 1), 4) : "null"))
        put(",\"top\":\(K),\"topIds\":\"")
        out += base64(wide ? le16(trace.top.flatMap { $0.map { UInt16($0.id) } }) : trace.top.flatMap { $0.map { UInt8($0.id) } })
        put("\",\"topP\":\"")
        out += base64(le16(trace.top.flatMap { $0.map { UInt16(min(65535, max(0, (Double($0.probability) * 65535).rounded()))) } }))
        put("\"")

        if let find {
            put(",\"find\":" + jsonString(find))
            if let feature = try? regexFeature(trace, pattern: find) {
                var bits = [UInt8](repeating: 0, count: (n + 7) / 8)
                for t in 0..<n where feature[t] != 0 { bits[t >> 3] |= 1 << UInt8(t & 7) }
                put(",\"match\":\"")
                out += base64(bits)
                put("\"")
            }
        }

        put(",\"levels\":\(levels),\"neurons\":[")
        for (i, neuron) in chosen.enumerated() {
            let a = trace.activation(neuron)
            var lo = Float.infinity, hi = -Float.infinity
            for v in a { lo = min(lo, v); hi = max(hi, v) }
            if a.isEmpty { lo = 0; hi = 0 }
            let bound = max(abs(lo), abs(hi))
            // A cell state is unbounded: scaled by its largest |value|.
            let scale: Float = neuron.cell ? (bound > 0 && bound.isFinite ? bound : 1) : 1
            put(i == 0 ? "{" : ",{")
            put("\"name\":\"\(neuron)\",\"cell\":\(neuron.cell),\"scale\":\(fixed(Double(scale), 6))")
            put(",\"lo\":\(fixed(Double(lo), 6)),\"hi\":\(fixed(Double(hi), 6))")
            put(",\"r\":" + (correlation[neuron].map { fixed($0, 4) } ?? "null"))
            put(",\"q\":\"")
            for v in a { out.append(alphabet[level(v / scale)]) }
            put("\"}")
        }
        put("]}")
        let data = String(decoding: out, as: UTF8.self)
        out = []

        let heading = escapeXML(title)
        let findLine = find.map { "<p id=\"findline\">Neurons ranked by |correlation| of their activation with a 0/1 feature, 1 inside a match of <code>/\(escapeXML($0))/</code>: best first. <label><input type=\"checkbox\" id=\"showmatch\" checked> underline the matches</label></p>" } ?? ""
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(heading)</title>
            <style>\(style)</style></head>
            <body>
            <header>
            <h1>\(heading)</h1>
            <p id="stats"></p>
            <div id="controls">
            <label><input type="radio" name="view" value="neuron" checked> neuron</label>
            <select id="picker" aria-label="neuron"></select>
            <label><input type="radio" name="view" value="surprise"> surprise</label>
            <span id="legend"><span id="lo"></span><span id="bar"></span><span id="hi"></span></span>
            </div>
            <p id="note"></p>
            \(findLine)
            </header>
            <div id="text"></div>
            <div id="tip" hidden></div>
            <footer><p>Each character is coloured by the state after the model has read it. Hover over a character
            for its value, how likely the model found it, the model's top predictions for it (made after the
            character before) and what it expected after it. Values are stored in this page to 1/45 of their range
            (91 levels), so those shown are approximate (≈); <code>rnn-ckpt trace</code> without <code>--html</code>
            writes exact values (TSV or npz). Made by rnn-ckpt trace (charrnn).</p></footer>
            <script type="application/json" id="data">\(data)</script>
            <script>\(script)</script>
            </body></html>

            """
    }

    /// Quantisation: levels -45 ... 45 for -1 ... +1.
    static let levels = 45

    /// The 91 characters that stand for the levels -45 ... 45: printable
    /// ASCII without `"`, `<` and `\`.
    static let alphabet: [UInt8] = Array((UInt8(0x20)...UInt8(0x7E)).filter { $0 != 0x22 && $0 != 0x3C && $0 != 0x5C }.prefix(2 * levels + 1))

    /// The alphabet index of value `v` in -1 ... 1 (clamped).
    static func level(_ v: Float) -> Int {
        guard v.isFinite else { return levels }
        let x = min(1, max(-1, v))
        return Int((x * Float(levels)).rounded()) + levels
    }

    static func le16(_ v: [UInt16]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 2 * v.count)
        for (i, x) in v.enumerated() { b[2 * i] = UInt8(x & 0xFF); b[2 * i + 1] = UInt8(x >> 8) }
        return b
    }

    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [table[Int(v >> 18)], table[Int(v >> 12 & 63)], table[Int(v >> 6 & 63)], table[Int(v & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let v = UInt32(bytes[i]) << 16 | (rest > 1 ? UInt32(bytes[i + 1]) << 8 : 0)
            out += [table[Int(v >> 18)], table[Int(v >> 12 & 63)], rest > 1 ? table[Int(v >> 6 & 63)] : 0x3D, 0x3D]
        }
        return out
    }

    /// One character from its UTF-8 bytes, or nil if they are not exactly one.
    static func decodeUTF8(_ bytes: [UInt8]) -> String? {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        guard case .scalarValue(let s) = decoder.decode(&it), case .emptyInput = decoder.decode(&it) else { return nil }
        return String(Character(s))
    }

    /// A JSON string literal, safe inside a script element.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            default:
                if u.value < 0x20 || u.value == 0x2028 || u.value == 0x2029 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    static let style = """
        body{font-family:system-ui,sans-serif;margin:0;color:#111;background:#fff}
        header{position:sticky;top:0;background:#fafafa;border-bottom:1px solid #ddd;padding:6px 14px;z-index:1}
        h1{font-size:15px;margin:2px 0;font-weight:600;overflow-wrap:anywhere}
        header p{margin:3px 0;font-size:13px}
        #controls{display:flex;flex-wrap:wrap;align-items:center;gap:6px 12px;font-size:13px}
        #picker{font-family:monospace;max-width:24em}
        #legend{display:inline-flex;align-items:center;gap:4px;font-family:monospace}
        #bar{display:inline-block;width:160px;height:12px;border:1px solid #999}
        #text{font-family:ui-monospace,"DejaVu Sans Mono","Liberation Mono",monospace;font-size:14px;line-height:1.4;
          white-space:pre-wrap;overflow-wrap:anywhere;padding:10px 14px;margin:0;tab-size:8}
        #text .block{content-visibility:auto}
        #text span:hover{outline:1px solid #000}
        #text.showm .m{text-decoration:underline;text-decoration-thickness:2px}
        #tip{position:fixed;z-index:2;pointer-events:none;background:#fff;border:1px solid #888;border-radius:3px;
          box-shadow:0 2px 6px rgba(0,0,0,.25);padding:5px 8px;font-size:13px;max-width:34em}
        #tip table{border-collapse:collapse;font-family:monospace}
        #tip td{padding:0 6px 0 0}
        #tip .k{color:#555}
        footer{font-size:12px;color:#444;padding:0 14px 14px;border-top:1px solid #ddd}
        """

    static let script = #"""
        "use strict";
        (function () {
        const t0 = performance.now();
        const D = JSON.parse(document.getElementById("data").textContent);
        const tParsed = performance.now();
        const L = D.levels, n = D.n, K = D.top;
        function bytes(b64) { const s = atob(b64), a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; }
        function u16(b64) { const b = bytes(b64), a = new Uint16Array(b.length >> 1); for (let i = 0; i < a.length; i++) a[i] = b[2 * i] | b[2 * i + 1] << 8; return a; }
        const ids = D.idBytes === 2 ? u16(D.ids) : bytes(D.ids);
        const surprise = u16(D.surprise);
        const topIds = K ? (D.idBytes === 2 ? u16(D.topIds) : bytes(D.topIds)) : null;
        const topP = K ? u16(D.topP) : null;
        const match = D.match ? bytes(D.match) : null;
        const inMatch = t => match !== null && (match[t >> 3] >> (t & 7) & 1) === 1;
        // The level of each alphabet character: printable ASCII without " < \.
        const LEVEL = new Int8Array(128);
        for (let c = 0x20, i = 0; c < 0x7f; c++) if (c !== 0x22 && c !== 0x3c && c !== 0x5c) LEVEL[c] = i++ - L;

        // Colours: -1 blue, 0 white, +1 red; the surprise from white (0 bits)
        // to red (MAXBITS or more).
        const MAXBITS = 8;
        function rgb(a) {
          a = Math.max(-1, Math.min(1, a));
          return a >= 0 ? [255, Math.round(255 * (1 - a)), Math.round(255 * (1 - a))]
                        : [Math.round(255 * (1 + a)), Math.round(255 * (1 + a)), 255];
        }
        const css = a => "rgb(" + rgb(a).join(",") + ")";
        let rules = "";
        for (let l = -L; l <= L; l++) rules += ".n" + (l + L) + "{background:" + css(l / L) + (l / L < -0.55 ? ";color:#fff" : "") + "}";
        for (let l = 0; l <= L; l++) rules += ".s" + l + "{background:" + css(l / L) + "}";
        rules += ".sn{background:#ddd}";
        const sheet = document.createElement("style");
        sheet.textContent = rules;
        document.head.appendChild(sheet);
        const NCLS = [], NCLSM = [], SCLS = [], SCLSM = [];
        for (let l = 0; l <= 2 * L; l++) { NCLS.push("n" + l); NCLSM.push("n" + l + " m"); }
        for (let l = 0; l <= L; l++) { SCLS.push("s" + l); SCLSM.push("s" + l + " m"); }
        const surpriseLevel = t => surprise[t] === 0xffff ? -1 : Math.min(L, Math.round(surprise[t] / 1000 / MAXBITS * L));

        // The text: one span per character, made once.
        const esc = s => s.replace(/[&<>]/g, c => c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;");
        const glyphs = D.glyphs.map(esc), over = D.overrides || null;
        // In blocks of about 2000 characters, cut after a newline (else a
        // space), that the browser lays out and styles only when on screen
        // (content-visibility: auto).
        const parts = [], NL = D.glyphs.indexOf("\n"), SP = D.glyphs.indexOf(" ");
        let open = parts.push("") - 1, start = 0, lines = 1;
        for (let t = 0; t < n; t++) {
          const id = ids[t];
          parts.push("<span>" + (over !== null && over[t] !== undefined ? esc(over[t]) : glyphs[id]) + "</span>");
          if (id === NL) lines++;
          const size = t + 1 - start;
          if (t === n - 1 || (size >= 2000 && id === NL) || (size >= 6000 && id === SP) || size >= 12000) {
            parts[open] = '<div class="block" style="contain-intrinsic-size:auto ' + Math.ceil(lines * 19.6) + 'px">';
            parts.push("</div>");
            open = parts.push("") - 1; start = t + 1; lines = 1;
          }
        }
        const box = document.getElementById("text");
        box.innerHTML = parts.join("");
        const spans = Array.from(box.getElementsByTagName("span"));
        for (let t = 0; t < n; t++) spans[t].t = t;
        const tBuilt = performance.now();

        // The picker.
        const picker = document.getElementById("picker");
        const sign = r => (r >= 0 ? "+" : "\u2212") + Math.abs(r).toFixed(3);
        D.neurons.forEach((nn, i) => {
          const o = document.createElement("option");
          o.value = i;
          o.textContent = nn.name + (nn.cell ? " (cell)" : "") + (nn.r !== null ? "  r = " + sign(nn.r) : "");
          picker.appendChild(o);
        });
        const fmt = (x, d) => (x < 0 ? "\u2212" : "") + Math.abs(x).toFixed(d);
        const stats = document.getElementById("stats");
        stats.textContent = "This text: " + n + (D.unit === "byte" ? " bytes" : " characters") +
          (D.meanBits !== null ? "; the model's loss on it " + (D.meanBits * Math.LN2).toFixed(4) + " nats (" + D.meanBits.toFixed(3) + " bits) per " + (D.unit === "byte" ? "byte" : "character") + " predicted." : ".") +
          " " + D.neurons.length + " neuron" + (D.neurons.length === 1 ? "" : "s") + " in the picker.";

        let view = "neuron", current = 0;
        function paint() {
          const t1 = performance.now();
          const note = document.getElementById("note"), lo = document.getElementById("lo"), hi = document.getElementById("hi"), bar = document.getElementById("bar");
          if (view === "neuron" && D.neurons.length > 0) {
            const nn = D.neurons[current], q = nn.q;
            for (let t = 0; t < n; t++) { const l = LEVEL[q.charCodeAt(t)] + L; spans[t].className = inMatch(t) ? NCLSM[l] : NCLS[l]; }
            bar.style.background = "linear-gradient(to right," + css(-1) + "," + css(0) + "," + css(1) + ")";
            lo.textContent = nn.cell ? fmt(-nn.scale, 3) : "\u22121"; hi.textContent = nn.cell ? "+" + nn.scale.toFixed(3) : "+1";
            note.textContent = nn.cell
              ? nn.name + " is an LSTM cell state, which is not bounded: its colours are scaled by its largest |value| on this text, " +
                nn.scale.toFixed(3) + " (blue \u2212" + nn.scale.toFixed(3) + ", white 0, red +" + nn.scale.toFixed(3) + "). Range here: " + fmt(nn.lo, 3) + " \u2026 " + fmt(nn.hi, 3) + "."
              : nn.name + " (layer " + nn.name.slice(1).split(":")[0] + ", unit " + nn.name.split(":")[1] + ") is a hidden state, in tanh's range: blue \u22121, white 0, red +1. Range here: " +
                fmt(nn.lo, 3) + " \u2026 " + fmt(nn.hi, 3) + "." + (nn.r !== null ? " Correlation with the matches: r = " + sign(nn.r) + "." : "");
            if (location.hash !== "#" + nn.name) history.replaceState(null, "", "#" + nn.name);
          } else {
            for (let t = 0; t < n; t++) { const l = surpriseLevel(t); spans[t].className = l < 0 ? (inMatch(t) ? "sn m" : "sn") : inMatch(t) ? SCLSM[l] : SCLS[l]; }
            bar.style.background = "linear-gradient(to right," + css(0) + "," + css(1) + ")";
            lo.textContent = "0"; hi.textContent = MAXBITS + "+ bits";
            note.textContent = "Surprise: each character coloured by \u2212log2 of the probability the model gave it after the text before it, in bits: white 0 bits (certain), red " +
              MAXBITS + " bits or more. The first character has no prediction (grey).";
          }
          window.traceTimings.paint = performance.now() - t1;
        }
        window.traceTimings = { parse: tParsed - t0, build: tBuilt - tParsed, paint: 0 };
        const byName = new Map(D.neurons.map((nn, i) => [nn.name, i]));
        if (byName.has(decodeURIComponent(location.hash.slice(1)))) current = byName.get(decodeURIComponent(location.hash.slice(1)));
        picker.value = String(current);
        picker.addEventListener("change", () => {
          current = Number(picker.value); view = "neuron";
          document.querySelector("input[name=view][value=neuron]").checked = true;
          paint();
        });
        document.querySelectorAll("input[name=view]").forEach(r => r.addEventListener("change", () => { view = r.value; paint(); }));
        const showm = document.getElementById("showmatch");
        if (showm) { box.classList.toggle("showm", showm.checked); showm.addEventListener("change", () => box.classList.toggle("showm", showm.checked)); }
        if (D.neurons.length === 0) {
          view = "surprise"; picker.disabled = true;
          document.querySelector("input[name=view][value=surprise]").checked = true;
          document.querySelector("input[name=view][value=neuron]").disabled = true;
        }

        // The tooltip.
        const tip = document.getElementById("tip");
        const pct = p => p >= 0.1 ? (100 * p).toFixed(1) + "%" : p >= 0.001 ? (100 * p).toFixed(2) + "%" : p.toExponential(1);
        const cell = (cls, text) => { const td = document.createElement("td"); if (cls) td.className = cls; td.textContent = text; return td; };
        function topRow(label, s) {
          const tr = document.createElement("tr");
          tr.appendChild(cell("k", label));
          for (let k = 0; k < K; k++) {
            tr.appendChild(cell("", D.names[topIds[s * K + k]]));
            tr.appendChild(cell("k", pct(topP[s * K + k] / 65535)));
          }
          return tr;
        }
        function show(t, x, y) {
          tip.textContent = "";
          const head = document.createElement("div");
          let line = "#" + t + "  \u2018" + D.names[ids[t]] + "\u2019";
          if (view === "neuron" && D.neurons.length > 0) {
            const nn = D.neurons[current], v = (LEVEL[nn.q.charCodeAt(t)] / L) * nn.scale;
            line += "   " + nn.name + " \u2248 " + fmt(v, 2);
          }
          head.textContent = line;
          tip.appendChild(head);
          const p = document.createElement("div");
          p.textContent = surprise[t] === 0xffff ? "first character: nothing predicted it"
            : "surprise " + (surprise[t] / 1000).toFixed(2) + " bits: the model gave it p = " + pct(Math.pow(2, -surprise[t] / 1000));
          tip.appendChild(p);
          if (inMatch(t)) { const m = document.createElement("div"); m.textContent = "inside a match of /" + D.find + "/"; tip.appendChild(m); }
          if (K > 0) {
            const table = document.createElement("table");
            if (t > 0) table.appendChild(topRow("predicted for it:", t - 1));
            table.appendChild(topRow("expected after it:", t));
            tip.appendChild(table);
          }
          tip.hidden = false;
          const w = tip.offsetWidth, h = tip.offsetHeight;
          tip.style.left = Math.max(0, Math.min(x + 14, innerWidth - w - 4)) + "px";
          tip.style.top = (y + 18 + h > innerHeight ? Math.max(0, y - h - 10) : y + 18) + "px";
        }
        box.addEventListener("mouseover", e => { if (e.target.t !== undefined) show(e.target.t, e.clientX, e.clientY); });
        box.addEventListener("mouseleave", () => { tip.hidden = true; });

        paint();
        void box.offsetHeight;   // lay the text out now, inside the measured time
        window.traceTimings.total = performance.now() - t0;
        window.traceReady = true;
        })();
        """#
}
