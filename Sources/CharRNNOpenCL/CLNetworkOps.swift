// The OpenCL device's implementation of the network's operations
// (CharRNNCore's NetworkOps): every buffer on the device, the products by
// CLBlast, the element-wise work as the kernels of CLKernelSource.swift.
// The whole batch is one block (the device is the parallelism) and the
// input products are made for all steps at once. Dropout masks are drawn
// on the host from the same RNG stream as the CPU's (so a run matches the
// CPU's) and uploaded as bytes once per layer.
import CharRNNCore

public final class CLNetworkOps: NetworkOps {
    public typealias Floats = CLBuffer<Float>
    public typealias Ids = CLBuffer<Int32>

    let cl: CLContext
    let ops: CLOps
    let config: ModelConfig
    let layout: ParamLayout
    let H: Int, GH: Int, V: Int, L: Int, N: Int
    /// Dropout masks of every layer, (L, N, H) bytes: 1 = keep.
    let masks: ByteBuf
    var hostMask: [UInt8]
    /// Per-row losses and their sum (two floats: hi + lo).
    let rowLoss: FloatBuf
    let lossSum: FloatBuf
    var hostLoss: [Float] = [0, 0]
    /// Ids to pass where a kernel reads none.
    let noIds: IntBuf

    /// Ops for a network of `batch` rows and up to `steps` steps.
    public init(context: CLContext, config: ModelConfig, batch: Int, steps: Int, training: Bool = true) throws {
        cl = context
        ops = CLOps(cl: context)
        self.config = config
        layout = ParamLayout(config)
        H = config.rnnSize; GH = config.cell.gates * config.rnnSize; V = config.vocabSize; L = config.numLayers
        N = batch * steps
        let dropout = training && config.dropout > 0
        masks = try ByteBuf(context, count: dropout ? L * N * H : 0, name: "the dropout masks")
        hostMask = [UInt8](repeating: 0, count: dropout ? N * H : 0)
        rowLoss = try FloatBuf(context, count: N, name: "the row losses")
        lossSum = try FloatBuf(context, count: 2, name: "the loss")
        noIds = try IntBuf(context, count: 1, name: "no ids")
    }

    public var deviceLabel: String { cl.info.label }

    // ---- Memory ----------------------------------------------------------------

    public func floats(_ count: Int, _ what: String) throws -> FloatBuf { try FloatBuf(cl, count: count, name: what) }
    public func ids(_ count: Int, _ what: String) throws -> IntBuf { try IntBuf(cl, count: count, name: what) }

    public func upload(_ ids: UnsafePointer<Int32>, count: Int, to: IntBuf) throws { try to.write(ids, count: count) }

    public func upload(_ values: UnsafePointer<Float>, count: Int, to: FloatBuf, at: Int) throws {
        try to.write(values, count: count, at: at)
    }

    public func download(_ from: FloatBuf, at: Int, count: Int, into: UnsafeMutablePointer<Float>) throws {
        try from.read(into: into, count: count, at: at)
    }

    public func copy(_ from: FloatBuf, at: Int, to: FloatBuf, at toAt: Int, count: Int) throws {
        try clCopy(from, at: at, to: to, at: toAt, count: count)
    }

    public func zero(_ buffer: FloatBuf, at: Int, count: Int) throws { try buffer.zero(count: count, at: at) }

    public func rowBlocks(_ batch: Int, _ body: (Int, Int) throws -> Void) throws { try body(0, batch) }

    // ---- Forward ---------------------------------------------------------------

    public func prepareForward(layer k: Int, params: FloatBuf, bias: FloatBuf) throws {
        let lay = layout.layers[k]
        try ops.biasRows(bias, 0, params: params, bias1: lay.biasIH, bias2: config.cell == .gru ? nil : lay.biasHH,
                         oneHot: nil, ids: noIds, rows: 1, width: GH)
    }

    public func inputByStep(layer k: Int) -> Bool { false }

    public func inputProduct(layer k: Int, params: FloatBuf, input: LayerInput<FloatBuf, IntBuf>, row: Int, rows: Int,
                             into out: FloatBuf, at: Int) throws {
        let lay = layout.layers[k], In = config.inputSize(layer: k)
        switch input {
        case .oneHot(let ids):
            try ops.biasRows(out, at, params: params, bias1: nil, bias2: nil, oneHot: (lay.weightIH, V), ids: ids, row,
                             rows: rows, width: GH)
        case .dense(let x, let xAt):
            try cl.gemm(transA: false, transB: true, m: rows, n: GH, k: In, a: x, xAt + row * In, lda: In,
                        b: params, lay.weightIH, ldb: In, beta: 0, c: out, at, ldc: GH)
        }
    }

