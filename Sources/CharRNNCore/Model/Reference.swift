// The plain reference model: naive loops in any floating-point type, no
// BLAS, no SIMD. In Double it is checked against finite differences; the
// fast Float network is checked against it. Keep it simple, not fast.
#if canImport(Glibc)
import Glibc
#endif

public protocol RealMath: BinaryFloatingPoint {
    static func expValue(_ x: Self) -> Self
    static func tanhValue(_ x: Self) -> Self
    static func logValue(_ x: Self) -> Self
}

extension Double: RealMath {
    public static func expValue(_ x: Double) -> Double { exp(x) }
    public static func tanhValue(_ x: Double) -> Double { tanh(x) }
    public static func logValue(_ x: Double) -> Double { log(x) }
}

extension Float: RealMath {
    public static func expValue(_ x: Float) -> Float { expf(x) }
    public static func tanhValue(_ x: Float) -> Float { tanhf(x) }
    public static func logValue(_ x: Float) -> Float { logf(x) }
}

/// Result of one reference forward (+ backward) pass.
public struct ReferenceResult<R: RealMath> {
    public var loss: R
    public var gradient: [R]          // same layout as the parameters
    public var finalH: [[R]]          // per layer, (B, H)
    public var finalC: [[R]]          // per layer, (B, H); LSTM only
    public var logits: [R]            // (T*B, V)
}

/// B = batch, T = seq, H = rnn size, V = vocab, G = gates. Token arrays are
/// time-major: index t*B + b.
public struct ReferenceModel<R: RealMath> {
    public let config: ModelConfig
    public let layout: ParamLayout

    public init(config: ModelConfig) {
        self.config = config
        self.layout = ParamLayout(config)
    }

    @inline(__always) func sigmoid(_ x: R) -> R { 1 / (1 + R.expValue(-x)) }

