// The CPU's implementation of the network's operations (NetworkOps.swift):
// the per-step products through the kernel plan (KernelPlan.swift: packed
// weights for charrnn's kernels, or OpenBLAS), the C kernels of kernels.h
// for the element-wise work, the batch's rows split over a thread pool for
// the step loop, and the large products (all steps at once, the weight
// gradients, the decoder) split by rows or columns over the same pool.
// A product of one row (sampling one stream) is a matrix-vector product,
// split over a spinning team when the weights are large.
// Shapes as in RecurrentNetwork.swift.
#if canImport(Glibc)
import Glibc
#endif
import CSupport

/// A buffer of floats in host memory, owned by the CPUOps that made it (or
/// a view of the caller's parameters).
public struct CPUFloats {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    public init(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        self.pointer = pointer
        self.count = count
    }
    @inline(__always) public subscript(_ offset: Int) -> UnsafeMutablePointer<Float> { pointer + offset }
}

/// Token ids in host memory.
public struct CPUIds {
    public let pointer: UnsafeMutablePointer<Int32>
}

public final class CPUOps: NetworkOps {
    public typealias Floats = CPUFloats
    public typealias Ids = CPUIds

    let config: ModelConfig
    let layout: ParamLayout
    let H: Int, GH: Int, V: Int, L: Int
    /// Rows of the network's batch and steps (the largest N).
    let batch: Int, steps: Int
    public let plan: KernelPlan
    /// Splits the step loop's rows and the large products.
    let pool: WorkerPool
    /// Splits a one-row product's output (sampling large models).
    let team: SpinTeam?
    /// Every buffer this object made (freed with it).
    private var storage: [FloatBuffer] = []
    private var idStorage: [UnsafeMutablePointer<Int32>] = []

    /// Layer-0 W_ih transposed, (V, GH): a one-hot input's projection is a row.
    let weightT: FloatBuffer
    /// Per layer W_hh and W_ih packed for charrnn_gemm_packed (transposed in
    /// forward, as they are in backward); empty where the plan has no
    /// packed kernel for them.
    let packedHH: [FloatBuffer]
    let packedIH: [FloatBuffer]
    /// Per layer, the dropout multipliers of the last training pass (N, H).
    let masks: [FloatBuffer]
    /// The decoder's loss per block of rows.
    let blockLoss: UnsafeMutablePointer<Double>
    /// Scratch for the bias sums of the weight gradients (GH).
    let biasSums: FloatBuffer
    /// What is derived from the weights, per layer: made for forward / backward.
    var preparedForward: [Bool]
    var preparedBackward: [Bool]

    /// Rows per block of the decoder's product and loss: each block's
    /// result is the same whatever the thread count (OpenBLAS may round a
    /// row differently in a product of another height).
    static let decoderBlock = 64

    /// Ops for a network of `batch` rows and up to `steps` steps. `plan`
    /// (default KernelPlan.standard) chooses each product's kernel;
    /// `threads` split the work; `team` (sampling, one row) splits products
    /// of weights of at least Sampler.splitFromBytes.
    public init(config: ModelConfig, batch: Int, steps: Int, threads: Int = 1, plan: KernelPlan? = nil,
                team: SpinTeam? = nil, training: Bool = true) {
        self.config = config
        self.layout = ParamLayout(config)
        let H = config.rnnSize, GH = config.cell.gates * config.rnnSize, L = config.numLayers
        self.H = H; self.GH = GH; self.V = config.vocabSize; self.L = L
        self.batch = batch
        self.steps = steps
        let plan = plan ?? KernelPlan.standard(config: config)
        self.plan = plan
        pool = WorkerPool(threads: threads)
        self.team = team
        let oneHot = config.embeddingSize == 0
        weightT = FloatBuffer(oneHot ? config.vocabSize * GH : 0)
        packedHH = plan.layers.map { p in
            FloatBuffer(p.forwardRecurrent.kernel != nil || p.backwardRecurrent.kernel != nil ? H * GH : 0)
        }
        packedIH = (0..<L).map { k in
            let p = plan.layers[k]
            let used = !(k == 0 && oneHot) && (p.forwardInput.kernel != nil || p.backwardInput.kernel != nil)
            return FloatBuffer(used ? config.inputSize(layer: k) * GH : 0)
        }
        let N = batch * steps
        masks = (0..<L).map { _ in FloatBuffer(training && config.dropout > 0 ? N * H : 0) }
        let blocks = max((N + Self.decoderBlock - 1) / Self.decoderBlock, 1)
        blockLoss = .allocate(capacity: blocks)
        blockLoss.initialize(repeating: 0, count: blocks)
        biasSums = FloatBuffer(GH)
        preparedForward = Array(repeating: false, count: L)
        preparedBackward = Array(repeating: false, count: L)
    }