    public func recurrentProduct(layer k: Int, params: FloatBuf, h: FloatBuf, at hAt: Int, rows: Int,
                                 start: ProductStart<IntBuf>, into out: FloatBuf, at: Int) throws {
        let lay = layout.layers[k]
        switch start {
        case .accumulate: break
        case .oneHotInput(let ids, let row):
            try ops.biasRows(out, at, params: params, bias1: nil, bias2: nil, oneHot: (lay.weightIH, V), ids: ids, row,
                             rows: rows, width: GH)
        case .bias(let offset):
            try ops.biasRows(out, at, params: params, bias1: offset, bias2: nil, oneHot: nil, ids: noIds, rows: rows, width: GH)
        }
        try cl.gemm(transA: false, transB: true, m: rows, n: GH, k: H, a: h, hAt, lda: H, b: params, lay.weightHH, ldb: H,
                    beta: 1, c: out, at, ldc: GH)
    }

    public func gatherRows(params: FloatBuf, table: Int, ids: IntBuf, row: Int, rows: Int, width: Int, into out: FloatBuf,
                           at: Int) throws {
        try ops.gatherRows(out, at, params: params, table: table, ids: ids, row, rows: rows, width: width)
    }

    public func lstmForward(gates: FloatBuf, at g: Int, bias: FloatBuf, c: FloatBuf, prev cp: Int, next cn: Int,
                            tanhC: FloatBuf, at tc: Int, h: FloatBuf, next hn: Int, rows: Int) throws {
        try ops.lstmForward(gates: gates, g, bias: bias, c: c, cPrev: cp, cNext: cn, tanhC: tanhC, tc, h: h, hNext: hn,
                            rows: rows, H: H)
    }

    public func gruForward(xg: FloatBuf, at x: Int, bias: FloatBuf, hg: FloatBuf, at hgAt: Int, h: FloatBuf, prev hp: Int,
                           next hn: Int, rows: Int) throws {
        try ops.gruForward(xg: xg, x, bias: bias, hg: hg, hgAt, h: h, hPrev: hp, hNext: hn, rows: rows, H: H)
    }

    public func rnnForward(pre: FloatBuf, at p: Int, bias: FloatBuf, h: FloatBuf, next hn: Int, rows: Int) throws {
        try ops.rnnForward(pre: pre, p, bias: bias, h: h, hNext: hn, rows: rows, H: H)
    }

    public func dropout(layer k: Int, keep: Float, rng: inout RNG, steps: Int, batch: Int, share: BatchShare?,
                        input: FloatBuf, at: Int, into out: FloatBuf, count: Int) throws {
        // The CPU network's stream: layer by layer, element by element.
        hostMask.withUnsafeMutableBufferPointer { mask in
            drawDropout(rng: &rng, keepProbability: keep, steps: steps, batch: batch, width: H, share: share) { i, kept in
                mask[i] = kept ? 1 : 0
            }
        }
        try hostMask.withUnsafeBufferPointer { try masks.write($0.baseAddress!, count: count, at: k * N * H) }
        try ops.dropoutMul(out, 0, input, at, mask: masks, k * N * H, scale: 1 / keep, count: count)
    }

    public func decoder(params: FloatBuf, top: FloatBuf, at: Int, rows: Int, logits: FloatBuf, targets: IntBuf?,
                        gradientScale: Float?) throws -> Double {
        try ops.biasRows(logits, 0, params: params, bias1: layout.decoderBias, bias2: nil, oneHot: nil, ids: noIds,
                         rows: rows, width: V)
        try cl.gemm(transA: false, transB: true, m: rows, n: V, k: H, a: top, at, lda: H, b: params, layout.decoderWeight,
                    ldb: H, beta: 1, c: logits, ldc: V)
        guard let targets else { return 0 }
        try ops.softmaxXent(logits, targets: targets, rowLoss: rowLoss, rows: rows, classes: V, gradientScale: gradientScale)
        try ops.reduceSum(rowLoss, count: rows, into: lossSum)
        try hostLoss.withUnsafeMutableBufferPointer { try lossSum.read(into: $0.baseAddress!, count: 2) }
        return Double(hostLoss[0]) + Double(hostLoss[1])
    }

    // ---- Backward --------------------------------------------------------------

    public func decoderBackward(params: FloatBuf, grads: FloatBuf, dz: FloatBuf, top: FloatBuf, at: Int, rows N: Int,
                                into dTop: FloatBuf) throws {
        try cl.gemm(transA: true, transB: false, m: V, n: H, k: N, a: dz, lda: V, b: top, at, ldb: H,
                    beta: 1, c: grads, layout.decoderWeight, ldc: H)
        try ops.columnSums(dz, 0, ld: V, rows: N, cols: V, into: grads, layout.decoderBias)
        try cl.gemm(transA: false, transB: false, m: N, n: H, k: V, a: dz, lda: V, b: params, layout.decoderWeight, ldb: H,
                    beta: 0, c: dTop, ldc: H)
    }

