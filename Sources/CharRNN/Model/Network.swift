// The fast CPU network: each layer runs over the whole sequence at once
// (one GEMM for all timesteps' input projections, one small GEMM per step
// for the recurrence, fused SIMD gate kernels). Backward mirrors forward
// and computes each weight gradient with one large GEMM.
// B = batch, T = seq length, N = T*B rows (time-major), H = rnn size,
// G = gates, GH = G*H, V = vocab, E = embedding size, In = layer input width.
#if canImport(Glibc)
import Glibc
#endif
import CSupport

/// A buffer of Floats allocated once and freed with its owner.
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { pointer.deallocate() }
}

@inline(__always)
func loadN(_ p: UnsafePointer<Float>, _ n: Int) -> F16x {
    if n == 16 { return UnsafeRawPointer(p).loadUnaligned(as: F16x.self) }
    var v = F16x(repeating: 0)
    for k in 0..<n { v[k] = p[k] }
    return v
}

@inline(__always)
func storeN(_ v: F16x, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    if n == 16 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: F16x.self); return }
    for k in 0..<n { p[k] = v[k] }
}

public final class Network {
    public let config: ModelConfig
    public let layout: ParamLayout
    public let batch: Int
    public let seqLength: Int

    let H: Int, GH: Int, V: Int, L: Int, N: Int

    // Forward activations, per layer.
    var gates: [FloatBuffer]      // (N, GH): pre-activations, then activations in place
    var hs: [FloatBuffer]         // ((T+1)*B, H): h[0] = carried state
    var cs: [FloatBuffer]         // ((T+1)*B, H): LSTM cell
    var tanhC: [FloatBuffer]      // (N, H): LSTM tanh(c)
    var hgs: [FloatBuffer]        // (N, GH): GRU W_hh h + b_hh per step
    var masks: [FloatBuffer]      // (N, H): dropout multipliers, layer outputs
    var dropped: [FloatBuffer]    // (N, H): masked layer outputs
    let embedded: FloatBuffer     // (N, E)
    let logits: FloatBuffer       // (N, V): logits, then d loss / d logits
    let weightT: FloatBuffer      // (V, GH): layer-0 W_ih transposed (one-hot)
    let biasSum: FloatBuffer      // (GH): the input-side bias of the current layer
    var tokens: [Int32]           // (N) inputs of the last forward
    var usedDropout = false

    // Backward scratch.
    let dPre: FloatBuffer         // (N, GH): d wrt W_ih x + b_ih (LSTM/RNN: also W_hh h + b_hh)
    let dPreHH: FloatBuffer       // (N, GH): GRU d wrt W_hh h + b_hh
    let dH: FloatBuffer           // (N, H): d wrt the current layer's output h[1..T]
    let dX: FloatBuffer           // (N, max(H, E, 1)): d wrt the current layer's input
    let dhNext: FloatBuffer       // (B, H)
    let dcNext: FloatBuffer       // (B, H)

    /// Carried hidden state per layer, (B, H); cell state for LSTM.
    public var stateH: [[Float]]
    public var stateC: [[Float]]

    public init(config: ModelConfig, batch: Int, seqLength: Int) {
        self.config = config
        self.layout = ParamLayout(config)
        self.batch = batch
        self.seqLength = seqLength
        let H = config.rnnSize, GH = config.cell.gates * config.rnnSize
        let V = config.vocabSize, L = config.numLayers, N = batch * seqLength
        self.H = H; self.GH = GH; self.V = V; self.L = L; self.N = N
        let lstm = config.cell == .lstm, gru = config.cell == .gru
        let dropout = config.dropout > 0
        func buffers(_ n: Int) -> [FloatBuffer] { (0..<L).map { _ in FloatBuffer(n) } }
        gates = buffers(N * GH)
        hs = buffers((seqLength + 1) * batch * H)
        cs = buffers(lstm ? (seqLength + 1) * batch * H : 0)
        tanhC = buffers(lstm ? N * H : 0)
        hgs = buffers(gru ? N * GH : 0)
        masks = buffers(dropout ? N * H : 0)
        dropped = buffers(dropout ? N * H : 0)
        embedded = FloatBuffer(N * config.embeddingSize)
        logits = FloatBuffer(N * V)
        weightT = FloatBuffer(config.embeddingSize > 0 ? 0 : V * GH)
        biasSum = FloatBuffer(GH)
        tokens = [Int32](repeating: 0, count: N)
        dPre = FloatBuffer(N * GH)
        dPreHH = FloatBuffer(gru ? N * GH : 0)
        dH = FloatBuffer(N * H)
        dX = FloatBuffer(N * max(H, config.embeddingSize, 1))
        dhNext = FloatBuffer(batch * H)
        dcNext = FloatBuffer(batch * H)
        stateH = Array(repeating: Array(repeating: 0, count: batch * H), count: L)
        stateC = Array(repeating: Array(repeating: 0, count: batch * H), count: L)
    }