    /// Mean cross-entropy of `targets` and its gradient. `masks[k]` (if
    /// given) multiplies layer k's output (T*B*H), as inverted dropout does.
    public func run(params p: [R], inputs: [Int], targets: [Int], batch B: Int,
                    h0: [[R]]? = nil, c0: [[R]]? = nil, masks: [[R]]? = nil,
                    backward: Bool = true) -> ReferenceResult<R> {
        let T = inputs.count / B
        let H = config.rnnSize, V = config.vocabSize, L = config.numLayers
        let G = config.cell.gates
        let GH = G * H
        let N = T * B

        // Layer 0 input (dense), (N, In0).
        let in0 = config.inputSize(layer: 0)
        var x0 = [R](repeating: 0, count: N * in0)
        for r in 0..<N {
            if let enc = layout.encoder {
                for e in 0..<in0 { x0[r * in0 + e] = p[enc + inputs[r] * in0 + e] }
            } else {
                x0[r * in0 + inputs[r]] = 1
            }
        }

        // Forward, storing per layer: inputs, hidden (T+1), cell (T+1), gate values.
        var layerInput: [[R]] = []           // (N, In)
        var hs: [[R]] = []                   // ((T+1)*B, H)
        var cs: [[R]] = []                   // ((T+1)*B, H)
        var acts: [[R]] = []                 // (N, GH): activated gates
        var hgn: [[R]] = []                  // (N, H): GRU W_hn h + b_hn
        var outputs: [[R]] = []              // (N, H) after mask
        var x = x0
        for k in 0..<L {
            let lay = layout.layers[k]
            let In = config.inputSize(layer: k)
            var h = [R](repeating: 0, count: (T + 1) * B * H)
            var c = [R](repeating: 0, count: (T + 1) * B * H)
            if let h0 { for i in 0..<(B * H) { h[i] = h0[k][i] } }
            if let c0, config.cell == .lstm { for i in 0..<(B * H) { c[i] = c0[k][i] } }
            var act = [R](repeating: 0, count: N * GH)
            var hn = [R](repeating: 0, count: N * H)
            for t in 0..<T {
                for b in 0..<B {
                    let r = t * B + b
                    var xa = [R](repeating: 0, count: GH)   // W_ih x + b_ih
                    var ha = [R](repeating: 0, count: GH)   // W_hh h + b_hh
                    for j in 0..<GH {
                        var s = p[lay.biasIH + j]
                        for i in 0..<In { s += p[lay.weightIH + j * In + i] * x[r * In + i] }
                        xa[j] = s
                        var u = p[lay.biasHH + j]
                        for i in 0..<H { u += p[lay.weightHH + j * H + i] * h[(t * B + b) * H + i] }
                        ha[j] = u
                    }
                    let prev = (t * B + b) * H, next = ((t + 1) * B + b) * H
                    let hPrev = Array(h[prev..<(prev + H)]), cPrev = Array(c[prev..<(prev + H)])
                    let step: ReferenceCell<R>.Forward
                    switch config.cell {
                    case .lstm: step = ReferenceCell.lstmForward(xa: xa, ha: ha, cPrev: cPrev, H: H)
                    case .gru: step = ReferenceCell.gruForward(xa: xa, ha: ha, hPrev: hPrev, H: H)
                    case .rnn: step = ReferenceCell.rnnForward(xa: xa, ha: ha, H: H)
                    }
                    for j in 0..<GH { act[r * GH + j] = step.acts[j] }
                    for j in 0..<H {
                        h[next + j] = step.h[j]
                        if config.cell == .lstm { c[next + j] = step.c[j] }
                        if config.cell == .gru { hn[r * H + j] = ha[2 * H + j] }
                    }
                }
            }
            var out = [R](repeating: 0, count: N * H)
            for i in 0..<(N * H) { out[i] = h[B * H + i] * (masks?[k][i] ?? 1) }
            layerInput.append(x); hs.append(h); cs.append(c); acts.append(act); hgn.append(hn); outputs.append(out)
            x = out
        }

        // Decoder and loss.
        var logits = [R](repeating: 0, count: N * V)
        var loss: R = 0
        var dlogits = [R](repeating: 0, count: N * V)
        let top = outputs[L - 1]
        for r in 0..<N {
            var mx = -R.greatestFiniteMagnitude
            for v in 0..<V {
                var s = p[layout.decoderBias + v]
                for i in 0..<H { s += p[layout.decoderWeight + v * H + i] * top[r * H + i] }
                logits[r * V + v] = s
                mx = max(mx, s)
            }
            var sum: R = 0
            for v in 0..<V { sum += R.expValue(logits[r * V + v] - mx) }
            let logZ = mx + R.logValue(sum)
            loss += logZ - logits[r * V + targets[r]]
            for v in 0..<V {
                dlogits[r * V + v] = (R.expValue(logits[r * V + v] - logZ) - (v == targets[r] ? 1 : 0)) / R(N)
            }
        }
        loss /= R(N)
        let finalH = hs.map { Array($0[(T * B * H)...]) }
        let finalC = cs.map { Array($0[(T * B * H)...]) }
        var grad = [R](repeating: 0, count: layout.total)
        if !backward {
            return ReferenceResult(loss: loss, gradient: grad, finalH: finalH, finalC: finalC, logits: logits)
        }

        // Backward: decoder.
        var dOut = [R](repeating: 0, count: N * H)
        for r in 0..<N {
            for v in 0..<V {
                let d = dlogits[r * V + v]
                grad[layout.decoderBias + v] += d
                for i in 0..<H {
                    grad[layout.decoderWeight + v * H + i] += d * top[r * H + i]
                    dOut[r * H + i] += d * p[layout.decoderWeight + v * H + i]
                }
            }
        }
        // Layers, top down.
        for k in stride(from: L - 1, through: 0, by: -1) {
            let lay = layout.layers[k]
            let In = config.inputSize(layer: k)
            let h = hs[k], c = cs[k], act = acts[k], xin = layerInput[k], hn = hgn[k]
            var dh = [R](repeating: 0, count: N * H)       // d loss / d h_{t+1}, from above
            for i in 0..<(N * H) { dh[i] = dOut[i] * (masks?[k][i] ?? 1) }
            var dIn = [R](repeating: 0, count: N * In)
            var dhNext = [R](repeating: 0, count: B * H)
            var dcNext = [R](repeating: 0, count: B * H)
            for t in stride(from: T - 1, through: 0, by: -1) {
                var newDhNext = [R](repeating: 0, count: B * H)
                for b in 0..<B {
                    let r = t * B + b
                    let prev = (t * B + b) * H, next = ((t + 1) * B + b) * H
                    var dAbove = [R](repeating: 0, count: H)
                    for j in 0..<H { dAbove[j] = dh[r * H + j] + dhNext[b * H + j] }
                    let acts = Array(act[(r * GH)..<((r + 1) * GH)])
                    let back: ReferenceCell<R>.Backward
                    switch config.cell {
                    case .lstm:
                        back = ReferenceCell.lstmBackward(acts: acts, cPrev: Array(c[prev..<(prev + H)]), cNext: Array(c[next..<(next + H)]),
                                                          dh: dAbove, dcNext: Array(dcNext[(b * H)..<((b + 1) * H)]), H: H)
                        for j in 0..<H { dcNext[b * H + j] = back.dcPrev[j] }
                    case .gru:
                        back = ReferenceCell.gruBackward(acts: acts, hPrev: Array(h[prev..<(prev + H)]), hn: Array(hn[(r * H)..<((r + 1) * H)]),
                                                         dh: dAbove, H: H)
                        for j in 0..<H { newDhNext[b * H + j] += back.dhPrev[j] }
                    case .rnn:
                        back = ReferenceCell.rnnBackward(acts: acts, dh: dAbove, H: H)
                    }
                    let dxa = back.dxa, dha = back.dha
                    for j in 0..<GH {
                        grad[lay.biasIH + j] += dxa[j]
                        grad[lay.biasHH + j] += dha[j]
                        for i in 0..<In {
                            grad[lay.weightIH + j * In + i] += dxa[j] * xin[r * In + i]
                            dIn[r * In + i] += dxa[j] * p[lay.weightIH + j * In + i]
                        }
                        for i in 0..<H {
                            grad[lay.weightHH + j * H + i] += dha[j] * h[prev + i]
                            newDhNext[b * H + i] += dha[j] * p[lay.weightHH + j * H + i]
                        }
                    }
                }
                dhNext = newDhNext
            }
            if k > 0 {
                dOut = dIn
            } else if let enc = layout.encoder {
                for r in 0..<N {
                    for e in 0..<In { grad[enc + inputs[r] * In + e] += dIn[r * In + e] }
                }
            }
        }
        return ReferenceResult(loss: loss, gradient: grad, finalH: finalH, finalC: finalC, logits: logits)
    }
}