    deinit {
        blockLoss.deallocate()
        for p in idStorage { p.deallocate() }
    }

    // ---- Memory ----------------------------------------------------------------

    public func floats(_ count: Int, _ what: String) throws -> CPUFloats {
        let b = FloatBuffer(count)
        storage.append(b)
        return CPUFloats(b.pointer, count: count)
    }

    public func ids(_ count: Int, _ what: String) throws -> CPUIds {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        idStorage.append(p)
        return CPUIds(pointer: p)
    }

    public func upload(_ ids: UnsafePointer<Int32>, count: Int, to: CPUIds) throws {
        to.pointer.update(from: ids, count: count)
    }

    public func upload(_ values: UnsafePointer<Float>, count: Int, to: CPUFloats, at: Int) throws {
        to[at].update(from: values, count: count)
    }

    public func download(_ from: CPUFloats, at: Int, count: Int, into: UnsafeMutablePointer<Float>) throws {
        into.update(from: from[at], count: count)
    }

    public func copy(_ from: CPUFloats, at: Int, to: CPUFloats, at toAt: Int, count: Int) throws {
        to[toAt].update(from: from[at], count: count)
    }

    public func zero(_ buffer: CPUFloats, at: Int, count: Int) throws {
        buffer[at].update(repeating: 0, count: count)
    }

    // ---- Work split ------------------------------------------------------------