    public func resetState() {
        for k in 0..<L {
            for i in 0..<(batch * H) { stateH[k][i] = 0; stateC[k][i] = 0 }
        }
    }

    /// Output of layer k as the next stage sees it (masked when dropout ran).
    func output(_ k: Int) -> UnsafeMutablePointer<Float> {
        usedDropout ? dropped[k].pointer : hs[k].pointer + batch * H
    }

    /// Runs the network over one minibatch (time-major tokens, N each) from
    /// the carried state, leaves the final state carried, and returns the
    /// mean cross-entropy. With `training`, dropout is drawn from `rng` and
    /// d loss / d logits is kept for `backward`.
    public func forward(params: UnsafePointer<Float>, inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>,
                        training: Bool, rng: inout RNG) -> Double {
        let B = batch, T = seqLength
        for r in 0..<N { tokens[r] = inputs[r] }
        usedDropout = training && config.dropout > 0
        let keep = Float(1 - config.dropout)
        var input: UnsafePointer<Float>? = nil  // (N, In) for k > 0 or embedding
        if let enc = layout.encoder {
            let E = config.embeddingSize
            for r in 0..<N {
                (embedded.pointer + r * E).update(from: params + enc + Int(inputs[r]) * E, count: E)
            }
            input = UnsafePointer(embedded.pointer)
        }
        for k in 0..<L {
            let lay = layout.layers[k]
            let In = config.inputSize(layer: k)
            let g = gates[k].pointer
            let h = hs[k].pointer
            // Carried state into slot 0.
            stateH[k].withUnsafeBufferPointer { h.update(from: $0.baseAddress!, count: B * H) }
            if config.cell == .lstm {
                stateC[k].withUnsafeBufferPointer { cs[k].pointer.update(from: $0.baseAddress!, count: B * H) }
            }
            // Input projections for all timesteps, biases first (LSTM/RNN:
            // both biases at once; GRU keeps b_hh for the recurrent part).
            let bias = biasSum.pointer
            for j in 0..<GH {
                bias[j] = config.cell == .gru ? params[lay.biasIH + j] : params[lay.biasIH + j] + params[lay.biasHH + j]
            }
            if k == 0 && layout.encoder == nil {
                // One-hot: gather columns of W_ih, through a transposed copy.
                let wt = weightT.pointer
                let w = params + lay.weightIH
                for j in 0..<GH { for v in 0..<V { wt[v * GH + j] = w[j * V + v] } }
                charrnn_bias_gather(g, bias, wt, inputs, N, GH)
            } else {
                charrnn_bias_gather(g, bias, nil, inputs, N, GH)
                gemm(transA: false, transB: true, m: N, n: GH, k: In, a: input!, lda: In,
                     b: params + lay.weightIH, ldb: In, beta: 1, c: g, ldc: GH)
            }
            // Recurrence.
            let whh = params + lay.weightHH
            switch config.cell {
            case .lstm:
                let c = cs[k].pointer, tc = tanhC[k].pointer
                for t in 0..<T {
                    let gt = g + t * B * GH
                    gemm(transA: false, transB: true, m: B, n: GH, k: H, a: h + t * B * H, lda: H,
                         b: whh, ldb: H, beta: 1, c: gt, ldc: GH)
                    lstmForwardStep(gates: gt, cPrev: c + t * B * H, cNext: c + (t + 1) * B * H,
                                    tanhC: tc + t * B * H, hNext: h + (t + 1) * B * H)
                }
            case .gru:
                let hg = hgs[k].pointer
                for t in 0..<T {
                    let hgt = hg + t * B * GH
                    charrnn_bias_gather(hgt, params + lay.biasHH, nil, inputs, B, GH)
                    gemm(transA: false, transB: true, m: B, n: GH, k: H, a: h + t * B * H, lda: H,
                         b: whh, ldb: H, beta: 1, c: hgt, ldc: GH)
                    gruForwardStep(gates: g + t * B * GH, hg: hgt, hPrev: h + t * B * H, hNext: h + (t + 1) * B * H)
                }
            case .rnn:
                for t in 0..<T {
                    let gt = g + t * B * GH
                    gemm(transA: false, transB: true, m: B, n: GH, k: H, a: h + t * B * H, lda: H,
                         b: whh, ldb: H, beta: 1, c: gt, ldc: GH)
                    rnnForwardStep(gates: gt, hNext: h + (t + 1) * B * H)
                }
            }
            // Carry the final state.
            stateH[k].withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: h + T * B * H, count: B * H) }
            if config.cell == .lstm {
                stateC[k].withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: cs[k].pointer + T * B * H, count: B * H) }
            }
            // Dropout on the layer's output.
            if usedDropout {
                let m = masks[k].pointer, d = dropped[k].pointer, out = h + B * H
                let scale = 1 / keep
                for i in 0..<(N * H) { m[i] = rng.uniformFloat() < keep ? scale : 0 }
                charrnn_mul_to(d, out, m, N * H)
            }
            input = UnsafePointer(output(k))
        }
        // Decoder: logits = top · W_dec^T + b_dec.
        let top = output(L - 1)
        let z = logits.pointer
        charrnn_bias_gather(z, params + layout.decoderBias, nil, inputs, N, V)
        gemm(transA: false, transB: true, m: N, n: V, k: H, a: top, lda: H,
             b: params + layout.decoderWeight, ldb: H, beta: 1, c: z, ldc: V)
        return softmaxCrossEntropy(logits: z, targets: targets, rows: N, classes: V, keepGradient: training)
    }

    /// Adds d loss / d params of the last training forward into `grads`.
    public func backward(params: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>) {
        let B = batch, T = seqLength
        let dz = logits.pointer
        // Decoder.
        let top = output(L - 1)
        gemm(transA: true, transB: false, m: V, n: H, k: N, a: dz, lda: V, b: top, ldb: H,
             beta: 1, c: grads + layout.decoderWeight, ldc: H)
        addColumnSums(dz, rows: N, cols: V, into: grads + layout.decoderBias)
        gemm(transA: false, transB: false, m: N, n: H, k: V, a: dz, lda: V, b: params + layout.decoderWeight, ldb: H,
             beta: 0, c: dH.pointer, ldc: H)
        for k in stride(from: L - 1, through: 0, by: -1) {
            let lay = layout.layers[k]
            let In = config.inputSize(layer: k)
            if usedDropout { charrnn_mul(dH.pointer, masks[k].pointer, N * H) }
            let h = hs[k].pointer, g = gates[k].pointer
            let dp = dPre.pointer
            let whh = params + lay.weightHH
            dhNext.pointer.update(repeating: 0, count: B * H)
            dcNext.pointer.update(repeating: 0, count: B * H)
            var dHH = dp
            switch config.cell {
            case .lstm:
                let c = cs[k].pointer, tc = tanhC[k].pointer
                for t in stride(from: T - 1, through: 0, by: -1) {
                    lstmBackwardStep(acts: g + t * B * GH, cPrev: c + t * B * H, tanhC: tc + t * B * H,
                                     dAbove: dH.pointer + t * B * H, dPre: dp + t * B * GH)
                    if t > 0 {
                        gemm(transA: false, transB: false, m: B, n: H, k: GH, a: dp + t * B * GH, lda: GH,
                             b: whh, ldb: H, beta: 0, c: dhNext.pointer, ldc: H)
                    }
                }
            case .gru:
                dHH = dPreHH.pointer
                let hg = hgs[k].pointer
                for t in stride(from: T - 1, through: 0, by: -1) {
                    gruBackwardStep(acts: g + t * B * GH, hg: hg + t * B * GH, hPrev: h + t * B * H,
                                    dAbove: dH.pointer + t * B * H, dPre: dp + t * B * GH, dPreHH: dHH + t * B * GH)
                    if t > 0 {
                        gemm(transA: false, transB: false, m: B, n: H, k: GH, a: dHH + t * B * GH, lda: GH,
                             b: whh, ldb: H, beta: 1, c: dhNext.pointer, ldc: H)
                    }
                }
            case .rnn:
                for t in stride(from: T - 1, through: 0, by: -1) {
                    rnnBackwardStep(acts: g + t * B * GH, dAbove: dH.pointer + t * B * H, dPre: dp + t * B * GH)
                    if t > 0 {
                        gemm(transA: false, transB: false, m: B, n: H, k: GH, a: dp + t * B * GH, lda: GH,
                             b: whh, ldb: H, beta: 0, c: dhNext.pointer, ldc: H)
                    }
                }
            }
            // Weight gradients, one GEMM each over all timesteps.
            gemm(transA: true, transB: false, m: GH, n: H, k: N, a: dHH, lda: GH, b: h, ldb: H,
                 beta: 1, c: grads + lay.weightHH, ldc: H)
            addColumnSums(dp, rows: N, cols: GH, into: grads + lay.biasIH)
            addColumnSums(dHH, rows: N, cols: GH, into: grads + lay.biasHH)
            if k == 0 && layout.encoder == nil {
                // One-hot: scatter rows of dPre into columns of dW_ih.
                let wt = weightT.pointer
                wt.update(repeating: 0, count: V * GH)
                charrnn_scatter_add(wt, dp, tokens, N, GH)
                let dw = grads + lay.weightIH
                for j in 0..<GH { for v in 0..<V { dw[j * V + v] += wt[v * GH + j] } }
            } else {
                let x: UnsafePointer<Float> = k == 0 ? UnsafePointer(embedded.pointer) : UnsafePointer(output(k - 1))
                gemm(transA: true, transB: false, m: GH, n: In, k: N, a: dp, lda: GH, b: x, ldb: In,
                     beta: 1, c: grads + lay.weightIH, ldc: In)
                gemm(transA: false, transB: false, m: N, n: In, k: GH, a: dp, lda: GH, b: params + lay.weightIH, ldb: In,
                     beta: 0, c: dX.pointer, ldc: In)
                if k > 0 {
                    dH.pointer.update(from: dX.pointer, count: N * H)
                } else if let enc = layout.encoder {
                    charrnn_scatter_add(grads + enc, dX.pointer, tokens, N, config.embeddingSize)
                }
            }
        }
    }

    // MARK: Fused step kernels (one timestep, all B rows; C in CSupport)

    @inline(__always)
    func lstmForwardStep(gates g: UnsafeMutablePointer<Float>, cPrev: UnsafePointer<Float>, cNext: UnsafeMutablePointer<Float>,
                         tanhC: UnsafeMutablePointer<Float>, hNext: UnsafeMutablePointer<Float>) {
        charrnn_lstm_forward(g, cPrev, cNext, tanhC, hNext, batch, H)
    }

    @inline(__always)
    func lstmBackwardStep(acts g: UnsafePointer<Float>, cPrev: UnsafePointer<Float>, tanhC: UnsafePointer<Float>,
                          dAbove: UnsafePointer<Float>, dPre: UnsafeMutablePointer<Float>) {
        charrnn_lstm_backward(g, cPrev, tanhC, dAbove, dhNext.pointer, dcNext.pointer, dPre, batch, H)
    }

    @inline(__always)
    func gruForwardStep(gates g: UnsafeMutablePointer<Float>, hg: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
                        hNext: UnsafeMutablePointer<Float>) {
        charrnn_gru_forward(g, hg, hPrev, hNext, batch, H)
    }

    @inline(__always)
    func gruBackwardStep(acts g: UnsafePointer<Float>, hg: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
                         dAbove: UnsafePointer<Float>, dPre: UnsafeMutablePointer<Float>, dPreHH: UnsafeMutablePointer<Float>) {
        charrnn_gru_backward(g, hg, hPrev, dAbove, dhNext.pointer, dPre, dPreHH, batch, H)
    }

    @inline(__always)
    func rnnForwardStep(gates g: UnsafeMutablePointer<Float>, hNext: UnsafeMutablePointer<Float>) {
        charrnn_rnn_forward(g, hNext, batch, H)
    }

    @inline(__always)
    func rnnBackwardStep(acts g: UnsafePointer<Float>, dAbove: UnsafePointer<Float>, dPre: UnsafeMutablePointer<Float>) {
        charrnn_rnn_backward(g, dAbove, dhNext.pointer, dPre, batch, H)
    }

    /// Logits of the last forward (before a training forward overwrote them
    /// with their gradient), (N, V).
    public func copyLogits() -> [Float] {
        Array(UnsafeBufferPointer(start: logits.pointer, count: N * V))
    }

    /// The dropout mask used for layer k's output in the last forward.
    public func dropoutMask(layer k: Int) -> [Float]? {
        usedDropout ? Array(UnsafeBufferPointer(start: masks[k].pointer, count: N * H)) : nil
    }
}