/// One step of each cell for one batch row, forward and backward, in plain
/// loops: the network's cell kernels (kernels.h, the OpenCL kernels) are
/// each checked against these. xa = W_ih x + b_ih and ha = W_hh h + b_hh
/// (GH = G·H each, PyTorch's gate order).
public enum ReferenceCell<R: RealMath> {
    public struct Forward {
        /// The gates' activations (GH): LSTM i,f,g,o; GRU r,z,n; RNN h.
        public var acts: [R]
        public var h: [R]
        /// LSTM's new cell state (empty for GRU and RNN).
        public var c: [R]
    }

    public struct Backward {
        /// d loss / d xa and d ha (GH each).
        public var dxa: [R]
        public var dha: [R]
        /// LSTM: d wrt the previous cell state; GRU: the direct part of d wrt
        /// the previous hidden state (dh·z; the rest comes through W_hh).
        public var dcPrev: [R] = []
        public var dhPrev: [R] = []
    }

    static func sigmoid(_ x: R) -> R { 1 / (1 + R.expValue(-x)) }

    public static func lstmForward(xa: [R], ha: [R], cPrev: [R], H: Int) -> Forward {
        var acts = [R](repeating: 0, count: 4 * H), c = [R](repeating: 0, count: H), h = c
        for j in 0..<H {
            let i = sigmoid(xa[j] + ha[j]), f = sigmoid(xa[H + j] + ha[H + j])
            let g = R.tanhValue(xa[2 * H + j] + ha[2 * H + j]), o = sigmoid(xa[3 * H + j] + ha[3 * H + j])
            acts[j] = i; acts[H + j] = f; acts[2 * H + j] = g; acts[3 * H + j] = o
            c[j] = f * cPrev[j] + i * g
            h[j] = o * R.tanhValue(c[j])
        }
        return Forward(acts: acts, h: h, c: c)
    }