    public func rowBlocks(_ batch: Int, _ body: (Int, Int) throws -> Void) throws {
        // The CPU's operations never throw; a body that does stops its block.
        var failure: Error? = nil
        pool.split(batch) { rows in
            do { try body(rows.lowerBound, rows.count) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    // ---- Forward ---------------------------------------------------------------

    public func prepareForward(layer k: Int, params: CPUFloats, bias: CPUFloats) throws {
        if preparedForward[k] { return }
        preparedForward[k] = true
        let lay = layout.layers[k], p = params.pointer, GH = self.GH
        // LSTM/RNN: both biases at once; GRU: b_ih (b_hh goes with the recurrent part).
        for j in 0..<GH {
            bias.pointer[j] = config.cell == .gru ? p[lay.biasIH + j] : p[lay.biasIH + j] + p[lay.biasHH + j]
        }
        let lp = plan.layers[k], In = config.inputSize(layer: k)
        if k == 0 && layout.encoder == nil {
            // One-hot: gather columns of W_ih, through a transposed copy.
            let w = p + lay.weightIH, wt = weightT.pointer, V = self.V
            for j in 0..<GH { for v in 0..<V { wt[v * GH + j] = w[j * V + v] } }
        } else if let kernel = lp.forwardInput.kernel {
            charrnn_pack_panels(Int32(In), Int32(GH), p + lay.weightIH, In, 1, charrnn_gemm_kernel_panel(kernel), packedIH[k].pointer)
        }
        if let kernel = lp.forwardRecurrent.kernel {
            charrnn_pack_panels(Int32(H), Int32(GH), p + lay.weightHH, H, 1, charrnn_gemm_kernel_panel(kernel), packedHH[k].pointer)
        }
        // The backward packs share these buffers.
        preparedBackward[k] = false
    }

    public func inputByStep(layer k: Int) -> Bool {
        let lp = plan.layers[k]
        if k == 0 && layout.encoder == nil { return lp.forwardRecurrent.kernel != nil }
        return lp.forwardInput != .blasWhole
    }

    public func inputProduct(layer k: Int, params: CPUFloats, input: LayerInput<CPUFloats, CPUIds>, row: Int, rows: Int,
                             into out: CPUFloats, at: Int) throws {
        let lay = layout.layers[k], In = config.inputSize(layer: k), GH = self.GH
        let whole = rows > batch
        switch input {
        case .oneHot(let ids):
            let wt = weightT.pointer
            if whole {
                pool.split(rows) { r in charrnn_bias_gather(out[at + r.lowerBound * GH], nil, wt, ids.pointer + row + r.lowerBound, r.count, GH) }
            } else {
                charrnn_bias_gather(out[at], nil, wt, ids.pointer + row, rows, GH)
            }
        case .dense(let x, let xAt):
            let path = plan.layers[k].forwardInput
            if whole {
                pool.split(rows) { r in
                    gemm(transA: false, transB: true, m: r.count, n: GH, k: In, a: x[xAt + (row + r.lowerBound) * In], lda: In,
                         b: params[lay.weightIH], ldb: In, beta: 0, c: out[at + r.lowerBound * GH], ldc: GH)
                }
            } else {
                product(path, packed: packedIH[k], m: rows, n: GH, k: In, a: x[xAt + row * In], w: params[lay.weightIH],
                        transposedW: true, c: out[at], accumulate: false)
            }
        }
    }

    public func recurrentProduct(layer k: Int, params: CPUFloats, h: CPUFloats, at hAt: Int, rows: Int,
                                 start: ProductStart<CPUIds>, into out: CPUFloats, at: Int) throws {
        let lay = layout.layers[k], path = plan.layers[k].forwardRecurrent, GH = self.GH
        let c = out[at]
        switch start {
        case .oneHotInput(let ids, let row):
            if let kernel = path.kernel, team == nil || rows > 1 {
                charrnn_gemm_packed_gather(kernel, Int32(rows), Int32(GH), Int32(H), h[hAt], H, packedHH[k].pointer, c, GH,
                                           weightT.pointer, ids.pointer + row)
                return
            }
            charrnn_bias_gather(c, nil, weightT.pointer, ids.pointer + row, rows, GH)
        case .bias(let offset):
            charrnn_bias_gather(c, params[offset], nil, nil, rows, GH)
        case .accumulate:
            break
        }
        product(path, packed: packedHH[k], m: rows, n: GH, k: H, a: h[hAt], w: params[lay.weightHH], transposedW: true,
                c: c, accumulate: true)
    }

    /// c (m×n) (+)= a (m×k) · W' on `path`: W' = W^T (W n×k, transposedW) or
    /// W (k×n); the packed copy of W' for a packed kernel. One row with a
    /// team: W's rows split over it (matrix-vector products).
    @inline(__always)
    func product(_ path: ProductPath, packed: FloatBuffer, m: Int, n: Int, k: Int, a: UnsafePointer<Float>,
                 w: UnsafePointer<Float>, transposedW: Bool, c: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if m == 1 && transposedW && (team != nil || path.kernel == nil) {
            // c = W a: one matrix-vector product, its rows over the team.
            let body = { (part: Int) in
                let rows = self.teamRows(n, part: part)
                if rows.isEmpty { return }
                gemv(m: rows.count, n: k, a: w + rows.lowerBound * k, lda: k, x: a, beta: accumulate ? 1 : 0, y: c + rows.lowerBound)
            }
            if let team, team.count > 1 { team.run(body) } else { body(0) }
            return
        }
        if let kernel = path.kernel {
            charrnn_gemm_packed(kernel, Int32(m), Int32(n), Int32(k), a, k, packed.pointer, c, n, accumulate ? 1 : 0)
        } else {
            gemm(transA: false, transB: transposedW, m: m, n: n, k: k, a: a, lda: k, b: w, ldb: transposedW ? k : n,
                 beta: accumulate ? 1 : 0, c: c, ldc: n)
        }
    }

    /// Part `part` of m output rows for the team, in blocks of 16.
    @inline(__always)
    func teamRows(_ m: Int, part: Int) -> Range<Int> {
        let parts = team?.count ?? 1
        if parts == 1 { return 0..<m }
        let per = ((m + parts - 1) / parts + 15) & ~15
        let start = min(m, part * per)
        return start..<(part == parts - 1 ? m : min(m, start + per))
    }

    public func gatherRows(params: CPUFloats, table: Int, ids: CPUIds, row: Int, rows: Int, width: Int,
                           into out: CPUFloats, at: Int) throws {
        for r in 0..<rows {
            out[at + r * width].update(from: params[table + Int(ids.pointer[row + r]) * width], count: width)
        }
    }

    public func lstmForward(gates: CPUFloats, at g: Int, bias: CPUFloats, c: CPUFloats, prev cp: Int, next cn: Int,
                            tanhC: CPUFloats, at tc: Int, h: CPUFloats, next hn: Int, rows: Int) throws {
        charrnn_lstm_forward(gates[g], bias.pointer, c[cp], c[cn], tanhC[tc], h[hn], rows, H)
    }

    public func gruForward(xg: CPUFloats, at x: Int, bias: CPUFloats, hg: CPUFloats, at hgAt: Int, h: CPUFloats, prev hp: Int,
                           next hn: Int, rows: Int) throws {
        charrnn_gru_forward(xg[x], bias.pointer, hg[hgAt], h[hp], h[hn], rows, H)
    }

    public func rnnForward(pre: CPUFloats, at p: Int, bias: CPUFloats, h: CPUFloats, next hn: Int, rows: Int) throws {
        charrnn_rnn_forward(pre[p], bias.pointer, h[hn], rows, H)
    }

    public func dropout(layer k: Int, keep: Float, rng: inout RNG, steps: Int, batch: Int, share: BatchShare?,
                        input: CPUFloats, at: Int, into out: CPUFloats, count: Int) throws {
        let m = masks[k].pointer, scale = 1 / keep
        drawDropout(rng: &rng, keepProbability: keep, steps: steps, batch: batch, width: H, share: share) { i, kept in
            m[i] = kept ? scale : 0
        }
        charrnn_mul_to(out.pointer, input[at], m, count)
    }

    public func decoder(params: CPUFloats, top: CPUFloats, at: Int, rows: Int, logits: CPUFloats, targets: CPUIds?,
                        gradientScale: Float?) throws -> Double {
        let V = self.V, H = self.H, z = logits.pointer
        let w = params[layout.decoderWeight], b = params[layout.decoderBias]
        guard let targets else {
            // Logits only (sampling): z = b + top · W^T.
            for r in 0..<rows { (z + r * V).update(from: b, count: V) }
            product(.blasStep, packed: biasSums, m: rows, n: V, k: H, a: top[at], w: w, transposedW: true, c: z, accumulate: true)
            return 0
        }
        // In blocks of rows shared out to the threads; the blocks' sums
        // are added in order.
        let parts = pool.count, blocks = (rows + Self.decoderBlock - 1) / Self.decoderBlock
        let losses = blockLoss, scale = gradientScale ?? 0
        pool.run { part in
            for blk in WorkerPool.range(blocks, parts: parts, part: part) {
                let r0 = blk * Self.decoderBlock, n = min(Self.decoderBlock, rows - r0)
                gemm(transA: false, transB: true, m: n, n: V, k: H, a: top[at + r0 * H], lda: H, b: w, ldb: H,
                     beta: 0, c: z + r0 * V, ldc: V)
                losses[blk] = charrnn_softmax_xent(z + r0 * V, b, targets.pointer + r0, n, V, scale)
            }
        }
        var total = 0.0
        for blk in 0..<blocks { total += losses[blk] }
        return total
    }

    // ---- Backward --------------------------------------------------------------

    public func decoderBackward(params: CPUFloats, grads: CPUFloats, dz: CPUFloats, top: CPUFloats, at: Int, rows N: Int,
                                into dTop: CPUFloats) throws {
        let V = self.V, H = self.H, parts = pool.count
        let g = grads.pointer, z = dz.pointer, t = top[at]
        // dW by output rows, the bias by columns, d top by rows.
        pool.run { part in
            let vs = WorkerPool.range(V, parts: parts, part: part)
            if !vs.isEmpty {
                gemm(transA: true, transB: false, m: vs.count, n: H, k: N, a: z + vs.lowerBound, lda: V, b: t, ldb: H,
                     beta: 1, c: g + self.layout.decoderWeight + vs.lowerBound * H, ldc: H)
                charrnn_add_column_sums_ld(z + vs.lowerBound, N, vs.count, V, g + self.layout.decoderBias + vs.lowerBound)
            }
            let rows = WorkerPool.range(N, parts: parts, part: part)
            if !rows.isEmpty {
                gemm(transA: false, transB: false, m: rows.count, n: H, k: V, a: z + rows.lowerBound * V, lda: V,
                     b: params[self.layout.decoderWeight], ldb: H, beta: 0, c: dTop[rows.lowerBound * H], ldc: H)
            }
        }
    }

    public func dropoutBackward(layer k: Int, d: CPUFloats, count: Int) throws {
        charrnn_mul(d.pointer, masks[k].pointer, count)
    }

    public func prepareBackward(layer k: Int, params: CPUFloats) throws {
        if preparedBackward[k] { return }
        preparedBackward[k] = true
        let lay = layout.layers[k], lp = plan.layers[k], p = params.pointer, In = config.inputSize(layer: k)
        if let kernel = lp.backwardRecurrent.kernel {
            charrnn_pack_panels(Int32(GH), Int32(H), p + lay.weightHH, H, 0, charrnn_gemm_kernel_panel(kernel), packedHH[k].pointer)
        }
        if !(k == 0 && layout.encoder == nil), let kernel = lp.backwardInput.kernel {
            charrnn_pack_panels(Int32(GH), Int32(In), p + lay.weightIH, In, 0, charrnn_gemm_kernel_panel(kernel), packedIH[k].pointer)
        }
        // The forward packs share these buffers.
        preparedForward[k] = false
    }

    public func inputGradientByStep(layer k: Int) -> Bool { plan.layers[k].backwardInput != .blasWhole }

    public func lstmBackward(acts: CPUFloats, at a: Int, c: CPUFloats, prev cp: Int, tanhC: CPUFloats, at tc: Int,
                             dAbove: CPUFloats, at da: Int, dhNext: CPUFloats, dcNext: CPUFloats, at dn: Int,
                             dPre: CPUFloats, at dp: Int, rows: Int) throws {
        charrnn_lstm_backward(acts[a], c[cp], tanhC[tc], dAbove[da], dhNext[dn], dcNext[dn], dPre[dp], rows, H)
    }

    public func gruBackward(acts: CPUFloats, at a: Int, hg: CPUFloats, at hgAt: Int, h: CPUFloats, prev hp: Int,
                            dAbove: CPUFloats, at da: Int, dhNext: CPUFloats, at dn: Int, dX: CPUFloats, dH: CPUFloats, at dp: Int,
                            rows: Int) throws {
        charrnn_gru_backward(acts[a], hg[hgAt], h[hp], dAbove[da], dhNext[dn], dX[dp], dH[dp], rows, H)
    }

    public func rnnBackward(acts: CPUFloats, at a: Int, dAbove: CPUFloats, at da: Int, dhNext: CPUFloats, at dn: Int,
                            dPre: CPUFloats, at dp: Int, rows: Int) throws {
        charrnn_rnn_backward(acts[a], dAbove[da], dhNext[dn], dPre[dp], rows, H)
    }

    public func recurrentGradient(layer k: Int, params: CPUFloats, d: CPUFloats, at: Int, rows: Int, accumulate: Bool,
                                  into dh: CPUFloats, at dhAt: Int) throws {
        product(plan.layers[k].backwardRecurrent, packed: packedHH[k], m: rows, n: H, k: GH, a: d[at],
                w: params[layout.layers[k].weightHH], transposedW: false, c: dh[dhAt], accumulate: accumulate)
    }

    public func inputGradient(layer k: Int, params: CPUFloats, d: CPUFloats, at: Int, rows: Int, into dx: CPUFloats,
                              at dxAt: Int) throws {
        let In = config.inputSize(layer: k), GH = self.GH, w = params[layout.layers[k].weightIH]
        if rows > batch {  // all steps at once, split by rows
            pool.split(rows) { r in
                gemm(transA: false, transB: false, m: r.count, n: In, k: GH, a: d[at + r.lowerBound * GH], lda: GH,
                     b: w, ldb: In, beta: 0, c: dx[dxAt + r.lowerBound * In], ldc: In)
            }
            return
        }
        product(plan.layers[k].backwardInput, packed: packedIH[k], m: rows, n: In, k: GH, a: d[at], w: w,
                transposedW: false, c: dx[dxAt], accumulate: false)
    }

    public func weightGradients(layer k: Int, grads: CPUFloats, dPre: CPUFloats, dHH: CPUFloats, h: CPUFloats,
                                input: LayerInput<CPUFloats, CPUIds>, rows N: Int) throws {
        let lay = layout.layers[k], GH = self.GH, H = self.H, V = self.V, In = config.inputSize(layer: k)
        let g = grads.pointer, dp = dPre.pointer, dhh = dHH.pointer, wt = weightT.pointer, sums0 = biasSums.pointer
        let shared = dp == dhh
        // One product per weight over all steps, split by output rows (gate
        // units); biases by columns (LSTM/RNN: both biases get the same
        // sums, summed once).
        pool.split(GH) { js in
            let j0 = js.lowerBound, nj = js.count
            gemm(transA: true, transB: false, m: nj, n: H, k: N, a: dhh + j0, lda: GH, b: h.pointer, ldb: H,
                 beta: 1, c: g + lay.weightHH + j0 * H, ldc: H)
            if shared {
                let sums = sums0 + j0
                sums.update(repeating: 0, count: nj)
                charrnn_add_column_sums_ld(dp + j0, N, nj, GH, sums)
                for j in 0..<nj {
                    g[lay.biasIH + j0 + j] += sums[j]
                    g[lay.biasHH + j0 + j] += sums[j]
                }
            } else {
                charrnn_add_column_sums_ld(dp + j0, N, nj, GH, g + lay.biasIH + j0)
                charrnn_add_column_sums_ld(dhh + j0, N, nj, GH, g + lay.biasHH + j0)
            }
            switch input {
            case .oneHot(let ids):
                // Scatter rows of dPre into columns of dW_ih (via W^T).
                for v in 0..<V { (wt + v * GH + j0).update(repeating: 0, count: nj) }
                charrnn_scatter_add_ld(wt + j0, GH, dp + j0, GH, ids.pointer, N, nj)
                let dw = g + lay.weightIH
                for j in js { for v in 0..<V { dw[j * V + v] += wt[v * GH + j] } }
            case .dense(let x, let xAt):
                gemm(transA: true, transB: false, m: nj, n: In, k: N, a: dp + j0, lda: GH, b: x[xAt], ldb: In,
                     beta: 1, c: g + lay.weightIH + j0 * In, ldc: In)
            }
        }
        // The scatter used weightT as scratch: the forward's transpose is gone.
        if case .oneHot = input { preparedForward[k] = false }
    }

    public func scatterRows(grads: CPUFloats, table: Int, src: CPUFloats, ids: CPUIds, rows: Int, width: Int) throws {
        charrnn_scatter_add(grads[table], src.pointer, ids.pointer, rows, width)
    }

    public func weightsChanged() {
        for k in 0..<L { preparedForward[k] = false; preparedBackward[k] = false }
    }

    /// Layer k's dropout multipliers of the last training pass (tests).
    public func dropoutMask(layer k: Int, count: Int) -> [Float]? {
        masks[k].count == 0 ? nil : Array(UnsafeBufferPointer(start: masks[k].pointer, count: count))
    }
}

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
