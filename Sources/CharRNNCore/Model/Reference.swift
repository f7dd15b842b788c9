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
                    switch config.cell {
                    case .lstm:
                        for j in 0..<H {
                            let ig = sigmoid(xa[j] + ha[j])
                            let fg = sigmoid(xa[H + j] + ha[H + j])
                            let gg = R.tanhValue(xa[2 * H + j] + ha[2 * H + j])
                            let og = sigmoid(xa[3 * H + j] + ha[3 * H + j])
                            act[r * GH + j] = ig; act[r * GH + H + j] = fg
                            act[r * GH + 2 * H + j] = gg; act[r * GH + 3 * H + j] = og
                            c[next + j] = fg * c[prev + j] + ig * gg
                            h[next + j] = og * R.tanhValue(c[next + j])
                        }
                    case .gru:
                        for j in 0..<H {
                            let rg = sigmoid(xa[j] + ha[j])
                            let zg = sigmoid(xa[H + j] + ha[H + j])
                            let ng = R.tanhValue(xa[2 * H + j] + rg * ha[2 * H + j])
                            act[r * GH + j] = rg; act[r * GH + H + j] = zg; act[r * GH + 2 * H + j] = ng
                            hn[r * H + j] = ha[2 * H + j]
                            h[next + j] = (1 - zg) * ng + zg * h[prev + j]
                        }
                    case .rnn:
                        for j in 0..<H {
                            let v = R.tanhValue(xa[j] + ha[j])
                            act[r * GH + j] = v
                            h[next + j] = v
                        }
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
                    var dxa = [R](repeating: 0, count: GH)  // d/d(W_ih x + b_ih)
                    var dha = [R](repeating: 0, count: GH)  // d/d(W_hh h + b_hh)
                    for j in 0..<H {
                        let dhj = dh[r * H + j] + dhNext[b * H + j]
                        switch config.cell {
                        case .lstm:
                            let ig = act[r * GH + j], fg = act[r * GH + H + j]
                            let gg = act[r * GH + 2 * H + j], og = act[r * GH + 3 * H + j]
                            let tc = R.tanhValue(c[next + j])
                            let dc = dcNext[b * H + j] + dhj * og * (1 - tc * tc)
                            let di = dc * gg * ig * (1 - ig)
                            let df = dc * c[prev + j] * fg * (1 - fg)
                            let dg = dc * ig * (1 - gg * gg)
                            let dog = dhj * tc * og * (1 - og)
                            dxa[j] = di; dxa[H + j] = df; dxa[2 * H + j] = dg; dxa[3 * H + j] = dog
                            dha[j] = di; dha[H + j] = df; dha[2 * H + j] = dg; dha[3 * H + j] = dog
                            dcNext[b * H + j] = dc * fg
                        case .gru:
                            let rg = act[r * GH + j], zg = act[r * GH + H + j], ng = act[r * GH + 2 * H + j]
                            let dn = dhj * (1 - zg) * (1 - ng * ng)
                            let dz = dhj * (h[prev + j] - ng) * zg * (1 - zg)
                            let dr = dn * hn[r * H + j] * rg * (1 - rg)
                            dxa[j] = dr; dxa[H + j] = dz; dxa[2 * H + j] = dn
                            dha[j] = dr; dha[H + j] = dz; dha[2 * H + j] = dn * rg
                            newDhNext[b * H + j] += dhj * zg
                        case .rnn:
                            let v = act[r * GH + j]
                            let d = dhj * (1 - v * v)
                            dxa[j] = d; dha[j] = d
                        }
                    }
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