    public func dropoutBackward(layer k: Int, d: FloatBuf, count: Int) throws {
        try ops.dropoutMul(d, 0, d, 0, mask: masks, k * N * H, scale: 1 / Float(1 - config.dropout), count: count)
    }

    public func prepareBackward(layer k: Int, params: FloatBuf) throws {}

    public func inputGradientByStep(layer k: Int) -> Bool { false }

    public func lstmBackward(acts: FloatBuf, at a: Int, c: FloatBuf, prev cp: Int, tanhC: FloatBuf, at tc: Int,
                             dAbove: FloatBuf, at da: Int, dhNext: FloatBuf, dcNext: FloatBuf, at dn: Int,
                             dPre: FloatBuf, at dp: Int, rows: Int) throws {
        precondition(dn == 0)  // one block: the whole batch
        try ops.lstmBackward(acts: acts, a, c: c, cPrev: cp, tanhC: tanhC, tc, dAbove: dAbove, da, dhNext: dhNext,
                             dcNext: dcNext, dPre: dPre, dp, rows: rows, H: H)
    }

    public func gruBackward(acts: FloatBuf, at a: Int, hg: FloatBuf, at hgAt: Int, h: FloatBuf, prev hp: Int,
                            dAbove: FloatBuf, at da: Int, dhNext: FloatBuf, at dn: Int, dX: FloatBuf, dH: FloatBuf, at dp: Int,
                            rows: Int) throws {
        precondition(dn == 0)
        try ops.gruBackward(acts: acts, a, hg: hg, hgAt, h: h, hPrev: hp, dAbove: dAbove, da, dhNext: dhNext, dX: dX, dp,
                            dH: dH, dp, rows: rows, H: H)
    }

    public func rnnBackward(acts: FloatBuf, at a: Int, dAbove: FloatBuf, at da: Int, dhNext: FloatBuf, at dn: Int,
                            dPre: FloatBuf, at dp: Int, rows: Int) throws {
        precondition(dn == 0)
        try ops.rnnBackward(acts: acts, a, dAbove: dAbove, da, dhNext: dhNext, dPre: dPre, dp, count: rows * H)
    }

    public func recurrentGradient(layer k: Int, params: FloatBuf, d: FloatBuf, at: Int, rows: Int, accumulate: Bool,
                                  into dh: FloatBuf, at dhAt: Int) throws {
        try cl.gemm(transA: false, transB: false, m: rows, n: H, k: GH, a: d, at, lda: GH, b: params, layout.layers[k].weightHH,
                    ldb: H, beta: accumulate ? 1 : 0, c: dh, dhAt, ldc: H)
    }

    public func inputGradient(layer k: Int, params: FloatBuf, d: FloatBuf, at: Int, rows: Int, into dx: FloatBuf,
                              at dxAt: Int) throws {
        let In = config.inputSize(layer: k)
        try cl.gemm(transA: false, transB: false, m: rows, n: In, k: GH, a: d, at, lda: GH, b: params, layout.layers[k].weightIH,
                    ldb: In, beta: 0, c: dx, dxAt, ldc: In)
    }

    public func weightGradients(layer k: Int, grads: FloatBuf, dPre: FloatBuf, dHH: FloatBuf, h: FloatBuf,
                                input: LayerInput<FloatBuf, IntBuf>, rows N: Int) throws {
        let lay = layout.layers[k], In = config.inputSize(layer: k)
        try cl.gemm(transA: true, transB: false, m: GH, n: H, k: N, a: dHH, lda: GH, b: h, ldb: H,
                    beta: 1, c: grads, lay.weightHH, ldc: H)
        try ops.columnSums(dPre, 0, ld: GH, rows: N, cols: GH, into: grads, lay.biasIH)
        try ops.columnSums(dHH, 0, ld: GH, rows: N, cols: GH, into: grads, lay.biasHH)
        switch input {
        case .oneHot(let ids):
            try ops.scatterColumns(grads, lay.weightIH, V: V, dPre, GH: GH, ids: ids, rows: N)
        case .dense(let x, let xAt):
            try cl.gemm(transA: true, transB: false, m: GH, n: In, k: N, a: dPre, lda: GH, b: x, xAt, ldb: In,
                        beta: 1, c: grads, lay.weightIH, ldc: In)
        }
    }

    public func scatterRows(grads: FloatBuf, table: Int, src: FloatBuf, ids: IntBuf, rows: Int, width: Int) throws {
        try ops.scatterRows(grads, table, src, width: width, ids: ids, rows: rows)
    }

    public func weightsChanged() {}

    /// Layer k's dropout mask of the last forward as multipliers (tests).
    func dropoutMask(layer k: Int) throws -> [Float] {
        let scale = 1 / Float(1 - config.dropout)
        return try masks.read(count: N * H, at: k * N * H).map { $0 != 0 ? scale : 0 }
    }
}