/// Adds the column sums of a (rows, cols) matrix into `into` (cols).
@inline(__always)
func addColumnSums(_ m: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
    charrnn_add_column_sums(m, rows, cols, out)
}

/// Mean cross-entropy of each row's softmax against its target; with
/// `keepGradient`, the logits are replaced by d loss / d logits
/// ((softmax - onehot) / rows). Accumulates in Double.
public func softmaxCrossEntropy(logits z: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>,
                                rows: Int, classes V: Int, keepGradient: Bool) -> Double {
    var total = 0.0
    let inv = 1 / Float(rows)
    for r in 0..<rows {
        let row = z + r * V
        let target = Int(targets[r])
        let targetLogit = Double(row[target])
        var mx = -Float.infinity
        for v in 0..<V { mx = max(mx, row[v]) }
        var sum: Float = 0
        var j = 0
        while j < V {
            let n = min(16, V - j)
            var e = simdExp(loadN(row + j, n) - mx)
            if n < 16 { for k in n..<16 { e[k] = 0 } }
            if keepGradient { storeN(e, row + j, n) }
            sum += e.sum()
            j += n
        }
        total += Double(mx) + log(Double(sum)) - targetLogit
        if keepGradient {
            let s = inv / sum
            for v in 0..<V { row[v] *= s }
            row[target] -= inv
        }
    }
    return total / Double(rows)
}
