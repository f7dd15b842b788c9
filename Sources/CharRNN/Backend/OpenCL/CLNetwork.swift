// The network on an OpenCL device: Network.swift's forward and backward,
// op for op, with every buffer on the device. Per minibatch only the token
// ids (and, with dropout, the mask bytes) go up and the loss comes down.
// B = batch, T = seq length, N = T*B rows (time-major), H = rnn size,
// G = gates, GH = G*H, V = vocab, E = embedding size, In = layer input width.

/// Dropout masks are drawn on the host from the same RNG stream, in the same
/// order, as the CPU network (so a run with dropout matches the CPU's) and
/// uploaded as bytes once per minibatch.
public final class CLNetwork {
    public let config: ModelConfig
    public let layout: ParamLayout
    public let batch: Int
    public let seqLength: Int
    let cl: CLContext
    let ops: CLOps
    let H: Int, GH: Int, V: Int, L: Int, N: Int, E: Int

    /// The weights, (P) in ParamLayout order.
    let params: FloatBuf

    // Forward activations, per layer.
    let gates: [FloatBuf]         // (N, GH): pre-activations, then activations in place
    let hs: [FloatBuf]            // ((T+1)*B, H): h[0] = carried state
    let cs: [FloatBuf]            // ((T+1)*B, H): LSTM cell
    let tanhC: [FloatBuf]         // (N, H): LSTM tanh(c)
    let hgs: [FloatBuf]           // (N, GH): GRU W_hh h + b_hh per step
    let dropped: [FloatBuf]       // (N, H): masked layer outputs
    let masks: ByteBuf            // (L, N, H): 1 = keep
    let embedded: FloatBuf        // (N, E)
    let logits: FloatBuf          // (N, V): logits, then d loss / d logits
    let inputs: IntBuf            // (N)
    let targets: IntBuf           // (N)
    let rowLoss: FloatBuf         // (N)
    let lossSum: FloatBuf         // (2): the summed loss as hi + lo
    let stateH: [FloatBuf]        // (B, H) carried hidden state per layer
    let stateC: [FloatBuf]        // (B, H) carried LSTM cell per layer

    // Backward scratch.
    let dPre: FloatBuf            // (N, GH): d wrt W_ih x + b_ih (LSTM/RNN: also W_hh h + b_hh)
    let dPreHH: FloatBuf          // (N, GH): GRU d wrt W_hh h + b_hh
    let dH: FloatBuf              // (N, H): d wrt the current layer's output
    let dX: FloatBuf              // (N, E): d wrt the embedded input
    let dhNext: FloatBuf          // (B, H)
    let dcNext: FloatBuf          // (B, H)

    // Host staging, allocated once.
    var hostMask: [UInt8]         // (L, N, H)
    var hostLoss: [Float] = [0, 0]
    var usedDropout = false
    /// This network's rows of a batch split across processes (dropout
    /// masks are drawn for the whole batch so the split changes nothing).
    public var share: BatchShare? = nil
    var lastSteps = 0

    public var deviceLabel: String { cl.info.label }

    public init(context: CLContext, config: ModelConfig, params host: [Float], batch: Int, seqLength: Int) throws {
        self.cl = context
        self.ops = CLOps(cl: context)
        self.config = config
        self.layout = ParamLayout(config)
        self.batch = batch
        self.seqLength = seqLength
        let H = config.rnnSize, GH = config.cell.gates * config.rnnSize
        let V = config.vocabSize, L = config.numLayers, N = batch * seqLength, E = config.embeddingSize
        self.H = H; self.GH = GH; self.V = V; self.L = L; self.N = N; self.E = E
        precondition(host.count == layout.total)
        let lstm = config.cell == .lstm, gru = config.cell == .gru, dropout = config.dropout > 0
        func buffer(_ n: Int, _ name: String) throws -> FloatBuf { try FloatBuf(context, count: n, name: name) }
        func perLayer(_ n: Int, _ name: String) throws -> [FloatBuf] {
            try (0..<L).map { try buffer(n, "\(name) of layer \($0)") }
        }
        params = try buffer(layout.total, "the weights")
        try params.write(host)
        gates = try perLayer(N * GH, "the gates")
        hs = try perLayer((seqLength + 1) * batch * H, "the hidden states")
        cs = try perLayer(lstm ? (seqLength + 1) * batch * H : 0, "the cell states")
        tanhC = try perLayer(lstm ? N * H : 0, "tanh of the cell states")
        hgs = try perLayer(gru ? N * GH : 0, "the recurrent projections")
        dropped = try perLayer(dropout ? N * H : 0, "the dropout outputs")
        masks = try ByteBuf(context, count: dropout ? L * N * H : 0, name: "the dropout masks")
        embedded = try buffer(N * E, "the embedded inputs")
        logits = try buffer(N * V, "the logits")
        inputs = try IntBuf(context, count: N, name: "the input tokens")
        targets = try IntBuf(context, count: N, name: "the target tokens")
        rowLoss = try buffer(N, "the row losses")
        lossSum = try buffer(2, "the loss")
        stateH = try perLayer(batch * H, "the carried state")
        stateC = try perLayer(batch * H, "the carried cell state")
        dPre = try buffer(N * GH, "the gate gradients")
        dPreHH = try buffer(gru ? N * GH : 0, "the recurrent gradients")
        dH = try buffer(N * H, "the output gradients")
        dX = try buffer(N * E, "the input gradients")
        dhNext = try buffer(batch * H, "dh")
        dcNext = try buffer(batch * H, "dc")
        hostMask = [UInt8](repeating: 0, count: dropout ? L * N * H : 0)
    }

