// rnn-ckpt export --format html: one self-contained page (no network, no
// external scripts or fonts) that samples from the model in the browser.
// A visitor types a prime, picks a temperature, a length and optionally a
// seed (or argmax), and the text appears as it is sampled, a few characters
// per timer tick so that the page stays responsive.
//
// The data are one JSON object in a <script type="application/json">
// element: the model's shape, its vocabulary (code points or byte values
// by id, and printable names), and every weight as little-endian float32
// in one base64 string, with the list of views (PyTorch's names, shapes and
// offsets: Checkpoint.layout.views, as `export --format npz` names them).
// Strings are written with TracePage.jsonString, which escapes `<`, `>` and
// `&`, so nothing in the data can close the script element. A 2×128 LSTM
// of 65 symbols (240k weights) makes a page of about 1.3 MB.
//
// The forward pass is plain JavaScript over Float32Arrays, the equations of
// ReferenceCell (PyTorch's): LSTM gates i, f, g, o; GRU r, z, n with r
// applied to (W_hn h + b_hn); RNN tanh. Sums are made in double precision
// and the states and logits kept as float32. Sampling is rnn-sample's
// rule (sampleCategorical): softmax of (logit − max)/T in double
// precision, one uniform draw per character from xoshiro256** seeded by
// splitmix64 (RNG's generator, so a seed gives the same stream as
// rnn-sample's first sample); argmax takes the lowest id of a tie. Without a
// prime the first character is uniform over the vocabulary, or with argmax
// a newline (id 0 without one), as Generator.firstSymbol.