    public static func gruForward(xa: [R], ha: [R], hPrev: [R], H: Int) -> Forward {
        var acts = [R](repeating: 0, count: 3 * H), h = [R](repeating: 0, count: H)
        for j in 0..<H {
            let r = sigmoid(xa[j] + ha[j]), z = sigmoid(xa[H + j] + ha[H + j])
            let n = R.tanhValue(xa[2 * H + j] + r * ha[2 * H + j])
            acts[j] = r; acts[H + j] = z; acts[2 * H + j] = n
            h[j] = (1 - z) * n + z * hPrev[j]
        }
        return Forward(acts: acts, h: h, c: [])
    }

    public static func rnnForward(xa: [R], ha: [R], H: Int) -> Forward {
        let h = (0..<H).map { R.tanhValue(xa[$0] + ha[$0]) }
        return Forward(acts: h, h: h, c: [])
    }

    /// `dh`: d wrt this step's h (from above plus carried); `dcNext`: d
    /// wrt this step's c carried back from the next step.
    public static func lstmBackward(acts: [R], cPrev: [R], cNext: [R], dh: [R], dcNext: [R], H: Int) -> Backward {
        var d = [R](repeating: 0, count: 4 * H), dcPrev = [R](repeating: 0, count: H)
        for j in 0..<H {
            let i = acts[j], f = acts[H + j], g = acts[2 * H + j], o = acts[3 * H + j]
            let tc = R.tanhValue(cNext[j])
            let dc = dcNext[j] + dh[j] * o * (1 - tc * tc)
            d[j] = dc * g * i * (1 - i)
            d[H + j] = dc * cPrev[j] * f * (1 - f)
            d[2 * H + j] = dc * i * (1 - g * g)
            d[3 * H + j] = dh[j] * tc * o * (1 - o)
            dcPrev[j] = dc * f
        }
        return Backward(dxa: d, dha: d, dcPrev: dcPrev)
    }

    /// `hn`: W_hn h + b_hn of the forward (the n gate's recurrent part).
    public static func gruBackward(acts: [R], hPrev: [R], hn: [R], dh: [R], H: Int) -> Backward {
        var dxa = [R](repeating: 0, count: 3 * H), dha = dxa, dhPrev = [R](repeating: 0, count: H)
        for j in 0..<H {
            let r = acts[j], z = acts[H + j], n = acts[2 * H + j]
            let dn = dh[j] * (1 - z) * (1 - n * n)
            let dz = dh[j] * (hPrev[j] - n) * z * (1 - z)
            let dr = dn * hn[j] * r * (1 - r)
            dxa[j] = dr; dxa[H + j] = dz; dxa[2 * H + j] = dn
            dha[j] = dr; dha[H + j] = dz; dha[2 * H + j] = dn * r
            dhPrev[j] = dh[j] * z
        }
        return Backward(dxa: dxa, dha: dha, dhPrev: dhPrev)
    }

    public static func rnnBackward(acts: [R], dh: [R], H: Int) -> Backward {
        let d = (0..<H).map { dh[$0] * (1 - acts[$0] * acts[$0]) }
        return Backward(dxa: d, dha: d)
    }
}