    /// Replaces the weights (blocking).
    public func setParameters(_ host: [Float]) throws { try params.write(host) }

    /// The weights as the host sees them.
    public func parameters() throws -> [Float] { try params.read() }

    public func resetState() throws {
        for k in 0..<L { try stateH[k].zero(); try stateC[k].zero() }
    }

    /// Carried state per layer, (B, H) each; cell state for LSTM (zeros otherwise).
    public func carriedState() throws -> (h: [[Float]], c: [[Float]]) {
        (try stateH.map { try $0.read() }, try stateC.map { try $0.read() })
    }

    public func setCarriedState(h: [[Float]], c: [[Float]]) throws {
        precondition(h.count == L && c.count == L)
        for k in 0..<L {
            try stateH[k].write(h[k])
            try stateC[k].write(c[k])
        }
    }

    /// Layer k's output as the next stage sees it: (buffer, offset).
    func output(_ k: Int) -> (FloatBuf, Int) {
        usedDropout ? (dropped[k], 0) : (hs[k], batch * H)
    }

    /// Runs the network over `steps` (default seqLength) timesteps of
    /// time-major tokens (B·steps each) from the carried state, leaves the
    /// final state carried, and returns the mean cross-entropy. With
    /// `training`, dropout is drawn from `rng` and d loss / d logits is kept
    /// for `backward`.
    public func forward(inputs x: UnsafePointer<Int32>, targets y: UnsafePointer<Int32>, steps: Int? = nil,
                        training: Bool, rng: inout RNG) throws -> Double {
        let B = batch, T = steps ?? seqLength, H = self.H, GH = self.GH, V = self.V, N = B * T
        precondition(T >= 1 && T <= seqLength && (!training || T == seqLength))
        lastSteps = T
        try inputs.write(x, count: N)
        try targets.write(y, count: N)
        usedDropout = training && config.dropout > 0
        let keep = Float(1 - config.dropout)
        if usedDropout {
            // The CPU network's stream: layer by layer, element by element.
            for k in 0..<L {
                let base = k * self.N * H
                hostMask.withUnsafeMutableBufferPointer { mask in
                    drawDropout(rng: &rng, keepProbability: keep, steps: T, batch: B, width: H, share: share) { i, kept in
                        mask[base + i] = kept ? 1 : 0
                    }
                }
            }
            try hostMask.withUnsafeBufferPointer { try masks.write($0.baseAddress!, count: $0.count) }
        }
        var input: (FloatBuf, Int)? = nil   // (N, In) for k > 0 or an embedding
        if let enc = layout.encoder {
            try ops.gatherRows(embedded, params: params, table: enc, ids: inputs, rows: N, width: E)
            input = (embedded, 0)
        }
        for k in 0..<L {
            let lay = layout.layers[k]
            let In = config.inputSize(layer: k)
            let g = gates[k], h = hs[k]
            try clCopy(stateH[k], to: h, count: B * H)
            if config.cell == .lstm { try clCopy(stateC[k], to: cs[k], count: B * H) }
            // Input projections of all timesteps, biases first (LSTM/RNN: both
            // biases; GRU keeps b_hh for the recurrent part).
            let oneHot = k == 0 && layout.encoder == nil
            try ops.biasRows(g, 0, params: params, bias1: lay.biasIH, bias2: config.cell == .gru ? nil : lay.biasHH,
                             oneHot: oneHot ? (lay.weightIH, V) : nil, ids: inputs, rows: N, width: GH)
            if !oneHot, let (xb, xo) = input {
                try cl.gemm(transA: false, transB: true, m: N, n: GH, k: In, a: xb, xo, lda: In,
                            b: params, lay.weightIH, ldb: In, beta: 1, c: g, ldc: GH)
            }
            if config.cell == .gru {
                // b_hh for every step at once; each step's product adds to it.
                try ops.biasRows(hgs[k], 0, params: params, bias1: lay.biasHH, bias2: nil, oneHot: nil,
                                 ids: inputs, rows: N, width: GH)
            }
            // The recurrence, one step at a time.
            for t in 0..<T {
                let og = t * B * GH, oh = t * B * H, next = (t + 1) * B * H
                switch config.cell {
                case .lstm:
                    try cl.gemm(transA: false, transB: true, m: B, n: GH, k: H, a: h, oh, lda: H,
                                b: params, lay.weightHH, ldb: H, beta: 1, c: g, og, ldc: GH)
                    try ops.lstmForward(gates: g, og, c: cs[k], cPrev: oh, cNext: next, tanhC: tanhC[k], oh,
                                        h: h, hNext: next, rows: B, H: H)
                case .gru:
                    try cl.gemm(transA: false, transB: true, m: B, n: GH, k: H, a: h, oh, lda: H,
                                b: params, lay.weightHH, ldb: H, beta: 1, c: hgs[k], og, ldc: GH)
                    try ops.gruForward(xg: g, og, hg: hgs[k], og, h: h, hPrev: oh, hNext: next, rows: B, H: H)
                case .rnn:
                    try cl.gemm(transA: false, transB: true, m: B, n: GH, k: H, a: h, oh, lda: H,
                                b: params, lay.weightHH, ldb: H, beta: 1, c: g, og, ldc: GH)
                    try ops.rnnForward(pre: g, og, h: h, hNext: next, count: B * H)
                }
            }
            // Carry the final state.
            try clCopy(h, at: T * B * H, to: stateH[k], count: B * H)
            if config.cell == .lstm { try clCopy(cs[k], at: T * B * H, to: stateC[k], count: B * H) }
            if usedDropout {
                try ops.dropoutMul(dropped[k], 0, h, B * H, mask: masks, k * self.N * H, scale: 1 / keep, count: N * H)
            }
            input = output(k)
        }
        // Decoder and loss.
        let (top, topOffset) = output(L - 1)
        try ops.biasRows(logits, 0, params: params, bias1: layout.decoderBias, bias2: nil, oneHot: nil, ids: inputs, rows: N, width: V)
        try cl.gemm(transA: false, transB: true, m: N, n: V, k: H, a: top, topOffset, lda: H,
                    b: params, layout.decoderWeight, ldb: H, beta: 1, c: logits, ldc: V)
        try ops.softmaxXent(logits, targets: targets, rowLoss: rowLoss, rows: N, classes: V,
                            gradientScale: training ? 1 / Float(N) : nil)
        try ops.reduceSum(rowLoss, count: N, into: lossSum)
        try hostLoss.withUnsafeMutableBufferPointer { try lossSum.read(into: $0.baseAddress!, count: 2) }
        return (Double(hostLoss[0]) + Double(hostLoss[1])) / Double(N)
    }