public enum ExportPage {
    /// The page for `checkpoint`, titled `name` (its file name).
    public static func html(_ checkpoint: Checkpoint, name: String) -> String {
        let config = checkpoint.config
        let vocab = checkpoint.vocab
        var out: [UInt8] = []
        out.reserveCapacity(checkpoint.params.count * 6 + 64 * 1024)
        func put(_ s: String) { out += s.utf8 }

        let names: [String] = vocab.symbols.map { $0 == 0x20 ? "\u{2423}" : vocab.escaped($0) }
        let progress = checkpoint.progress
        put("{\"name\":" + TracePage.jsonString(name))
        put(",\"model\":" + TracePage.jsonString(config.description))
        put(",\"cell\":\"\(config.cell.rawValue)\",\"layers\":\(config.numLayers),\"H\":\(config.rnnSize)")
        put(",\"V\":\(vocab.count),\"embedding\":\(config.embeddingSize),\"unit\":\"\(vocab.unit.rawValue)\"")
        put(",\"valLoss\":" + (progress.valLoss.flatMap { $0.isFinite ? fixed($0, 4) : nil } ?? "null"))
        put(",\"iteration\":\(progress.iteration),\"epoch\":" + (progress.epoch.isFinite ? fixed(progress.epoch, 2) : "0"))
        put(",\"parameters\":\(checkpoint.params.count)")
        put(",\"symbols\":[" + vocab.symbols.map { String($0) }.joined(separator: ",") + "]")
        put(",\"names\":[" + names.map(TracePage.jsonString).joined(separator: ",") + "]")
        put(",\"views\":[")
        for (i, view) in checkpoint.layout.views.enumerated() {
            put((i == 0 ? "" : ",") + "{\"name\":" + TracePage.jsonString(view.name))
            put(",\"shape\":[" + view.shape.map { String($0) }.joined(separator: ",") + "],\"offset\":\(view.offset)}")
        }
        put("],\"weights\":\"")
        let bytes = Tensor(floats: checkpoint.params, shape: [checkpoint.params.count]).bytes   // little-endian float32
        out += TracePage.base64(bytes)
        put("\"}")
        let data = String(decoding: out, as: UTF8.self)
        let heading = escapeXML(name)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(heading): \(escapeXML(config.description))</title>
            <style>\(style)</style></head>
            <body>
            <header>
            <h1 id="title">\(heading)</h1>
            <p id="model"></p>
            </header>
            <form id="form" autocomplete="off" novalidate>
            <label for="prime">The prime: text the model reads first (empty: it starts on its own)</label>
            <textarea id="prime" rows="3" spellcheck="false"></textarea>
            <div id="controls">
            <label>temperature <input id="temperature" type="number" value="1" min="0" step="0.1"></label>
            <label>length <input id="length" type="number" value="500" min="1" max="1000000" step="1"></label>
            <label>seed <input id="seed" type="text" inputmode="numeric" placeholder="random" size="12"></label>
            <label><input id="argmax" type="checkbox"> argmax (the most likely character each time)</label>
            <button id="go" type="submit">Sample</button>
            <button id="stop" type="button" disabled>Stop</button>
            </div>
            </form>
            <p id="status"></p>
            <pre id="output"></pre>
            <details id="vocabulary"><summary></summary><div id="symbols"></div></details>
            <footer><p>The model runs in this page, in JavaScript: nothing is sent anywhere. Each character is drawn
            from the softmax of the logits divided by the temperature, as <code>rnn-sample</code> does; the same
            seed gives the same text again. Made by rnn-ckpt export (charrnn).</p></footer>
            <script type="application/json" id="data">\(data)</script>
            <script>\(script)</script>
            </body></html>

            """
    }

    static let style = """
        body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 60em; padding: 0 1em; color: #222; }
        h1 { font-size: 1.3em; margin: 0 0 .2em; word-break: break-all; }
        #model { margin: 0 0 1em; color: #444; }
        label { margin-right: 1em; }
        #form > label { display: block; margin-bottom: .3em; }
        textarea { width: 100%; box-sizing: border-box; font: 1em ui-monospace, monospace; }
        #controls { margin: .5em 0; display: flex; flex-wrap: wrap; gap: .5em; align-items: center; }
        #temperature, #length { width: 6em; }
        button { font-size: 1em; padding: .2em 1em; }
        #status { color: #555; min-height: 1.2em; }
        #status.error { color: #b00; }
        #output { white-space: pre-wrap; word-wrap: break-word; background: #f6f6f2; border: 1px solid #ddd;
                  padding: .8em; min-height: 8em; max-height: 60vh; overflow: auto; font: 1em/1.4 ui-monospace, monospace; }
        #output .prime { color: #06c; }
        #symbols span { display: inline-block; min-width: 1.4em; margin: .1em; padding: 0 .2em; border: 1px solid #ddd;
                        text-align: center; font-family: ui-monospace, monospace; }
        footer { margin-top: 2em; color: #666; font-size: .9em; }
        """

    static let script = #"""
        "use strict";
        (() => {
          const D = JSON.parse(document.getElementById("data").textContent);
          const L = D.layers, H = D.H, V = D.V, E = D.embedding, CELL = D.cell;
          const G = { lstm: 4, gru: 3, rnn: 1 }[CELL];
          const GH = G * H;
          const BYTES = D.unit === "byte";

          // The weights: little-endian float32, one block, views by name.
          const raw = atob(D.weights);
          const buffer = new ArrayBuffer(raw.length);
          const u8 = new Uint8Array(buffer);
          for (let i = 0; i < raw.length; i++) u8[i] = raw.charCodeAt(i);
          const view = new DataView(buffer);
          const params = new Float32Array(raw.length >> 2);
          for (let i = 0; i < params.length; i++) params[i] = view.getFloat32(4 * i, true);
          const W = {};
          for (const v of D.views) W[v.name] = params.subarray(v.offset, v.offset + v.shape.reduce((a, b) => a * b, 1));
          const enc = W["encoder.weight"] || null;
          const layers = [];
          for (let k = 0; k < L; k++) {
            layers.push({ wih: W["rnn.weight_ih_l" + k], whh: W["rnn.weight_hh_l" + k], bih: W["rnn.bias_ih_l" + k],
                          bhh: W["rnn.bias_hh_l" + k], In: k > 0 ? H : (enc ? E : V) });
          }
          const decW = W["decoder.weight"], decB = W["decoder.bias"];

          // The vocabulary: symbol (code point or byte) <-> id.
          const idOf = new Map();
          D.symbols.forEach((s, i) => idOf.set(s, i));
          const NEWLINE = idOf.has(10) ? idOf.get(10) : -1;
          const text = BYTES ? null : D.symbols.map(s => String.fromCodePoint(s));

          const sigmoid = x => 1 / (1 + Math.exp(-x));

          // One stream of the network: state per layer, step(id) -> logits.
          class Net {
            constructor() {
              this.h = []; this.c = [];
              for (let k = 0; k < L; k++) { this.h.push(new Float32Array(H)); this.c.push(new Float32Array(H)); }
              this.xa = new Float64Array(GH); this.ha = new Float64Array(GH);
              this.logits = new Float32Array(V);
            }
            step(id) {
              const xa = this.xa, ha = this.ha;
              let x = null;
              for (let k = 0; k < L; k++) {
                const { wih, whh, bih, bhh, In } = layers[k];
                const h = this.h[k], c = this.c[k];
                for (let j = 0; j < GH; j++) {
                  let s = bih[j];
                  if (k === 0 && !enc) {
                    s += wih[j * In + id];
                  } else {
                    const xin = k === 0 ? enc.subarray(id * E, id * E + E) : x;
                    const row = j * In;
                    for (let i = 0; i < In; i++) s += wih[row + i] * xin[i];
                  }
                  xa[j] = s;
                  let u = bhh[j];
                  const rh = j * H;
                  for (let i = 0; i < H; i++) u += whh[rh + i] * h[i];
                  ha[j] = u;
                }
                if (CELL === "lstm") {
                  for (let j = 0; j < H; j++) {
                    const ig = sigmoid(xa[j] + ha[j]), fg = sigmoid(xa[H + j] + ha[H + j]);
                    const gg = Math.tanh(xa[2 * H + j] + ha[2 * H + j]), og = sigmoid(xa[3 * H + j] + ha[3 * H + j]);
                    c[j] = fg * c[j] + ig * gg;
                    h[j] = og * Math.tanh(c[j]);
                  }
                } else if (CELL === "gru") {
                  for (let j = 0; j < H; j++) {
                    const r = sigmoid(xa[j] + ha[j]), z = sigmoid(xa[H + j] + ha[H + j]);
                    const n = Math.tanh(xa[2 * H + j] + r * ha[2 * H + j]);
                    h[j] = (1 - z) * n + z * h[j];
                  }
                } else {
                  for (let j = 0; j < H; j++) h[j] = Math.tanh(xa[j] + ha[j]);
                }
                x = h;
              }
              const out = this.logits;
              for (let v = 0; v < V; v++) {
                let s = decB[v];
                const row = v * H;
                for (let i = 0; i < H; i++) s += decW[row + i] * x[i];
                out[v] = s;
              }
              return out;
            }
          }

          // xoshiro256** seeded by splitmix64, as charrnn's RNG.
          const M64 = (1n << 64n) - 1n;
          const rotl = (x, k) => ((x << k) | (x >> (64n - k))) & M64;
          class RNG {
            constructor(seed) {
              let s = BigInt.asUintN(64, BigInt(seed));
              const splitmix = () => {
                s = (s + 0x9E3779B97F4A7C15n) & M64;
                let z = s;
                z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M64;
                z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M64;
                return z ^ (z >> 31n);
              };
              this.s = [splitmix(), splitmix(), splitmix(), splitmix()];
            }
            next() {
              const s = this.s;
              const result = (rotl((s[1] * 5n) & M64, 7n) * 9n) & M64;
              const t = (s[1] << 17n) & M64;
              s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45n);
              return result;
            }
            uniform() { return Number(this.next() >> 11n) * (1 / 9007199254740992); }
            below(n) { return Math.floor(this.uniform() * n) % n; }
          }

          // The sampling rule: argmax (ties: the lowest id), or one draw
          // from softmax((logit - max) / T) in double precision.
          function argmaxOf(logits) {
            let best = 0;
            for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
            return best;
          }
          function sampleOf(logits, temperature, rng) {
            let mx = -Infinity;
            for (let v = 0; v < logits.length; v++) mx = Math.max(mx, logits[v]);
            const invT = 1 / temperature, probs = new Float64Array(logits.length);
            let sum = 0;
            for (let v = 0; v < logits.length; v++) {
              const d = Math.fround(logits[v] - mx);
              const e = d === 0 ? 1 : Math.exp(d * invT);
              probs[v] = e; sum += e;
            }
            const u = rng.uniform() * sum;
            let acc = 0, last = 0;
            for (let v = 0; v < logits.length; v++) {
              if (!(probs[v] > 0)) continue;
              acc += probs[v]; last = v;
              if (u < acc) return v;
            }
            return last;
          }

          // Text <-> ids.
          function encode(s) {
            const symbols = BYTES ? Array.from(new TextEncoder().encode(s)) : Array.from(s, ch => ch.codePointAt(0));
            const ids = [], unknown = [];
            for (const sym of symbols) {
              if (idOf.has(sym)) ids.push(idOf.get(sym));
              else if (!unknown.includes(sym)) unknown.push(sym);
            }
            if (unknown.length) {
              const shown = unknown.slice(0, 8).map(u => BYTES ? "byte " + u : JSON.stringify(String.fromCodePoint(u)));
              throw new Error("not in the model's vocabulary: " + shown.join(", ") + (unknown.length > 8 ? ", ..." : ""));
            }
            return ids;
          }
          function decoder() {
            if (!BYTES) return ids => ids.map(i => text[i]).join("");
            const d = new TextDecoder("utf-8");
            return (ids, end) => d.decode(new Uint8Array(ids.map(i => D.symbols[i])), { stream: !end });
          }
          function checkSeed(seed) {
            const s = String(seed).trim();
            if (!/^[0-9]+$/.test(s) || BigInt(s) > M64) throw new Error("the seed must be a whole number from 0 to 18446744073709551615");
            return BigInt(s);
          }

          // One sample: advance() feeds one prime symbol (returns null),
          // returns the next id, or -1 once `length` ids are made.
          class Run {
            constructor(primeIds, length, o) {
              this.prime = primeIds; this.length = length; this.argmax = !!o.argmax;
              this.temperature = o.temperature; this.rng = new RNG(o.seed);
              this.net = new Net(); this.fed = 0; this.produced = 0; this.pending = -1;
            }
            advance() {
              if (this.produced >= this.length) return -1;
              let id;
              if (this.produced === 0 && this.prime.length === 0) {
                id = this.argmax ? (NEWLINE >= 0 ? NEWLINE : 0) : this.rng.below(V);
              } else {
                if (this.fed < this.prime.length) {
                  this.net.step(this.prime[this.fed++]);
                  if (this.fed < this.prime.length) return null;
                } else {
                  this.net.step(this.pending);
                }
                const logits = this.net.logits;
                id = this.argmax ? argmaxOf(logits) : sampleOf(logits, this.temperature, this.rng);
              }
              this.pending = id; this.produced++;
              return id;
            }
          }
          function runAll(prime, length, o) {
            const run = new Run(encode(prime), length, o), ids = [];
            for (let id; (id = run.advance()) !== -1;) if (id !== null) ids.push(id);
            return decoder()(ids, true);
          }

          // The page.
          const $ = id => document.getElementById(id);
          const vl = D.valLoss === null ? "no val loss" : "val loss " + D.valLoss.toFixed(4);
          $("model").textContent = D.model + " · " + V + (BYTES ? " bytes" : " characters") + " · " +
            D.parameters.toLocaleString("en") + " weights · " + vl + " (iteration " + D.iteration + ", epoch " + D.epoch + ")";
          $("vocabulary").querySelector("summary").textContent = "Vocabulary (" + V + " symbols)";
          const symbols = $("symbols");
          D.names.forEach((name, i) => {
            const s = document.createElement("span");
            s.textContent = name; s.title = "id " + i;
            symbols.appendChild(s);
          });

          const state = { run: null, timer: 0, produced: 0, done: true, seed: null };
          const status = (msg, error) => { $("status").textContent = msg; $("status").className = error ? "error" : ""; };
          function stop(msg) {
            if (state.timer) clearTimeout(state.timer);
            state.timer = 0; state.run = null; state.done = true;
            $("go").disabled = false; $("stop").disabled = true;
            if (msg) status(msg);
          }
          function start(ev) {
            if (ev) ev.preventDefault();
            stop();
            try {
              const prime = $("prime").value;
              const temperature = Number($("temperature").value);
              const length = Number($("length").value);
              const argmax = $("argmax").checked;
              if (!(temperature > 0) || !isFinite(temperature)) throw new Error("the temperature must be a number above 0");
              if (!Number.isInteger(length) || length < 1 || length > 1e6) throw new Error("the length must be a whole number from 1 to 1000000");
              const seedText = $("seed").value.trim();
              const seed = seedText ? checkSeed(seedText)
                : BigInt(crypto.getRandomValues(new Uint32Array(1))[0]);
              const primeIds = encode(prime);
              const out = $("output");
              out.textContent = "";
              const p = document.createElement("span");
              p.className = "prime"; p.textContent = prime;
              out.appendChild(p);
              const node = document.createTextNode("");
              out.appendChild(node);
              const decode = decoder();
              const run = new Run(primeIds, length, { temperature, argmax, seed });
              Object.assign(state, { run, produced: 0, done: false, seed });
              $("go").disabled = true; $("stop").disabled = false;
              const how = argmax ? "argmax" : "temperature " + temperature + ", seed " + seed;
              const t0 = performance.now();
              const tick = () => {
                if (state.run !== run) return;
                const until = performance.now() + 12, ids = [];
                let id = null, made = 0;
                while (made < 8 && performance.now() < until) {
                  id = run.advance();
                  if (id === -1) break;
                  if (id !== null) { ids.push(id); made++; }
                }
                const atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
                node.appendData(decode(ids, id === -1));
                if (atBottom) out.scrollTop = out.scrollHeight;
                state.produced = run.produced;
                if (id === -1) {
                  const ms = (performance.now() - t0) / Math.max(1, length);
                  stop("done: " + length + " characters, " + how + " (" + ms.toFixed(2) + " ms each)");
                } else {
                  status("sampling… " + run.produced + " / " + length + ", " + how);
                  state.timer = setTimeout(tick, 0);
                }
              };
              status("sampling…, " + how);
              state.timer = setTimeout(tick, 0);
            } catch (e) {
              stop();
              status(e.message, true);
            }
          }
          $("form").addEventListener("submit", start);
          $("stop").addEventListener("click", () => stop("stopped after " + state.produced + " characters"));
          status("Type a prime (or none) and press Sample.");

          // For tests and the console.
          window.charrnn = {
            info: { name: D.name, model: D.model, cell: CELL, layers: L, rnnSize: H, vocabSize: V, embedding: E,
                    unit: D.unit, valLoss: D.valLoss, iteration: D.iteration },
            vocab: D.symbols.map(s => BYTES ? s : String.fromCodePoint(s)),
            // The logits after each symbol of `s`, read from a zero state.
            logits(s) {
              const net = new Net();
              return encode(s).map(id => Array.from(net.step(id)));
            },
            // The probability of each symbol of `s` after the first, given those before it.
            probs(s) {
              const net = new Net(), ids = encode(s), out = [];
              for (let t = 0; t + 1 < ids.length; t++) {
                const z = net.step(ids[t]);
                let mx = -Infinity, sum = 0;
                for (let v = 0; v < V; v++) mx = Math.max(mx, z[v]);
                for (let v = 0; v < V; v++) sum += Math.exp(z[v] - mx);
                out.push(Math.exp(z[ids[t + 1]] - mx) / sum);
              }
              return out;
            },
            argmax(prime, n) { return runAll(prime, n, { argmax: true, seed: 0 }); },
            sample(prime, n, temperature, seed) {
              if (!(temperature > 0)) throw new Error("the temperature must be above 0");
              return runAll(prime, n, { temperature, seed: checkSeed(seed) });
            },
            // The sample the page is making: done, how many so far, its seed.
            get state() { return { done: state.done, produced: state.produced, seed: state.seed === null ? null : String(state.seed) }; },
          };
          window.charrnnReady = true;
        })();
        """#
}
