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
    let biasSum: FloatBuffer      // (GH): the current layer's bias as its kernel adds it
    /// Which kernel makes each product (Backend/CPU/KernelPlan.swift).
    public let plan: KernelPlan
    /// Per layer W_hh and W_ih packed for charrnn_gemm_packed (transposed
    /// in forward, as they are in backward), once per pass instead of once
    /// per step; empty where the plan has no packed kernel for them.
    let packedHH: [FloatBuffer]
    let packedIH: [FloatBuffer]
    let tokensBuffer: UnsafeMutablePointer<Int32>  // (N) inputs of the last forward
    let blockLoss: UnsafeMutablePointer<Double>    // (blocks of decoderBlock rows) the decoder's loss sums
    let pool: WorkerPool
    var usedDropout = false
    /// This network's rows of a batch split across processes (dropout
    /// masks are drawn for the whole batch so the split changes nothing).
    public var share: BatchShare? = nil

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

    /// A network over `batch` rows; `plan` (default: KernelPlan.standard,
    /// not measured) says which kernel makes each product.
    public init(config: ModelConfig, batch: Int, seqLength: Int, threads: Int = 1, plan: KernelPlan? = nil) {
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
        let plan = plan ?? KernelPlan.standard(config: config)
        self.plan = plan
        let oneHotInput = config.embeddingSize == 0
        packedHH = plan.layers.map { p in FloatBuffer(p.forwardRecurrent.kernel != nil || p.backwardRecurrent.kernel != nil ? H * GH : 0) }
        packedIH = (0..<L).map { k in
            let p = plan.layers[k]
            let used = !(k == 0 && oneHotInput) && (p.forwardInput.kernel != nil || p.backwardInput.kernel != nil)
            return FloatBuffer(used ? config.inputSize(layer: k) * GH : 0)
        }
        tokensBuffer = .allocate(capacity: max(N, 1))
        tokensBuffer.initialize(repeating: 0, count: max(N, 1))
        let blocks = max((N + Self.decoderBlock - 1) / Self.decoderBlock, 1)
        blockLoss = .allocate(capacity: blocks)
        blockLoss.initialize(repeating: 0, count: blocks)
        self.pool = WorkerPool(threads: threads)
        dPre = FloatBuffer(N * GH)
        dPreHH = FloatBuffer(gru ? N * GH : 0)
        dH = FloatBuffer(N * H)
        dX = FloatBuffer(N * max(H, config.embeddingSize, 1))
        dhNext = FloatBuffer(batch * H)
        dcNext = FloatBuffer(batch * H)
        stateH = Array(repeating: Array(repeating: 0, count: batch * H), count: L)
        stateC = Array(repeating: Array(repeating: 0, count: batch * H), count: L)
    }

    deinit {
        tokensBuffer.deallocate()
        blockLoss.deallocate()
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
    /// d loss / d logits is kept for `backward`. Work is split over the
    /// pool's threads: rows for the big products, batch rows for the
    /// recurrence (rows of a batch never depend on each other).
    public func forward(params: UnsafePointer<Float>, inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>,
                        training: Bool, rng: inout RNG) -> Double {
        let B = batch, T = seqLength, H = self.H, GH = self.GH, V = self.V, N = self.N
        for r in 0..<N { tokensBuffer[r] = inputs[r] }
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
            let c = cs[k].pointer, tc = tanhC[k].pointer, hg = hgs[k].pointer
            // Carried state into slot 0.
            stateH[k].withUnsafeBufferPointer { h.update(from: $0.baseAddress!, count: B * H) }
            if config.cell == .lstm {
                stateC[k].withUnsafeBufferPointer { c.update(from: $0.baseAddress!, count: B * H) }
            }
            // The bias the cell's kernel adds to the input projections
            // (LSTM/RNN: both biases at once; GRU: b_ih, and b_hh goes with
            // the recurrent part).
            let bias = biasSum.pointer
            for j in 0..<GH {
                bias[j] = config.cell == .gru ? params[lay.biasIH + j] : params[lay.biasIH + j] + params[lay.biasHH + j]
            }
            let oneHot = k == 0 && layout.encoder == nil
            let wt = weightT.pointer
            if oneHot {
                // One-hot: gather columns of W_ih, through a transposed copy.
                let w = params + lay.weightIH
                for j in 0..<GH { for v in 0..<V { wt[v * GH + j] = w[j * V + v] } }
            }
            let x = input
            let lp = plan.layers[k]
            // Input projections step by step (their rows are then in cache
            // for the cell's kernel) unless the plan has OpenBLAS make them
            // for all timesteps at once; one-hot input is a row gather, step
            // by step where the recurrent product is packed (it then starts
            // from the gathered rows), else for all steps at once.
            let inputPath = oneHot ? (lp.forwardRecurrent.kernel != nil ? lp.forwardRecurrent : .blasWhole) : lp.forwardInput
            let stepInput = inputPath != .blasWhole
            let packedIn = inputPath.kernel != nil && !oneHot ? UnsafePointer(packedIH[k].pointer) : nil
            if let packedIn, let kernel = inputPath.kernel {
                charrnn_pack_panels(Int32(In), Int32(GH), params + lay.weightIH, In, 1, charrnn_gemm_kernel_panel(kernel),
                                    UnsafeMutablePointer(mutating: packedIn))
            }
            /// gt (rows×GH) = the input rows' projections (no bias).
            func project(_ r0: Int, _ nr: Int, _ gt: UnsafeMutablePointer<Float>) {
                if oneHot {
                    charrnn_bias_gather(gt, nil, wt, inputs + r0, nr, GH)
                } else if let packedIn, let kernel = inputPath.kernel {
                    charrnn_gemm_packed(kernel, Int32(nr), Int32(GH), Int32(In), x! + r0 * In, In, packedIn, gt, GH, 0)
                } else {
                    gemm(transA: false, transB: true, m: nr, n: GH, k: In, a: x! + r0 * In, lda: In,
                         b: params + lay.weightIH, ldb: In, beta: 0, c: gt, ldc: GH)
                }
            }
            if !stepInput {
                pool.split(N) { rows in project(rows.lowerBound, rows.count, g + rows.lowerBound * GH) }
            }
            // Recurrence: each thread runs every timestep for its batch rows.
            let whh = params + lay.weightHH, bhh = params + lay.biasHH
            let cell = config.cell
            let recKernel = lp.forwardRecurrent.kernel
            let packed = recKernel != nil ? UnsafePointer(packedHH[k].pointer) : nil
            if let packed, let recKernel {
                charrnn_pack_panels(Int32(H), Int32(GH), whh, H, 1, charrnn_gemm_kernel_panel(recKernel), UnsafeMutablePointer(mutating: packed))
            }
            /// gt (nb×GH) += hPrev (nb×H) · W_hh^T; with `ids`, gt = the
            /// one-hot rows of W_ih^T + hPrev · W_hh^T (packed weights only).
            func recurrent(_ nb: Int, _ hPrev: UnsafePointer<Float>, _ gt: UnsafeMutablePointer<Float>,
                           ids: UnsafePointer<Int32>? = nil) {
                if let packed, let recKernel, let ids {
                    charrnn_gemm_packed_gather(recKernel, Int32(nb), Int32(GH), Int32(H), hPrev, H, packed, gt, GH, wt, ids)
                } else if let packed, let recKernel {
                    charrnn_gemm_packed(recKernel, Int32(nb), Int32(GH), Int32(H), hPrev, H, packed, gt, GH, 1)
                } else {
                    gemm(transA: false, transB: true, m: nb, n: GH, k: H, a: hPrev, lda: H, b: whh, ldb: H, beta: 1, c: gt, ldc: GH)
                }
            }
            pool.split(B) { rows in
                let b0 = rows.lowerBound, nb = rows.count
                for t in 0..<T {
                    let gt = g + (t * B + b0) * GH
                    let hPrev = h + (t * B + b0) * H, hNext = h + ((t + 1) * B + b0) * H
                    // One-hot LSTM/RNN input with packed weights: the
                    // recurrent product starts from the gathered rows.
                    let r0 = t * B + b0
                    let gather = oneHot && stepInput && cell != .gru ? inputs + r0 : nil
                    if stepInput && gather == nil { project(r0, nb, gt) }
                    switch cell {
                    case .lstm:
                        recurrent(nb, hPrev, gt, ids: gather)
                        charrnn_lstm_forward(gt, bias, c + (t * B + b0) * H, c + ((t + 1) * B + b0) * H,
                                             tc + (t * B + b0) * H, hNext, nb, H)
                    case .gru:
                        let hgt = hg + (t * B + b0) * GH
                        charrnn_bias_gather(hgt, bhh, nil, inputs, nb, GH)
                        recurrent(nb, hPrev, hgt)
                        charrnn_gru_forward(gt, bias, hgt, hPrev, hNext, nb, H)
                    case .rnn:
                        recurrent(nb, hPrev, gt, ids: gather)
                        charrnn_rnn_forward(gt, bias, hNext, nb, H)
                    }
                }
            }
            // Carry the final state.
            stateH[k].withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: h + T * B * H, count: B * H) }
            if config.cell == .lstm {
                stateC[k].withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: c + T * B * H, count: B * H) }
            }
            // Dropout on the layer's output (one RNG stream, in order).
            if usedDropout {
                let m = masks[k].pointer, d = dropped[k].pointer, out = h + B * H
                let scale = 1 / keep
                drawDropout(rng: &rng, keepProbability: keep, steps: T, batch: B, width: H, share: share) { i, kept in
                    m[i] = kept ? scale : 0
                }
                charrnn_mul_to(d, out, m, N * H)
            }
            input = UnsafePointer(output(k))
        }
        // Decoder (logits = top · W_dec^T + b_dec) and the loss, in blocks
        // of rows shared out to the threads; each block's product and sum
        // are the same whatever the thread count (OpenBLAS may round a
        // row differently in a product of another height), and the blocks'
        // sums are added in order.
        let top = output(L - 1)
        let z = logits.pointer
        let parts = pool.count, blocks = (N + Self.decoderBlock - 1) / Self.decoderBlock
        let losses = blockLoss
        pool.run { part in
            for b in WorkerPool.range(blocks, parts: parts, part: part) {
                let r0 = b * Self.decoderBlock, rows = min(Self.decoderBlock, N - r0)
                gemm(transA: false, transB: true, m: rows, n: V, k: H, a: top + r0 * H, lda: H,
                     b: params + layout.decoderWeight, ldb: H, beta: 0, c: z + r0 * V, ldc: V)
                losses[b] = charrnn_softmax_xent(z + r0 * V, params + layout.decoderBias, targets + r0, rows, V,
                                                 training ? 1 / Float(N) : 0)
            }
        }
        var total = 0.0
        for b in 0..<blocks { total += losses[b] }
        return total / Double(N)
    }

    /// Rows per block of the decoder's product and loss.
    static let decoderBlock = 64

    /// Adds d loss / d params of the last training forward into `grads`.
    public func backward(params: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>) {
        let B = batch, T = seqLength, H = self.H, GH = self.GH, V = self.V, N = self.N
        let dz = logits.pointer
        let top = output(L - 1)
        let dHp = dH.pointer
        let parts = pool.count
        // Decoder: dW by output rows, bias by columns, d top by rows.
        pool.run { part in
            let vs = WorkerPool.range(V, parts: parts, part: part)
            if !vs.isEmpty {
                gemm(transA: true, transB: false, m: vs.count, n: H, k: N, a: dz + vs.lowerBound, lda: V, b: top, ldb: H,
                     beta: 1, c: grads + layout.decoderWeight + vs.lowerBound * H, ldc: H)
                charrnn_add_column_sums_ld(dz + vs.lowerBound, N, vs.count, V, grads + layout.decoderBias + vs.lowerBound)
            }
            let rows = WorkerPool.range(N, parts: parts, part: part)
            if !rows.isEmpty {
                gemm(transA: false, transB: false, m: rows.count, n: H, k: V, a: dz + rows.lowerBound * V, lda: V,
                     b: params + layout.decoderWeight, ldb: H, beta: 0, c: dHp + rows.lowerBound * H, ldc: H)
            }
        }
        for k in stride(from: L - 1, through: 0, by: -1) {
            let lay = layout.layers[k]
            let In = config.inputSize(layer: k)
            if usedDropout { charrnn_mul(dHp, masks[k].pointer, N * H) }
            let h = hs[k].pointer, g = gates[k].pointer
            let c = cs[k].pointer, tc = tanhC[k].pointer, hg = hgs[k].pointer
            let dp = dPre.pointer
            let dHH = config.cell == .gru ? dPreHH.pointer : dp
            let whh = params + lay.weightHH
            let dhn = dhNext.pointer, dcn = dcNext.pointer
            let cell = config.cell
            let lp = plan.layers[k]
            let recKernel = lp.backwardRecurrent.kernel
            let packed = recKernel != nil ? UnsafePointer(packedHH[k].pointer) : nil
            if let packed, let recKernel {
                charrnn_pack_panels(Int32(GH), Int32(H), whh, H, 0, charrnn_gemm_kernel_panel(recKernel), UnsafeMutablePointer(mutating: packed))
            }
            // d wrt the layer input (not for one-hot input): k > 0 straight
            // into dH for the layer below (each step's rows of dH are read
            // before they are overwritten). Step by step, or after the loop
            // for all steps at once (as the plan says).
            let oneHot = k == 0 && layout.encoder == nil
            let dx = k > 0 ? dHp : dX.pointer
            let stepInput = !oneHot && lp.backwardInput != .blasWhole
            let inKernel = oneHot ? nil : lp.backwardInput.kernel
            let packedIn = inKernel != nil ? UnsafePointer(packedIH[k].pointer) : nil
            if let packedIn, let inKernel {
                charrnn_pack_panels(Int32(GH), Int32(In), params + lay.weightIH, In, 0, charrnn_gemm_kernel_panel(inKernel),
                                    UnsafeMutablePointer(mutating: packedIn))
            }
            /// dh (nb×H) = (beta 1: +=) d (nb×GH) · W_hh
            func recurrent(_ nb: Int, _ d: UnsafePointer<Float>, _ dh: UnsafeMutablePointer<Float>, beta: Float) {
                if let packed, let recKernel {
                    charrnn_gemm_packed(recKernel, Int32(nb), Int32(H), Int32(GH), d, GH, packed, dh, H, beta == 0 ? 0 : 1)
                } else {
                    gemm(transA: false, transB: false, m: nb, n: H, k: GH, a: d, lda: GH, b: whh, ldb: H, beta: beta, c: dh, ldc: H)
                }
            }
            /// dx (nb×In) = d (nb×GH) · W_ih
            func inputGradient(_ nb: Int, _ d: UnsafePointer<Float>, _ dxt: UnsafeMutablePointer<Float>) {
                if let packedIn, let inKernel {
                    charrnn_gemm_packed(inKernel, Int32(nb), Int32(In), Int32(GH), d, GH, packedIn, dxt, In, 0)
                } else {
                    gemm(transA: false, transB: false, m: nb, n: In, k: GH, a: d, lda: GH, b: params + lay.weightIH, ldb: In,
                         beta: 0, c: dxt, ldc: In)
                }
            }
            // Back through time, each thread for its batch rows.
            pool.split(B) { rows in
                let b0 = rows.lowerBound, nb = rows.count
                (dhn + b0 * H).update(repeating: 0, count: nb * H)
                (dcn + b0 * H).update(repeating: 0, count: nb * H)
                for t in stride(from: T - 1, through: 0, by: -1) {
                    let o = (t * B + b0) * H, og = (t * B + b0) * GH
                    switch cell {
                    case .lstm:
                        charrnn_lstm_backward(g + og, c + o, tc + o, dHp + o, dhn + b0 * H, dcn + b0 * H, dp + og, nb, H)
                        if t > 0 { recurrent(nb, dp + og, dhn + b0 * H, beta: 0) }
                    case .gru:
                        charrnn_gru_backward(g + og, hg + og, h + o, dHp + o, dhn + b0 * H, dp + og, dHH + og, nb, H)
                        if t > 0 { recurrent(nb, dHH + og, dhn + b0 * H, beta: 1) }
                    case .rnn:
                        charrnn_rnn_backward(g + og, dHp + o, dhn + b0 * H, dp + og, nb, H)
                        if t > 0 { recurrent(nb, dp + og, dhn + b0 * H, beta: 0) }
                    }
                    if stepInput { inputGradient(nb, dp + og, dx + (t * B + b0) * In) }
                }
            }
            // Weight gradients, one GEMM each over all timesteps, split by
            // output rows (gate units); biases by columns (LSTM/RNN: both
            // biases get the same sums, summed once).
            let x: UnsafePointer<Float>? = oneHot ? nil : (k == 0 ? UnsafePointer(embedded.pointer) : UnsafePointer(output(k - 1)))
            let wt = weightT.pointer
            let ids = UnsafePointer(tokensBuffer)
            pool.split(GH) { js in
                let j0 = js.lowerBound, nj = js.count
                gemm(transA: true, transB: false, m: nj, n: H, k: N, a: dHH + j0, lda: GH, b: h, ldb: H,
                     beta: 1, c: grads + lay.weightHH + j0 * H, ldc: H)
                if dHH == dp {
                    let sums = biasSum.pointer + j0
                    sums.update(repeating: 0, count: nj)
                    charrnn_add_column_sums_ld(dp + j0, N, nj, GH, sums)
                    for j in 0..<nj {
                        grads[lay.biasIH + j0 + j] += sums[j]
                        grads[lay.biasHH + j0 + j] += sums[j]
                    }
                } else {
                    charrnn_add_column_sums_ld(dp + j0, N, nj, GH, grads + lay.biasIH + j0)
                    charrnn_add_column_sums_ld(dHH + j0, N, nj, GH, grads + lay.biasHH + j0)
                }
                if oneHot {
                    // Scatter rows of dPre into columns of dW_ih (via W^T).
                    for v in 0..<V { (wt + v * GH + j0).update(repeating: 0, count: nj) }
                    charrnn_scatter_add_ld(wt + j0, GH, dp + j0, GH, ids, N, nj)
                    let dw = grads + lay.weightIH
                    for j in js { for v in 0..<V { dw[j * V + v] += wt[v * GH + j] } }
                } else {
                    gemm(transA: true, transB: false, m: nj, n: In, k: N, a: dp + j0, lda: GH, b: x!, ldb: In,
                         beta: 1, c: grads + lay.weightIH + j0 * In, ldc: In)
                }
            }
            if !oneHot {
                if !stepInput {
                    pool.split(N) { rows in inputGradient(rows.count, dp + rows.lowerBound * GH, dx + rows.lowerBound * In) }
                }
                if k == 0, let enc = layout.encoder {
                    charrnn_scatter_add(grads + enc, dx, ids, N, config.embeddingSize)
                }
            }
        }
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

/// Summed cross-entropy of each row's softmax against its target; with a
/// `gradientScale`, the logits are replaced by (softmax - onehot) · scale
/// (scale = 1 / total rows gives the gradient of the mean). Accumulates in
/// Double.
public func softmaxCrossEntropySum(logits z: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>,
                                   rows: Int, classes V: Int, gradientScale: Float?) -> Double {
    charrnn_softmax_xent(z, nil, targets, rows, V, gradientScale ?? 0)
}