    /// Adds d loss / d params of the last training forward into `grads` (P).
    func backward(grads: FloatBuf) throws {
        let B = batch, T = seqLength, H = self.H, GH = self.GH, V = self.V, N = self.N
        precondition(lastSteps == T)
        let dz = logits
        let (top, topOffset) = output(L - 1)
        // Decoder: dW, bias, d top.
        try cl.gemm(transA: true, transB: false, m: V, n: H, k: N, a: dz, lda: V, b: top, topOffset, ldb: H,
                    beta: 1, c: grads, layout.decoderWeight, ldc: H)
        try ops.columnSums(dz, 0, ld: V, rows: N, cols: V, into: grads, layout.decoderBias)
        try cl.gemm(transA: false, transB: false, m: N, n: H, k: V, a: dz, lda: V, b: params, layout.decoderWeight, ldb: H,
                    beta: 0, c: dH, ldc: H)
        let keep = Float(1 - config.dropout)
        for k in stride(from: L - 1, through: 0, by: -1) {
            let lay = layout.layers[k]
            let In = config.inputSize(layer: k)
            if usedDropout { try ops.dropoutMul(dH, 0, dH, 0, mask: masks, k * N * H, scale: 1 / keep, count: N * H) }
            let h = hs[k], g = gates[k]
            let dHH = config.cell == .gru ? dPreHH : dPre
            try dhNext.zero()
            try dcNext.zero()
            // Back through time.
            for t in stride(from: T - 1, through: 0, by: -1) {
                let o = t * B * H, og = t * B * GH
                switch config.cell {
                case .lstm:
                    try ops.lstmBackward(acts: g, og, c: cs[k], cPrev: o, tanhC: tanhC[k], o, dAbove: dH, o,
                                         dhNext: dhNext, dcNext: dcNext, dPre: dPre, og, rows: B, H: H)
                    if t > 0 {
                        try cl.gemm(transA: false, transB: false, m: B, n: H, k: GH, a: dPre, og, lda: GH,
                                    b: params, lay.weightHH, ldb: H, beta: 0, c: dhNext, ldc: H)
                    }
                case .gru:
                    try ops.gruBackward(acts: g, og, hg: hgs[k], og, h: h, hPrev: o, dAbove: dH, o, dhNext: dhNext,
                                        dX: dPre, og, dH: dPreHH, og, rows: B, H: H)
                    if t > 0 {
                        try cl.gemm(transA: false, transB: false, m: B, n: H, k: GH, a: dPreHH, og, lda: GH,
                                    b: params, lay.weightHH, ldb: H, beta: 1, c: dhNext, ldc: H)
                    }
                case .rnn:
                    try ops.rnnBackward(acts: g, og, dAbove: dH, o, dhNext: dhNext, dPre: dPre, og, count: B * H)
                    if t > 0 {
                        try cl.gemm(transA: false, transB: false, m: B, n: H, k: GH, a: dPre, og, lda: GH,
                                    b: params, lay.weightHH, ldb: H, beta: 0, c: dhNext, ldc: H)
                    }
                }
            }
            // Weight gradients over all timesteps; biases by columns.
            try cl.gemm(transA: true, transB: false, m: GH, n: H, k: N, a: dHH, lda: GH, b: h, ldb: H,
                        beta: 1, c: grads, lay.weightHH, ldc: H)
            try ops.columnSums(dPre, 0, ld: GH, rows: N, cols: GH, into: grads, lay.biasIH)
            try ops.columnSums(dHH, 0, ld: GH, rows: N, cols: GH, into: grads, lay.biasHH)
            let oneHot = k == 0 && layout.encoder == nil
            if oneHot {
                try ops.scatterColumns(grads, lay.weightIH, V: V, dPre, GH: GH, ids: inputs, rows: N)
            } else {
                let (xb, xo) = k == 0 ? (embedded, 0) : output(k - 1)
                try cl.gemm(transA: true, transB: false, m: GH, n: In, k: N, a: dPre, lda: GH, b: xb, xo, ldb: In,
                            beta: 1, c: grads, lay.weightIH, ldc: In)
                if k > 0 {
                    // d wrt the layer below's output, straight into dH (done with above).
                    try cl.gemm(transA: false, transB: false, m: N, n: In, k: GH, a: dPre, lda: GH,
                                b: params, lay.weightIH, ldb: In, beta: 0, c: dH, ldc: H)
                } else if let enc = layout.encoder {
                    try cl.gemm(transA: false, transB: false, m: N, n: In, k: GH, a: dPre, lda: GH,
                                b: params, lay.weightIH, ldb: In, beta: 0, c: dX, ldc: E)
                    try ops.scatterRows(grads, enc, dX, width: E, ids: inputs, rows: N)
                }
            }
        }
    }

    /// Logits of the last evaluation forward (N, V) (tests).
    func copyLogits() throws -> [Float] { try logits.read(count: batch * lastSteps * V) }

    /// Layer k's dropout mask of the last forward as multipliers (tests).
    func dropoutMask(layer k: Int) throws -> [Float]? {
        guard usedDropout else { return nil }
        let scale = 1 / Float(1 - config.dropout)
        return try masks.read(count: N * H, at: k * N * H).map { $0 != 0 ? scale : 0 }
    }
}
